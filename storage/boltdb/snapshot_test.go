package boltdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// manyModels is how many models manyLatest rates.
const manyModels = 1 << 14

// manyLatest makes a store of n models' results in two cohorts each, so
// that latest/ holds 2n records: enough for readLatest to read them in
// parallel.
func manyLatest(t *testing.T, dir string, n int) *DB {
	t.Helper()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var batch []storage.Accepted
	for i := range n {
		a := storagetest.Accepted(fmt.Sprintf("lab-%d/m%06d", i%37, i), 1+float64(i%97))
		b := a
		r := *a.Result
		r.Accelerator = "B200"
		b.Result = &r
		b.Measure.Cohort.Hardware = "B200"
		batch = append(batch, a, b)
	}
	if _, _, err := d.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if err := d.checkpointLatest(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// serially is latest/ read the way readLatest stands in for.
func serially(t *testing.T, d *DB) []storage.Current {
	t.Helper()
	var out []storage.Current
	err := d.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = readLatestSerially(tx.Bucket(bucketLatest), 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The parallel read of latest/ gives what a serial one does, record for
// record in key order, while writers commit.
func TestSnapshotReadsInParallelWhileWriting(t *testing.T) {
	d := manyLatest(t, t.TempDir(), manyModels)
	defer d.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 20 {
			a := storagetest.Accepted(fmt.Sprintf("late/m%d", i), 2)
			if _, _, err := d.Append(ctx, []storage.Accepted{a}); err != nil {
				t.Error(err)
			}
		}
	})
	for range 3 {
		err := d.db.View(func(tx *bolt.Tx) error {
			got, err := readLatest(tx)
			if err != nil {
				return err
			}
			want, err := readLatestSerially(tx.Bucket(bucketLatest), 0)
			if err != nil {
				return err
			}
			if len(got) < 2*manyModels || !reflect.DeepEqual(got, want) {
				t.Errorf("parallel read: %d records, serial %d, or they differ", len(got), len(want))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if err := d.checkpointLatest(ctx); err != nil {
		t.Fatal(err)
	}
	snap, err := d.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := serially(t, d); !reflect.DeepEqual(snap.Currents, want) {
		t.Errorf("Snapshot: %d currents, want %d as read serially", len(snap.Currents), len(want))
	}
}

// The runs readLatest cuts latest/ into are in key order, and hold every
// key once; midKey lies between its keys.
func TestSplitLatestCoversEveryKey(t *testing.T) {
	for _, p := range [][2]string{{"a", "b"}, {"a", "a\x00"}, {"\xff\xfe", "\xff\xff"}, {"text-generation\x1fA\x00lab-1/x", "text-to-video\x00lab-99/y"}, {"", "\x01"}} {
		a, b := []byte(p[0]), []byte(p[1])
		if m := midKey(a, b); bytes.Compare(m, a) < 0 || bytes.Compare(m, b) > 0 {
			t.Errorf("midKey(%q, %q) = %q, not between them", a, b, m)
		}
	}
	d := manyLatest(t, t.TempDir(), 3000)
	defer d.Close()
	d.db.View(func(tx *bolt.Tx) error {
		starts, err := splitLatest(tx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(starts) < 64 {
			t.Errorf("%d runs", len(starts))
		}
		var all, runs [][]byte
		tx.Bucket(bucketLatest).ForEach(func(k, _ []byte) error { all = append(all, k); return nil })
		c := tx.Bucket(bucketLatest).Cursor()
		for i, s := range starts {
			r := latestRun{start: s}
			if i+1 < len(starts) {
				r.end = starts[i+1]
			}
			n := 0
			for k, _ := c.Seek(r.start); r.holds(k); k, _ = c.Next() {
				runs = append(runs, k)
				n++
			}
			if n == 0 {
				t.Errorf("run %d from %q is empty", i, s)
			}
		}
		if !reflect.DeepEqual(all, runs) {
			t.Errorf("the runs hold %d keys, latest/ %d", len(runs), len(all))
		}
		return nil
	})
}

// A record that does not decode fails the snapshot, naming its key, as
// the serial read names the first that fails; Open refuses the file.
func TestSnapshotNamesTheFirstBadRecord(t *testing.T) {
	dir := t.TempDir()
	d := manyLatest(t, dir, manyModels)
	var keys [][]byte
	d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLatest).Cursor()
		i := 0
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if i == 3089 || i == 20000 {
				keys = append(keys, append([]byte(nil), k...))
			}
			i++
		}
		return nil
	})
	err := d.db.Update(func(tx *bolt.Tx) error {
		for _, k := range keys {
			if err := tx.Bucket(bucketLatest).Put(k, []byte{0xff, 0xff}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Snapshot(context.Background())
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", keys[0])) {
		t.Errorf("Snapshot: %v, want the first bad record %q named", err, keys[0])
	}
	var serialErr error
	d.db.View(func(tx *bolt.Tx) error {
		_, serialErr = readLatestSerially(tx.Bucket(bucketLatest), 0)
		return nil
	})
	if fmt.Sprint(serialErr) != strings.TrimPrefix(fmt.Sprint(err), "snapshot: ") {
		t.Errorf("parallel %v, serial %v", err, serialErr)
	}
	d.Close()
	if d, err := Open(dir, Options{}); err == nil {
		d.Close()
		t.Error("Open took a file whose latest/ does not decode")
	}
}

// A truncated file of many records is refused, whichever goroutine of the
// parallel read meets the missing pages.
func TestATruncatedLargeFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	d := manyLatest(t, dir, manyModels)
	used := int(d.Size()) // the pages in use; the file grows ahead of them
	d.Close()
	path := filepath.Join(dir, FileName)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, thirds := range []int{1, 2} {
		cut := withFile(t, whole[:used*thirds/3/pageSize*pageSize])
		if d, err := Open(cut, Options{}); err == nil {
			d.Close()
			t.Errorf("a file cut to %d/3 opened", thirds)
		} else if !errors.Is(err, ErrDamaged) {
			t.Errorf("a file cut to %d/3: %v, want ErrDamaged", thirds, err)
		}
	}
}

// BenchmarkSnapshot reads latest/ of 2 × 50,000 records, in parallel and
// serially.
func BenchmarkSnapshot(b *testing.B) {
	dir := b.TempDir()
	d, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	var batch []storage.Accepted
	for i := range 100000 {
		batch = append(batch, storagetest.Accepted(fmt.Sprintf("lab-%d/m%06d", i%37, i), 1+float64(i%97)))
	}
	if _, _, err := d.Append(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		read func(tx *bolt.Tx) ([]storage.Current, error)
	}{
		{"parallel", readLatest},
		{"serial", func(tx *bolt.Tx) ([]storage.Current, error) { return readLatestSerially(tx.Bucket(bucketLatest), 0) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				err := d.db.View(func(tx *bolt.Tx) error {
					_, err := bc.read(tx)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
