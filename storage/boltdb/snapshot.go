package boltdb

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// readLatest reads every record of latest/, in key order, as the index's
// snapshot holds them: the Current of each (records.CurrentOfLatest).
//
// It is most of start-up, and at ten million results latest/ is some
// 200,000 pages, which the first read of each faults into the process: so
// it reads on every processor at once. It cuts latest/ into runs of keys
// (splitLatest), then
//
//  1. the workers count the records of each run, which faults the pages
//     in, each run by one worker;
//  2. one slice is allocated for all the records, each run's after the
//     runs' before it;
//  3. the workers read each run again, decoding its records straight into
//     their places (records.LatestDecoder, which reads the wire format
//     itself and shares strings).
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
	starts := splitLatest(tx.Bucket(bucketLatest).Cursor())
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
	var failed firstFailure
	eachRun(tx, workers, runs, &failed, func(r *latestRun, c *bolt.Cursor) error {
		for k, _ := c.Seek(r.start); r.holds(k); k, _ = c.Next() {
			r.n++
		}
		return nil
	})
	if err := failed.err(); err != nil {
		return nil, err
	}
	total := 0
	for i := range runs {
		runs[i].at = total
		total += runs[i].n
	}
	out := make([]storage.Current, total)
	eachRun(tx, workers, runs, &failed, func(r *latestRun, c *bolt.Cursor) error {
		d := records.NewLatestDecoder()
		i := r.at
		for k, v := c.Seek(r.start); r.holds(k) && i < r.at+r.n; k, v = c.Next() {
			if err := d.DecodeTo(v, &out[i]); err != nil {
				failed.at(i, latestError(k, err))
				return nil
			}
			i++
		}
		return nil
	})
	if err := failed.err(); err != nil {
		return nil, err
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

// eachRun calls fn on every run, on workers goroutines each with its own
// bucket and cursor, and waits for them all; a panic, or a fault, in fn
// is the run's failure.
func eachRun(tx *bolt.Tx, workers int, runs []latestRun, failed *firstFailure, fn func(*latestRun, *bolt.Cursor) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(runs)) {
		wg.Go(func() {
			c := tx.Bucket(bucketLatest).Cursor()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(runs) || failed.err() != nil {
					return
				}
				r := &runs[i]
				if err := safely(func() error { return fn(r, c) }); err != nil {
					failed.at(r.at, err)
				}
			}
		})
	}
	wg.Wait()
}

// firstFailure keeps the failure of the earliest record that failed, in
// key order, as a serial read would report it.
type firstFailure struct {
	mu    sync.Mutex
	first int
	e     error
}

func (f *firstFailure) at(i int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.e == nil || i < f.first {
		f.first, f.e = i, err
	}
}

func (f *firstFailure) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.e
}

// splitDepth bounds how many times splitLatest halves latest/: into at
// most 2^splitDepth runs, which the workers share out as they go.
const splitDepth = 8

// splitLatest cuts latest/ into runs: it returns the first key of each.
// Not knowing where the records are without reading them all, it halves
// the key space between a run's first and last keys (midKey), seeks the
// first key from the middle, and halves both halves again, splitDepth
// times: a run of many keys spread thin in key space stays larger than
// the others, but with some hundred runs no one worker is left with much.
// Each seek reads a path from the root, a few pages.
func splitLatest(c *bolt.Cursor) [][]byte {
	first, _ := c.First()
	if first == nil {
		return nil
	}
	last, _ := c.Last()
	starts := [][]byte{bytes.Clone(first)}
	var split func(lo, hi []byte, depth int)
	// split adds the starts of the runs strictly after lo, up to hi, the
	// last key of lo's run.
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
		loEnd := bytes.Clone(before)
		split(lo, loEnd, depth-1)
		starts = append(starts, mid)
		split(mid, hi, depth-1)
	}
	split(starts[0], bytes.Clone(last), splitDepth)
	return starts
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
	// Carry from the end, then halve from the start: sum[0] may reach 511.
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
	if sum[0] > 0xff { // a and b both start above 0x7f: the top bit carried out
		mid[0] |= 0x80
	}
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
