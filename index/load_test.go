package index_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Load, which builds a large snapshot on every processor at once, gives
// the index that applying the same results one by one gives: in any
// order, with a model's second current in a cohort (the later result
// counts), and with the verifications after.
func TestLoadIsApplyingEveryResult(t *testing.T) {
	snap := syntheticSnapshot(t, 120000) // some 24,000 currents: loaded in parallel
	r := rand.New(rand.NewPCG(3, 4))
	// Seconds currents of some models: later ones, which count, and
	// earlier ones, which do not.
	for i := range 300 {
		c := snap.Currents[r.IntN(len(snap.Currents))]
		c.Measure.EnergyPerUnit *= 0.5 + r.Float64()
		if i%2 == 0 {
			c.ID += 1 << 40
		} else {
			c.ID--
		}
		c.Carried = storage.Reference{ResultID: uint64(i + 1), X: 1}
		snap.Currents = append(snap.Currents, c)
	}
	r.Shuffle(len(snap.Currents), func(i, j int) { snap.Currents[i], snap.Currents[j] = snap.Currents[j], snap.Currents[i] })
	c := snap.Currents[0]
	snap.Verifications = []storage.Verification{{Model: c.Model, Cohort: c.Measure.Cohort, ResultID: c.ID,
		Survey: rating.Survey{Status: rating.StatusCorrected, Measurements: 4, DeterminedX: 1e-9}}}

	loaded := index.New()
	loaded.Load(snap)
	applied := index.New()
	var events []storage.Event
	for i := range snap.Currents {
		events = append(events, storage.Event{Revision: 1, Kind: storage.ResultAdded, Result: &storage.HistoryEntry{Current: snap.Currents[i]}})
	}
	events = append(events, storage.Event{Revision: 2, Kind: storage.VerificationAdded, Verification: &snap.Verifications[0]})
	applied.Apply(events, true)

	if loaded.Count() != applied.Count() || loaded.Count() < 20000 {
		t.Fatalf("loaded %d entries, applied %d", loaded.Count(), applied.Count())
	}
	all := func(rating.Cohort) bool { return true }
	cohorts := loaded.Cohorts(all)
	if !reflect.DeepEqual(cohorts, applied.Cohorts(all)) {
		t.Fatal("the cohorts differ")
	}
	for _, co := range cohorts {
		a, an := loaded.ListCohortAt(co, 0, 1<<30)
		b, bn := applied.ListCohortAt(co, 0, 1<<30)
		if an != bn || !reflect.DeepEqual(a, b) {
			t.Fatalf("cohort %+v: %d ratings loaded, %d applied, or they differ", co, an, bn)
		}
		// A page in the middle, from its number and from a cursor.
		mid, _ := loaded.ListCohortAt(co, an/2, 50)
		prev, _ := loaded.ListCohortAt(co, an/2-1, 1)
		if an > 2 {
			after := &index.Cursor{X: prev[0].Shown().X(), Model: prev[0].Model}
			if got := loaded.ListCohort(co, after, 50); !reflect.DeepEqual(got, mid) {
				t.Errorf("cohort %+v: the page after a cursor is not the page by number", co)
			}
		}
	}
	if corrected, _ := loaded.Rating(c.Model, c.Measure.Cohort); corrected.Shown().X() != 1e-9 {
		t.Errorf("the corrected entry shows %v", corrected.Shown().X())
	}
	var models, appliedModels []string
	loaded.EachModel(func(m string) { models = append(models, m) })
	applied.EachModel(func(m string) { appliedModels = append(appliedModels, m) })
	slices.Sort(models)
	slices.Sort(appliedModels)
	if !slices.Equal(models, appliedModels) || len(slices.Compact(slices.Clone(models))) != len(models) {
		t.Fatalf("%d models loaded, %d applied, or they differ", len(models), len(appliedModels))
	}
	for i := 0; i < len(models); i += 7 {
		if a, b := loaded.ModelRatings(models[i]), applied.ModelRatings(models[i]); !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: %+v loaded, %+v applied", models[i], a, b)
		}
	}
	var owners, appliedOwners []string
	loaded.EachOwner(func(o string) { owners = append(owners, o) })
	applied.EachOwner(func(o string) { appliedOwners = append(appliedOwners, o) })
	slices.Sort(owners)
	slices.Sort(appliedOwners)
	if !slices.Equal(owners, appliedOwners) {
		t.Errorf("%d owners loaded, %d applied", len(owners), len(appliedOwners))
	}
	if a, b := loaded.ReferenceBounds(), applied.ReferenceBounds(); !reflect.DeepEqual(a, b) {
		t.Error("the reference bounds differ")
	}
}

// A badge's rating is read without allocating.
func TestModelRatingAllocatesNothing(t *testing.T) {
	snap := syntheticSnapshot(t, 5000)
	ix := index.New()
	ix.Load(snap)
	model := snap.Currents[len(snap.Currents)/2].Model
	allocs := testing.AllocsPerRun(100, func() {
		if _, n := ix.ModelRating(model, index.Choice{}); n == 0 {
			panic(fmt.Sprintf("%s is not rated", model))
		}
	})
	if allocs != 0 {
		t.Errorf("ModelRating allocates %.1f times", allocs)
	}
}
