package index

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

var clf = rating.Cohort{Task: "text-classification", Dataset: "AIEnergyScore/text_classification", Hardware: "H100", Basis: rating.Query}

func added(rev int64, id uint64, model string, c rating.Cohort, x float64) storage.Event {
	return storage.Event{Revision: rev, Kind: storage.ResultAdded, Result: &storage.HistoryEntry{
		Current: storage.Current{ID: id, Model: model, Measure: rating.Measure{Cohort: c, WhPer1kQueries: x, EnergyPerUnit: x}}}}
}

func TestEventsBuildTheReadModel(t *testing.T) {
	ix := New()
	ix.Load(&storage.Snapshot{Revision: 3, Currents: []storage.Current{
		{ID: 1, Model: "a/one", Measure: rating.Measure{Cohort: clf, EnergyPerUnit: 5}},
		{ID: 2, Model: "a/two", Measure: rating.Measure{Cohort: clf, EnergyPerUnit: 1}},
	}})
	ix.Apply([]storage.Event{
		added(3, 99, "a/stale", clf, 0.1), // at the snapshot's revision: applied already
		added(4, 3, "a/three", clf, 3),
		added(4, 4, "a/three", clf, 3), // equal energies share a rank
		{Revision: 5, Kind: storage.ReleaseCreated, Release: &rating.Release{Name: "r"}},
	})
	if ix.Revision() != 5 {
		t.Errorf("revision %d, want 5", ix.Revision())
	}
	var got []string
	for _, r := range ix.ListCohort(clf, nil, 10) {
		got = append(got, fmt.Sprintf("%s#%d@%d", r.Model, r.ID, r.Rank))
	}
	if fmt.Sprint(got) != "[a/two#2@1 a/three#4@2 a/one#1@3]" {
		t.Errorf("cohort %v", got)
	}
	if rank, size := ix.Place(clf, 3); rank != 2 || size != 3 {
		t.Errorf("Place(3) = %d of %d", rank, size)
	}
	b200 := clf
	b200.Hardware = "B200"
	ix.Apply([]storage.Event{added(6, 5, "a/one", b200, 2)})
	if r, n := ix.ModelRating("a/one", Choice{}); n != 2 || r.Measure.Cohort != clf {
		t.Errorf("pick of a/one: %+v of %d, want the larger H100 cohort", r.Measure.Cohort, n)
	}
	if r, _ := ix.ModelRating("a/one", Choice{Hardware: "B200"}); r.ID != 5 {
		t.Errorf("pick on B200: %+v", r)
	}
	if b := ix.CohortBounds()[clf]; b.Lo != 1 || b.Hi != 5 || b.Models != 3 {
		t.Errorf("bounds %+v", b)
	}
}

func TestWaitForWaitsForTheRevision(t *testing.T) {
	ix := New()
	done := make(chan error)
	go func() { done <- ix.WaitFor(context.Background(), 2) }()
	ix.Apply([]storage.Event{added(1, 1, "a/one", clf, 1)})
	select {
	case <-done:
		t.Fatal("WaitFor(2) returned at revision 1")
	case <-time.After(20 * time.Millisecond):
	}
	ix.Apply([]storage.Event{added(2, 2, "a/two", clf, 1)})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := ix.WaitFor(ctx, 9); err == nil {
		t.Error("WaitFor(9) returned without the revision")
	}
}
