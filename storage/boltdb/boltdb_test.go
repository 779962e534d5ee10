package boltdb

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// openTest opens a store under dir and checks the file when the test ends.
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
		d.Close()
	})
	return d
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Opener {
		dir := t.TempDir()
		return func(t *testing.T) storage.Backend {
			d, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	})
}

func TestASlowWatcherIsCutOffAndHoldsUpNoWriter(t *testing.T) {
	d, err := Open(t.TempDir(), Options{WatchBuffer: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := t.Context()
	ch := d.Watch(ctx, 0) // never read until the writes are done
	start := time.Now()
	for i := range 50 {
		if _, _, err := d.Append(ctx, []storage.Accepted{storagetest.Accepted(fmt.Sprintf("a/m%d", i), 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("50 writes took %s with a stalled watcher", took)
	}
	var events int
	for r := range ch {
		events += len(r.Events)
		if r.Err != nil {
			if !errors.Is(r.Err, storage.ErrCompacted) {
				t.Errorf("the watch ended with %v, want ErrCompacted", r.Err)
			}
			if events < 8 || events >= 50 {
				t.Errorf("%d events before the cut, want the buffer's 8 or more and fewer than all 50", events)
			}
			return
		}
	}
	t.Error("the stalled watcher was never cut off")
}
