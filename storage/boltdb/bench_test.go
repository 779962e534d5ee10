package boltdb

import (
	"context"
	"fmt"
	"testing"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// clients is the concurrency of the durable-write benchmarks.
const clients = 32

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
	pool := storagetest.Synthetic(b, 4096)
	storagetest.InParallel(b, clients, func(i int) error {
		it := pool[i%len(pool)]
		it.Audit.TokenID, it.Audit.Fingerprint = tok.ID, fmt.Sprintf("%064x", i)
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
	pool := storagetest.Synthetic(b, 4096)
	for _, it := range pool {
		v, _ := proto.Marshal(records.Result(&it))
		size += len(v)
	}
	val := make([]byte, size/len(pool))
	defer b.ReportMetric(float64(len(val)), "value-bytes")
	storagetest.InParallel(b, clients, func(int) error {
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
	pool := storagetest.Synthetic(b, 1024)
	b.ResetTimer()
	for i := range b.N {
		it := pool[i%len(pool)]
		it.Audit.Fingerprint = fmt.Sprintf("%064x", i)
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
	pool := storagetest.Synthetic(b, 100000)
	for i := range pool {
		pool[i].Audit.Fingerprint = "" // a leaderboard's import is not fingerprinted
	}
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
	b.ReportMetric(float64(s.Size())/float64(b.N), "file-bytes/result")
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
			pool := storagetest.Synthetic(b, n)
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

// BenchmarkWatchReplay is a watch replaying from revision 0 a store of one
// revision of 16,384 results (an import's batch), read up to the token
// written after them, which passes every filter. With the zero filter every
// result is decoded and sent, as every replay was before watches took a
// filter (the server filtered what it was sent); with a filter that passes
// none of them, only each record's model is read (modelOf) and nothing is
// decoded.
func BenchmarkWatchReplay(b *testing.B) {
	const n = 16384
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, _, err := s.Append(ctx, storagetest.Synthetic(b, n)); err != nil {
		b.Fatal(err)
	}
	if _, err := s.PutToken(ctx, storage.Token{ID: "tok_end"}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		f    storage.WatchFilter
	}{{"filter=none", storage.WatchFilter{}}, {"filter=miss", storage.WatchFilter{Model: "nobody/none"}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			events := 0
			for b.Loop() {
				wctx, cancel := context.WithCancel(ctx)
				for resp := range s.Watch(wctx, 0, bc.f) {
					if resp.Err != nil {
						b.Fatal(resp.Err)
					}
					events += len(resp.Events)
					if k := len(resp.Events); k > 0 && resp.Events[k-1].Kind == storage.TokenPut {
						break
					}
				}
				cancel()
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}

// BenchmarkHistory is History on a model of 20,000 results, filtered and
// not: see storagetest.BenchHistory.
func BenchmarkHistory(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storagetest.BenchHistory(b, s, 20000)
}
