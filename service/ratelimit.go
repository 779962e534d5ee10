package service

import (
	"fmt"
	"sync"
	"time"

	"github.com/energylabel/energylabel/limits"
	"golang.org/x/time/rate"
)

// rateLimitedError tells a publisher to slow down and when to retry.
type rateLimitedError struct {
	tokenID    string
	retryAfter time.Duration
}

func (e *rateLimitedError) RetryDelay() time.Duration { return e.retryAfter }
func (e *rateLimitedError) Unwrap() error             { return errResourceExhausted }

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("token %s is over its submission rate limit; retry in %s", e.tokenID, e.retryAfter.Round(time.Millisecond))
}

// submitLimiter keeps one bucket per publisher token.
type submitLimiter struct {
	limit limits.RateLimit
	mu    sync.Mutex
	by    map[string]*rate.Limiter
}

func newSubmitLimiter(l limits.RateLimit) *submitLimiter {
	return &submitLimiter{limit: l, by: map[string]*rate.Limiter{}}
}

// allow takes a submission from the token's bucket, or says how long to wait.
func (l *submitLimiter) allow(tokenID string, now time.Time) error {
	if l.limit.Rate <= 0 {
		return nil
	}
	l.mu.Lock()
	lim := l.by[tokenID]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(l.limit.Rate), max(1, l.limit.Burst))
		l.by[tokenID] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &rateLimitedError{tokenID: tokenID, retryAfter: d}
	}
	return nil
}
