package boltdb

import (
	"fmt"
	"runtime"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// readLatest reads every record of latest/, in key order, as the index's
// snapshot holds them: the Current of each (records.CurrentOfLatest).
//
// It is most of start-up, so it reads in parallel: this goroutine walks
// the bucket's cursor and hands the records out, batchLen at a time, to a
// decoder on each processor (records.LatestDecoder, which reads the wire
// format directly and shares strings), each writing its records into their
// places in one slice allocated for all of them. The count comes from the
// bucket's page headers (Bucket.Stats), which costs little beside reading
// the records; should the walk find another count, which a read
// transaction never sees, latest/ is read again in one goroutine.
//
// The workers share tx, which bbolt documents as unsafe for concurrent
// use; but a read-only transaction's cursors only read the memory map and
// their own stacks, so the workers, which only decode what this goroutine
// read, touch nothing bbolt keeps (TestSnapshotReadsInParallelWhileWriting
// runs it under the race detector). Each worker turns a fault on a damaged
// page into ErrDamaged, as safely does for the caller, and is waited for
// before readLatest returns, even by a panic: the records it reads are the
// memory map's, valid only within the transaction.
func readLatest(tx *bolt.Tx) ([]storage.Current, error) {
	latest := tx.Bucket(bucketLatest)
	n := latest.Stats().KeyN
	workers := runtime.GOMAXPROCS(0)
	if n < parallelFrom || workers < 2 {
		return readLatestSerially(latest, n)
	}
	r := &latestReader{out: make([]storage.Current, n), firstAt: n,
		todo: make(chan *batch, 2*workers), free: make(chan *batch, 2*workers+1)}
	for range cap(r.free) {
		r.free <- &batch{}
	}
	for range workers {
		r.wg.Go(r.decode)
	}
	count, more := r.walk(latest.Cursor(), n)
	if r.err() {
		return nil, r.firstErr
	}
	if count != n || more {
		return readLatestSerially(latest, n)
	}
	return r.out, nil
}

// parallelFrom is the fewest records readLatest reads in parallel, and
// batchLen how many records a worker takes at a time.
const (
	parallelFrom = 1 << 14
	batchLen     = 1 << 10
)

// latestReader is one parallel read of latest/.
type latestReader struct {
	out []storage.Current
	// todo are batches to decode; free are batches decoded, to fill again.
	todo, free chan *batch
	wg         sync.WaitGroup
	mu         sync.Mutex
	// firstErr is the failure of the earliest record that failed, in
	// key order, as a serial read reports it; firstAt is its place.
	firstAt  int
	firstErr error
}

// batch is a run of latest/ records, from the at-th; the slices are the
// memory map's.
type batch struct {
	at         int
	keys, vals [][]byte
}

// walk hands out up to n records of the cursor, and waits for them to be
// decoded. It returns how many it handed out, and whether more were left.
func (r *latestReader) walk(c *bolt.Cursor, n int) (count int, more bool) {
	b := <-r.free
	b.at, b.keys, b.vals = 0, b.keys[:0], b.vals[:0]
	sent := false
	defer func() { // even on a panic
		if !sent {
			close(r.todo)
			r.wg.Wait()
		}
	}()
	k, v := c.First()
	for ; k != nil && count < n; k, v = c.Next() {
		b.keys, b.vals = append(b.keys, k), append(b.vals, v)
		count++
		if len(b.vals) == batchLen {
			if r.err() {
				break
			}
			r.todo <- b
			b = <-r.free
			b.at, b.keys, b.vals = count, b.keys[:0], b.vals[:0]
		}
	}
	more = k != nil
	if len(b.vals) > 0 {
		r.todo <- b
	}
	sent = true
	close(r.todo)
	r.wg.Wait()
	return count, more
}

// decode decodes batches until there are no more.
func (r *latestReader) decode() {
	d := records.NewLatestDecoder()
	for b := range r.todo {
		if !r.err() {
			err := safely(func() error {
				for i, v := range b.vals {
					if err := d.DecodeTo(v, &r.out[b.at+i]); err != nil {
						r.fail(b.at+i, latestError(b.keys[i], err))
						return nil
					}
				}
				return nil
			})
			if err != nil {
				r.fail(b.at, err)
			}
		}
		r.free <- b
	}
}

func (r *latestReader) fail(at int, err error) {
	r.mu.Lock()
	if at < r.firstAt || r.firstErr == nil {
		r.firstAt, r.firstErr = at, err
	}
	r.mu.Unlock()
}

func (r *latestReader) err() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstErr != nil
}

// readLatestSerially is readLatest in this goroutine; n is about the count.
func readLatestSerially(latest *bolt.Bucket, n int) ([]storage.Current, error) {
	out := make([]storage.Current, 0, n)
	d := records.NewLatestDecoder()
	err := latest.ForEach(func(k, v []byte) error {
		out = append(out, storage.Current{})
		if err := d.DecodeTo(v, &out[len(out)-1]); err != nil {
			return latestError(k, err)
		}
		return nil
	})
	return out, err
}

// latestError names the record that failed.
func latestError(k []byte, err error) error {
	return fmt.Errorf("latest %q: %w", k, err)
}
