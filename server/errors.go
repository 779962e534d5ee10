package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// What the edge echoes back to a client, and logs, is bounded whatever the
// request held: a message quoting a 1 MB model id is cut to a prefix that
// says how long it was.
const (
	// maxMessageBytes bounds a status message and a logged error.
	maxMessageBytes = 512
	// maxViolations bounds the field violations of one BadRequest.
	maxViolations = 20
	// maxFieldBytes and maxDescriptionBytes bound each violation.
	maxFieldBytes       = 96
	maxDescriptionBytes = 256
)

// Messages of the codes whose cause is the server's own business: they
// never carry a file path or other internals.
const (
	internalMessage = "internal error; the server's log has the details"
	fullMessage     = "storage full: the server refuses writes until an operator frees space; reads go on"
	// Whether a write that failed so was stored is unknown: a retry may
	// store it twice, which the model's history shows.
	unavailableMessage = "storage unavailable: the server cannot reach a quorum of its storage, so it cannot write now; reads go on; retry later"
)

// toStatus is the one place that turns domain errors into gRPC statuses:
// the code is the error's kind's (errdefs); this adds what a client needs
// beside it (field violations, when to retry) and keeps the server's own
// failures' causes out of the message.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		if st.Code() == codes.Internal {
			return status.Error(codes.Internal, internalMessage)
		}
		return boundStatus(st).Err()
	}
	var invalid *rating.InvalidError
	var limited interface{ retryDelay() time.Duration }
	switch {
	case errors.As(err, &limited):
		st := status.New(errdefs.KindOf(err).GRPCCode(), clip(err.Error(), maxMessageBytes))
		if withDetails, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(limited.retryDelay())}); derr == nil {
			st = withDetails
		}
		return st.Err()
	case errors.As(err, &invalid):
		return invalidStatus(err.Error(), invalid.Violations).Err()
	case errors.Is(err, storage.ErrFull):
		return status.Error(codes.ResourceExhausted, fullMessage)
	case errors.Is(err, storage.ErrUnavailable):
		return status.Error(codes.Unavailable, unavailableMessage)
	}
	code := errdefs.KindOf(err).GRPCCode()
	if code == codes.Internal {
		return status.Error(codes.Internal, internalMessage)
	}
	return statusError(code, err)
}

func statusError(code codes.Code, err error) error {
	return status.Error(code, clip(err.Error(), maxMessageBytes))
}

// invalidStatus is InvalidArgument with google.rpc.BadRequest details, each
// bounded, and at most maxViolations of them.
func invalidStatus(msg string, violations []rating.Violation) *status.Status {
	st := status.New(codes.InvalidArgument, clip(msg, maxMessageBytes))
	br := &errdetails.BadRequest{}
	for _, v := range violations[:min(len(violations), maxViolations)] {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: clip(v.Field, maxFieldBytes), Description: clip(v.Description, maxDescriptionBytes),
		})
	}
	if withDetails, derr := st.WithDetails(br); derr == nil {
		st = withDetails
	}
	return st
}

// boundStatus bounds a status that an inner layer made: its message and
// the field violations of a BadRequest; other details are dropped. A status
// within bounds is returned as it is.
func boundStatus(st *status.Status) *status.Status {
	p := st.Proto()
	if len(p.GetMessage()) <= maxMessageBytes && len(p.GetDetails()) == 0 {
		return st
	}
	var vs []rating.Violation
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations[:min(len(br.FieldViolations), maxViolations)] {
				vs = append(vs, rating.Violation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	if st.Code() == codes.InvalidArgument && len(vs) > 0 {
		return invalidStatus(p.GetMessage(), vs)
	}
	return status.New(st.Code(), clip(p.GetMessage(), maxMessageBytes))
}

// clip makes s fit a message or a log line: invalid UTF-8, control and
// format characters (ANSI escapes, bidi overrides) become U+FFFD, and
// beyond max bytes it is cut, saying how long it was.
func clip(s string, max int) string {
	if len(s) <= max && rating.PrintableASCII(s) {
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

// retryAfterOf is the retry delay a status carries, if any.
func retryAfterOf(err error) (time.Duration, bool) {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

// setRetryAfter tells an HTTP client when to retry a call refused for its
// rate: the Retry-After header, beside the status's RetryInfo.
func setRetryAfter(h http.Header, err error) {
	if status.Code(err) != codes.ResourceExhausted {
		return
	}
	if d, ok := retryAfterOf(err); ok {
		h.Set("Retry-After", retrySeconds(d))
	}
}
