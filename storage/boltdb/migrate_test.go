package boltdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// TestASchema3FileOpensWithoutLoss opens a file the store wrote before the
// storage seam (testdata/README.md) and finds everything in it.
func TestASchema3FileOpensWithoutLoss(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/schema3.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second open finds nothing to migrate
		d, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		s, err := d.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Currents) != 165 || len(s.Tokens) != 1 || len(s.Accelerators) != 1 || len(s.Releases) != 1 ||
			s.Releases[0].Name != "aies-2025-02" || len(s.Releases[0].Cohorts) != 12 || s.Revision != 0 {
			t.Fatalf("snapshot: %d currents, %d tokens, %d accelerators, %d releases, revision %d",
				len(s.Currents), len(s.Tokens), len(s.Accelerators), len(s.Releases), s.Revision)
		}
		h, err := d.History(ctx, storage.HistoryQuery{Model: "acme/clf", Limit: 10})
		if err != nil || len(h) != 2 || h[0].Measure.X() != 0.9 || h[1].Measure.X() != 0.6 || h[0].Label.Grade != "" {
			t.Fatalf("history of acme/clf: %+v, %v", h, err)
		}
		if !h[0].Measure.PowerChecked() || h[0].Measure.Cohort.Hardware != "H100" {
			t.Errorf("a schema 3 result measured again: %+v", h[0].Measure)
		}
		n, _ := d.CountResults()
		if n != 168 {
			t.Errorf("%d results, want 168", n)
		}
		if err := d.Check(); err != nil {
			t.Error(err)
		}
		d.Close()
	}
	d := openTest(t, dir)
	ctx := context.Background()
	other := storagetest.Accepted("b/other", 1)
	other.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 1)
	if _, _, err := d.Append(ctx, []storage.Accepted{other}); !errors.Is(err, storage.ErrExists) {
		t.Errorf("a payload stored under schema 3, for another model: %v, want ErrExists", err)
	}
	if _, rev, err := d.Append(ctx, []storage.Accepted{storagetest.Accepted("b/new", 1)}); err != nil || rev != 1 {
		t.Errorf("the first write after the migration: revision %d, %v", rev, err)
	}
}
