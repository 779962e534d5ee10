package grpcapi

import (
	"sync"
	"time"

	"google.golang.org/grpc/codes"
)

// Log sampling: whatever a flood of calls costs the server, its log lines
// cost at most LogLinesPerSecond a second for each method and code; the
// first line after a second that dropped some says how many.
const (
	LogLinesPerSecond = 20
	// maxSampleKeys bounds the sampler's table; keys beyond it share one.
	maxSampleKeys = 512
)

type sampleKey struct {
	method string
	code   codes.Code
}

type sampleWindow struct {
	start      time.Time
	logged     int
	suppressed int
}

// logSampler decides which call lines are written.
type logSampler struct {
	mu      sync.Mutex
	windows map[sampleKey]*sampleWindow
}

func newLogSampler() *logSampler { return &logSampler{windows: map[sampleKey]*sampleWindow{}} }

// allow reports whether a line for key may be written at now, and how many
// lines of the key were suppressed in the window before, which that line
// reports.
func (l *logSampler) allow(key sampleKey, now time.Time) (ok bool, suppressedBefore int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil {
		if len(l.windows) >= maxSampleKeys {
			key = sampleKey{method: "(other)", code: key.code}
			w = l.windows[key]
		}
		if w == nil {
			w = &sampleWindow{start: now}
			l.windows[key] = w
		}
	}
	if now.Sub(w.start) >= time.Second {
		suppressedBefore = w.suppressed
		*w = sampleWindow{start: now}
	}
	if w.logged >= LogLinesPerSecond {
		w.suppressed++
		return false, 0
	}
	w.logged++
	return true, suppressedBefore
}
