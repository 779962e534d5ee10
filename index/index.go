// Package index is the read model: every model's current result in each
// cohort, ordered best first, built from a backend's snapshot and then fed
// only by the backend's change events, as etcd's mvcc index follows its
// backend. Reads never touch storage.
package index

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Entry is the current result of one model in one cohort.
type Entry = storage.Current

// Rated is an entry with its place in its cohort now.
type Rated struct {
	Entry
	// CohortSize is how many models the cohort has.
	CohortSize int
	// Rank is 1 for the least energy; equal energies share a rank.
	Rank int
}

// Cursor is a position in a cohort's best-first order: after the entry with
// this x and model.
type Cursor struct {
	X     float64
	Model string
}

// Index holds the latest entry per model and cohort, ordered best first, so
// that stars come from the ends of the order instead of a scan.
//
// The index is most of the server's heap, and the garbage collector walks
// all of it in every cycle; how long a cycle takes is what a large registry
// adds to the tail latency of every call. So it keeps few objects with few
// pointers: a compact entry (its model's string and its cohort are its only
// pointers), the model's string, and a slot in its cohort's btree and in the
// models map. Reads expand entries into Entry values.
type Index struct {
	mu      sync.RWMutex
	cohorts map[rating.Cohort]*cohortIndex
	models  map[string]modelCohorts
	// tools are the distinct (name, version) pairs entries refer to.
	tools  []tool
	toolID map[tool]uint32
	// rev is the revision of the last applied event; advanced signals
	// (by closing) that it moved.
	rev      atomic.Int64
	advanced chan struct{}
}

type tool struct{ name, version string }

// entry is an Entry as the index keeps it. Its pointers come first, so that
// the collector stops scanning it after them.
type entry struct {
	model                  string
	ci                     *cohortIndex
	id                     uint64
	x, whPer1k, params     float64
	measuredS, receivedS   int64 // Unix seconds and nanoseconds, which
	measuredNs, receivedNs int32 // round-trip the zero time too
	gpus                   int32
	tool                   uint32
	checks                 rating.Checks
}

// modelCohorts are a model's current entries, one per cohort, in cohort
// order. Most models are rated in one cohort, which is kept inline.
type modelCohorts struct {
	first *entry
	more  []*entry
}

func (mc modelCohorts) len() int {
	if mc.first == nil {
		return 0
	}
	return 1 + len(mc.more)
}

func (mc modelCohorts) at(i int) *entry {
	if i == 0 {
		return mc.first
	}
	return mc.more[i-1]
}

// in returns the model's entry in a cohort, or nil.
func (mc modelCohorts) in(ci *cohortIndex) *entry {
	for i := range mc.len() {
		if e := mc.at(i); e.ci == ci {
			return e
		}
	}
	return nil
}

// with returns mc with e added.
func (mc modelCohorts) with(e *entry) modelCohorts {
	all := make([]*entry, 0, mc.len()+1)
	for i := range mc.len() {
		all = append(all, mc.at(i))
	}
	all = append(all, e)
	slices.SortFunc(all, func(a, b *entry) int { return compareCohorts(a.ci.cohort, b.ci.cohort) })
	if len(all) == 1 {
		return modelCohorts{first: all[0]}
	}
	return modelCohorts{first: all[0], more: all[1:]}
}

type cohortIndex struct {
	cohort rating.Cohort
	// isDefault is true when the cohort's dataset is its task's default.
	isDefault bool
	order     *btree.BTreeG[*entry]
	// lo and hi are the lowest and highest x, kept up to date by put, so
	// that a release's bounds read two fields and never walk the cohort.
	lo, hi float64
	// xs are the cohort's x in order, for ranks; put clears it and the
	// first read after a change rebuilds it, so a rank is a binary search.
	xs atomic.Pointer[[]float64]
}

// New returns an empty index at revision 0.
func New() *Index {
	return &Index{cohorts: map[rating.Cohort]*cohortIndex{}, models: map[string]modelCohorts{}, toolID: map[tool]uint32{},
		advanced: make(chan struct{})}
}

func bestFirst(a, b *entry) bool {
	if a.x != b.x {
		return a.x < b.x
	}
	return a.model < b.model
}

// compact makes the index's entry of e, in cohort ci.
func (ix *Index) compact(e *Entry, ci *cohortIndex) *entry {
	t := tool{e.ToolName, e.ToolVersion}
	id, ok := ix.toolID[t]
	if !ok {
		id = uint32(len(ix.tools))
		ix.tools = append(ix.tools, t)
		ix.toolID[t] = id
	}
	m, r := e.MeasuredAt, e.ReceivedAt
	return &entry{
		model: e.Model, ci: ci, id: e.ID,
		x: e.Measure.EnergyPerUnit, whPer1k: e.Measure.WhPer1kQueries, params: e.ParamsBillions,
		measuredS: m.Unix(), measuredNs: int32(m.Nanosecond()), receivedS: r.Unix(), receivedNs: int32(r.Nanosecond()),
		gpus: int32(e.GPUCount), tool: id, checks: e.Measure.Checks,
	}
}

// expand is the Entry of e.
func (ix *Index) expand(e *entry) Entry {
	t := ix.tools[e.tool]
	return Entry{
		ID: e.id, Model: e.model,
		Measure:  rating.Measure{Cohort: e.ci.cohort, WhPer1kQueries: e.whPer1k, EnergyPerUnit: e.x, Checks: e.checks},
		GPUCount: int(e.gpus), ParamsBillions: e.params,
		MeasuredAt: time.Unix(e.measuredS, int64(e.measuredNs)).UTC(), ReceivedAt: time.Unix(e.receivedS, int64(e.receivedNs)).UTC(),
		ToolName: t.name, ToolVersion: t.version,
	}
}

func (ix *Index) rated(e *entry) Rated {
	ci := e.ci
	return Rated{Entry: ix.expand(e), CohortSize: ci.order.Len(), Rank: ci.rank(e.x)}
}

// rank is 1 plus the number of entries with less energy than x. Callers
// hold the index's read lock, so the order does not change under it;
// concurrent readers may each rebuild xs, to the same result.
func (ci *cohortIndex) rank(x float64) int {
	xs := ci.xs.Load()
	if xs == nil {
		all := make([]float64, 0, ci.order.Len())
		ci.order.Ascend(func(e *entry) bool { all = append(all, e.x); return true })
		xs = &all
		ci.xs.Store(xs)
	}
	i, _ := slices.BinarySearch(*xs, x)
	return i + 1
}

// Load replaces the index's contents with a snapshot's current results,
// at the snapshot's revision.
func (ix *Index) Load(snap *storage.Snapshot) {
	fresh := New()
	for i := range snap.Currents {
		fresh.putLocked(&snap.Currents[i])
	}
	ix.mu.Lock()
	ix.cohorts, ix.models, ix.tools, ix.toolID = fresh.cohorts, fresh.models, fresh.tools, fresh.toolID
	ix.mu.Unlock()
	ix.advance(snap.Revision)
}

// Apply applies events in revision order; events at or below the index's
// revision were applied already and are skipped.
func (ix *Index) Apply(events []storage.Event) {
	if len(events) == 0 {
		return
	}
	last := ix.rev.Load()
	ix.mu.Lock()
	for i := range events {
		ev := &events[i]
		if ev.Revision <= last {
			continue
		}
		if ev.Kind == storage.ResultAdded {
			ix.putLocked(&ev.Result.Current)
		}
	}
	ix.mu.Unlock()
	ix.advance(events[len(events)-1].Revision)
}

// advance moves the index to rev and wakes its waiters. Events that leave
// the entries alone (a release moves stars, which readers compute) advance
// it too, so that whatever is cached per revision follows them.
func (ix *Index) advance(rev int64) {
	ix.mu.Lock()
	if rev > ix.rev.Load() {
		ix.rev.Store(rev)
		close(ix.advanced)
		ix.advanced = make(chan struct{})
	}
	ix.mu.Unlock()
}

// Revision is the revision of the last event applied. Whatever a reader
// derives from reads that follow a call of Revision stays current for as
// long as Revision returns the same number.
func (ix *Index) Revision() int64 { return ix.rev.Load() }

// WaitFor waits until the index has applied revision rev: a writer waits
// for its own write before it answers, so that it reads it back.
func (ix *Index) WaitFor(ctx context.Context, rev int64) error {
	for {
		ix.mu.RLock()
		ch := ix.advanced
		ix.mu.RUnlock()
		if ix.rev.Load() >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (ix *Index) putLocked(in *Entry) {
	ci := ix.cohorts[in.Measure.Cohort]
	if ci == nil {
		c := in.Measure.Cohort
		t, _ := rating.LookupTask(c.Task)
		ci = &cohortIndex{cohort: c, isDefault: c.Dataset == t.DefaultDataset, order: btree.NewG(32, bestFirst)}
		ix.cohorts[ci.cohort] = ci
	}
	e := ix.compact(in, ci)
	mc := ix.models[e.model]
	if mc.len() > 0 {
		e.model = mc.first.model // one copy of the string, shared with the map's key
	}
	old := mc.in(ci)
	if old != nil {
		if old.id > e.id {
			return
		}
		ci.order.Delete(old)
	}
	ci.order.ReplaceOrInsert(e)
	ci.bounds(e, old)
	ci.xs.Store(nil)
	switch {
	case old == nil:
		ix.models[e.model] = mc.with(e)
	case mc.first == old:
		mc.first = e
		ix.models[e.model] = mc
	default: // readers copy entries out under the read lock: mc.more may change in place
		mc.more[slices.Index(mc.more, old)] = e
	}
}

// bounds updates lo and hi after e replaced old (nil for a new model). A
// new extreme costs nothing; only when old held a bound and e moved off it
// does the bound come from the order's end, in O(log n).
func (ci *cohortIndex) bounds(e, old *entry) {
	if ci.order.Len() == 1 {
		ci.lo, ci.hi = e.x, e.x
		return
	}
	if old != nil && (old.x == ci.lo || old.x == ci.hi) {
		lo, _ := ci.order.Min()
		hi, _ := ci.order.Max()
		ci.lo, ci.hi = lo.x, hi.x
		return
	}
	ci.lo, ci.hi = min(ci.lo, e.x), max(ci.hi, e.x)
}

// model returns a model's current entries, one per cohort, in cohort order.
func (ix *Index) model(model string) []Rated {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	mc := ix.models[model]
	out := make([]Rated, mc.len())
	for i := range out {
		out[i] = ix.rated(mc.at(i))
	}
	return out
}

// Choice narrows a model's ratings to those an image may show. An empty
// field matches every value; Task is a task id, Hardware a cohort's
// hardware (the accelerator family).
type Choice struct {
	Task, Dataset, Hardware string
}

// Matches reports whether a cohort is one the choice allows.
func (c Choice) Matches(co rating.Cohort) bool {
	return (c.Task == "" || co.Task == c.Task) && (c.Dataset == "" || co.Dataset == c.Dataset) &&
		(c.Hardware == "" || co.Hardware == c.Hardware)
}

// pick returns the rating of a model that a choice shows, and how many of
// the model's ratings the choice matches. Among several it prefers the
// task's default dataset, then the cohort with the most models, then the
// first in cohort order: nobody steers it by naming a dataset that sorts
// first.
func (ix *Index) pick(model string, c Choice) (Rated, int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	mc := ix.models[model]
	var best *entry
	n := 0
	for i := range mc.len() {
		e := mc.at(i)
		if !c.Matches(e.ci.cohort) {
			continue
		}
		n++
		if best == nil || preferred(e.ci, best.ci) {
			best = e
		}
	}
	if best == nil {
		return Rated{}, 0
	}
	return ix.rated(best), n
}

// preferred reports whether a is a better cohort to show than b, which
// comes first in cohort order.
func preferred(a, b *cohortIndex) bool {
	if a.isDefault != b.isDefault {
		return a.isDefault
	}
	return a.order.Len() > b.order.Len()
}

// Count is the number of entries.
func (ix *Index) Count() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := 0
	for _, ci := range ix.cohorts {
		n += ci.order.Len()
	}
	return n
}

// matching returns the cohorts keep accepts, in cohort order.
func (ix *Index) matching(keep func(rating.Cohort) bool) []rating.Cohort {
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
func (ix *Index) list(c rating.Cohort, after *Cursor, limit int) []Rated {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ci := ix.cohorts[c]
	if ci == nil || limit <= 0 {
		return nil
	}
	out := make([]Rated, 0, min(limit, ci.order.Len()))
	visit := func(e *entry) bool {
		out = append(out, ix.rated(e))
		return len(out) < limit
	}
	if after == nil {
		ci.order.Ascend(visit)
		return out
	}
	pivot := &entry{model: after.Model, x: after.X}
	ci.order.AscendGreaterOrEqual(pivot, func(e *entry) bool {
		if e.model == after.Model && e.x == after.X {
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
func (ix *Index) ModelRatings(model string) []Rated { return ix.model(model) }

// ModelRating returns the rating of a model that a choice shows, and how
// many of the model's ratings the choice matches. It allocates nothing:
// every badge asks.
func (ix *Index) ModelRating(model string, c Choice) (Rated, int) { return ix.pick(model, c) }

// Cohorts returns the cohorts keep accepts, in a stable order.
func (ix *Index) Cohorts(keep func(rating.Cohort) bool) []rating.Cohort {
	return ix.matching(keep)
}

// ListCohort returns up to limit ratings of a cohort, best first, after the
// cursor (nil for the first page).
func (ix *Index) ListCohort(c rating.Cohort, after *Cursor, limit int) []Rated {
	return ix.list(c, after, limit)
}

// CohortBounds returns every cohort's star bounds now: its lowest and
// highest x and its number of models, which a release freezes.
func (ix *Index) CohortBounds() map[rating.Cohort]rating.Bounds {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make(map[rating.Cohort]rating.Bounds, len(ix.cohorts))
	for c, ci := range ix.cohorts {
		out[c] = rating.Bounds{Lo: ci.lo, Hi: ci.hi, Models: ci.order.Len()}
	}
	return out
}

// EachLatest calls fn for every current entry, holding the index's read
// lock; fn must not keep the pointer.
func (ix *Index) EachLatest(fn func(*Entry)) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, ci := range ix.cohorts {
		ci.order.Ascend(func(e *entry) bool {
			x := ix.expand(e)
			fn(&x)
			return true
		})
	}
}

// Place is the rank x would have in a cohort now, and the cohort's size.
func (ix *Index) Place(c rating.Cohort, x float64) (rank, size int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ci := ix.cohorts[c]
	if ci == nil {
		return 1, 0
	}
	return ci.rank(x), ci.order.Len()
}
