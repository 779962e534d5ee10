package grpcapi

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func TestLogSamplerBoundsLinesPerMethodAndCode(t *testing.T) {
	l := newLogSampler()
	t0 := time.Unix(1000, 0)
	key := sampleKey{"/m", codes.NotFound}
	logged := 0
	for i := range LogLinesPerSecond + 5 {
		if ok, _ := l.allow(key, t0.Add(time.Duration(i)*time.Millisecond)); ok {
			logged++
		}
	}
	if logged != LogLinesPerSecond {
		t.Errorf("%d lines in a second, want %d", logged, LogLinesPerSecond)
	}
	if ok, _ := l.allow(sampleKey{"/m", codes.OK}, t0); !ok {
		t.Error("another code shares the first one's budget")
	}
	if ok, suppressed := l.allow(key, t0.Add(time.Second)); !ok || suppressed != 5 {
		t.Errorf("the next second's first line: %v, suppressed %d; want it, saying 5", ok, suppressed)
	}
	for i := range 2 * maxSampleKeys {
		l.allow(sampleKey{fmt.Sprintf("/m%d", i), codes.NotFound}, t0)
	}
	if len(l.windows) > maxSampleKeys+1 {
		t.Errorf("%d keys kept, want at most %d", len(l.windows), maxSampleKeys+1)
	}
}

func TestPublicReadsThatFindNothingLogAtDebug(t *testing.T) {
	get := energylabelv1.RatingService_GetRating_FullMethodName
	for _, c := range []struct {
		method string
		code   codes.Code
		want   slog.Level
	}{
		{get, codes.OK, slog.LevelInfo},
		{get, codes.NotFound, slog.LevelDebug},
		{get, codes.InvalidArgument, slog.LevelDebug},
		{get, codes.Internal, slog.LevelWarn},
		{energylabelv1.RatingService_SubmitResult_FullMethodName, codes.InvalidArgument, slog.LevelWarn},
		{energylabelv1.RatingService_VerifyResult_FullMethodName, codes.NotFound, slog.LevelWarn},
	} {
		if got := callLevel(c.method, c.code); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.method, c.code, got, c.want)
		}
	}
}
