package web_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// The pages read the index by page number: every window of a cohort, from
// either end, and of a model's ratings is what the whole list holds there.
func TestIndexPagesByNumber(t *testing.T) {
	ix := index.New()
	snap := &storage.Snapshot{Revision: 1}
	cohort := func(hw string) rating.Cohort {
		return rating.Cohort{Task: "text-classification", Dataset: "AIEnergyScore/text_classification", Hardware: hw, Basis: rating.Query}
	}
	const n = 37
	for i := range n {
		// Ties in x order by model.
		x := float64((i * 7) % 11)
		snap.Currents = append(snap.Currents, storage.Current{ID: uint64(i + 1), Model: fmt.Sprintf("acme/m%02d", i),
			Measure: rating.Measure{Cohort: cohort("H100"), EnergyPerUnit: x, WhPer1kQueries: x}})
	}
	hws := []string{"A100", "B200", "H100", "H200", "L4", "T4"}
	for i, hw := range hws {
		snap.Currents = append(snap.Currents, storage.Current{ID: uint64(100 + i), Model: "acme/wide",
			Measure: rating.Measure{Cohort: cohort(hw), EnergyPerUnit: 1, WhPer1kQueries: 1}})
	}
	ix.Load(snap)

	all := ix.ListCohort(cohort("H100"), nil, 1000)
	models := func(rs []index.Rated) (out []string) {
		for _, r := range rs {
			out = append(out, r.Model)
		}
		return out
	}
	for offset := range n + 2 {
		for _, limit := range []int{0, 1, 5, 10, n, n + 5} {
			page, total := ix.ListCohortAt(cohort("H100"), offset, limit)
			want := all[min(offset, len(all)):min(offset+limit, len(all))]
			if total != len(all) || !slices.Equal(models(page), models(want)) {
				t.Fatalf("ListCohortAt(%d, %d) = %v of %d, want %v of %d", offset, limit, models(page), total, models(want), len(all))
			}
		}
	}
	if page, total := ix.ListCohortAt(cohort("MI300X"), 0, 10); page != nil || total != 0 {
		t.Errorf("a cohort with no model: %v, %d", page, total)
	}

	wide := ix.ModelRatings("acme/wide")
	for offset := range len(hws) + 1 {
		page, total := ix.ModelRatingsAt("acme/wide", offset, 4)
		want := wide[min(offset, len(wide)):min(offset+4, len(wide))]
		if total != len(hws) || len(page) != len(want) {
			t.Fatalf("ModelRatingsAt(%d, 4): %d of %d, want %d of %d", offset, len(page), total, len(want), len(hws))
		}
		for i := range page {
			if page[i].Measure.Cohort != want[i].Measure.Cohort {
				t.Errorf("ModelRatingsAt(%d, 4)[%d] is in %v, want %v", offset, i, page[i].Measure.Cohort, want[i].Measure.Cohort)
			}
		}
	}
	var ids []string
	ix.EachModel(func(m string) { ids = append(ids, m) })
	if len(ids) != n+1 {
		t.Errorf("EachModel gave %d models, want %d", len(ids), n+1)
	}
}
