package store

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/energylabel/energylabel/rating"
)

// Entry is the current result of one model in one cohort, as the index
// keeps it: enough to rate it without reading the file.
type Entry struct {
	ID             uint64
	Model          string
	Measure        rating.Measure
	GPUCount       int
	ParamsBillions float64
	MeasuredAt     time.Time
	ReceivedAt     time.Time
	ToolName       string
	ToolVersion    string
}

// Rated is an entry with the cohort bounds its stars derive from.
type Rated struct {
	Entry
	// Lo and Hi are the cohort's lowest and highest x.
	Lo, Hi     float64
	CohortSize int
}

// Stars rates the entry within its cohort.
func (r *Rated) Stars() int { return rating.Stars(r.Measure.X(), r.Lo, r.Hi) }

// Cursor is a position in a cohort's best-first order: after the entry with
// this x and model.
type Cursor struct {
	X     float64
	Model string
}

// index holds the latest entry per model and cohort, ordered best first, so
// that stars come from the ends of the order instead of a scan.
type index struct {
	mu      sync.RWMutex
	cohorts map[rating.Cohort]*cohortIndex
	models  map[string][]*Entry
}

type cohortIndex struct {
	cohort  rating.Cohort
	byModel map[string]*Entry
	order   *btree.BTreeG[*Entry]
}

func newIndex() *index {
	return &index{cohorts: map[rating.Cohort]*cohortIndex{}, models: map[string][]*Entry{}}
}

func bestFirst(a, b *Entry) bool {
	if a.Measure.X() != b.Measure.X() {
		return a.Measure.X() < b.Measure.X()
	}
	return a.Model < b.Model
}

// put makes e its model's current entry in its cohort, unless a later
// result is already there (commits may finish out of order).
func (ix *index) put(e *Entry) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ci := ix.cohorts[e.Measure.Cohort]
	if ci == nil {
		ci = &cohortIndex{cohort: e.Measure.Cohort, byModel: map[string]*Entry{}, order: btree.NewG(32, bestFirst)}
		ix.cohorts[ci.cohort] = ci
	}
	e.Measure.Cohort = ci.cohort // share the cohort's strings
	old := ci.byModel[e.Model]
	if old != nil {
		if old.ID > e.ID {
			return
		}
		ci.order.Delete(old)
	}
	ci.byModel[e.Model] = e
	ci.order.ReplaceOrInsert(e)
	entries := ix.models[e.Model]
	if i := slices.Index(entries, old); old != nil && i >= 0 {
		entries[i] = e
	} else {
		entries = append(entries, e)
		slices.SortFunc(entries, func(a, b *Entry) int { return compareCohorts(a.Measure.Cohort, b.Measure.Cohort) })
	}
	ix.models[e.Model] = entries
}

func (ci *cohortIndex) rated(e *Entry) Rated {
	lo, _ := ci.order.Min()
	hi, _ := ci.order.Max()
	return Rated{Entry: *e, Lo: lo.Measure.X(), Hi: hi.Measure.X(), CohortSize: ci.order.Len()}
}

// model returns a model's current entries, one per cohort, in cohort order.
func (ix *index) model(model string) []Rated {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	entries := ix.models[model]
	out := make([]Rated, len(entries))
	for i, e := range entries {
		out[i] = ix.cohorts[e.Measure.Cohort].rated(e)
	}
	return out
}

// matching returns the cohorts keep accepts, in cohort order.
func (ix *index) matching(keep func(rating.Cohort) bool) []rating.Cohort {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []rating.Cohort
	for c := range ix.cohorts {
		if keep(c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, compareCohorts)
	return out
}

// list returns up to limit entries of a cohort, best first, after the cursor.
func (ix *index) list(c rating.Cohort, after *Cursor, limit int) []Rated {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ci := ix.cohorts[c]
	if ci == nil || limit <= 0 {
		return nil
	}
	out := make([]Rated, 0, min(limit, ci.order.Len()))
	visit := func(e *Entry) bool {
		out = append(out, ci.rated(e))
		return len(out) < limit
	}
	if after == nil {
		ci.order.Ascend(visit)
		return out
	}
	pivot := &Entry{Model: after.Model, Measure: rating.Measure{EnergyPerUnit: after.X}}
	ci.order.AscendGreaterOrEqual(pivot, func(e *Entry) bool {
		if e.Model == after.Model && e.Measure.X() == after.X {
			return true // the cursor's own entry was on the last page
		}
		return visit(e)
	})
	return out
}

func compareCohorts(a, b rating.Cohort) int {
	return cmp.Or(
		cmp.Compare(a.Task, b.Task),
		cmp.Compare(a.Dataset, b.Dataset),
		cmp.Compare(a.SizeClass, b.SizeClass),
		cmp.Compare(a.Hardware, b.Hardware),
		cmp.Compare(a.Basis, b.Basis),
	)
}

// ModelRatings returns a model's current entries with their cohort bounds.
func (s *Store) ModelRatings(model string) []Rated { return s.index.model(model) }

// Cohorts returns the cohorts keep accepts, in a stable order.
func (s *Store) Cohorts(keep func(rating.Cohort) bool) []rating.Cohort {
	return s.index.matching(keep)
}

// ListCohort returns up to limit ratings of a cohort, best first, after the
// cursor (nil for the first page).
func (s *Store) ListCohort(c rating.Cohort, after *Cursor, limit int) []Rated {
	return s.index.list(c, after, limit)
}

// EachLatest calls fn for every current entry, holding the index's read
// lock; fn must not keep the pointer.
func (s *Store) EachLatest(fn func(*Entry)) {
	s.index.mu.RLock()
	defer s.index.mu.RUnlock()
	for _, ci := range s.index.cohorts {
		for _, e := range ci.byModel {
			fn(e)
		}
	}
}
