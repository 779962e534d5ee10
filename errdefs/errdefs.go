// Package errdefs is energylabel's one error taxonomy: every error that
// leaves the domain, the storage or the server carries a kind, and the
// gRPC code, the HTTP status and the CLI's exit code of a kind are each
// derived in one function here, so that no edge picks codes of its own.
package errdefs

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
)

// Kind is what sort of failure an error is, as a caller must act on it.
type Kind uint8

// The kinds.
const (
	// Internal is the server's own failure; its cause is logged, never told.
	Internal Kind = iota
	// Invalid: the request is wrong, and the same request always will be.
	Invalid
	// NotFound: what the request names does not exist.
	NotFound
	// AlreadyExists: a name, or a measurement, is taken.
	AlreadyExists
	// Unauthenticated: no credentials, or unknown ones.
	Unauthenticated
	// PermissionDenied: known credentials that may not do this.
	PermissionDenied
	// Exhausted: a rate, a quota or the server's capacity is spent for
	// now; retry later, or ask for more.
	Exhausted
	// Unavailable: the server or its storage cannot answer for now.
	Unavailable
	// OutOfRange: a revision or a page the server no longer has.
	OutOfRange
	// Unimplemented: the server does not do this (here).
	Unimplemented
	// DeadlineExceeded: the call ran out of time, or its client stalled.
	DeadlineExceeded
	// Canceled: the client ended the call.
	Canceled
	// FailedPrecondition: the request is valid, but the state it acts on
	// does not allow it now (a corrected result awaits its publisher's
	// next one).
	FailedPrecondition
)

// mapping is each kind's name and codes: the one place they are chosen.
// The HTTP statuses are those the Connect protocol gives the gRPC codes,
// so that a page and a JSON call that fail alike answer alike.
var mapping = [...]struct {
	name string
	grpc codes.Code
	http int
	exit int
}{
	Internal:         {"internal", codes.Internal, 500, 1},
	Invalid:          {"invalid", codes.InvalidArgument, 400, 1},
	NotFound:         {"not found", codes.NotFound, 404, 3},
	AlreadyExists:    {"already exists", codes.AlreadyExists, 409, 1},
	Unauthenticated:  {"unauthenticated", codes.Unauthenticated, 401, 4},
	PermissionDenied: {"permission denied", codes.PermissionDenied, 403, 4},
	Exhausted:        {"exhausted", codes.ResourceExhausted, 429, 1},
	Unavailable:      {"unavailable", codes.Unavailable, 503, 1},
	OutOfRange:       {"out of range", codes.OutOfRange, 400, 1},
	Unimplemented:    {"unimplemented", codes.Unimplemented, 501, 1},
	DeadlineExceeded: {"deadline exceeded", codes.DeadlineExceeded, 504, 1},
	Canceled:         {"canceled", codes.Canceled, 499, 1},

	FailedPrecondition: {"failed precondition", codes.FailedPrecondition, 400, 1},
}

// Kinds are every kind, in order.
func Kinds() []Kind {
	out := make([]Kind, len(mapping))
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

func (k Kind) String() string {
	if int(k) < len(mapping) {
		return mapping[k].name
	}
	return mapping[Internal].name
}

// GRPCCode is the gRPC status code of a kind.
func (k Kind) GRPCCode() codes.Code {
	if int(k) < len(mapping) {
		return mapping[k].grpc
	}
	return codes.Internal
}

// HTTPStatus is the HTTP status of a kind, on pages and the JSON API alike.
// (Images answer 200 whatever the kind: a model card shows no broken
// picture.)
func (k Kind) HTTPStatus() int {
	if int(k) < len(mapping) {
		return mapping[k].http
	}
	return 500
}

// ExitCode is the CLI's exit status for an error of this kind that came
// back from the server: 3 for not found, 4 for not allowed, 1 otherwise.
// (A usage error the CLI finds before calling is 2, its own.)
func (k Kind) ExitCode() int {
	if int(k) < len(mapping) {
		return mapping[k].exit
	}
	return 1
}

// OfCode is the kind a gRPC code stands for, as a client reads a status.
func OfCode(c codes.Code) Kind {
	if c == codes.OK {
		return Internal // no error: callers never ask
	}
	for i, m := range mapping {
		if m.grpc == c {
			return Kind(i)
		}
	}
	return Internal // Unknown, DataLoss, Aborted: nothing this server sends
}

// Error is an error of a kind.
type Error struct {
	kind Kind
	msg  string
}

// New returns an error of a kind with a message. Sentinels are made with
// it, and matched with errors.Is.
func New(kind Kind, msg string) error { return &Error{kind, msg} }

func (e *Error) Error() string { return e.msg }

// Kind is the error's kind.
func (e *Error) Kind() Kind { return e.kind }

// KindOf is the kind of err: that of the first error along its chain that
// has one, else a context's end, else Internal.
func KindOf(err error) Kind {
	var k interface{ Kind() Kind }
	switch {
	case err == nil:
		return Internal
	case errors.As(err, &k):
		return k.Kind()
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return Canceled
	}
	return Internal
}

// What the edge echoes back to a client, and logs, is bounded whatever the
// request held: a message quoting a 1 MB model id is cut to a prefix that
// says how long it was.
const (
	// MaxMessageBytes bounds a status message and a logged error.
	MaxMessageBytes = 512
	// MaxViolations bounds the field violations of one BadRequest.
	MaxViolations = 20
	// MaxFieldBytes and MaxDescriptionBytes bound each violation.
	MaxFieldBytes       = 96
	MaxDescriptionBytes = 256
)

// Clip makes s fit a message or a log line: invalid UTF-8, control and
// format characters (ANSI escapes, bidi overrides) become U+FFFD, and
// beyond max bytes it is cut, saying how long it was.
func Clip(s string, max int) string {
	if len(s) <= max && PrintableASCII(s) {
		return s // the common case, without a copy
	}
	var b strings.Builder
	b.Grow(min(len(s), max) + 32)
	cut := false
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > max {
			cut = true
			break
		}
		b.WriteRune(r)
	}
	if cut {
		b.WriteString("… (" + strconv.Itoa(len(s)) + " bytes in all)")
	}
	return b.String()
}

// PrintableASCII reports whether s holds printable ASCII only: no control
// characters, nothing a terminal or a log would read as more than text.
func PrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// InternalMessage is all a client is told of the server's own failure:
// its cause is logged, never told.
const InternalMessage = "internal error; the server's log has the details"
