package index_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/energylabel/energylabel/internal/synth"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
)

// TestBuildStartupData fills the data directory ENERGYLABEL_BENCH_BUILD
// names with the latest result of every series of a synthetic registry of
// ENERGYLABEL_BENCH_RESULTS results (seed 1), one result a series: latest/
// as a registry of that many results holds it, without its older results,
// which start-up does not read. At 10,000,000 that is some two million
// records, written in minutes rather than the bulk load's twenty. It is
// skipped without ENERGYLABEL_BENCH_BUILD; BenchmarkStartupData reads the
// directory.
func TestBuildStartupData(t *testing.T) {
	dir := os.Getenv("ENERGYLABEL_BENCH_BUILD")
	if dir == "" {
		t.Skip("ENERGYLABEL_BENCH_BUILD names no data directory to fill")
	}
	n, err := strconv.Atoi(os.Getenv("ENERGYLABEL_BENCH_RESULTS"))
	if err != nil {
		n = 10_000_000
	}
	db, err := boltdb.Open(dir, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := synth.New(synth.Config{Results: n, Seed: 1})
	received := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const batchSize = 20000
	batch := make([]storage.Accepted, 0, batchSize)
	flush := func() {
		if _, _, err := db.Append(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for i, s := range reg.Series() {
		r := reg.Result(i, s.Results-1)
		m, err := rating.Normalise(&r)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, storage.Accepted{Result: &r, Measure: m, Source: rating.Published,
			Audit: storage.Audit{TokenID: "tok_0123456789ab", ReceivedAt: received, PayloadSHA256: fmt.Sprintf("%064x", i)},
			Label: storage.Label{Grade: "E", EEI: 0.8, Scheme: "grade/2025.1", Stars: 3, Release: "r1"}})
		if len(batch) == batchSize {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	t.Logf("%d series written to %s", len(reg.Series()), dir)
}
