// Package limits bounds what one client can cost the server: the calls
// and streams it holds, the connections it opens, and the costly reads it
// makes, with clients told apart by address.
package limits

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/energylabel/energylabel/errdefs"
)

// RateLimit is a token bucket: Rate events per second on average, in
// bursts of up to Burst. The zero value is no limit.
type RateLimit struct {
	Rate  float64
	Burst int
}

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

// WithDefaults is l with every unset limit at its default.
func (l Limits) WithDefaults() Limits {
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

// errResourceExhausted is the kind of every refusal here.
var errResourceExhausted = errdefs.New(errdefs.Exhausted, "resource exhausted")

// Clients keeps what each client address holds and has spent: its costly
// reads, its watches, its connections, and the server's PNG render slots
// they share.
type Clients struct {
	limits  Limits
	reads   *readBudget
	renders renderSlots
	watches *watchSlots
	refused atomic.Int64
	log     *slog.Logger
	// lastRefusalLog and suppressed sample the refused-connection lines:
	// one a second at most, saying how many were left out.
	lastRefusalLog atomic.Int64
	suppressed     atomic.Int64
}

// New applies limits (their defaults where unset); log receives the lines
// of refused connections.
func New(l Limits, log *slog.Logger) *Clients {
	l = l.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Clients{limits: l, reads: newReadBudget(l.ReadBudget), renders: newRenderSlots(),
		watches: &watchSlots{max: l.MaxWatches, perAddr: l.WatchesPerAddress}, log: log}
}

// Limits are the limits applied, defaults filled in.
func (c *Clients) Limits() Limits { return c.limits }

// Addr is the address per-client limits count a request as: remote is
// the connection's peer (host:port), xff the X-Forwarded-For values.
func (c *Clients) Addr(remote string, xff []string) string { return c.limits.clientAddr(remote, xff) }

// SpendReads takes n costly reads from addr's budget, or says, with a
// RetryLater error, when to try again.
func (c *Clients) SpendReads(addr string, n int) error { return c.reads.takeN(addr, n, time.Now()) }

// TakeRenderSlot holds one of the server's PNG render slots until release
// is called, or says, with a RetryLater error, that none came free.
func (c *Clients) TakeRenderSlot(ctx context.Context) (release func(), err error) {
	return c.renders.take(ctx)
}

// TakeWatch holds a watch slot for addr until GiveWatch, or says why
// there is none.
func (c *Clients) TakeWatch(addr string) error { return c.watches.take(addr) }

// GiveWatch returns a slot TakeWatch gave addr.
func (c *Clients) GiveWatch(addr string) { c.watches.give(addr) }

// RefusedConnections counts the connections closed for their address's cap.
func (c *Clients) RefusedConnections() int64 { return c.refused.Load() }

// logRefusal logs that addr's connection was refused, sampled.
func (c *Clients) logRefusal(addr string) {
	now := time.Now().UnixNano()
	last := c.lastRefusalLog.Load()
	if now-last < int64(time.Second) || !c.lastRefusalLog.CompareAndSwap(last, now) {
		c.suppressed.Add(1)
		return
	}
	c.log.Warn("connection refused", "client", addr, "limit", c.limits.ConnsPerAddress, "suppressed_before", c.suppressed.Swap(0))
}

// RetryLater is an error that says when to try again: a client past its
// budget, or a server without a free render slot.
type RetryLater interface {
	error
	RetryDelay() time.Duration
}

// RetryAfter is a Retry-After header's value: whole seconds, at least 1.
func RetryAfter(d time.Duration) string {
	return fmt.Sprint(max(1, int(math.Ceil(d.Seconds()))))
}
