package boltdb

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/synth"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// clients is the concurrency of the durable-write benchmarks.
const clients = 32

// synthetic returns n normalised synthetic results.
func synthetic(tb testing.TB, n int) []storage.Accepted {
	tb.Helper()
	out := make([]storage.Accepted, 0, n)
	now := time.Now()
	synth.New(synth.Config{Results: n, Seed: 1}).Each(func(r rating.Result) bool {
		m, err := rating.Normalise(&r)
		if err != nil {
			tb.Fatal(err)
		}
		a := storage.Audit{TokenID: "tok_0123456789ab", ReceivedAt: now, ClientAddr: "127.0.0.1:40312", PayloadSHA256: fmt.Sprintf("%064x", len(out))}
		out = append(out, storage.Accepted{Result: &r, Measure: m, Audit: a, Label: storage.Label{Grade: "E", EEI: 0.8, Scheme: "grade/2025.1", Stars: 3, Release: "r1"}})
		return true
	})
	return out
}

// inParallel runs b.N calls of fn over exactly `clients` goroutines.
func inParallel(b *testing.B, fn func(i int) error) {
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

// BenchmarkSubmitDurable is a submission's write, an Append of one, fsync
// on, from 32 goroutines: target 3 compares it with
// BenchmarkBoltBatchBaseline.
func BenchmarkSubmitDurable(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tok := storage.Token{ID: "tok_0123456789ab", Namespaces: []string{"*"}}
	if _, err := s.PutToken(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	pool := synthetic(b, 4096)
	inParallel(b, func(i int) error {
		it := pool[i%len(pool)]
		it.Audit.TokenID = tok.ID
		_, _, err := s.Append(context.Background(), []storage.Accepted{it})
		return err
	})
}

// BenchmarkBoltBatchBaseline is the floor of a durable write: a raw bbolt
// Batch put, fsync on, from 32 goroutines, of values as large as the
// records BenchmarkSubmitDurable stores.
func BenchmarkBoltBatchBaseline(b *testing.B) {
	db, err := bolt.Open(b.TempDir()+"/raw.db", 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("raw")); return err }); err != nil {
		b.Fatal(err)
	}
	size := 0
	pool := synthetic(b, 4096)
	for _, it := range pool {
		v, _ := proto.Marshal(records.Result(&it))
		size += len(v)
	}
	val := make([]byte, size/len(pool))
	defer b.ReportMetric(float64(len(val)), "value-bytes")
	inParallel(b, func(int) error {
		return db.Batch(func(tx *bolt.Tx) error {
			bk := tx.Bucket([]byte("raw"))
			seq, err := bk.NextSequence()
			if err != nil {
				return err
			}
			return bk.Put(u64(seq), val)
		})
	})
}

// BenchmarkSubmitSerial is one client's submission latency.
func BenchmarkSubmitSerial(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pool := synthetic(b, 1024)
	b.ResetTimer()
	for i := range b.N {
		it := pool[i%len(pool)]
		if _, _, err := s.Append(context.Background(), []storage.Accepted{it}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImport is the bulk load: batches of 10,000, each one durable
// transaction.
func BenchmarkImport(b *testing.B) {
	const batch = 10000
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pool := synthetic(b, 100000)
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		from := done % len(pool)
		n := min(batch, b.N-done, len(pool)-from)
		if _, _, err := s.Append(context.Background(), pool[from:from+n]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "results/s")
}

// BenchmarkOpen is start-up: opening a store of synthetic results, which
// reads latest/ for the index's snapshot.
func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("results=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			s, err := Open(dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			pool := synthetic(b, n)
			for from := 0; from < n; from += 10000 {
				if _, _, err := s.Append(context.Background(), pool[from:min(n, from+10000)]); err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
			b.ResetTimer()
			for b.Loop() {
				s, err := Open(dir, Options{})
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
