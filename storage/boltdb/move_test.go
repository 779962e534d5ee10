package boltdb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// EachIndexed reads the history index in chunks of recordChunk keys, each
// in a transaction of its own; across chunks, which end inside a model's
// cohort, it still lists every entry once, in model, cohort key and id
// order, though cohorts are numbered in order of first use.
func TestEachIndexedAcrossChunks(t *testing.T) {
	type entry struct {
		model, cohort string
		id            uint64
	}
	d := openTest(t, t.TempDir())
	var want []entry
	n := 2*recordChunk + 17
	batch := make([]storage.Accepted, 0, n)
	for i := range n {
		// Three models; the cohorts' first uses run against their key order.
		m := fmt.Sprintf("lab/m%d", i%3)
		c := storagetest.HistoryCohorts[len(storagetest.HistoryCohorts)-1-i%len(storagetest.HistoryCohorts)]
		batch = append(batch, storagetest.InCohort(m, float64(1+i%50), c))
	}
	first, _, err := d.Append(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range batch {
		want = append(want, entry{a.Result.Model, records.CohortKey(a.Measure.Cohort), first + uint64(i)})
	}
	slices.SortFunc(want, func(a, b entry) int {
		return cmp.Or(strings.Compare(a.model, b.model), strings.Compare(a.cohort, b.cohort), cmp.Compare(a.id, b.id))
	})
	var got []entry
	err = d.EachIndexed(context.Background(), func(model, cohort string, id uint64) error {
		got = append(got, entry{model, cohort, id})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Errorf("EachIndexed listed %d entries, want %d; the first difference at %d", len(got), len(want), i)
	}
}
