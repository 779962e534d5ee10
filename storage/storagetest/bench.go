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

// BenchHistory measures History on a model of 20,000 results: eight
// cohorts of 2,500 (text-classification and text-generation, each on four
// accelerators) in turn, and three more results on a ninth (MI300X),
// early, midway and late. It stores them with Appends of batch results
// (0: one), then runs, each a sub-benchmark reporting the entries it
// returns:
//
//	unfiltered/page=100        the 100 oldest, from history/ or results/
//	unfiltered/newest=100      the 100 newest
//	filter=none                a filter no cohort matches (hardware TPU v5)
//	filter=cohort/page=100     one cohort's 100 oldest (text-generation on A100)
//	filter=cohort/newest=100   its 100 newest
//	filter=cohort/after=half   its 100 after the middle of the history
//	filter=task/page=100       four cohorts' 100 oldest, merged (text-generation)
//	filter=rare/page=100       the ninth cohort: 3 entries among 20,000
//	filter=rare/newest=100     the same, newest first
func BenchHistory(b *testing.B, s storage.Backend, batch int) {
	const model, n = "bench/history", 20000
	ctx := b.Context()
	var cohorts []rating.Cohort
	for _, c := range []rating.Cohort{clf, gen} {
		for _, hw := range []string{"H100", "B200", "A100", "L4"} {
			c.Hardware = hw
			cohorts = append(cohorts, c)
		}
	}
	rare := clfB200
	rare.Hardware = "MI300X"
	all := make([]storage.Accepted, n)
	for i := range all {
		c := cohorts[i%len(cohorts)]
		if i == 5 || i == n/2 || i == n-5 {
			c = rare
		}
		all[i] = InCohort(model, float64(i%97+1), c)
	}
	for from := 0; from < n; from += max(1, batch) {
		if _, _, err := s.Append(ctx, all[from:min(n, from+max(1, batch))]); err != nil {
			b.Fatal(err)
		}
	}
	one := storage.HistoryQuery{Model: model, Task: gen.Task, Hardware: "A100", Limit: 100}
	half := one
	half.After = n / 2
	for _, bm := range []struct {
		name string
		q    storage.HistoryQuery
		want int
	}{
		{"unfiltered/page=100", storage.HistoryQuery{Model: model, Limit: 100}, 100},
		{"unfiltered/newest=100", storage.HistoryQuery{Model: model, Limit: 100, Newest: true}, 100},
		{"filter=none", storage.HistoryQuery{Model: model, Hardware: "TPU v5", Limit: 100}, 0},
		{"filter=cohort/page=100", one, 100},
		{"filter=cohort/newest=100", storage.HistoryQuery{Model: model, Task: gen.Task, Hardware: "A100", Limit: 100, Newest: true}, 100},
		{"filter=cohort/after=half", half, 100},
		{"filter=task/page=100", storage.HistoryQuery{Model: model, Task: gen.Task, Limit: 100}, 100},
		{"filter=rare/page=100", storage.HistoryQuery{Model: model, Hardware: "MI300X", Limit: 100}, 3},
		{"filter=rare/newest=100", storage.HistoryQuery{Model: model, Hardware: "MI300X", Limit: 100, Newest: true}, 3},
	} {
		b.Run(bm.name, func(b *testing.B) {
			got := 0
			for b.Loop() {
				h, err := s.History(ctx, bm.q)
				if err != nil {
					b.Fatal(err)
				}
				got = len(h)
			}
			if got != bm.want {
				b.Fatalf("%d entries, want %d", got, bm.want)
			}
			b.ReportMetric(float64(got), "entries/op")
		})
	}
}
