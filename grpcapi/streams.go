package grpcapi

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/limits"
)

// connectionOptions apply the limits to connections. The server also pings
// a connection that has been silent for a while, and drops it when the
// ping goes unanswered, so that dead peers do not hold connections; and it
// refuses clients that ping more often than every ten seconds.
func connectionOptions(l limits.Limits) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxConcurrentStreams(l.MaxStreams),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: l.ConnIdle,
			Time:              2 * time.Minute,
			Timeout:           20 * time.Second,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             10 * time.Second,
			PermitWithoutStream: true,
		}),
	}
}

// errStreamStalled ends a stream whose client stopped reading or sending.
var errStreamStalled = errdefs.New(errdefs.DeadlineExceeded, "stream stalled")

// guardedStream is a server stream that knows since when its handler has
// been waiting on the client, in SendMsg or RecvMsg.
type guardedStream struct {
	grpc.ServerStream
	ctx context.Context
	// waitingSince is when the pending SendMsg or RecvMsg began, in Unix
	// nanoseconds; 0 when none is pending.
	waitingSince atomic.Int64
	receiving    atomic.Bool
}

func (g *guardedStream) Context() context.Context { return g.ctx }

func (g *guardedStream) SendMsg(m any) error {
	g.receiving.Store(false)
	g.waitingSince.Store(time.Now().UnixNano())
	defer g.waitingSince.Store(0)
	return g.ServerStream.SendMsg(m)
}

func (g *guardedStream) RecvMsg(m any) error {
	g.receiving.Store(true)
	g.waitingSince.Store(time.Now().UnixNano())
	defer g.waitingSince.Store(0)
	if err := g.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return malformedRequest(m)
}

// guard runs a stream's handler and ends the stream when it outlives the
// stream timeout, or when its client stalls for longer than the idle limit.
// Returning ends the stream: grpc then cancels it, which unblocks a
// handler still waiting in SendMsg or RecvMsg, and the handler, whose
// context is cancelled too, finishes on its own.
func guard(ctx context.Context, l limits.Limits, ss grpc.ServerStream, run func(grpc.ServerStream) error) error {
	timedOut := fmt.Errorf("stream ended after %s, the server's limit for a call: %w", l.StreamTimeout, context.DeadlineExceeded)
	ctx, cancel := context.WithTimeoutCause(ctx, l.StreamTimeout, timedOut)
	defer cancel()
	g := &guardedStream{ServerStream: ss, ctx: ctx}
	done := make(chan error, 1)
	go func() { done <- run(g) }()
	tick := time.NewTicker(min(max(l.StreamIdle/10, 10*time.Millisecond), 250*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			select {
			case err := <-done: // finished as time ran out
				return err
			default:
			}
			return context.Cause(ctx) // the server's timeout, or the client's end of the call
		case now := <-tick.C:
			since := g.waitingSince.Load()
			if since == 0 || now.Sub(time.Unix(0, since)) < l.StreamIdle {
				continue
			}
			what := "read nothing"
			if g.receiving.Load() {
				what = "sent nothing"
			}
			return fmt.Errorf("the client %s for %s: %w", what, l.StreamIdle, errStreamStalled)
		}
	}
}
