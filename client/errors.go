package client

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/errdefs"
)

// Errors a call can be tested for with errors.Is. The error itself keeps the
// server's message; errdefs.KindOf gives its kind.
var (
	ErrNotFound          = errdefs.New(errdefs.NotFound, "not found")
	ErrInvalidArgument   = errdefs.New(errdefs.Invalid, "invalid argument")
	ErrUnauthenticated   = errdefs.New(errdefs.Unauthenticated, "unauthenticated")
	ErrPermissionDenied  = errdefs.New(errdefs.PermissionDenied, "permission denied")
	ErrResourceExhausted = errdefs.New(errdefs.Exhausted, "resource exhausted")
	ErrUnavailable       = errdefs.New(errdefs.Unavailable, "unavailable")
)

var sentinels = map[codes.Code]error{
	codes.NotFound:          ErrNotFound,
	codes.Unauthenticated:   ErrUnauthenticated,
	codes.PermissionDenied:  ErrPermissionDenied,
	codes.ResourceExhausted: ErrResourceExhausted,
	codes.Unavailable:       ErrUnavailable,
}

// FieldViolation is one thing the server found wrong with one request field.
type FieldViolation struct {
	// Field is the field's path, e.g. "hardware.accelerator".
	Field       string
	Description string
}

// InvalidArgumentError is a refused request, with the fields the server named.
// errors.Is(err, ErrInvalidArgument) is true for it.
type InvalidArgumentError struct {
	// Message is the server's message.
	Message    string
	Violations []FieldViolation
	status     *status.Status
}

func (e *InvalidArgumentError) Error() string {
	msg := e.Message
	// Name every field, even when the server's message does not.
	var missing []string
	for _, v := range e.Violations {
		if !strings.Contains(msg, v.Field) {
			missing = append(missing, v.Field+": "+v.Description)
		}
	}
	if len(missing) > 0 {
		if msg != "" {
			msg += "; "
		}
		msg += strings.Join(missing, "; ")
	}
	return join(ErrInvalidArgument, msg)
}

// Is makes errors.Is(err, ErrInvalidArgument) true.
func (e *InvalidArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

// Kind makes it an errdefs.Invalid error.
func (e *InvalidArgumentError) Kind() errdefs.Kind { return errdefs.Invalid }

// GRPCStatus keeps status.Code and status.FromError working on the error.
func (e *InvalidArgumentError) GRPCStatus() *status.Status { return e.status }

// statusError is a gRPC status with a sentinel to match.
type statusError struct {
	kind   error
	status *status.Status
}

func (e *statusError) Error() string              { return join(e.kind, e.status.Message()) }
func (e *statusError) Unwrap() error              { return e.kind }
func (e *statusError) GRPCStatus() *status.Status { return e.status }

// join prefixes the server's message with what kind of error it is, unless
// it already says so, first or last ("model \"x/y\" has no rating: not
// found").
func join(kind error, msg string) string {
	lower := strings.ToLower(msg)
	switch {
	case msg == "":
		return kind.Error()
	case strings.HasPrefix(lower, kind.Error()), strings.HasSuffix(lower, ": "+kind.Error()):
		return msg
	}
	return kind.Error() + ": " + msg
}

// ConnectError is a call that failed because the server could not be
// reached: nothing listens at Addr, the connection attempt timed out, or
// what answered there does not speak gRPC. errors.Is(err, ErrUnavailable)
// is true for it.
type ConnectError struct {
	// Addr is the address the client dialled.
	Addr string
	// Reason is what the transport said, e.g. "connection refused".
	Reason string
	status *status.Status
}

func (e *ConnectError) Error() string {
	return "cannot reach a server at " + e.Addr + ": " + e.Reason
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *ConnectError) Is(target error) bool { return target == ErrUnavailable }

// Kind makes it an errdefs.Unavailable error.
func (e *ConnectError) Kind() errdefs.Kind { return errdefs.Unavailable }

// GRPCStatus keeps status.Code and status.FromError working on the error.
func (e *ConnectError) GRPCStatus() *status.Status { return e.status }

// transportPrefixes start the messages of the Unavailable statuses that
// gRPC makes on the client when it cannot connect, as opposed to those a
// server sends.
var transportPrefixes = []string{"connection error:", "last connection error:", "name resolver error:"}

// connectReason shortens gRPC's text about a failed connection to its
// cause: `connection error: desc = "transport: Error while dialing: dial
// tcp 127.0.0.1:1: connect: connection refused"` becomes "connection
// refused". The address is in ConnectError already.
func connectReason(msg string) string {
	reason := msg
	if i := strings.Index(reason, `desc = "`); i >= 0 {
		reason = strings.TrimSuffix(reason[i+len(`desc = "`):], `"`)
	}
	for _, p := range []string{"transport: ", "Error while dialing: ", "authentication handshake failed: "} {
		reason = strings.TrimPrefix(reason, p)
	}
	switch {
	case strings.Contains(reason, "server preface"):
		return "no gRPC handshake: " + lastPart(reason)
	case strings.HasPrefix(reason, "dial "), strings.HasPrefix(reason, "read "), strings.HasPrefix(reason, "write "):
		return lastPart(reason)
	case reason == "":
		return msg
	}
	return reason
}

// lastPart is the innermost cause of a wrapped net error's text:
// "write tcp a->b: write: broken pipe" is "broken pipe".
func lastPart(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// fromStatus is the package's fromStatus, knowing the address dialled, so
// that a failure to connect says where it tried.
// An Unavailable status is a failure to connect when gRPC made it (its
// message says so) or when the connection is not up.
func (c *Client) fromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unavailable {
		return fromStatus(err)
	}
	made := false
	for _, p := range transportPrefixes {
		made = made || strings.HasPrefix(st.Message(), p)
	}
	if made || c.conn.GetState() != connectivity.Ready {
		return &ConnectError{Addr: c.addr, Reason: connectReason(st.Message()), status: st}
	}
	return fromStatus(err)
}

// RetryAfter reports how long the server asked the caller to wait before
// trying again, as it does when a publisher goes over its rate limit
// (ErrResourceExhausted with google.rpc.RetryInfo). ok is false when the
// error carries no such advice, e.g. when the database is full.
func RetryAfter(err error) (d time.Duration, ok bool) {
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return 0, false
	}
	for _, detail := range se.GRPCStatus().Details() {
		if ri, isRetry := detail.(*errdetails.RetryInfo); isRetry && ri.GetRetryDelay() != nil {
			return max(0, ri.GetRetryDelay().AsDuration()), true
		}
	}
	return 0, false
}

// fromStatus turns a gRPC status error into an error callers can test with
// errors.Is and errors.As. It is the one place that interprets status codes.
// Errors without a status, and codes without a sentinel, are returned as they
// are; cancellation and deadlines match the context errors.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.OK:
		return nil
	case codes.InvalidArgument:
		e := &InvalidArgumentError{Message: st.Message(), status: st}
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.GetFieldViolations() {
					e.Violations = append(e.Violations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
				}
			}
		}
		return e
	case codes.Canceled:
		return &statusError{kind: context.Canceled, status: st}
	case codes.DeadlineExceeded:
		return &statusError{kind: context.DeadlineExceeded, status: st}
	}
	if kind, ok := sentinels[st.Code()]; ok {
		return &statusError{kind: kind, status: st}
	}
	return err
}
