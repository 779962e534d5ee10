package server

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/energylabel/energylabel/errdefs"
)

// Limits bound what one client can hold of the server: streams, and
// connections. The zero value takes the defaults below.
type Limits struct {
	// StreamTimeout ends a stream that runs longer, whatever its client
	// asked for.
	StreamTimeout time.Duration
	// StreamIdle ends a stream whose client has read nothing (or sent
	// nothing, when the server waits for a message) for this long.
	StreamIdle time.Duration
	// MaxStreams bounds the concurrent calls on one connection; more wait
	// for a free one.
	MaxStreams uint32
	// ConnIdle closes a connection that has had no call for this long.
	ConnIdle time.Duration

	// MaxWatches bounds the WatchRatings streams the server serves at
	// once, and WatchesPerAddress those of one client address, so that
	// one client holding watches cannot keep others from watching.
	MaxWatches, WatchesPerAddress int
	// WatchMaxAge ends a watch, idle or not, after this long; its client
	// resumes from the last revision it received.
	WatchMaxAge time.Duration
	// ConnsPerAddress bounds the connections one client address holds
	// open on each port; more are closed as they come. Trusted proxies
	// are exempt: their connections carry every client's calls.
	ConnsPerAddress int
	// ReadBudget is each client address's token bucket of costly reads:
	// history, search and task pages, watches that replay, and image
	// renders on a cache miss. Past it, the API answers ResourceExhausted
	// (HTTP 429) with when to retry, and an image is a grey "busy" one.
	// A zero Rate takes the default; a negative one turns it off.
	ReadBudget RateLimit
	// TrustedProxies are the addresses whose X-Forwarded-For names the
	// client; from any other, the header is ignored.
	TrustedProxies []netip.Prefix
}

// The default limits. A backup of a large database over a slow link still
// fits in the stream timeout; a client that stops reading is cut off after
// a minute.
const (
	DefaultStreamTimeout = 15 * time.Minute
	DefaultStreamIdle    = time.Minute
	DefaultMaxStreams    = 100
	DefaultConnIdle      = 5 * time.Minute

	DefaultMaxWatches        = 1024
	DefaultWatchesPerAddress = 16
	DefaultWatchMaxAge       = time.Hour
	DefaultConnsPerAddress   = 64
)

// DefaultReadBudget lets a person browse, and a script read history page
// after page, at 10 costly reads a second in bursts of 40.
var DefaultReadBudget = RateLimit{Rate: 10, Burst: 40}

func (l Limits) withDefaults() Limits {
	if l.StreamTimeout <= 0 {
		l.StreamTimeout = DefaultStreamTimeout
	}
	if l.StreamIdle <= 0 {
		l.StreamIdle = DefaultStreamIdle
	}
	if l.MaxStreams == 0 {
		l.MaxStreams = DefaultMaxStreams
	}
	if l.ConnIdle <= 0 {
		l.ConnIdle = DefaultConnIdle
	}
	if l.MaxWatches <= 0 {
		l.MaxWatches = DefaultMaxWatches
	}
	if l.WatchesPerAddress <= 0 {
		l.WatchesPerAddress = DefaultWatchesPerAddress
	}
	if l.WatchMaxAge <= 0 {
		l.WatchMaxAge = DefaultWatchMaxAge
	}
	if l.ConnsPerAddress <= 0 {
		l.ConnsPerAddress = DefaultConnsPerAddress
	}
	switch {
	case l.ReadBudget.Rate == 0:
		l.ReadBudget = DefaultReadBudget
	case l.ReadBudget.Rate < 0:
		l.ReadBudget = RateLimit{}
	}
	return l
}

// connectionOptions apply the limits to connections. The server also pings
// a connection that has been silent for a while, and drops it when the
// ping goes unanswered, so that dead peers do not hold connections; and it
// refuses clients that ping more often than every ten seconds.
func (l Limits) connectionOptions() []grpc.ServerOption {
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
func (l Limits) guard(ctx context.Context, ss grpc.ServerStream, run func(grpc.ServerStream) error) error {
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
