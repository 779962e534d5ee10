// Package index is the read model: every model's current result in each
// cohort, ordered best first, built from a backend's snapshot and then fed
// only by the backend's change events, as etcd's mvcc index follows its
// backend. Reads never touch storage.
package index

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Entry is the current result of one model in one cohort.
type Entry = storage.Current

// Rated is an entry with what surveyors found of it and its place among
// the current release's references.
type Rated struct {
	Entry
	// CohortSize is how many models the cohort has now.
	CohortSize int
	// Rank is the place the rating's x would take among the reference
	// models of its cohort in the current release, 1 for the least
	// energy (equal energies share a rank), and RankOf how many there
	// were; both 0 when the release ranks no model of the cohort. No
	// submission moves them: only the next release does.
	Rank, RankOf int
	// Survey is the market surveillance of the entry: its Status is
	// Published or Declared by who submitted it, unless surveyors
	// measured it.
	Survey rating.Survey
	// CheckedAt is when a surveyor last measured it; zero when none did.
	CheckedAt time.Time
}

// Shown is the measure the rating shows and grades: the determined figures
// of a corrected result, else the entry's own.
func (r *Rated) Shown() rating.Measure {
	m := r.Measure
	if r.Survey.Status == rating.StatusCorrected {
		m.EnergyPerUnit, m.WhPer1kQueries = r.Survey.DeterminedX, r.Survey.DeterminedWh
		if m.FloorRatio > 0 && r.Measure.EnergyPerUnit > 0 {
			m.FloorRatio *= r.Survey.DeterminedX / r.Measure.EnergyPerUnit
		}
	}
	return m
}

// Reference is the figure the entry counts with in a release, and whether
// it counts: a published result with its own, a verified one with its
// declared, a corrected one with its determined figures, and any other
// with the model's latest reference result it carried forward, if any.
func (r *Rated) Reference() (storage.Reference, bool) {
	switch r.Survey.Status {
	case rating.StatusPublished, rating.StatusVerified:
		return storage.Reference{ResultID: r.ID, X: r.Measure.EnergyPerUnit, WhPer1k: r.Measure.WhPer1kQueries}, true
	case rating.StatusCorrected:
		return storage.Reference{ResultID: r.ID, X: r.Survey.DeterminedX, WhPer1k: r.Survey.DeterminedWh}, true
	}
	return r.Carried, r.Carried.ResultID != 0
}

// Cursor is a position in a cohort's best-first order: after the entry with
// this shown x (Rated.Shown) and model.
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
	// surveys hold the latest surveyor measurement of each model and
	// cohort, which holds the whole state of its surveillance.
	surveys map[surveyKey]*storage.Verification
	// verifications are every verification of each model, oldest first,
	// without the measurement the log keeps: history shows them.
	verifications map[string][]*storage.Verification
	// owners counts the rated models of each owner (namespace), so that
	// the namespaces in use are read without walking every entry.
	owners map[string]int
	// release is the current star release, which ranks come from.
	release *rating.Release
	// rev is the revision of the last applied event; advanced signals
	// (by closing) that it moved.
	rev      atomic.Int64
	advanced chan struct{}
}

type tool struct{ name, version string }

type surveyKey struct {
	model  string
	cohort rating.Cohort
}

// entry is an Entry as the index keeps it. Its pointers come first, so that
// the collector stops scanning it after them.
type entry struct {
	model                  string
	ci                     *cohortIndex
	id                     uint64
	x, whPer1k, params     float64
	measuredS, receivedS   int64 // Unix seconds and nanoseconds, which
	measuredNs, receivedNs int32 // round-trip the zero time too
	floorRatio             float64
	// sortX is the x the cohort orders the entry by: the figure it
	// shows, which surveyors' correction may set apart from x.
	sortX   float64
	carried storage.Reference
	gpus    int32
	tool    uint32
	checks  rating.Checks
	source  rating.Source
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
}

// New returns an empty index at revision 0.
func New() *Index {
	return &Index{cohorts: map[rating.Cohort]*cohortIndex{}, models: map[string]modelCohorts{}, toolID: map[tool]uint32{},
		surveys: map[surveyKey]*storage.Verification{}, verifications: map[string][]*storage.Verification{}, owners: map[string]int{},
		advanced: make(chan struct{})}
}

func bestFirst(a, b *entry) bool {
	if a.sortX != b.sortX {
		return a.sortX < b.sortX
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
		floorRatio: e.Measure.FloorRatio, carried: e.Carried, source: e.Source, sortX: e.Measure.EnergyPerUnit,
	}
}

// expand is the Entry of e.
func (ix *Index) expand(e *entry) Entry {
	t := ix.tools[e.tool]
	return Entry{
		ID: e.id, Model: e.model,
		Measure: rating.Measure{Cohort: e.ci.cohort, WhPer1kQueries: e.whPer1k, EnergyPerUnit: e.x, Checks: e.checks,
			FloorRatio: e.floorRatio},
		GPUCount: int(e.gpus), ParamsBillions: e.params,
		MeasuredAt: time.Unix(e.measuredS, int64(e.measuredNs)).UTC(), ReceivedAt: time.Unix(e.receivedS, int64(e.receivedNs)).UTC(),
		ToolName: t.name, ToolVersion: t.version, Source: e.source, Carried: e.carried,
	}
}

// rated expands e with its surveillance and its place in the current
// release. Callers hold the read lock.
func (ix *Index) rated(e *entry) Rated {
	r := Rated{Entry: ix.expand(e), CohortSize: e.ci.order.Len()}
	r.Survey, r.CheckedAt = ix.surveyOf(e)
	r.Rank, r.RankOf = ix.release.Rank(e.ci.cohort, r.Shown().X())
	return r
}

// surveyOf is the surveillance state of an entry. The latest verification
// of its model and cohort holds it when it measured this entry; a
// publisher's later result stays under review when the one before it
// was; anything else is as its source says.
func (ix *Index) surveyOf(e *entry) (rating.Survey, time.Time) {
	base := rating.Survey{Status: rating.StatusDeclared}
	if e.source == rating.Published {
		base.Status = rating.StatusPublished
	}
	if len(ix.surveys) == 0 {
		return base, time.Time{}
	}
	v := ix.surveys[surveyKey{e.model, e.ci.cohort}]
	switch {
	case v == nil:
		return base, time.Time{}
	case v.ResultID == e.id:
		return v.Survey, v.At
	case e.source == rating.Publisher && e.id > v.ResultID && v.Survey.Status == rating.StatusUnderReview:
		return v.Survey, v.At
	}
	return base, time.Time{}
}

// Load replaces the index's contents with a snapshot's current results,
// at the snapshot's revision.
func (ix *Index) Load(snap *storage.Snapshot) {
	fresh := New()
	for i := range snap.Currents {
		fresh.putLocked(&snap.Currents[i])
	}
	for i := range snap.Verifications {
		fresh.surveyLocked(&snap.Verifications[i])
	}
	if n := len(snap.Releases); n > 0 {
		fresh.release = snap.Releases[n-1]
	}
	ix.mu.Lock()
	ix.cohorts, ix.models, ix.tools, ix.toolID = fresh.cohorts, fresh.models, fresh.tools, fresh.toolID
	ix.surveys, ix.verifications, ix.release, ix.owners = fresh.surveys, fresh.verifications, fresh.release, fresh.owners
	ix.mu.Unlock()
	ix.advance(snap.Revision)
}

// Apply applies events in revision order; events at or below the index's
// revision were applied already and are skipped. complete says whether the
// last event's revision is whole in events (a watch response without
// More): only then does the index advance to it; otherwise it advances to
// the revision before, every earlier one being whole, and the rest of the
// last revision comes in the next call. A revision split so is one of
// results, which apply again harmlessly: a follower that resumes from the
// revision before it gets the revision's first part a second time.
func (ix *Index) Apply(events []storage.Event, complete bool) {
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
		switch ev.Kind {
		case storage.ResultAdded:
			ix.putLocked(&ev.Result.Current)
		case storage.VerificationAdded:
			ix.surveyLocked(ev.Verification)
		case storage.ReleaseCreated:
			ix.release = ev.Release
		}
	}
	ix.mu.Unlock()
	last = events[len(events)-1].Revision
	if !complete {
		last--
	}
	ix.advance(last)
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
	e.sortX = ix.shownX(e)
	ci.order.ReplaceOrInsert(e)
	switch {
	case old == nil:
		if mc.len() == 0 {
			owner, _, _ := strings.Cut(e.model, "/")
			ix.owners[owner]++
		}
		ix.models[e.model] = mc.with(e)
	case mc.first == old:
		mc.first = e
		ix.models[e.model] = mc
	default: // readers copy entries out under the read lock: mc.more may change in place
		mc.more[slices.Index(mc.more, old)] = e
	}
}

// surveyLocked records a verification as the latest of its model and
// cohort: verifications arrive in the order they were stored.
func (ix *Index) surveyLocked(v *storage.Verification) {
	k := surveyKey{v.Model, v.Cohort}
	cp := *v
	cp.Measurement = nil // the log keeps it; the read model needs the state
	ix.surveys[k] = &cp
	ix.verifications[v.Model] = append(ix.verifications[v.Model], &cp)
	// A correction moves the entry to the figure it now shows.
	if ci := ix.cohorts[v.Cohort]; ci != nil {
		if e := ix.models[v.Model].in(ci); e != nil {
			if x := ix.shownX(e); x != e.sortX {
				ci.order.Delete(e)
				e.sortX = x
				ci.order.ReplaceOrInsert(e)
			}
		}
	}
}

// shownX is the x an entry shows: the determined one once corrected.
func (ix *Index) shownX(e *entry) float64 {
	if s, _ := ix.surveyOf(e); s.Status == rating.StatusCorrected {
		return s.DeterminedX
	}
	return e.x
}

// Verifications returns every verification of a model, oldest first.
func (ix *Index) Verifications(model string) []storage.Verification {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	vs := ix.verifications[model]
	out := make([]storage.Verification, len(vs))
	for i, v := range vs {
		out[i] = *v
	}
	return out
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
	pivot := &entry{model: after.Model, sortX: after.X}
	ci.order.AscendGreaterOrEqual(pivot, func(e *entry) bool {
		if e.model == after.Model && e.sortX == after.X {
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

// ListCohortAt returns up to limit ratings of a cohort, best first, from
// its offset-th (0 is the best), and how many ratings the cohort has, both
// as of one moment: pages by number, as the leaderboard pages link them.
// It steps over the entries before the page without expanding them, from
// whichever end of the cohort is nearer, so that the last page of a large
// cohort costs no more than the first.
func (ix *Index) ListCohortAt(c rating.Cohort, offset, limit int) (page []Rated, total int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ci := ix.cohorts[c]
	if ci == nil {
		return nil, 0
	}
	total = ci.order.Len()
	offset = max(offset, 0)
	if limit <= 0 || offset >= total {
		return nil, total
	}
	end := offset + min(limit, total-offset) // past the page's last entry
	page = make([]Rated, 0, end-offset)
	if offset <= total-end {
		i := 0
		ci.order.Ascend(func(e *entry) bool {
			if i >= offset {
				page = append(page, ix.rated(e))
			}
			i++
			return i < end
		})
		return page, total
	}
	// Nearer the worst end: walk back to the page, and turn it round.
	i := total
	ci.order.Descend(func(e *entry) bool {
		i--
		if i < end {
			page = append(page, ix.rated(e))
		}
		return i > offset
	})
	slices.Reverse(page)
	return page, total
}

// ModelRatingsAt returns up to limit of a model's current ratings, in
// cohort order (as ModelRatings), from its offset-th, and how many ratings
// the model has: a page of a model rated in many cohorts, expanding only
// the ratings on it.
func (ix *Index) ModelRatingsAt(model string, offset, limit int) (page []Rated, total int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	mc := ix.models[model]
	total = mc.len()
	offset = max(offset, 0)
	if limit <= 0 || offset >= total {
		return nil, total
	}
	page = make([]Rated, 0, min(limit, total-offset))
	for i := offset; i < total && len(page) < limit; i++ {
		page = append(page, ix.rated(mc.at(i)))
	}
	return page, total
}

// ReferenceBounds returns what a release made now freezes: for every
// cohort with a reference, the bounds of the latest reference of each
// model. Declared results count only through the reference they carry.
func (ix *Index) ReferenceBounds() map[rating.Cohort]rating.Bounds {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make(map[rating.Cohort]rating.Bounds, len(ix.cohorts))
	var xs []float64
	for c, ci := range ix.cohorts {
		xs = xs[:0]
		ci.order.Ascend(func(e *entry) bool {
			r := ix.rated(e)
			if ref, ok := r.Reference(); ok {
				xs = append(xs, ref.X)
			}
			return true
		})
		if len(xs) > 0 {
			out[c] = rating.BoundsOf(xs)
		}
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

// EachRated calls fn for every current rating, holding the index's read
// lock; fn must not keep the pointer.
func (ix *Index) EachRated(fn func(*Rated)) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, ci := range ix.cohorts {
		ci.order.Ascend(func(e *entry) bool {
			r := ix.rated(e)
			fn(&r)
			return true
		})
	}
}

// Rating returns a model's current rating in a cohort.
func (ix *Index) Rating(model string, c rating.Cohort) (Rated, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ci := ix.cohorts[c]
	if ci == nil {
		return Rated{}, false
	}
	e := ix.models[model].in(ci)
	if e == nil {
		return Rated{}, false
	}
	return ix.rated(e), true
}

// EachOwner calls fn for every namespace that owns a rated model.
func (ix *Index) EachOwner(fn func(owner string)) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for o := range ix.owners {
		fn(o)
	}
}

// EachModel calls fn with the id of every rated model, in no order,
// holding the index's read lock: the model list that search scans, made
// without expanding a single entry.
func (ix *Index) EachModel(fn func(model string)) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for m := range ix.models {
		fn(m)
	}
}

// Place is the rank x would take among the current release's references
// of a cohort, and how many there were.
func (ix *Index) Place(c rating.Cohort, x float64) (rank, of int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.release.Rank(c, x)
}
