package index

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

var clf = rating.Cohort{Task: "text-classification", Dataset: "AIEnergyScore/text_classification", Hardware: "H100", Basis: rating.Query}

func added(rev int64, id uint64, model string, c rating.Cohort, x float64) storage.Event {
	return storage.Event{Revision: rev, Kind: storage.ResultAdded, Result: &storage.HistoryEntry{
		Current: storage.Current{ID: id, Model: model, Source: rating.Published, Measure: rating.Measure{Cohort: c, WhPer1kQueries: x, EnergyPerUnit: x}}}}
}

// declared is added of a publisher's result.
func declared(rev int64, id uint64, model string, c rating.Cohort, x float64, carried storage.Reference) storage.Event {
	ev := added(rev, id, model, c, x)
	ev.Result.Source, ev.Result.Carried = rating.Publisher, carried
	return ev
}

func TestEventsBuildTheReadModel(t *testing.T) {
	ix := New()
	ix.Load(&storage.Snapshot{Revision: 3, Currents: []storage.Current{
		{ID: 1, Model: "a/one", Source: rating.Published, Measure: rating.Measure{Cohort: clf, EnergyPerUnit: 5}},
		{ID: 2, Model: "a/two", Source: rating.Published, Measure: rating.Measure{Cohort: clf, EnergyPerUnit: 1}},
	}})
	ix.Apply([]storage.Event{
		added(3, 99, "a/stale", clf, 0.1), // at the snapshot's revision: applied already
		added(4, 3, "a/three", clf, 3),
		added(4, 4, "a/three", clf, 3), // equal energies share a rank
	}, true)
	ix.Apply([]storage.Event{{Revision: 5, Kind: storage.ReleaseCreated, Release: &rating.Release{Name: "r", Cohorts: ix.ReferenceBounds()}}}, true)
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
	ix.Apply([]storage.Event{added(6, 5, "a/one", b200, 2)}, true)
	if r, n := ix.ModelRating("a/one", Choice{}); n != 2 || r.Measure.Cohort != clf {
		t.Errorf("pick of a/one: %+v of %d, want the larger H100 cohort", r.Measure.Cohort, n)
	}
	if r, _ := ix.ModelRating("a/one", Choice{Hardware: "B200"}); r.ID != 5 {
		t.Errorf("pick on B200: %+v", r)
	}
	if b := ix.ReferenceBounds()[clf]; b.Lo != 1 || b.Hi != 5 || b.Models != 3 {
		t.Errorf("bounds %+v", b)
	}
}

// Declared results are graded and placed but move no release: a release
// counts the latest reference of each model, which a declared result
// carries forward; surveyors' verifications make references of them.
func TestReleasesCountReferencesOnly(t *testing.T) {
	ix := New()
	ix.Apply([]storage.Event{
		added(1, 1, "pub/a", clf, 2),
		added(2, 2, "pub/b", clf, 4),
		added(3, 3, "pub/c", clf, 6),
		declared(4, 4, "evil/heavy", clf, 1e6, storage.Reference{}),
		declared(5, 5, "pub/a", clf, 0.01, storage.Reference{ResultID: 1, X: 2, WhPer1k: 2}),
	}, true)
	b := ix.ReferenceBounds()[clf]
	if b.Lo != 2 || b.Hi != 6 || b.Models != 3 || fmt.Sprint(b.References) != "[2 4 6]" {
		t.Fatalf("bounds %+v, want the three published figures", b)
	}
	ix.Apply([]storage.Event{{Revision: 6, Kind: storage.ReleaseCreated, Release: &rating.Release{Name: "r1", Cohorts: map[rating.Cohort]rating.Bounds{clf: b}}}}, true)
	// Any number of new declared models changes no one's rank.
	for i := range 67 {
		ix.Apply([]storage.Event{declared(int64(7+i), uint64(6+i), fmt.Sprintf("made/up-%d", i), clf, 0.001, storage.Reference{})}, true)
	}
	r, _ := ix.Rating("pub/b", clf)
	if r.Rank != 2 || r.RankOf != 3 || r.CohortSize != 71 {
		t.Errorf("pub/b: rank %d of %d, cohort of %d; want 2 of 3 in a cohort of 71", r.Rank, r.RankOf, r.CohortSize)
	}
	heavy, _ := ix.Rating("evil/heavy", clf)
	if heavy.Survey.Status != rating.StatusDeclared || heavy.Rank != 4 {
		t.Errorf("evil/heavy: %v, would rank %d; want declared, 4", heavy.Survey.Status, heavy.Rank)
	}

	// A surveyor corrects evil/heavy's figure: it becomes a reference
	// with the determined value.
	v := storage.Verification{Model: "evil/heavy", Cohort: clf, ResultID: 4, At: time.Unix(100, 0),
		Survey: rating.Survey{Status: rating.StatusCorrected, Measurements: 4, DeterminedX: 3, DeterminedWh: 3}}
	ix.Apply([]storage.Event{{Revision: 100, Kind: storage.VerificationAdded, Verification: &v}}, true)
	heavy, _ = ix.Rating("evil/heavy", clf)
	if heavy.Survey.Status != rating.StatusCorrected || heavy.Shown().X() != 3 || heavy.Rank != 2 {
		t.Errorf("corrected: %v shows %v, would rank %d", heavy.Survey.Status, heavy.Shown().X(), heavy.Rank)
	}
	if b := ix.ReferenceBounds()[clf]; b.Models != 4 || fmt.Sprint(b.References) != "[2 3 4 6]" {
		t.Errorf("bounds after the correction %+v", b)
	}
	// The cohort lists it at the figure it shows now, and pages through it.
	var order []string
	var after *Cursor
	for {
		page := ix.ListCohort(clf, after, 5)
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if !strings.HasPrefix(r.Model, "made/") {
				order = append(order, r.Model)
			}
		}
		last := page[len(page)-1]
		after = &Cursor{X: last.Shown().X(), Model: last.Model}
	}
	if fmt.Sprint(order) != "[pub/a evil/heavy pub/b pub/c]" {
		t.Errorf("cohort order %v", order)
	}

	// Under review, a new declared result stays under review.
	v2 := storage.Verification{Model: "pub/a", Cohort: clf, ResultID: 5, At: time.Unix(200, 0),
		Survey: rating.Survey{Status: rating.StatusUnderReview, Measurements: 1, DeterminedX: 0.5}}
	ix.Apply([]storage.Event{{Revision: 101, Kind: storage.VerificationAdded, Verification: &v2},
		declared(102, 200, "pub/a", clf, 0.009, storage.Reference{ResultID: 1, X: 2, WhPer1k: 2})}, true)
	if a, _ := ix.Rating("pub/a", clf); a.ID != 200 || a.Survey.Status != rating.StatusUnderReview {
		t.Errorf("pub/a's new result: #%d %v, want #200 under review", a.ID, a.Survey.Status)
	}

	// A rebuild from a snapshot gives the same state.
	snap := &storage.Snapshot{Revision: 102, Verifications: []storage.Verification{v, v2}}
	ix.EachLatest(func(e *Entry) { snap.Currents = append(snap.Currents, *e) })
	fresh := New()
	fresh.Load(snap)
	if a, _ := fresh.Rating("pub/a", clf); a.Survey.Status != rating.StatusUnderReview {
		t.Errorf("rebuilt pub/a: %v", a.Survey.Status)
	}
	if h, _ := fresh.Rating("evil/heavy", clf); h.Shown().X() != 3 {
		t.Errorf("rebuilt evil/heavy shows %v", h.Shown().X())
	}
}

func TestWaitForWaitsForTheRevision(t *testing.T) {
	ix := New()
	done := make(chan error)
	go func() { done <- ix.WaitFor(context.Background(), 2) }()
	ix.Apply([]storage.Event{added(1, 1, "a/one", clf, 1)}, true)
	select {
	case <-done:
		t.Fatal("WaitFor(2) returned at revision 1")
	case <-time.After(20 * time.Millisecond):
	}
	ix.Apply([]storage.Event{added(2, 2, "a/two", clf, 1)}, true)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := ix.WaitFor(ctx, 9); err == nil {
		t.Error("WaitFor(9) returned without the revision")
	}
}

func TestEachOwnerListsEveryNamespaceOnce(t *testing.T) {
	ix := New()
	b200 := clf
	b200.Hardware = "B200"
	ix.Apply([]storage.Event{added(1, 1, "acme/a", clf, 1), added(2, 2, "acme/a", b200, 1), added(3, 3, "acme/b", clf, 2), added(4, 4, "meta-llama/x", clf, 3)}, true)
	var got []string
	ix.EachOwner(func(o string) { got = append(got, o) })
	slices.Sort(got)
	if fmt.Sprint(got) != "[acme meta-llama]" {
		t.Errorf("owners %v", got)
	}
}
