package storagetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/energylabel/energylabel/internal/synth"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Synthetic returns n accepted results of the synthetic registry (seed 1),
// each with its own payload hash and measurement fingerprint, as
// publishers' submissions carry, for the backends' benchmarks. A benchmark
// that appends one more than once gives it a fingerprint of its own: the
// same measurement again is refused.
func Synthetic(tb testing.TB, n int) []storage.Accepted {
	tb.Helper()
	out := make([]storage.Accepted, 0, n)
	now := time.Now()
	synth.New(synth.Config{Results: n, Seed: 1}).Each(func(r rating.Result) bool {
		m, err := rating.Normalise(&r)
		if err != nil {
			tb.Fatal(err)
		}
		a := storage.Audit{TokenID: "tok_0123456789ab", ReceivedAt: now, ClientAddr: "127.0.0.1:40312", PayloadSHA256: fmt.Sprintf("%064x", len(out)),
			Fingerprint: fmt.Sprintf("%064x", len(out))}
		out = append(out, storage.Accepted{Result: &r, Measure: m, Audit: a, Label: storage.Label{Grade: "E", EEI: 0.8, Scheme: "grade/2025.1", Stars: 3, Release: "r1"}})
		return true
	})
	return out
}

// InParallel runs b.N calls of fn over exactly `clients` goroutines and
// reports writes/s.
func InParallel(b *testing.B, clients int, fn func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := fn(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}
