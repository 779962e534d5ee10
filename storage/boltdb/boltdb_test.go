package boltdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// openTest opens a store under dir and checks the file, and its history
// index, when the test ends.
func openTest(t *testing.T, dir string) *DB {
	t.Helper()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Check(); err != nil {
			t.Errorf("tx.Check: %v", err)
		}
		checkHistoryIndex(t, d)
		d.Close()
	})
	return d
}

// TestConformance runs the suite, then opens each test's file once more
// to run bbolt's consistency check over it and to check model-history/
// and the cohort numbers against results/. Its slow watchers are
// Options.WatchBuffer and its compaction is the event retention's, all at
// once. Its tests store too few results for a checkpoint of latest/: their
// snapshots read the results pending (latest.go), until Close writes them.
func TestConformance(t *testing.T) { conformance(t, Options{}) }

// TestConformanceCheckpointingEachAppend runs the suite with a checkpoint
// of latest/ before every Append: snapshots read latest/, and little is
// pending.
func TestConformanceCheckpointingEachAppend(t *testing.T) {
	conformance(t, Options{LatestCheckpoint: 1})
}

func conformance(t *testing.T, base Options) {
	opener := func(t *testing.T, opt Options) storagetest.Opener {
		opt.LatestCheckpoint = base.LatestCheckpoint
		dir := t.TempDir()
		t.Cleanup(func() { // after the suite closed what it opened
			d, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if err := d.Check(); err != nil {
				t.Errorf("tx.Check: %v", err)
			}
			checkHistoryIndex(t, d)
		})
		return func(t *testing.T) storage.Backend {
			d, err := Open(dir, opt)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	storagetest.Run(t, storagetest.Factory{
		New:          func(t *testing.T) storagetest.Opener { return opener(t, Options{}) },
		SlowWatchers: func(t *testing.T, n int) storagetest.Opener { return opener(t, Options{WatchBuffer: n}) },
		Compact: func(t *testing.T, b storage.Backend, rev int64) {
			// What retention deletes a few events per write, at once.
			err := b.(*DB).db.Update(func(tx *bolt.Tx) error { return dropEvents(tx, rev, math.MaxInt) })
			if err != nil {
				t.Fatal(err)
			}
		},
	})
}

// checkHistoryIndex checks that model-history/ holds exactly one key per
// result: its model, the number of the cohort its result reads in, its
// id; and that cohorts/ and cohort-numbers/ map numbers and keys both
// ways.
func checkHistoryIndex(t *testing.T, d *DB) {
	t.Helper()
	var want, got [][]byte
	err := d.db.View(func(tx *bolt.Tx) error {
		keys, numbers := tx.Bucket(bucketCohorts), tx.Bucket(bucketCohortNumbers)
		if kn, nn := keys.Stats().KeyN, numbers.Stats().KeyN; kn != nn {
			return fmt.Errorf("cohorts/ holds %d keys, cohort-numbers/ %d", kn, nn)
		}
		err := keys.ForEach(func(n, k []byte) error {
			if v := numbers.Get(k); !bytes.Equal(v, n) {
				return fmt.Errorf("cohort %x is %q in cohorts/, which cohort-numbers/ numbers %x", n, k, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = eachRecord(tx, func(id uint64, rec *storev1.Result) error {
			n := numbers.Get([]byte(records.CohortKey(records.CohortOf(rec))))
			if len(n) != 4 {
				return fmt.Errorf("result %d: its cohort has no number", id)
			}
			want = append(want, modelHistoryKey(rec.Model, binary.BigEndian.Uint32(n), id))
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketModelHistory).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("model-history key %q holds %q, not a revision", k, v)
			}
			got = append(got, bytes.Clone(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want, bytes.Compare)
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("model-history/ holds %d keys, results/ make %d:\n%q\nwant\n%q", len(got), len(want), got, want)
	}
}

// A backup carries the history index: a store started from it answers
// filtered history as the one it was taken from.
func TestABackupCarriesTheHistoryIndex(t *testing.T) {
	d := openTest(t, t.TempDir())
	var batch []storage.Accepted
	for i := range 40 {
		batch = append(batch, storagetest.InCohort("a/many", float64(i+1), storagetest.HistoryCohorts[i*i%len(storagetest.HistoryCohorts)]))
	}
	if _, _, err := d.Append(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	r, _, err := d.Backup(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	restored := openTest(t, dir)
	storagetest.CheckHistory(t, restored, "a/many")
	q := storage.HistoryQuery{Model: "a/many", Task: "text-generation", Limit: 100}
	want, _ := d.History(t.Context(), q)
	got, err := restored.History(t.Context(), q)
	if err != nil || len(got) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("filtered history of the restored store: %d entries, %v; want %d", len(got), err, len(want))
	}
}
