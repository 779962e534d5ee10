package boltdb

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// latestBatches are three batches in which later results replace earlier
// ones of the same model and cohort, within a batch and across batches,
// and new models join.
func latestBatches() [][]storage.Accepted {
	var out [][]storage.Accepted
	for round := range 3 {
		var batch []storage.Accepted
		for i := range 40 {
			m := (i%30 + round*13) % 50 // 30 to 39 repeat 0 to 9
			batch = append(batch, storagetest.InCohort(fmt.Sprintf("lab-%d/m%02d", m%3, m), float64(1+round*40+i),
				storagetest.HistoryCohorts[m%len(storagetest.HistoryCohorts)]))
		}
		out = append(out, batch)
	}
	return out
}

func sortedCurrents(t *testing.T, d *DB) []storage.Current {
	t.Helper()
	s, err := d.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.SortedFunc(slices.Values(s.Currents), func(a, b storage.Current) int { return cmp.Compare(a.ID, b.ID) })
}

func through(t *testing.T, d *DB) (uint64, uint64) {
	t.Helper()
	var th, last uint64
	err := d.db.View(func(tx *bolt.Tx) (err error) {
		th, last, err = latestThrough(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return th, last
}

// A snapshot with every result pending, one after a checkpoint, one after
// a checkpoint every Append, and one after a reopen all hold the same
// currents; the first checkpoint leaves nothing pending.
func TestSnapshotsAgreeWhateverIsPending(t *testing.T) {
	ctx := context.Background()
	run := func(opt Options) (pending, checkpointed, reopened []storage.Current) {
		dir := t.TempDir()
		d, err := Open(dir, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range latestBatches() {
			if _, _, err := d.Append(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		pending = sortedCurrents(t, d)
		if err := d.checkpointLatest(ctx); err != nil {
			t.Fatal(err)
		}
		if th, last := through(t, d); th != last || last != 120 {
			t.Errorf("after a checkpoint: latest-through %d, last result %d; want both 120", th, last)
		}
		checkpointed = sortedCurrents(t, d)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		d = openTest(t, dir)
		return pending, checkpointed, sortedCurrents(t, d)
	}
	pending, checkpointed, reopened := run(Options{})
	if len(pending) == 0 || len(pending) >= 120 {
		t.Fatalf("%d currents of 120 results: the batches replace none, or all", len(pending))
	}
	if !reflect.DeepEqual(pending, checkpointed) || !reflect.DeepEqual(pending, reopened) {
		t.Errorf("currents pending, then checkpointed, then reopened:\n%+v\n%+v\n%+v", pending, checkpointed, reopened)
	}
	each, _, _ := run(Options{LatestCheckpoint: 1})
	if !reflect.DeepEqual(each, pending) {
		t.Errorf("currents with a checkpoint before every Append:\n%+v\nwant\n%+v", each, pending)
	}
}

// A store that stops without its Close loses no current: the next Open
// reads the pending results, and the next Close writes them.
func TestACrashLosesNoPendingCurrent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range latestBatches() {
		if _, _, err := d.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	want := sortedCurrents(t, d)
	d.hub.close()
	forgetRetention(d.db)
	if err := d.db.Close(); err != nil { // not d.Close: no checkpoint
		t.Fatal(err)
	}
	d, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if th, last := through(t, d); th != 0 || last != 120 {
		t.Errorf("after the crash: latest-through %d, last result %d; want 0 and 120", th, last)
	}
	if got := sortedCurrents(t, d); !reflect.DeepEqual(got, want) {
		t.Errorf("after the crash:\n%+v\nwant\n%+v", got, want)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, dir)
	if th, last := through(t, d); th != last {
		t.Errorf("after a clean Close: latest-through %d, last result %d", th, last)
	}
	if got := sortedCurrents(t, d); !reflect.DeepEqual(got, want) {
		t.Errorf("after the checkpoint:\n%+v\nwant\n%+v", got, want)
	}
}

// A checkpoint done again, or one whose results latest/ already holds
// later entries for, replaces no entry with an earlier result's.
func TestACheckpointNeverReplacesALaterEntry(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t.TempDir())
	for _, b := range latestBatches() {
		if _, _, err := d.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.checkpointLatest(ctx); err != nil {
		t.Fatal(err)
	}
	want := serially(t, d)
	// As if the checkpoint had been cut short before its last
	// transaction: every result is pending again.
	err := d.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyLatestThrough, u64(0)) })
	if err != nil {
		t.Fatal(err)
	}
	d.latestThrough.Store(0)
	if err := d.checkpointLatest(ctx); err != nil {
		t.Fatal(err)
	}
	if got := serially(t, d); !reflect.DeepEqual(got, want) {
		t.Errorf("latest/ after the checkpoint done again:\n%+v\nwant\n%+v", got, want)
	}
}

// An Append that leaves Options.LatestCheckpoint results pending starts a
// checkpoint of its own, in the background: no more than that many wait
// once it is done.
func TestAppendsCheckpointWhenEnoughArePending(t *testing.T) {
	ctx := context.Background()
	d, err := Open(t.TempDir(), Options{LatestCheckpoint: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i, b := range latestBatches() {
		if _, _, err := d.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
		d.background.Wait()
		// 40 a batch: the second Append leaves 80 pending, the third 40.
		wantThrough := []uint64{0, 80, 80}[i]
		if th, last := through(t, d); th != wantThrough || last != uint64(40*(i+1)) {
			t.Errorf("after Append %d: latest-through %d, last %d; want %d and %d", i, th, last, wantThrough, 40*(i+1))
		}
	}
}
