package store

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unique"

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
//
// The index is most of the server's heap, and the garbage collector walks
// all of it in every cycle, so it keeps few objects: an entry, its model's
// string, and a slot in its cohort's btree and in the models map.
type index struct {
	mu      sync.RWMutex
	cohorts map[rating.Cohort]*cohortIndex
	models  map[string]modelCohorts
	// version counts changes; put bumps it under the write lock, after
	// changing the index.
	version atomic.Uint64
}

// modelEntry is one of a model's current entries, with its cohort.
type modelEntry struct {
	e  *Entry
	ci *cohortIndex
}

// modelCohorts are a model's current entries, one per cohort, in cohort
// order. Most models are rated in one cohort, which is kept inline.
type modelCohorts struct {
	first modelEntry
	more  []modelEntry
}

func (mc modelCohorts) len() int {
	if mc.first.e == nil {
		return 0
	}
	return 1 + len(mc.more)
}

func (mc modelCohorts) at(i int) modelEntry {
	if i == 0 {
		return mc.first
	}
	return mc.more[i-1]
}

// in returns the model's entry in a cohort, or nil.
func (mc modelCohorts) in(ci *cohortIndex) *Entry {
	for i := range mc.len() {
		if me := mc.at(i); me.ci == ci {
			return me.e
		}
	}
	return nil
}

// with returns mc with e as its entry in ci, replacing or adding it.
func (mc modelCohorts) with(e *Entry, ci *cohortIndex) modelCohorts {
	all := make([]modelEntry, 0, mc.len()+1)
	for i := range mc.len() {
		if me := mc.at(i); me.ci != ci {
			all = append(all, me)
		}
	}
	all = append(all, modelEntry{e, ci})
	slices.SortFunc(all, func(a, b modelEntry) int { return compareCohorts(a.ci.cohort, b.ci.cohort) })
	if len(all) == 1 {
		return modelCohorts{first: all[0]}
	}
	return modelCohorts{first: all[0], more: all[1:]}
}

type cohortIndex struct {
	cohort rating.Cohort
	order  *btree.BTreeG[*Entry]
	// lo and hi are the lowest and highest x, kept up to date by put, so
	// that rating an entry reads two fields and never walks the cohort.
	lo, hi float64
}

func newIndex() *index {
	return &index{cohorts: map[rating.Cohort]*cohortIndex{}, models: map[string]modelCohorts{}}
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
	ix.putLocked(e)
	ix.version.Add(1)
}

// putAll puts entries in order, under one hold of the lock.
func (ix *index) putAll(entries []*Entry) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, e := range entries {
		ix.putLocked(e)
	}
	ix.version.Add(1)
}

func (ix *index) putLocked(e *Entry) {
	ci := ix.cohorts[e.Measure.Cohort]
	if ci == nil {
		ci = &cohortIndex{cohort: e.Measure.Cohort, order: btree.NewG(32, bestFirst)}
		ix.cohorts[ci.cohort] = ci
	}
	e.Measure.Cohort = ci.cohort // share the cohort's strings
	// A few tools measure every result: keep one copy of their names.
	e.ToolName, e.ToolVersion = unique.Make(e.ToolName).Value(), unique.Make(e.ToolVersion).Value()
	mc := ix.models[e.Model]
	if mc.len() > 0 {
		e.Model = mc.first.e.Model // one copy of the string, shared with the map's key
	}
	old := mc.in(ci)
	if old != nil {
		if old.ID > e.ID {
			return
		}
		ci.order.Delete(old)
	}
	ci.order.ReplaceOrInsert(e)
	ci.bounds(e, old)
	switch {
	case old == nil:
		ix.models[e.Model] = mc.with(e, ci)
	case mc.first.ci == ci:
		mc.first.e = e
		ix.models[e.Model] = mc
	default: // readers copy entries out under the read lock: mc.more may change in place
		mc.more[slices.IndexFunc(mc.more, func(me modelEntry) bool { return me.ci == ci })].e = e
	}
}

// bounds updates lo and hi after e replaced old (nil for a new model). A
// new extreme costs nothing; only when old held a bound and e moved off it
// does the bound come from the order's end, in O(log n).
func (ci *cohortIndex) bounds(e, old *Entry) {
	x := e.Measure.X()
	if ci.order.Len() == 1 {
		ci.lo, ci.hi = x, x
		return
	}
	if old != nil && (old.Measure.X() == ci.lo || old.Measure.X() == ci.hi) {
		lo, _ := ci.order.Min()
		hi, _ := ci.order.Max()
		ci.lo, ci.hi = lo.Measure.X(), hi.Measure.X()
		return
	}
	ci.lo, ci.hi = min(ci.lo, x), max(ci.hi, x)
}

func (ci *cohortIndex) rated(e *Entry) Rated {
	return Rated{Entry: *e, Lo: ci.lo, Hi: ci.hi, CohortSize: ci.order.Len()}
}

// model returns a model's current entries, one per cohort, in cohort order.
func (ix *index) model(model string) []Rated {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	mc := ix.models[model]
	out := make([]Rated, mc.len())
	for i := range out {
		me := mc.at(i)
		out[i] = me.ci.rated(me.e)
	}
	return out
}

// first returns the model's first entry, in cohort order, of a task (any
// task when empty), and how many entries of the task it has.
func (ix *index) first(model, task string) (Rated, int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	mc := ix.models[model]
	var r Rated
	n := 0
	for i := range mc.len() {
		if me := mc.at(i); task == "" || me.ci.cohort.Task == task {
			if n == 0 {
				r = me.ci.rated(me.e)
			}
			n++
		}
	}
	return r, n
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

// Version changes whenever the index does. Whatever a reader derives from
// reads that follow a call of Version stays current for as long as Version
// returns the same number.
func (s *Store) Version() uint64 { return s.index.version.Load() }

// ModelRatings returns a model's current entries with their cohort bounds.
func (s *Store) ModelRatings(model string) []Rated { return s.index.model(model) }

// ModelRating returns the first of a model's current entries of a task
// (any task when empty), in cohort order, and how many it has.
func (s *Store) ModelRating(model, task string) (Rated, int) { return s.index.first(model, task) }

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
		ci.order.Ascend(func(e *Entry) bool { fn(e); return true })
	}
}
