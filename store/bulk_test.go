package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
)

func imported(t testing.TB, model string, wh float64) Imported {
	t.Helper()
	r := &rating.Result{Model: model, Task: "text-classification", Accelerator: "H100", GPUCount: 1, Queries: 1000, GPUEnergyWh: wh}
	m, err := rating.Normalise(r)
	if err != nil {
		t.Fatal(err)
	}
	return Imported{Result: r, Measure: m, Audit: Audit{TokenID: "admin", ReceivedAt: time.Now()}}
}

func TestImportStoresABatchInOrderAndIndexesIt(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	submit(t, s, "a/before", 9)
	batch := []Imported{imported(t, "a/one", 5), imported(t, "a/two", 2), imported(t, "a/one", 1)}
	first, err := s.Import(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if first != 2 {
		t.Errorf("first id %d, want 2 (after the submission)", first)
	}
	if e := submit(t, s, "a/after", 4); e.ID != 5 {
		t.Errorf("next submission got id %d, want 5", e.ID)
	}
	want := "[a/one:1 a/two:2 a/after:4 a/before:9]"
	list := func(s *Store) string {
		var out []string
		for _, r := range s.ListCohort(clf, nil, 10) {
			out = append(out, fmt.Sprintf("%s:%g", r.Model, r.Measure.X()))
		}
		return fmt.Sprint(out)
	}
	if got := list(s); got != want {
		t.Errorf("index after import = %s, want %s (a model's later result wins)", got, want)
	}
	if n, _ := s.CountResults(); n != 5 {
		t.Errorf("%d results stored, want 5", n)
	}
	s.Close()
	s = openTest(t, dir)
	if got := list(s); got != want {
		t.Errorf("index after reopen = %s, want %s", got, want)
	}
	if r, _, err := s.Record(first + 1); err != nil || r.Model != "a/two" {
		t.Errorf("record %d = %v, %v", first+1, r, err)
	}
}

func TestImportOfNothingStoresNothing(t *testing.T) {
	s := openTest(t, t.TempDir())
	if first, err := s.Import(context.Background(), nil); err != nil || first != 0 {
		t.Errorf("Import(nil) = %d, %v", first, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Import(ctx, []Imported{imported(t, "a/x", 1)}); err == nil {
		t.Error("Import with a cancelled context succeeded")
	}
	if n, _ := s.CountResults(); n != 0 {
		t.Errorf("%d results stored, want 0", n)
	}
}
