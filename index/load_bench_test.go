package index_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/internal/synth"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
)

// syntheticSnapshot is the snapshot of a synthetic registry of n results:
// every series' last result, as latest/ would hold it.
func syntheticSnapshot(tb testing.TB, n int) *storage.Snapshot {
	tb.Helper()
	reg := synth.New(synth.Config{Results: n, Seed: 1})
	snap := &storage.Snapshot{Revision: int64(n)}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, s := range reg.Series() {
		r := reg.Result(i, s.Results-1)
		m, err := rating.Normalise(&r)
		if err != nil {
			tb.Fatal(err)
		}
		snap.Currents = append(snap.Currents, storage.CurrentOf(uint64(i+1), &storage.Accepted{
			Result: &r, Measure: m, Audit: storage.Audit{ReceivedAt: now}, Source: rating.Published}))
	}
	return snap
}

// heapInUse is the live heap after a full collection, in MiB, and the
// number of live objects.
func heapInUse() (mib float64, objects uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20), ms.HeapObjects
}

// gcPause is how long a full collection of the live heap takes: what the
// index costs every cycle of the collector.
func gcPause() time.Duration {
	runtime.GC()
	start := time.Now()
	runtime.GC()
	return time.Since(start)
}

// BenchmarkLoad is Load of a synthetic registry's snapshot (no storage):
// the index's share of start-up, the heap it keeps (index-MiB), in how
// many objects, and how long a full collection takes with it (gc-µs, of
// the whole test binary's heap).
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{100000, 1000000} {
		b.Run(fmt.Sprintf("results=%d", n), func(b *testing.B) {
			base, baseObjs := heapInUse()
			snap := syntheticSnapshot(b, n)
			var ix *index.Index
			for b.Loop() {
				ix = index.New()
				ix.Load(snap)
			}
			b.StopTimer()
			snap = nil
			heap, objs := heapInUse()
			b.ReportMetric(heap-base, "index-MiB")
			b.ReportMetric(float64(objs-baseObjs), "index-objects")
			b.ReportMetric(float64(gcPause().Microseconds()), "gc-µs")
			runtime.KeepAlive(ix)
		})
	}
}

// BenchmarkStartupData is start-up on a data directory named by
// ENERGYLABEL_BENCH_DATA (skipped without it; load one with energylabeld
// and elbench load, as scripts/bench.sh does): boltdb.Open, which reads
// latest/ once (open-s), the index's Load of that snapshot (load-s),
// another Snapshot (snapshot-s, with the file's pages mapped already),
// the heap the snapshot and the index keep, and a full collection with
// the index alone (gc-µs). Run it with -benchtime 1x: each iteration opens
// the file afresh, but the process's heap is warm after the first. With
// ENERGYLABEL_BENCH_HEAPPROFILE set, the heap profile with the index
// loaded and the snapshot dropped is written there.
func BenchmarkStartupData(b *testing.B) {
	dir := os.Getenv("ENERGYLABEL_BENCH_DATA")
	if dir == "" {
		b.Skip("ENERGYLABEL_BENCH_DATA names no data directory")
	}
	ctx := context.Background()
	for b.Loop() {
		base, _ := heapInUse()
		start := time.Now()
		db, err := boltdb.Open(dir, boltdb.Options{})
		if err != nil {
			b.Fatal(err)
		}
		opened := time.Since(start)
		snap, err := db.Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		withSnap, _ := heapInUse()
		start = time.Now()
		ix := index.New()
		ix.Load(snap)
		loaded := time.Since(start)
		both, _ := heapInUse()
		currents := len(snap.Currents)
		snap = nil
		start = time.Now()
		if _, err := db.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
		again := time.Since(start)
		indexOnly, objs := heapInUse()
		pause := gcPause()
		if p := os.Getenv("ENERGYLABEL_BENCH_HEAPPROFILE"); p != "" {
			f, err := os.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
		b.ReportMetric(float64(currents), "entries")
		b.ReportMetric(opened.Seconds(), "open-s")
		b.ReportMetric(again.Seconds(), "snapshot-s")
		b.ReportMetric(loaded.Seconds(), "load-s")
		b.ReportMetric(withSnap-base, "snapshot-MiB")
		b.ReportMetric(both-withSnap, "index+snapshot-MiB")
		b.ReportMetric(indexOnly-base, "index-MiB")
		b.ReportMetric(float64(objs), "heap-objects")
		b.ReportMetric(float64(pause.Microseconds()), "gc-µs")
		runtime.KeepAlive(ix)
		db.Close()
	}
}
