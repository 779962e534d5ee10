package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
)

// openTest opens a fresh store under t.TempDir and checks the file's
// consistency when the test ends.
func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Errorf("tx.Check: %v", err)
		}
		s.Close()
	})
	return s
}

func submit(t testing.TB, s *Store, model string, wh float64) Entry {
	t.Helper()
	r := &rating.Result{Model: model, Task: "text-classification", Accelerator: "H100", GPUCount: 1, Queries: 1000, GPUEnergyWh: wh}
	m, err := rating.Normalise(r)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Submit(context.Background(), r, m, Audit{ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var clf = rating.Cohort{Task: "text-classification", Dataset: "AIEnergyScore/text_classification", Hardware: "H100", Basis: rating.Query}

func TestLatestResultPerModelWinsAndHistoryIsKept(t *testing.T) {
	s := openTest(t, t.TempDir())
	submit(t, s, "a/one", 1)
	submit(t, s, "a/two", 2)
	submit(t, s, "a/one", 3) // resubmission replaces a/one's current entry

	got := s.ListCohort(clf, nil, 10)
	if len(got) != 2 || got[0].Model != "a/two" || got[1].Model != "a/one" || got[1].Measure.X() != 3 {
		t.Fatalf("cohort = %+v", got)
	}
	if got[0].Rank != 1 || got[1].Rank != 2 || got[0].CohortSize != 2 {
		t.Errorf("ranks %d, %d of %d", got[0].Rank, got[1].Rank, got[0].CohortSize)
	}
	if b := s.CohortBounds()[clf]; b != (rating.Bounds{Lo: 2, Hi: 3, Models: 2}) {
		t.Errorf("bounds = %+v, want 2..3 over 2 models", b)
	}
	if n, _ := s.CountResults(); n != 3 {
		t.Errorf("%d results stored, want 3 (append-only)", n)
	}
}

func TestIndexIsRebuiltOnReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		submit(t, s, fmt.Sprintf("m/%02d", i%20), float64(i+1))
	}
	tok, secret, err := s.CreateToken([]string{"m"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	before := s.ListCohort(clf, nil, 100)
	s.Close()

	s = openTest(t, dir)
	after := s.ListCohort(clf, nil, 100)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("index changed across reopen:\n%v\n%v", before, after)
	}
	if got, err := s.Authenticate(secret); err != nil || got.ID != tok.ID {
		t.Errorf("token after reopen: %v %v", got, err)
	}
}

func TestPagesResumeAfterTheCursor(t *testing.T) {
	s := openTest(t, t.TempDir())
	for i := range 7 {
		submit(t, s, fmt.Sprintf("m/%d", i), 5) // equal x: ties break by model
	}
	var seen []string
	var after *Cursor
	for {
		page := s.ListCohort(clf, after, 3)
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			seen = append(seen, r.Model)
		}
		last := page[len(page)-1]
		after = &Cursor{X: last.Measure.X(), Model: last.Model}
	}
	if fmt.Sprint(seen) != "[m/0 m/1 m/2 m/3 m/4 m/5 m/6]" {
		t.Errorf("pages gave %v", seen)
	}
}

func TestConcurrentSubmissionsAreAllDurable(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				submit(t, s, fmt.Sprintf("w%d/m%d", w, i), float64(1+w+i))
			}
		})
	}
	wg.Wait()
	s.Close()
	s = openTest(t, dir)
	if n := len(s.ListCohort(clf, nil, 1000)); n != 80 {
		t.Errorf("%d models after reopen, want 80", n)
	}
}

func TestSecondOpenFailsWithLockError(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir)
	_, err := Open(dir, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

func TestTokens(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s, err := Open(t.TempDir(), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok, secret, _ := s.CreateToken([]string{"org-a"}, now.Add(time.Hour))
	if got, err := s.Authenticate(secret); err != nil || !got.Allows("org-a") || got.Allows("org-b") {
		t.Errorf("fresh token: %+v %v", got, err)
	}
	if _, err := s.Authenticate(secret + "x"); !errors.Is(err, ErrBadToken) {
		t.Errorf("wrong secret: %v", err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := s.Authenticate(secret); !errors.Is(err, ErrBadToken) {
		t.Errorf("expired token: %v", err)
	}
	_, secret2, _ := s.CreateToken([]string{"*"}, time.Time{})
	if err := s.RevokeToken(tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken("tok_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking unknown: %v", err)
	}
	if got, err := s.Authenticate(secret2); err != nil || !got.Allows("anyone") {
		t.Errorf("wildcard token: %+v %v", got, err)
	}
	if list := s.Tokens(); len(list) != 2 || !list[0].Revoked {
		t.Errorf("tokens = %+v", list)
	}
}

func TestCohortBoundsFollowEveryChange(t *testing.T) {
	s := openTest(t, t.TempDir())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		// Ten models resubmitting, often moving off a bound.
		submit(t, s, fmt.Sprintf("m/%d", rng.IntN(10)), 0.01+rng.Float64())
		ci := s.index.cohorts[clf]
		lo, _ := ci.order.Min()
		hi, _ := ci.order.Max()
		if ci.lo != lo.x || ci.hi != hi.x {
			t.Fatalf("after %d submissions the bounds are %v..%v, the cohort spans %v..%v", i+1, ci.lo, ci.hi, lo.x, hi.x)
		}
	}
}

func TestEqualEnergiesShareARank(t *testing.T) {
	s := openTest(t, t.TempDir())
	for i, x := range []float64{5, 1, 3, 3, 9} {
		submit(t, s, fmt.Sprintf("m/%d", i), x)
	}
	var ranks []int
	for _, r := range s.ListCohort(clf, nil, 10) {
		ranks = append(ranks, r.Rank)
	}
	if fmt.Sprint(ranks) != "[1 2 2 4 5]" {
		t.Errorf("ranks = %v, want [1 2 2 4 5]", ranks)
	}
	submit(t, s, "m/1", 10) // the best model resubmits and falls to last
	if r, _ := s.ModelRating("m/1", Choice{}); r.Rank != 5 {
		t.Errorf("rank after resubmission = %d, want 5", r.Rank)
	}
}

func TestOneMeasurementLabelsOneModel(t *testing.T) {
	s := openTest(t, t.TempDir())
	sha := strings.Repeat("ab", 32)
	r := rating.Result{Model: "a/one", Task: "text-classification", Accelerator: "H100", Queries: 1000, GPUEnergyWh: 1}
	m := rating.MeasureOf(&r)
	if _, err := s.Submit(context.Background(), &r, m, Audit{PayloadSHA256: sha}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(context.Background(), &r, m, Audit{PayloadSHA256: sha}); err != nil {
		t.Errorf("the same model resubmitting its payload: %v", err)
	}
	other := r
	other.Model = "b/two"
	if _, err := s.Submit(context.Background(), &other, rating.MeasureOf(&other), Audit{PayloadSHA256: sha}); !errors.Is(err, ErrExists) {
		t.Errorf("another model with the same payload: %v, want ErrExists", err)
	}
	if got := s.ModelRatings("b/two"); len(got) != 0 {
		t.Errorf("the refused submission was indexed: %+v", got)
	}
}

func TestRegistriesAndReleasesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	gaudi := rating.Accelerator{Name: "Gaudi 3", Family: "Gaudi 3", BoardWatts: 900, Aliases: []string{"Intel Gaudi 3"}, Source: "datasheet"}
	ds := rating.Dataset{Name: "acme/eval", Task: "text-generation", Basis: rating.OutputToken}
	if err := s.AddAccelerator(gaudi); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAccelerator(gaudi); !errors.Is(err, ErrExists) {
		t.Errorf("second AddAccelerator = %v, want ErrExists", err)
	}
	if err := s.AddDataset(ds); err != nil {
		t.Fatal(err)
	}
	submit(t, s, "a/one", 1)
	submit(t, s, "a/two", 4)
	rel := &rating.Release{Name: "r1", CreatedAt: time.Unix(1700000000, 0).UTC(), Cohorts: s.CohortBounds()}
	if err := s.CreateRelease(rel); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRelease(rel); !errors.Is(err, ErrExists) {
		t.Errorf("second CreateRelease = %v, want ErrExists", err)
	}
	s.Close()

	s = openTest(t, dir)
	accels, datasets, err := s.Registered()
	if err != nil || len(accels) != 1 || accels[0].Name != "Gaudi 3" || accels[0].Aliases[0] != "Intel Gaudi 3" || len(datasets) != 1 || datasets[0] != ds {
		t.Errorf("Registered() = %+v, %+v, %v", accels, datasets, err)
	}
	rels, err := s.Releases()
	if err != nil || len(rels) != 1 || rels[0].Name != "r1" || !rels[0].CreatedAt.Equal(rel.CreatedAt) ||
		rels[0].Cohorts[clf] != (rating.Bounds{Lo: 1, Hi: 4, Models: 2}) {
		t.Errorf("Releases() = %+v, %v", rels, err)
	}
}
