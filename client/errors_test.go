package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func badRequest(t *testing.T, msg string, fields ...string) error {
	t.Helper()
	br := &errdetails.BadRequest{}
	for i := 0; i+1 < len(fields); i += 2 {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: fields[i], Description: fields[i+1]})
	}
	st, err := status.New(codes.InvalidArgument, msg).WithDetails(br)
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestFromStatusMatchesSentinels(t *testing.T) {
	tests := []struct {
		name string
		code codes.Code
		want error
	}{
		{"not found is ErrNotFound", codes.NotFound, ErrNotFound},
		{"unauthenticated is ErrUnauthenticated", codes.Unauthenticated, ErrUnauthenticated},
		{"permission denied is ErrPermissionDenied", codes.PermissionDenied, ErrPermissionDenied},
		{"resource exhausted is ErrResourceExhausted", codes.ResourceExhausted, ErrResourceExhausted},
		{"unavailable is ErrUnavailable", codes.Unavailable, ErrUnavailable},
		{"invalid argument without details is ErrInvalidArgument", codes.InvalidArgument, ErrInvalidArgument},
		{"cancellation is context.Canceled", codes.Canceled, context.Canceled},
		{"deadline is context.DeadlineExceeded", codes.DeadlineExceeded, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fromStatus(status.Error(tt.code, "the server's words"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("fromStatus(%v) = %v, does not match %v", tt.code, err, tt.want)
			}
			if !strings.Contains(err.Error(), "the server's words") {
				t.Errorf("Error() = %q lost the server's message", err)
			}
			if status.Code(err) != tt.code {
				t.Errorf("status.Code = %v, want %v", status.Code(err), tt.code)
			}
			// Still matchable once wrapped by the caller.
			if wrapped := fmt.Errorf("submit: %w", err); !errors.Is(wrapped, tt.want) {
				t.Errorf("wrapped error no longer matches %v", tt.want)
			}
		})
	}
}

func TestFromStatusMatchesNoOtherSentinel(t *testing.T) {
	err := fromStatus(status.Error(codes.NotFound, "no such model"))
	for _, other := range []error{ErrInvalidArgument, ErrUnauthenticated, ErrPermissionDenied, ErrResourceExhausted, ErrUnavailable} {
		if errors.Is(err, other) {
			t.Errorf("not found matches %v", other)
		}
	}
}

func TestFromStatusPrefixesTheKindOnce(t *testing.T) {
	if got := fromStatus(status.Error(codes.Unauthenticated, "missing bearer token")).Error(); got != "unauthenticated: missing bearer token" {
		t.Errorf("Error() = %q", got)
	}
	if got := fromStatus(status.Error(codes.PermissionDenied, "permission denied: token may not write org-b")).Error(); got != "permission denied: token may not write org-b" {
		t.Errorf("Error() = %q", got)
	}
	if got := fromStatus(status.Error(codes.NotFound, "")).Error(); got != "not found" {
		t.Errorf("Error() = %q", got)
	}
	// A server's message that ends by saying what kind of error it is.
	if got := fromStatus(status.Error(codes.NotFound, `model "x/y" has no rating: not found`)).Error(); got != `model "x/y" has no rating: not found` {
		t.Errorf("Error() = %q", got)
	}
}

func TestConnectReasonIsTheCause(t *testing.T) {
	for msg, want := range map[string]string{
		`connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`:                "connection refused",
		`connection error: desc = "error reading server preface: EOF"`:                                                                "no gRPC handshake: EOF",
		`write tcp 127.0.0.1:36032->127.0.0.1:43127: write: broken pipe`:                                                              "broken pipe",
		`name resolver error: produced zero addresses`:                                                                                "name resolver error: produced zero addresses",
		`connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"`: "tls: first record does not look like a TLS handshake",
	} {
		if got := connectReason(msg); got != want {
			t.Errorf("connectReason(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestInvalidArgumentCarriesFieldViolations(t *testing.T) {
	err := fromStatus(badRequest(t, "invalid result: gpu_energy_wh: must be a positive number, got -1",
		"gpu_energy_wh", "must be a positive number, got -1",
		"queries", "must be at least 1, got 0"))
	var inv *InvalidArgumentError
	if !errors.As(err, &inv) {
		t.Fatalf("errors.As(%v, *InvalidArgumentError) = false", err)
	}
	if !errors.Is(err, ErrInvalidArgument) {
		t.Error("errors.Is(err, ErrInvalidArgument) = false")
	}
	want := []FieldViolation{
		{"gpu_energy_wh", "must be a positive number, got -1"},
		{"queries", "must be at least 1, got 0"},
	}
	if fmt.Sprint(inv.Violations) != fmt.Sprint(want) {
		t.Errorf("Violations = %+v, want %+v", inv.Violations, want)
	}
	// The message named gpu_energy_wh but not queries: Error() names both.
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid argument: invalid result: gpu_energy_wh") || !strings.Contains(msg, "queries: must be at least 1") {
		t.Errorf("Error() = %q", msg)
	}
	if strings.Count(msg, "gpu_energy_wh") != 1 {
		t.Errorf("Error() = %q repeats a field the message already names", msg)
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("status.Code = %v", status.Code(err))
	}
}

func TestFromStatusPassesOtherErrorsThrough(t *testing.T) {
	if fromStatus(nil) != nil {
		t.Error("fromStatus(nil) != nil")
	}
	plain := errors.New("not a status")
	if got := fromStatus(plain); got != plain {
		t.Errorf("fromStatus(plain) = %v", got)
	}
	internal := status.Error(codes.Internal, "boom")
	if got := fromStatus(internal); got != internal {
		t.Errorf("fromStatus(internal) = %v, want it unchanged", got)
	}
}

func TestRetryAfterReadsRetryInfo(t *testing.T) {
	st, err := status.New(codes.ResourceExhausted, "over the rate limit").
		WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(1500 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	limited := fmt.Errorf("submit: %w", fromStatus(st.Err()))
	if d, ok := RetryAfter(limited); !ok || d != 1500*time.Millisecond {
		t.Errorf("RetryAfter = %v, %v; want 1.5s", d, ok)
	}
	if !errors.Is(limited, ErrResourceExhausted) {
		t.Errorf("%v is not ErrResourceExhausted", limited)
	}
	full := fromStatus(status.Error(codes.ResourceExhausted, "database full"))
	if _, ok := RetryAfter(full); ok {
		t.Error("RetryAfter found advice in an error without RetryInfo")
	}
	if _, ok := RetryAfter(errors.New("plain")); ok {
		t.Error("RetryAfter found advice in a plain error")
	}
}
