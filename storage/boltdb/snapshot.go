package boltdb

import (
	"bytes"
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/internal/hugepages"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// readLatest reads every record of latest/, in key order, as the index's
// snapshot holds them: the Current of each (records.CurrentOfLatest).
//
// It is most of start-up, and at ten million results latest/ is some
// 200,000 pages, which the first read of each faults into the process, and
// two million records to decode: so it reads on every processor at once
// (inParallel). It cuts latest/ into runs of keys (splitLatest), then
//
//  1. the workers count the records of each run, which faults its pages
//     in;
//  2. one slice is allocated for all the records, each run's after the
//     runs' before it, to be faulted in huge pages (hugepages.Fill);
//  3. the workers read each run again, the largest first, decoding its
//     records straight into their places (records.LatestDecoder, which
//     reads the wire format itself and shares strings; one a worker).
//
// The workers share tx, which bbolt documents as unsafe for concurrent
// use; but a read-only transaction's buckets and cursors only read the
// memory map and their own stacks, and each worker opens its own bucket
// and cursors (TestSnapshotReadsInParallelWhileWriting runs it under the
// race detector). Each worker turns a fault on a damaged page into
// ErrDamaged, as safely does for the caller, and is waited for before
// readLatest returns: what it reads is the memory map's, valid only
// within the transaction.
func readLatest(tx *bolt.Tx) ([]storage.Current, error) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 {
		return readLatestSerially(tx.Bucket(bucketLatest), 0)
	}
	starts, err := splitLatest(tx, workers)
	if err != nil {
		return nil, err
	}
	if len(starts) < 2 {
		return readLatestSerially(tx.Bucket(bucketLatest), 0)
	}
	runs := make([]latestRun, len(starts))
	for i := range runs {
		runs[i].start = starts[i]
		if i+1 < len(starts) {
			runs[i].end = starts[i+1]
		}
	}
	err = inParallel(tx, workers, len(runs), func(_ int, c *bolt.Cursor, i int) error {
		r := &runs[i]
		for k, _ := c.Seek(r.start); r.holds(k); k, _ = c.Next() {
			r.n++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	total := 0
	for i := range runs {
		runs[i].at = total
		total += runs[i].n
	}
	out := make([]storage.Current, total)
	// The largest runs first, so that the workers finish together; each
	// worker's decoder keeps one copy of the strings it met.
	slices.SortStableFunc(runs, func(a, b latestRun) int { return cmp.Compare(b.n, a.n) })
	decoders := make([]*records.LatestDecoder, workers)
	for w := range decoders {
		decoders[w] = records.NewLatestDecoder()
	}
	// The decoders are the first to touch out's pages: hundreds of MiB
	// at ten million results, faulted in far fewer huge pages.
	hugepages.Fill(out, func() {
		err = inParallel(tx, workers, len(runs), func(w int, c *bolt.Cursor, i int) error {
			r := &runs[i]
			d := decoders[w]
			at := r.at
			for k, v := c.Seek(r.start); r.holds(k) && at < r.at+r.n; k, v = c.Next() {
				if err := d.DecodeTo(v, &out[at]); err != nil {
					return latestError(k, err)
				}
				at++
			}
			return nil
		})
	})
	if err != nil {
		// A record that does not decode: the first of them is what a
		// serial read names, and the runs were not read in key order.
		return readLatestSerially(tx.Bucket(bucketLatest), 0)
	}
	return out, nil
}

// latestRun is a run of latest/'s keys, from start to before end (nil:
// to the last key), which holds n records, the at-th record first.
type latestRun struct {
	start, end []byte
	n, at      int
}

func (r *latestRun) holds(k []byte) bool {
	return k != nil && (r.end == nil || bytes.Compare(k, r.end) < 0)
}

// inParallel calls fn(w, c, i) for i from 0 to n-1, in order, on workers
// goroutines, the w-th with its own cursor c of latest/, and waits for
// them all. A panic, or a fault, in fn is fn's failure, as safely makes
// it; after one failure no more calls begin, and the failure returned is
// that of the lowest i that failed.
func inParallel(tx *bolt.Tx, workers, n int, fn func(w int, c *bolt.Cursor, i int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstAt  = n
		firstErr error
		failed   atomic.Bool
	)
	for w := range min(workers, n) {
		wg.Go(func() {
			c := tx.Bucket(bucketLatest).Cursor()
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := safely(func() error { return fn(w, c, i) }); err != nil {
					mu.Lock()
					if i < firstAt {
						firstAt, firstErr = i, err
					}
					mu.Unlock()
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// splitDepth bounds how many times splitLatest halves a cohort's keys:
// into at most 2^splitDepth runs.
const splitDepth = 6

// splitLatest cuts latest/ into runs: it returns the first key of each, in
// order. Not knowing where the records are without reading them all, it
// cuts at each cohort's first key (a key is a cohort key, 0x00 and a model
// id; one seek past the cohort key and 0x00 finds the next cohort), then,
// on every worker, halves the key space between a run's first and last
// keys (midKey), seeks the first key from the middle, and halves both
// halves again, splitDepth times: a run of many keys close together in key
// space stays larger than the others, but with some hundred runs no one
// worker is left with much of the work. Each seek reads a path from the
// root, a few pages.
func splitLatest(tx *bolt.Tx, workers int) ([][]byte, error) {
	type cohort struct {
		first, last []byte
		starts      [][]byte
	}
	var cohorts []cohort
	c := tx.Bucket(bucketLatest).Cursor()
	for k, _ := c.First(); k != nil; {
		co := cohort{first: bytes.Clone(k)}
		// The next cohort's first key, and this one's last.
		var next []byte
		if i := bytes.IndexByte(co.first, 0); i >= 0 {
			if next, _ = c.Seek(append(bytes.Clone(co.first[:i]), 1)); next != nil {
				last, _ := c.Prev()
				co.last = bytes.Clone(last)
			} else {
				last, _ := c.Last()
				co.last = bytes.Clone(last)
			}
		} else { // not a cohort's: a run of its own
			c.Seek(co.first)
			next, _ = c.Next()
			co.last = co.first
		}
		cohorts = append(cohorts, co)
		k = next
	}
	err := inParallel(tx, workers, len(cohorts), func(_ int, c *bolt.Cursor, i int) error {
		co := &cohorts[i]
		co.starts = [][]byte{co.first}
		// split adds the starts of the runs strictly after lo, up to hi,
		// the last key of lo's run.
		var split func(lo, hi []byte, depth int)
		split = func(lo, hi []byte, depth int) {
			if depth == 0 || bytes.Compare(lo, hi) >= 0 {
				return
			}
			k, _ := c.Seek(midKey(lo, hi))
			if k == nil || bytes.Compare(k, lo) <= 0 || bytes.Compare(k, hi) > 0 {
				return
			}
			mid := bytes.Clone(k)
			before, _ := c.Prev()
			split(lo, bytes.Clone(before), depth-1)
			co.starts = append(co.starts, mid)
			split(mid, hi, depth-1)
		}
		split(co.first, co.last, splitDepth)
		return nil
	})
	var starts [][]byte
	for _, co := range cohorts {
		starts = append(starts, co.starts...)
	}
	return starts, err
}

// midKey is a key about halfway between a and b, a before b, as numbers
// of base 256: the mean of their bytes, with the carry.
func midKey(a, b []byte) []byte {
	n := max(len(a), len(b)) + 1
	sum := make([]int, n)
	for i := n - 1; i >= 0; i-- {
		if i < len(a) {
			sum[i] += int(a[i])
		}
		if i < len(b) {
			sum[i] += int(b[i])
		}
	}
	// Carry from the end, then halve from the start: sum[0], which may
	// reach 511, halves into a byte.
	for i := n - 1; i > 0; i-- {
		sum[i-1] += sum[i] >> 8
		sum[i] &= 0xff
	}
	mid := make([]byte, n)
	rest := 0
	for i := range n {
		v := rest<<8 | sum[i]
		mid[i], rest = byte(v>>1), v&1
	}
	// Trailing zeros add nothing to the number, but order the key after
	// a shorter b's.
	return bytes.TrimRight(mid, "\x00")
}

// readLatestSerially is readLatest in one goroutine; n is about the count.
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
