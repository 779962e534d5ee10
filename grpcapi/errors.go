package grpcapi

import (
	"errors"
	"net/http"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/limits"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Messages of the codes whose cause is the server's own business: they
// never carry a file path or other internals.
const (
	fullMessage = "storage full: the server refuses writes until an operator frees space; reads go on"
	// Whether a write that failed so was stored is unknown: a retry may
	// store it twice, which the model's history shows.
	unavailableMessage = "storage unavailable: the server's storage did not answer in time (no quorum, or no member reachable), so it cannot write now; reads go on; retry later: a write that failed so may be stored, and a repeated submission returns it"
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
			return status.Error(codes.Internal, errdefs.InternalMessage)
		}
		return boundStatus(st).Err()
	}
	var invalid *rating.InvalidError
	var limited interface{ RetryDelay() time.Duration }
	switch {
	case errors.As(err, &limited):
		st := status.New(errdefs.KindOf(err).GRPCCode(), errdefs.Clip(err.Error(), errdefs.MaxMessageBytes))
		if withDetails, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(limited.RetryDelay())}); derr == nil {
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
		return status.Error(codes.Internal, errdefs.InternalMessage)
	}
	return statusError(code, err)
}

func statusError(code codes.Code, err error) error {
	return status.Error(code, errdefs.Clip(err.Error(), errdefs.MaxMessageBytes))
}

// invalidStatus is InvalidArgument with google.rpc.BadRequest details, each
// bounded, and at most errdefs.MaxViolations of them.
func invalidStatus(msg string, violations []rating.Violation) *status.Status {
	st := status.New(codes.InvalidArgument, errdefs.Clip(msg, errdefs.MaxMessageBytes))
	br := &errdetails.BadRequest{}
	for _, v := range violations[:min(len(violations), errdefs.MaxViolations)] {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: errdefs.Clip(v.Field, errdefs.MaxFieldBytes), Description: errdefs.Clip(v.Description, errdefs.MaxDescriptionBytes),
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
	if len(p.GetMessage()) <= errdefs.MaxMessageBytes && len(p.GetDetails()) == 0 {
		return st
	}
	var vs []rating.Violation
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations[:min(len(br.FieldViolations), errdefs.MaxViolations)] {
				vs = append(vs, rating.Violation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	if st.Code() == codes.InvalidArgument && len(vs) > 0 {
		return invalidStatus(p.GetMessage(), vs)
	}
	return status.New(st.Code(), errdefs.Clip(p.GetMessage(), errdefs.MaxMessageBytes))
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
		h.Set("Retry-After", limits.RetryAfter(d))
	}
}
