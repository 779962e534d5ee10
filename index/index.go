// Package index is the read model: every model's current result in each
// cohort, ordered best first, built from a backend's snapshot and then fed
// only by the backend's change events, as etcd's mvcc index follows its
// backend. Reads never touch storage.
package index

import (
	"cmp"
	"context"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/energylabel/energylabel/internal/hugepages"
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
// the pointers of all of it in every cycle; at two million entries, how
// long a cycle takes, and how much memory the heap needs beside it, is
// what a large registry adds to every call. So the entries hold no
// pointers at all, and neither does anything else kept per entry:
//
//   - entries are fixed-size records in a slab of large blocks (slab),
//     named by their slot; a model's id and its cohort are small numbers;
//   - model ids are interned once, their text in blocks shared by many
//     (names), found through hash tables of numbers;
//   - each cohort's best-first order is a list of sorted blocks of
//     (x, model number, slot) items (order);
//   - a model's entries, one per cohort, are a chain through their next
//     fields, in cohort order, from the model's first.
//
// Reads expand entries into Entry values, whose Model shares the interned
// text. Load builds all of it in bulk, on every processor at once
// (data.bulk): it places every entry, interns the models shard by shard,
// then sorts each cohort once, rather than inserting entries one by one.
// It keeps some 170 bytes an entry in a few thousand objects, where a
// btree of individually allocated entries kept some 260 bytes an entry in
// two objects each, every one of them walked by the collector
// (BenchmarkLoad).
type Index struct {
	mu sync.RWMutex
	data
	// rev is the revision of the last applied event; advanced signals
	// (by closing) that it moved.
	rev      atomic.Int64
	advanced chan struct{}
}

// data is what Load replaces at once.
type data struct {
	// names number the models, and keep where each one's entries start.
	names   names
	entries slab
	// cohorts are numbered in the order they came; cohortNum finds them.
	cohorts   []*cohortIndex
	cohortNum map[rating.Cohort]uint32
	// tools are the distinct (name, version) pairs entries refer to.
	tools  []tool
	toolID map[tool]uint32
	// carried are the references that entries carry, by slot: few
	// entries carry one, so the slab keeps none.
	carried map[uint32]storage.Reference
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
}

type tool struct{ name, version string }

type surveyKey struct {
	model  string
	cohort rating.Cohort
}

// entry is an Entry as the index keeps it: 96 bytes, no pointers.
type entry struct {
	id                     uint64
	x, whPer1k, params     float64
	floorRatio             float64
	measuredS, receivedS   int64 // Unix seconds and nanoseconds, which
	measuredNs, receivedNs int32 // round-trip the zero time too
	// sortX is the x the cohort orders the entry by: the figure it
	// shows, which surveyors' correction may set apart from x.
	sortX float64
	// model is the model's number in names, cohort an index into
	// cohorts, tool into tools.
	model, cohort, tool uint32
	// next is the slot + 1 of the model's next entry in cohort order; 0
	// ends the chain.
	next   uint32
	gpus   int32
	checks rating.Checks
	source int8
}

// slab holds entries in blocks of slabBlock, never moved: a slot names
// one for as long as the index lives (an entry is replaced in place).
// A slot Load left empty (a snapshot's second current of a model in a
// cohort) has the cohort deadCohort, and is in no order and no chain.
type slab struct {
	blocks [][]entry
	n      uint32
}

const deadCohort = math.MaxUint32

const (
	slabShift = 13
	slabBlock = 1 << slabShift
)

func (s *slab) at(slot uint32) *entry { return &s.blocks[slot>>slabShift][slot&(slabBlock-1)] }

// add returns the slot of a new, zero entry.
func (s *slab) add() uint32 {
	s.grow(1)
	return s.n - 1
}

// fill makes an empty slab k zero entries in one allocation, which it
// cuts into the blocks and returns: a bulk fill touches it first, all at
// once, and faults it in huge pages (hugepages.Fill).
func (s *slab) fill(k int) []entry {
	all := make([]entry, (k+slabBlock-1)/slabBlock*slabBlock)
	for at := 0; at < len(all); at += slabBlock {
		s.blocks = append(s.blocks, all[at:at+slabBlock:at+slabBlock])
	}
	s.n = uint32(k)
	return all
}

// grow adds k zero entries, whose slots follow the last one's.
func (s *slab) grow(k int) {
	s.n += uint32(k)
	for len(s.blocks)<<slabShift < int(s.n) {
		s.blocks = append(s.blocks, make([]entry, slabBlock))
	}
}

type cohortIndex struct {
	cohort rating.Cohort
	// isDefault is true when the cohort's dataset is its task's default.
	isDefault bool
	order     order
}

// New returns an empty index at revision 0.
func New() *Index {
	return &Index{data: newData(0), advanced: make(chan struct{})}
}

// newData is an empty index's data, with room for about n entries.
func newData(n int) data {
	return data{names: newNames(n), cohortNum: map[rating.Cohort]uint32{}, toolID: map[tool]uint32{},
		carried: map[uint32]storage.Reference{}, surveys: map[surveyKey]*storage.Verification{},
		verifications: map[string][]*storage.Verification{}, owners: map[string]int{}}
}

// cohort returns the number of a cohort, numbering it if it has none.
func (d *data) cohort(c rating.Cohort) uint32 {
	if i, ok := d.cohortNum[c]; ok {
		return i
	}
	t, _ := rating.LookupTask(c.Task)
	i := uint32(len(d.cohorts))
	d.cohorts = append(d.cohorts, &cohortIndex{cohort: c, isDefault: c.Dataset == t.DefaultDataset})
	d.cohortNum[c] = i
	return i
}

// tool returns the number of a tool, numbering it if it has none.
func (d *data) tool(t tool) uint32 {
	id, ok := d.toolID[t]
	if !ok {
		id = uint32(len(d.tools))
		d.tools = append(d.tools, t)
		d.toolID[t] = id
	}
	return id
}

// set makes e the entry of in, in cohort co with tool t, but for its model
// and its place in the model's chain, which stay, and its sortX, which is
// the caller's. What it carries is the caller's too (data.carry).
func (e *entry) set(in *Entry, co, t uint32) {
	m, r := in.MeasuredAt, in.ReceivedAt
	e.id, e.cohort, e.tool = in.ID, co, t
	e.x, e.whPer1k, e.params, e.floorRatio = in.Measure.EnergyPerUnit, in.Measure.WhPer1kQueries, in.ParamsBillions, in.Measure.FloorRatio
	e.measuredS, e.measuredNs, e.receivedS, e.receivedNs = m.Unix(), int32(m.Nanosecond()), r.Unix(), int32(r.Nanosecond())
	e.gpus, e.checks, e.source = int32(in.GPUCount), in.Measure.Checks, int8(in.Source)
}

// carry records the reference the entry in slot carries, or that it
// carries none.
func (d *data) carry(slot uint32, r storage.Reference) {
	if r != (storage.Reference{}) {
		d.carried[slot] = r
	} else if len(d.carried) > 0 {
		delete(d.carried, slot)
	}
}

// entryIn returns the slot of a model's entry in a cohort.
func (d *data) entryIn(model, co uint32) (uint32, bool) {
	for s := *d.names.first(model); s != 0; s = d.entries.at(s - 1).next {
		if d.entries.at(s-1).cohort == co {
			return s - 1, true
		}
	}
	return 0, false
}

// link puts the entry in slot, new, into its model's chain, in cohort
// order. It reads and writes only that model's entries.
func (d *data) link(slot uint32) {
	e := d.entries.at(slot)
	c := d.cohorts[e.cohort].cohort
	at := d.names.first(e.model)
	for *at != 0 {
		next := d.entries.at(*at - 1)
		if compareCohorts(c, d.cohorts[next.cohort].cohort) < 0 {
			break
		}
		at = &next.next
	}
	e.next, *at = *at, slot+1
}

// ownerOf is the owner (namespace) of a model id.
func ownerOf(model string) string {
	owner, _, _ := strings.Cut(model, "/")
	return owner
}

// expand is the Entry of the entry in slot.
func (d *data) expand(slot uint32) Entry {
	e := d.entries.at(slot)
	t := d.tools[e.tool]
	out := Entry{
		ID: e.id, Model: d.names.name(e.model),
		Measure: rating.Measure{Cohort: d.cohorts[e.cohort].cohort, WhPer1kQueries: e.whPer1k, EnergyPerUnit: e.x, Checks: e.checks,
			FloorRatio: e.floorRatio},
		GPUCount: int(e.gpus), ParamsBillions: e.params,
		MeasuredAt: time.Unix(e.measuredS, int64(e.measuredNs)).UTC(), ReceivedAt: time.Unix(e.receivedS, int64(e.receivedNs)).UTC(),
		ToolName: t.name, ToolVersion: t.version, Source: rating.Source(e.source),
	}
	if len(d.carried) > 0 {
		out.Carried = d.carried[slot]
	}
	return out
}

// rated expands the entry in slot with its surveillance and its place in
// the current release. Callers hold the read lock.
func (d *data) rated(slot uint32) Rated {
	e := d.entries.at(slot)
	r := Rated{Entry: d.expand(slot), CohortSize: d.cohorts[e.cohort].order.n}
	r.Survey, r.CheckedAt = d.surveyOf(e)
	r.Rank, r.RankOf = d.release.Rank(r.Measure.Cohort, r.Shown().X())
	return r
}

// surveyOf is the surveillance state of an entry. The latest verification
// of its model and cohort holds it when it measured this entry; a
// publisher's later result stays under review when the one before it
// was; anything else is as its source says.
func (d *data) surveyOf(e *entry) (rating.Survey, time.Time) {
	source := rating.Source(e.source)
	base := rating.Survey{Status: rating.StatusDeclared}
	if source == rating.Published {
		base.Status = rating.StatusPublished
	}
	if len(d.surveys) == 0 {
		return base, time.Time{}
	}
	v := d.surveys[surveyKey{d.names.name(e.model), d.cohorts[e.cohort].cohort}]
	switch {
	case v == nil:
		return base, time.Time{}
	case v.ResultID == e.id:
		return v.Survey, v.At
	case source == rating.Publisher && e.id > v.ResultID && v.Survey.Status == rating.StatusUnderReview:
		return v.Survey, v.At
	}
	return base, time.Time{}
}

// shownX is the x an entry shows: the determined one once corrected.
func (d *data) shownX(e *entry) float64 {
	if s, _ := d.surveyOf(e); s.Status == rating.StatusCorrected {
		return s.DeterminedX
	}
	return e.x
}

// itemOf is the order's item of the entry in slot.
func (d *data) itemOf(slot uint32) item {
	e := d.entries.at(slot)
	return item{x: e.sortX, model: e.model, slot: slot}
}

// put makes in its model's current entry in its cohort, unless the entry
// there is of a later result.
func (d *data) put(in *Entry) {
	co := d.cohort(in.Measure.Cohort)
	ci := d.cohorts[co]
	m, added := d.names.intern(d.names.hash(in.Model), in.Model)
	if added {
		d.owners[ownerOf(in.Model)]++
	}
	if slot, ok := d.entryIn(m, co); ok {
		e := d.entries.at(slot)
		if e.id > in.ID {
			return
		}
		ci.order.remove(&d.names, d.itemOf(slot))
		e.set(in, co, d.tool(tool{in.ToolName, in.ToolVersion}))
		d.carry(slot, in.Carried)
		e.sortX = d.shownX(e)
		ci.order.insert(&d.names, d.itemOf(slot))
		return
	}
	slot := d.entries.add()
	e := d.entries.at(slot)
	e.model = m
	e.set(in, co, d.tool(tool{in.ToolName, in.ToolVersion}))
	d.carry(slot, in.Carried)
	e.sortX = d.shownX(e)
	d.link(slot)
	ci.order.insert(&d.names, d.itemOf(slot))
}

// bulk puts every current of a snapshot into empty data, on every
// processor at once for a large one:
//
//  1. each worker fills the entries of a run of the currents, in slots
//     numbered as the currents are, and hashes their models' ids;
//  2. each worker interns the ids of some of the name shards, whichever
//     currents they are in, and links each model's entries into its
//     chain: a model's entries are all one worker's;
//  3. a model's second current in a cohort, which no backend's snapshot
//     holds, is settled as put would (the later result counts), and its
//     slot left empty;
//  4. the workers count and gather each cohort's items, and sort and cut
//     the cohorts into blocks, the largest cohorts first.
//
// Without surveys yet, each entry's sortX is its own x, as put would make
// it; Load applies the verifications after.
func (d *data) bulk(currents []Entry) {
	n := len(currents)
	workers := 1
	if n >= parallelLoad {
		workers = runtime.GOMAXPROCS(0)
	}
	all := d.entries.fill(n)
	hashes := make([]uint64, n)
	var carried []map[uint32]storage.Reference
	hugepages.Fill(all, func() { carried = d.place(currents, workers, hashes) })
	for _, c := range carried {
		maps.Copy(d.carried, c)
	}

	owners := make([]map[string]int, workers)
	twice := make([][]uint32, workers) // slots of second currents, in order
	parallel(workers, func(w int) {
		owners[w] = map[string]int{}
		for i, h := range hashes {
			if int(h%nameShards)%workers != w {
				continue
			}
			slot := uint32(i)
			m, added := d.names.intern(h, currents[i].Model)
			if added {
				owners[w][ownerOf(currents[i].Model)]++
			}
			e := d.entries.at(slot)
			e.model = m
			if _, ok := d.entryIn(m, e.cohort); ok {
				twice[w] = append(twice[w], slot)
				continue
			}
			d.link(slot)
		}
	})
	for _, o := range owners {
		for owner, k := range o {
			d.owners[owner] += k
		}
	}
	for _, slots := range twice {
		for _, slot := range slots {
			e := d.entries.at(slot)
			at, _ := d.entryIn(e.model, e.cohort)
			if kept := d.entries.at(at); kept.id <= e.id {
				next := kept.next
				*kept = *e
				kept.next = next
				d.carry(at, d.carried[slot])
			}
			delete(d.carried, slot)
			e.cohort = deadCohort
		}
	}

	// Each worker counts its run's entries of each cohort, then puts their
	// items after the runs' before.
	counts := make([][]int, workers)
	parallel(workers, func(w int) {
		counts[w] = make([]int, len(d.cohorts))
		for slot := w * n / workers; slot < (w+1)*n/workers; slot++ {
			if co := d.entries.at(uint32(slot)).cohort; co != deadCohort {
				counts[w][co]++
			}
		}
	})
	items := make([][]item, len(d.cohorts))
	sizes := make([]int, len(d.cohorts))
	for co := range items {
		for w := range workers {
			at := sizes[co]
			sizes[co] += counts[w][co]
			counts[w][co] = at
		}
		items[co] = make([]item, sizes[co])
	}
	parallel(workers, func(w int) {
		at := counts[w]
		for slot := w * n / workers; slot < (w+1)*n/workers; slot++ {
			e := d.entries.at(uint32(slot))
			if e.cohort != deadCohort {
				items[e.cohort][at[e.cohort]] = item{x: e.sortX, model: e.model, slot: uint32(slot)}
				at[e.cohort]++
			}
		}
	})
	todo := make([]int, len(d.cohorts))
	for i := range todo {
		todo[i] = i
	}
	slices.SortFunc(todo, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	var next atomic.Int64
	parallel(min(workers, len(todo)), func(int) {
		for {
			k := int(next.Add(1)) - 1
			if k >= len(todo) {
				return
			}
			c := todo[k]
			d.cohorts[c].order = build(&d.names, items[c])
		}
	})
}

// place is step 1 of bulk: each of workers fills the entries of a run of
// the currents, in slots numbered as the currents are, and hashes their
// models' ids into hashes. It returns what the entries carry, by slot, in
// one map a worker.
func (d *data) place(currents []Entry, workers int, hashes []uint64) []map[uint32]storage.Reference {
	n := len(currents)
	carried := make([]map[uint32]storage.Reference, workers)
	var mu sync.Mutex // cohorts and tools
	parallel(workers, func(w int) {
		carried[w] = map[uint32]storage.Reference{}
		// A snapshot comes in cohort order, mostly with one tool: those
		// of the current before save a locked lookup.
		var lastCohort rating.Cohort
		var lastTool tool
		co, t := uint32(deadCohort), uint32(0)
		for i := w * n / workers; i < (w+1)*n/workers; i++ {
			in := &currents[i]
			if co == deadCohort || in.Measure.Cohort != lastCohort || in.ToolName != lastTool.name || in.ToolVersion != lastTool.version {
				lastCohort, lastTool = in.Measure.Cohort, tool{in.ToolName, in.ToolVersion}
				mu.Lock()
				co, t = d.cohort(lastCohort), d.tool(lastTool)
				mu.Unlock()
			}
			e := d.entries.at(uint32(i))
			e.set(in, co, t)
			e.sortX = e.x
			if in.Carried != (storage.Reference{}) {
				carried[w][uint32(i)] = in.Carried
			}
			hashes[i] = d.names.hash(in.Model)
		}
	})
	return carried
}

// parallelLoad is the fewest currents Load puts on more than one
// processor.
const parallelLoad = 1 << 14

// parallel runs fn(0), …, fn(workers-1) at once, and waits for them.
func parallel(workers int, fn func(w int)) {
	if workers <= 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { fn(w) })
	}
	wg.Wait()
}

// survey records a verification as the latest of its model and cohort:
// verifications arrive in the order they were stored.
func (d *data) survey(v *storage.Verification) {
	k := surveyKey{v.Model, v.Cohort}
	cp := *v
	cp.Measurement = nil // the log keeps it; the read model needs the state
	d.surveys[k] = &cp
	d.verifications[v.Model] = append(d.verifications[v.Model], &cp)
	// A correction moves the entry to the figure it now shows.
	co, ok := d.cohortNum[v.Cohort]
	if !ok {
		return
	}
	m, ok := d.names.find(v.Model)
	if !ok {
		return
	}
	if slot, ok := d.entryIn(m, co); ok {
		e := d.entries.at(slot)
		if x := d.shownX(e); x != e.sortX {
			o := &d.cohorts[co].order
			o.remove(&d.names, d.itemOf(slot))
			e.sortX = x
			o.insert(&d.names, d.itemOf(slot))
		}
	}
}

// modelEntries calls fn with the slot of each of a model's entries, in
// cohort order, until fn returns false.
func (d *data) modelEntries(model string, fn func(slot uint32) bool) {
	m, ok := d.names.find(model)
	if !ok {
		return
	}
	for s := *d.names.first(m); s != 0; s = d.entries.at(s - 1).next {
		if !fn(s - 1) {
			return
		}
	}
}

// modelLen is how many entries a model has.
func (d *data) modelLen(model string) int {
	n := 0
	d.modelEntries(model, func(uint32) bool { n++; return true })
	return n
}

// Load replaces the index's contents with a snapshot's current results,
// at the snapshot's revision.
func (ix *Index) Load(snap *storage.Snapshot) {
	fresh := newData(len(snap.Currents))
	fresh.bulk(snap.Currents)
	for i := range snap.Verifications {
		fresh.survey(&snap.Verifications[i])
	}
	if n := len(snap.Releases); n > 0 {
		fresh.release = snap.Releases[n-1]
	}
	ix.mu.Lock()
	ix.data = fresh
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
			ix.put(&ev.Result.Current)
		case storage.VerificationAdded:
			ix.survey(ev.Verification)
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

// preferred reports whether a is a better cohort to show than b, which
// comes first in cohort order.
func preferred(a, b *cohortIndex) bool {
	if a.isDefault != b.isDefault {
		return a.isDefault
	}
	return a.order.n > b.order.n
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

// Count is the number of entries.
func (ix *Index) Count() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := 0
	for _, ci := range ix.cohorts {
		n += ci.order.n
	}
	return n
}

// ModelRatings returns a model's current entries with their cohort bounds,
// in cohort order.
func (ix *Index) ModelRatings(model string) []Rated {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]Rated, 0, ix.modelLen(model))
	ix.modelEntries(model, func(slot uint32) bool {
		out = append(out, ix.rated(slot))
		return true
	})
	return out
}

// ModelRating returns the rating of a model that a choice shows, and how
// many of the model's ratings the choice matches. Among several it prefers
// the task's default dataset, then the cohort with the most models, then
// the first in cohort order: nobody steers it by naming a dataset that
// sorts first. It allocates nothing: every badge asks.
func (ix *Index) ModelRating(model string, c Choice) (Rated, int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var best *cohortIndex
	bestSlot, n := uint32(0), 0
	ix.modelEntries(model, func(slot uint32) bool {
		ci := ix.cohorts[ix.entries.at(slot).cohort]
		if !c.Matches(ci.cohort) {
			return true
		}
		n++
		if best == nil || preferred(ci, best) {
			best, bestSlot = ci, slot
		}
		return true
	})
	if best == nil {
		return Rated{}, 0
	}
	return ix.rated(bestSlot), n
}

// Cohorts returns the cohorts keep accepts, in a stable order.
func (ix *Index) Cohorts(keep func(rating.Cohort) bool) []rating.Cohort {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []rating.Cohort
	for _, ci := range ix.cohorts {
		if keep(ci.cohort) {
			out = append(out, ci.cohort)
		}
	}
	slices.SortFunc(out, compareCohorts)
	return out
}

// ListCohort returns up to limit ratings of a cohort, best first, after the
// cursor (nil for the first page).
func (ix *Index) ListCohort(c rating.Cohort, after *Cursor, limit int) []Rated {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	co, ok := ix.cohortNum[c]
	if !ok || limit <= 0 {
		return nil
	}
	o := &ix.cohorts[co].order
	out := make([]Rated, 0, min(limit, o.n))
	b, i := 0, 0
	if after != nil {
		b, i = o.search(&ix.names, after.X, after.Model)
	}
	o.ascend(b, i, func(it item) bool {
		if after != nil && it.x == after.X && ix.names.name(it.model) == after.Model {
			return true // the cursor's own entry was on the last page
		}
		out = append(out, ix.rated(it.slot))
		return len(out) < limit
	})
	return out
}

// ListCohortAt returns up to limit ratings of a cohort, best first, from
// its offset-th (0 is the best), and how many ratings the cohort has, both
// as of one moment: pages by number, as the leaderboard pages link them.
// It steps over the blocks of entries before the page without looking at
// their entries, so that the last page of a large cohort costs about what
// the first does.
func (ix *Index) ListCohortAt(c rating.Cohort, offset, limit int) (page []Rated, total int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	co, ok := ix.cohortNum[c]
	if !ok {
		return nil, 0
	}
	o := &ix.cohorts[co].order
	total = o.n
	offset = max(offset, 0)
	if limit <= 0 || offset >= total {
		return nil, total
	}
	page = make([]Rated, 0, min(limit, total-offset))
	b, i := o.at(offset)
	o.ascend(b, i, func(it item) bool {
		page = append(page, ix.rated(it.slot))
		return len(page) < limit
	})
	return page, total
}

// ModelRatingsAt returns up to limit of a model's current ratings, in
// cohort order (as ModelRatings), from its offset-th, and how many ratings
// the model has: a page of a model rated in many cohorts, expanding only
// the ratings on it.
func (ix *Index) ModelRatingsAt(model string, offset, limit int) (page []Rated, total int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	total = ix.modelLen(model)
	offset = max(offset, 0)
	if limit <= 0 || offset >= total {
		return nil, total
	}
	page = make([]Rated, 0, min(limit, total-offset))
	i := 0
	ix.modelEntries(model, func(slot uint32) bool {
		if i >= offset {
			page = append(page, ix.rated(slot))
		}
		i++
		return len(page) < limit
	})
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
	for _, ci := range ix.cohorts {
		xs = xs[:0]
		ci.order.ascend(0, 0, func(it item) bool {
			// Only what Reference reads.
			e := ix.entries.at(it.slot)
			r := Rated{Entry: Entry{ID: e.id, Measure: rating.Measure{EnergyPerUnit: e.x, WhPer1kQueries: e.whPer1k}}}
			if len(ix.carried) > 0 {
				r.Carried = ix.carried[it.slot]
			}
			r.Survey, _ = ix.surveyOf(e)
			if ref, ok := r.Reference(); ok {
				xs = append(xs, ref.X)
			}
			return true
		})
		if len(xs) > 0 {
			out[ci.cohort] = rating.BoundsOf(xs)
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
		ci.order.ascend(0, 0, func(it item) bool {
			x := ix.expand(it.slot)
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
		ci.order.ascend(0, 0, func(it item) bool {
			r := ix.rated(it.slot)
			fn(&r)
			return true
		})
	}
}

// Rating returns a model's current rating in a cohort.
func (ix *Index) Rating(model string, c rating.Cohort) (Rated, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	co, ok := ix.cohortNum[c]
	if !ok {
		return Rated{}, false
	}
	m, ok := ix.names.find(model)
	if !ok {
		return Rated{}, false
	}
	slot, ok := ix.entryIn(m, co)
	if !ok {
		return Rated{}, false
	}
	return ix.rated(slot), true
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
	ix.names.each(func(m uint32) { fn(ix.names.name(m)) })
}

// Place is the rank x would take among the current release's references
// of a cohort, and how many there were.
func (ix *Index) Place(c rating.Cohort, x float64) (rank, of int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.release.Rank(c, x)
}
