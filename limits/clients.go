package limits

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/energylabel/energylabel/errdefs"

	"golang.org/x/time/rate"
)

// Per-client limits tell clients apart by address, so that one client
// cannot spend what other clients need: the watches it holds, the
// connections it opens, the costly reads it makes. An address is the
// client's IP: an IPv4 address, or the /64 network of an IPv6 one, which
// one client usually holds whole. Behind a reverse proxy, every request
// comes from the proxy: X-Forwarded-For (x-forwarded-for in gRPC
// metadata) names the client, and is believed only from a trusted proxy.

// clientAddr is the address per-client limits count for a connection from
// remote (host:port, or a bare host) carrying the X-Forwarded-For values
// xff. When remote is a trusted proxy, the client is the rightmost
// forwarded address that is not one: proxies append to the header, so
// what lies left of the last untrusted hop is the client's to make up.
func (l Limits) clientAddr(remote string, xff []string) string {
	addr, ok := parseHost(remote)
	if !ok {
		return errdefs.Clip(remote, errdefs.MaxFieldBytes) // not an IP (a test's pipe): counted as it is
	}
	if len(xff) > 0 && l.trusted(addr) {
		// Hops are read from the right, at most a few, so that a huge
		// header costs nothing; past them, the last hop read counts.
		hops := 0
		for i := len(xff) - 1; i >= 0 && hops < maxForwardedHops; i-- {
			for rest := xff[i]; rest != "" && hops < maxForwardedHops; hops++ {
				hop := rest
				if j := strings.LastIndexByte(rest, ','); j >= 0 {
					hop, rest = rest[j+1:], rest[:j]
				} else {
					rest = ""
				}
				a, ok := parseHost(strings.TrimSpace(hop))
				if !ok {
					return addressKey(addr) // a garbled hop: the last good one is the client
				}
				addr = a
				if !l.trusted(a) {
					return addressKey(a)
				}
			}
		}
	}
	return addressKey(addr)
}

// maxForwardedHops bounds the X-Forwarded-For entries read.
const maxForwardedHops = 8

func (l Limits) trusted(a netip.Addr) bool {
	for _, p := range l.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHost reads an IP, with or without a port or brackets.
func parseHost(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// addressKey is what limits count an address as: an IPv4 address, or an
// IPv6 address's /64.
func addressKey(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// ParseTrustedProxies reads a comma-separated list of CIDRs or single
// addresses, the -trusted-proxy flag's value.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: neither a CIDR nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// budgetError says that a client spent its budget of costly reads, and
// when it may try again.
type budgetError struct {
	retryAfter time.Duration
}

func (e *budgetError) Error() string {
	return fmt.Sprintf("%v: this address made too many costly reads (history, search, task pages, image renders); retry in %s",
		errResourceExhausted, e.retryAfter.Round(time.Millisecond))
}

func (e *budgetError) Unwrap() error { return errResourceExhausted }

func (e *budgetError) RetryDelay() time.Duration { return e.retryAfter }

// renderSlots bound the PNG labels the server draws at once. A render
// costs about 20 ms of a core; without a bound, callers on many
// addresses, each within its budget, could take every core from the
// readers of cached badges. A render that finds no slot within
// renderWait gets the busy image.
type renderSlots chan struct{}

const renderWait = 100 * time.Millisecond

func newRenderSlots() renderSlots { return make(renderSlots, max(1, runtime.GOMAXPROCS(0)/2)) }

// errRendersBusy says that every render slot stayed taken.
var errRendersBusy = &busyError{retryAfter: time.Second}

type busyError struct{ retryAfter time.Duration }

func (e *busyError) Error() string             { return "every PNG render slot is taken; retry in a second" }
func (e *busyError) RetryDelay() time.Duration { return e.retryAfter }
func (e *busyError) Unwrap() error             { return errResourceExhausted }

// take holds a render slot until release is called.
func (rs renderSlots) take(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(renderWait)
	defer t.Stop()
	select {
	case rs <- struct{}{}:
		return func() { <-rs }, nil
	case <-t.C:
		return nil, errRendersBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// maxBudgets bounds the addresses the read budget remembers at once.
// When they are all recent, a new address shares one overflow bucket,
// so that a flood from many addresses stays bounded too.
const maxBudgets = 1 << 16

// readBudget is a token bucket per client address for the reads that
// cost the server much more than a cached answer.
type readBudget struct {
	limit    RateLimit
	mu       sync.Mutex
	by       map[string]*budgetEntry
	overflow *rate.Limiter
}

type budgetEntry struct {
	lim  *rate.Limiter
	used time.Time
}

func newReadBudget(l RateLimit) *readBudget {
	return &readBudget{limit: l, by: map[string]*budgetEntry{},
		overflow: rate.NewLimiter(rate.Limit(l.Rate), max(1, l.Burst))}
}

// What the costlier reads cost in reads: drawing a PNG label takes some
// 20 ms of a core and allocates megabytes; a watch that replays from an
// old revision reads the change log since.
const (
	PNGRenderCost = 4
	ReplayCost    = 4
)

// take spends one costly read of addr's, or says how long to wait.
func (b *readBudget) take(addr string, now time.Time) error { return b.takeN(addr, 1, now) }

// takeN spends n reads of addr's at once, or none and says how long to
// wait.
func (b *readBudget) takeN(addr string, n int, now time.Time) error {
	if b == nil || b.limit.Rate <= 0 {
		return nil
	}
	lim := b.limiter(addr, now)
	r := lim.ReserveN(now, min(n, lim.Burst()))
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &budgetError{retryAfter: d}
	}
	return nil
}

func (b *readBudget) limiter(addr string, now time.Time) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.by[addr]; e != nil {
		e.used = now
		return e.lim
	}
	if len(b.by) >= maxBudgets {
		// An entry unused for as long as its bucket takes to fill again
		// is a full bucket: forgetting it changes nothing.
		refill := time.Duration(float64(max(1, b.limit.Burst)) / b.limit.Rate * float64(time.Second))
		for k, e := range b.by {
			if now.Sub(e.used) > refill {
				delete(b.by, k)
			}
		}
		if len(b.by) >= maxBudgets {
			return b.overflow
		}
	}
	e := &budgetEntry{lim: rate.NewLimiter(rate.Limit(b.limit.Rate), max(1, b.limit.Burst)), used: now}
	b.by[addr] = e
	return e.lim
}

// watchSlots count the watches served, in all and per client address.
type watchSlots struct {
	mu      sync.Mutex
	total   int
	byAddr  map[string]int
	max     int // in all
	perAddr int
}

// take holds a slot for addr, or says why there is none.
func (w *watchSlots) take(addr string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.total >= w.max:
		return fmt.Errorf("%w: the server serves %d watches at most; try again later", errResourceExhausted, w.max)
	case w.byAddr[addr] >= w.perAddr:
		return fmt.Errorf("%w: %d watches at most from one address; end one first", errResourceExhausted, w.perAddr)
	}
	if w.byAddr == nil {
		w.byAddr = map[string]int{}
	}
	w.total++
	w.byAddr[addr]++
	return nil
}

// give returns addr's slot.
func (w *watchSlots) give(addr string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total--
	if w.byAddr[addr]--; w.byAddr[addr] <= 0 {
		delete(w.byAddr, addr)
	}
}
