// Package storagetest is the conformance suite every storage backend must
// pass, as containerd's snapshotter testsuite is for snapshotters: it is
// the contract of storage.Backend, and of the optional capabilities a
// backend has (storage.BatchLimiter, Exporter, Importer). It covers
// ordering, atomic batches, revisions (Revision is the last write's and
// never goes back), Record (exactly what was stored), reopening, tokens,
// history (filtered by cohort, paged, newest first), events after a
// reopen, measurement fingerprints, surveyors' verifications, the fields
// the read model's trust rests on, concurrent appends, a closed store, a
// cancelled context, and watches: bounded, filtered, progress, a stalled
// watcher cut off, a compacted revision refused.
//
// A behaviour both backends promise is tested here, once, not in either
// backend's own tests; those test what is theirs alone (bbolt's file,
// its retention policy and migrations; etcd's replicas, transactions and
// layout upgrades).
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Opener opens a backend on an empty store the first time it is called
// in a test, and reopens the same store on later calls. The suite closes
// what it opens.
type Opener func(t *testing.T) storage.Backend

// Factory is what a backend's test gives Run: how to open the backend,
// and hooks that reach what the seam does not. A test that needs a hook
// the factory leaves nil is skipped, saying which.
type Factory struct {
	// New returns a fresh Opener, on a store of its own, for each test.
	// It is required.
	New func(t *testing.T) Opener
	// SlowWatchers returns a fresh Opener whose backend cuts a watcher off
	// (ErrCompacted) once it falls more than n writes behind live ones:
	// Options.WatchBuffer, in bbolt and etcd alike. The suite opens one
	// with a small n to stall a watcher without thousands of writes.
	SlowWatchers func(t *testing.T, n int) Opener
	// Compact discards what b keeps for watches of the revisions before
	// rev, as a backend's own compaction does (bbolt's event retention,
	// etcd's compaction): afterwards a watch from a revision before rev
	// is ErrCompacted, and one from rev or later misses nothing. rev is
	// a revision b wrote, no later than its last.
	Compact func(t *testing.T, b storage.Backend, rev int64)
}

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	if f.New == nil {
		t.Fatal("storagetest: the factory has no New")
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"IdsAndRevisionsIncrease", testIdsAndRevisionsIncrease},
		{"RevisionIsTheLastWrite", testRevisionIsTheLastWrite},
		{"ABatchIsAtomic", testABatchIsAtomic},
		{"LaterResultIsCurrent", testLaterResultIsCurrent},
		{"OneMeasurementLabelsOneModel", testOneMeasurementLabelsOneModel},
		{"ReopenKeepsEverything", testReopenKeepsEverything},
		{"Tokens", testTokens},
		{"RegistriesAndReleases", testRegistriesAndReleases},
		{"History", testHistory},
		{"HistoryByCohort", testHistoryByCohort},
		{"HistoryFilterOnALongHistory", testHistoryFilterOnALongHistory},
		{"WatchFollowsWrites", testWatchFollowsWrites},
		{"WatchReplaysAfterReopen", testWatchReplaysAfterReopen},
		{"WatchRefusesAFutureRevision", testWatchRefusesAFutureRevision},
		{"WatchSendsProgress", testWatchSendsProgress},
		{"Backup", testBackup},
		{"Record", testRecord},
		{"SourcesAndRolesRoundTrip", testSourcesAndRolesRoundTrip},
		{"Verifications", testVerifications},
		{"ConcurrentAppends", testConcurrentAppends},          // concurrent.go
		{"AClosedStore", testAClosedStore},                    // lifecycle.go
		{"ACancelledContextEndsCalls", testACancelledContext}, // lifecycle.go
		{"BatchLimiter", testBatchLimiter},                    // capabilities.go
		{"Exporter", testExporter},                            // capabilities.go
		{"Importer", testImporter},                            // capabilities.go
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, f.New(t)) })
	}
	runWatchTests(t, f) // watch.go
}

var clf = rating.Cohort{Task: "text-classification", Dataset: "AIEnergyScore/text_classification", Hardware: "H100", Basis: rating.Query}

// Accepted is a text-classification result of model at x Wh per 1,000
// queries, accepted with a label.
func Accepted(model string, x float64) storage.Accepted {
	r := &rating.Result{Model: model, Task: clf.Task, Dataset: clf.Dataset, Accelerator: "H100", GPUCount: 1,
		Queries: 1000, GPUEnergyWh: x, DurationSeconds: x * 3600 / 150, ToolName: "t", ToolVersion: "1",
		MeasuredAt: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	m := rating.Measure{Cohort: clf, WhPer1kQueries: x, EnergyPerUnit: x, Checks: rating.CheckPower | rating.CheckRate}
	return storage.Accepted{Result: r, Measure: m,
		Audit: storage.Audit{TokenID: "tok_1", ReceivedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), ClientAddr: "127.0.0.1:1"},
		Label: storage.Label{Grade: "E", EEI: x / 0.8, Scheme: "grade/2025.1", Stars: 3, Release: "r1"}}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func appendOne(t *testing.T, b storage.Backend, a storage.Accepted) (uint64, int64) {
	t.Helper()
	id, rev, err := b.Append(ctx(t), []storage.Accepted{a})
	if err != nil {
		t.Fatal(err)
	}
	return id, rev
}

func open(t *testing.T, o Opener) storage.Backend {
	t.Helper()
	b := o(t)
	t.Cleanup(func() { b.Close() })
	return b
}

func currents(t *testing.T, b storage.Backend) []storage.Current {
	t.Helper()
	s, err := b.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(s.Currents, func(x, y storage.Current) int { return int(x.ID) - int(y.ID) })
	return s.Currents
}

func testIdsAndRevisionsIncrease(t *testing.T, o Opener) {
	b := open(t, o)
	rev0, err := b.Revision(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	id1, rev1 := appendOne(t, b, Accepted("a/one", 1))
	first, rev2, err := b.Append(ctx(t), []storage.Accepted{Accepted("a/two", 2), Accepted("a/three", 3)})
	if err != nil {
		t.Fatal(err)
	}
	if !(rev0 < rev1 && rev1 < rev2) {
		t.Errorf("revisions %d, %d after %d: want each write's higher", rev1, rev2, rev0)
	}
	if first != id1+1 {
		t.Errorf("the batch starts at id %d after %d", first, id1)
	}
	if got, _ := b.Revision(ctx(t)); got != rev2 {
		t.Errorf("Revision() = %d, want %d", got, rev2)
	}
	if s, _ := b.Snapshot(ctx(t)); s.Revision != rev2 {
		t.Errorf("Snapshot().Revision = %d, want %d", s.Revision, rev2)
	}
}

func testABatchIsAtomic(t *testing.T, o Opener) {
	b := open(t, o)
	taken := Fingerprinted("a/owner", 1, 1)
	appendOne(t, b, taken)
	rev, _ := b.Revision(ctx(t))
	before := currents(t, b)

	bad := []storage.Accepted{Fingerprinted("b/x", 2, 2), Accepted("b/y", 3), Fingerprinted("b/z", 4, 1)}
	if _, _, err := b.Append(ctx(t), bad); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a batch reusing another model's measurement: %v, want ErrExists", err)
	}
	if after := currents(t, b); len(after) != len(before) {
		t.Errorf("%d current results after a refused batch, %d before: part of it was stored", len(after), len(before))
	}
	if got, _ := b.Revision(ctx(t)); got != rev {
		t.Errorf("revision %d after a refused batch, %d before", got, rev)
	}
	h, _ := b.History(ctx(t), storage.HistoryQuery{Model: "b/x", Limit: 10})
	if len(h) != 0 {
		t.Errorf("history of a refused batch: %+v", h)
	}
	// Its other fingerprint was not claimed either.
	if _, _, err := b.Append(ctx(t), []storage.Accepted{Fingerprinted("c/x", 2, 2)}); err != nil {
		t.Errorf("the fingerprint of a refused batch: %v", err)
	}
}

func testLaterResultIsCurrent(t *testing.T, o Opener) {
	b := open(t, o)
	appendOne(t, b, Accepted("a/one", 1))
	appendOne(t, b, Accepted("a/two", 2))
	id, _ := appendOne(t, b, Accepted("a/one", 3))
	// Within a batch too, the later result wins.
	first, _, err := b.Append(ctx(t), []storage.Accepted{Accepted("a/two", 5), Accepted("a/two", 4)})
	if err != nil {
		t.Fatal(err)
	}
	cs := currents(t, b)
	if len(cs) != 2 || cs[0].ID != id || cs[0].Measure.X() != 3 || cs[1].ID != first+1 || cs[1].Measure.X() != 4 {
		t.Fatalf("current results %+v", cs)
	}
}

// Fingerprinted is Accepted with a measurement fingerprint made of n.
func Fingerprinted(model string, x float64, n int) storage.Accepted {
	a := Accepted(model, x)
	a.Audit.Fingerprint = fmt.Sprintf("%064x", n)
	return a
}

// One measurement labels one model: its fingerprint, once stored, refuses
// another model's result whole, and the same model's without storing it,
// naming the stored result; before and after a reopen. Neither consumes a
// revision. A payload hash, the client's word, claims nothing.
func testOneMeasurementLabelsOneModel(t *testing.T, o Opener) {
	b := o(t)
	defer func() { b.Close() }()
	first := Fingerprinted("a/one", 1, 7)
	first.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 70)
	id, _ := appendOne(t, b, first)
	refused := func(what string, batch []storage.Accepted, want error) error {
		t.Helper()
		rev, _ := b.Revision(ctx(t))
		before := currents(t, b)
		_, _, err := b.Append(ctx(t), batch)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
		if got, _ := b.Revision(ctx(t)); got != rev {
			t.Errorf("%s: revision %d after, %d before", what, got, rev)
		}
		if after := currents(t, b); !reflect.DeepEqual(after, before) {
			t.Errorf("%s: current results\n%+v\nafter, before\n%+v", what, after, before)
		}
		return err
	}
	duplicate := func(when string) {
		t.Helper()
		before, _ := b.History(ctx(t), storage.HistoryQuery{Model: "a/one", Limit: 10})
		again := Fingerprinted("a/one", 2, 7) // what the label says may differ; the measurement is the same
		err := refused(when+": the same measurement for the same model", []storage.Accepted{again}, storage.ErrDuplicate)
		if dup := (*storage.DuplicateError)(nil); !errors.As(err, &dup) || dup.ResultID != id {
			t.Errorf("%s: %v, want a DuplicateError naming result %d", when, err, id)
		}
		if errors.Is(err, storage.ErrExists) {
			t.Errorf("%s: %v is ErrExists too", when, err)
		}
		if h, _ := b.History(ctx(t), storage.HistoryQuery{Model: "a/one", Limit: 10}); len(h) != len(before) || h[0].ID != id {
			t.Errorf("%s: history of a/one %+v, before %+v", when, h, before)
		}
		err = refused(when+": another model's measurement", []storage.Accepted{Accepted("b/free", 1), Fingerprinted("b/two", 1, 7)}, storage.ErrExists)
		if err == nil || !strings.Contains(err.Error(), `"a/one"`) || errors.Is(err, storage.ErrDuplicate) {
			t.Errorf("%s: %v, want ErrExists naming a/one", when, err)
		}
	}
	duplicate("stored")

	// A batch that holds one measurement twice stores nothing, for one
	// model or two.
	refused("one measurement twice in a batch", []storage.Accepted{Fingerprinted("c/x", 1, 8), Fingerprinted("c/x", 2, 8)}, storage.ErrExists)
	refused("one measurement for two models of a batch", []storage.Accepted{Fingerprinted("c/x", 1, 8), Fingerprinted("c/y", 1, 8)}, storage.ErrExists)

	// No fingerprint claims nothing, and neither does a payload hash.
	free := []storage.Accepted{Accepted("d/one", 1), Accepted("d/two", 1), Accepted("d/one", 1)}
	for i := range free {
		free[i].Audit.PayloadSHA256 = first.Audit.PayloadSHA256
	}
	if _, _, err := b.Append(ctx(t), free); err != nil {
		t.Errorf("results without a fingerprint, with a payload hash another model's result has: %v", err)
	}
	if _, _, err := b.Append(ctx(t), free[:1]); err != nil {
		t.Errorf("a result without a fingerprint again: %v", err)
	}
	// Another measurement of the same model is a new result.
	if _, _, err := b.Append(ctx(t), []storage.Accepted{Fingerprinted("a/one", 1.5, 9)}); err != nil {
		t.Errorf("another measurement of a/one: %v", err)
	}

	b.Close()
	b = o(t)
	duplicate("after reopening")
}

func testReopenKeepsEverything(t *testing.T, o Opener) {
	b := o(t)
	for i := range 20 {
		appendOne(t, b, Accepted(fmt.Sprintf("m/%02d", i%7), float64(i+1)))
	}
	if _, err := b.PutToken(ctx(t), storage.Token{ID: "tok_1", SecretSHA256: []byte{1, 2}, Namespaces: []string{"m"},
		CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateRelease(ctx(t), &rating.Release{Name: "r1", CreatedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		Cohorts: map[rating.Cohort]rating.Bounds{clf: {Lo: 1, Hi: 20, Models: 7}}}); err != nil {
		t.Fatal(err)
	}
	before, err := b.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	b = open(t, o)
	after, err := b.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	sortSnapshot(before)
	sortSnapshot(after)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("after reopening:\n%+v\nbefore:\n%+v", after, before)
	}
}

func sortSnapshot(s *storage.Snapshot) {
	slices.SortFunc(s.Currents, func(x, y storage.Current) int { return int(x.ID) - int(y.ID) })
	for i := range s.Tokens {
		s.Tokens[i].LastUsedAt = time.Time{} // recorded by Append; tested in Tokens
	}
}

func testTokens(t *testing.T, o Opener) {
	b := open(t, o)
	tok := storage.Token{ID: "tok_1", SecretSHA256: []byte("hash"), Namespaces: []string{"a"}, CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	rev, err := b.PutToken(ctx(t), tok)
	if err != nil {
		t.Fatal(err)
	}
	a := Accepted("a/one", 1)
	appendOne(t, b, a)
	ts, err := b.Tokens(ctx(t))
	if err != nil || len(ts) != 1 || !ts[0].LastUsedAt.Equal(a.Audit.ReceivedAt) || !bytes.Equal(ts[0].SecretSHA256, tok.SecretSHA256) {
		t.Fatalf("Tokens() = %+v, %v; want the token, last used by the submission", ts, err)
	}
	tok.Revoked = true
	rev2, err := b.PutToken(ctx(t), tok)
	if err != nil || rev2 <= rev {
		t.Fatalf("revoking: revision %d after %d, %v", rev2, rev, err)
	}
	s, _ := b.Snapshot(ctx(t))
	if len(s.Tokens) != 1 || !s.Tokens[0].Revoked {
		t.Errorf("snapshot tokens %+v, want the revoked one", s.Tokens)
	}
}

func testRegistriesAndReleases(t *testing.T, o Opener) {
	b := open(t, o)
	gaudi := rating.Accelerator{Name: "Gaudi 3", Family: "Gaudi 3", BoardWatts: 900, FloorFraction: 0.1, Aliases: []string{"Intel Gaudi 3"},
		Source: "datasheet", PeakTFLOPS16: 1835, PeakTFLOPSFastest: 1835, FastestPrecision: "fp8", MemoryGB: 128}
	ds := rating.Dataset{Name: "acme/eval", Task: "text-generation", Basis: rating.OutputToken}
	rel := &rating.Release{Name: "r1", CreatedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Cohorts: map[rating.Cohort]rating.Bounds{clf: {Lo: 1, Hi: 4, Models: 3}}}
	for name, write := range map[string]func() (int64, error){
		"accelerator": func() (int64, error) { return b.AddAccelerator(ctx(t), gaudi) },
		"dataset":     func() (int64, error) { return b.AddDataset(ctx(t), ds) },
		"release":     func() (int64, error) { return b.CreateRelease(ctx(t), rel) },
	} {
		if _, err := write(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := write(); !errors.Is(err, storage.ErrExists) {
			t.Errorf("the same %s again: %v, want ErrExists", name, err)
		}
	}
	s, err := b.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Accelerators) != 1 || !reflect.DeepEqual(s.Accelerators[0], gaudi) ||
		len(s.Datasets) != 1 || s.Datasets[0] != ds || len(s.Releases) != 1 || s.Releases[0].Name != "r1" ||
		!reflect.DeepEqual(s.Releases[0].Cohorts[clf], rel.Cohorts[clf]) || !s.Releases[0].CreatedAt.Equal(rel.CreatedAt) {
		t.Errorf("snapshot registries %+v %+v %+v", s.Accelerators, s.Datasets, s.Releases)
	}
}

func testHistory(t *testing.T, o Opener) {
	b := open(t, o)
	var ids []uint64
	for i, x := range []float64{3, 2, 1} {
		a := Accepted("a/model", x)
		a.Label.Stars = i + 1
		id, _ := appendOne(t, b, a)
		ids = append(ids, id)
		appendOne(t, b, Accepted("a/model-other", x)) // a model whose name extends this one's
	}
	h, err := b.History(ctx(t), storage.HistoryQuery{Model: "a/model", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 {
		t.Fatalf("%d history entries, want 3", len(h))
	}
	for i, e := range h {
		if e.ID != ids[i] || e.Label.Stars != i+1 || e.Label.Grade != "E" || e.Label.Release != "r1" || e.Measure.Cohort != clf || e.Revision == 0 {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	page, _ := b.History(ctx(t), storage.HistoryQuery{Model: "a/model", After: ids[0], Limit: 1})
	if len(page) != 1 || page[0].ID != ids[1] {
		t.Errorf("the page after the first entry: %+v", page)
	}
	none, _ := b.History(ctx(t), storage.HistoryQuery{Model: "a/model", Hardware: "B200", Limit: 10})
	if len(none) != 0 {
		t.Errorf("history filtered on other hardware: %+v", none)
	}
	// The newest two, oldest first; a model whose name extends this one's
	// and sorts after it is not among them.
	newest, err := b.History(ctx(t), storage.HistoryQuery{Model: "a/model", Limit: 2, Newest: true})
	if err != nil || len(newest) != 2 || newest[0].ID != ids[1] || newest[1].ID != ids[2] {
		t.Errorf("the newest two: %+v, %v; want %v", newest, err, ids[1:])
	}
	if all, _ := b.History(ctx(t), storage.HistoryQuery{Model: "a/model", Limit: 10, Newest: true}); len(all) != 3 || all[0].ID != ids[0] {
		t.Errorf("the newest ten of three: %+v", all)
	}
	if none, _ := b.History(ctx(t), storage.HistoryQuery{Model: "a/model", Hardware: "B200", Limit: 10, Newest: true}); len(none) != 0 {
		t.Errorf("the newest on other hardware: %+v", none)
	}
}

// InCohort is Accepted in cohort c: the result's task, dataset and
// accelerator are the cohort's.
func InCohort(model string, x float64, c rating.Cohort) storage.Accepted {
	a := Accepted(model, x)
	a.Result.Task, a.Result.Dataset, a.Result.Accelerator, a.Result.SizeClass = c.Task, c.Dataset, c.Hardware, c.SizeClass
	a.Measure.Cohort = c
	return a
}

// Cohorts of the history tests: clf is on H100; the others differ from it
// in hardware, in task, dataset and basis, and in size class alone.
var (
	clfB200 = rating.Cohort{Task: clf.Task, Dataset: clf.Dataset, Hardware: "B200", Basis: rating.Query}
	gen     = rating.Cohort{Task: "text-generation", Dataset: "AIEnergyScore/text_generation", SizeClass: "B", Hardware: "H100", Basis: rating.OutputToken}
	genA    = rating.Cohort{Task: "text-generation", Dataset: "AIEnergyScore/text_generation", SizeClass: "A", Hardware: "H100", Basis: rating.OutputToken}
	genB200 = rating.Cohort{Task: "text-generation", Dataset: "acme/eval", SizeClass: "B", Hardware: "B200", Basis: rating.OutputToken}
)

// HistoryCohorts are cohorts that CheckHistory's filters tell apart: a
// backend's own tests put results in them.
var HistoryCohorts = []rating.Cohort{clf, clfB200, gen, genA, genB200}

// filterHistory is what a filtered query must return: the entries of the
// whole history that it matches, as oldest-first paging after q.After, or
// newest, would take them.
func filterHistory(all []storage.HistoryEntry, q storage.HistoryQuery) []storage.HistoryEntry {
	var out []storage.HistoryEntry
	for _, e := range all {
		if q.Matches(e.Measure.Cohort) && (q.Newest || e.ID > q.After) {
			out = append(out, e)
		}
	}
	if q.Newest {
		return out[max(0, len(out)-q.Limit):]
	}
	return out[:min(len(out), q.Limit)]
}

// wholeHistory reads a model's whole history, unfiltered, in pages.
func wholeHistory(t *testing.T, b storage.Backend, model string) []storage.HistoryEntry {
	t.Helper()
	var all []storage.HistoryEntry
	for {
		after := uint64(0)
		if len(all) > 0 {
			after = all[len(all)-1].ID
		}
		page, err := b.History(ctx(t), storage.HistoryQuery{Model: model, After: after, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}

// CheckHistory reads model's history through filters by task, dataset
// and hardware (several cohorts each, one, none), paged oldest first with
// several page sizes and newest first, and fails t unless each page is
// the whole unfiltered history filtered, entry for entry: what a
// backend's cohort index must answer, after a write, a migration or a
// move. The filters name the cohorts of InCohort's tests.
func CheckHistory(t *testing.T, b storage.Backend, model string) {
	t.Helper()
	all := wholeHistory(t, b, model)
	if len(all) == 0 {
		t.Fatalf("%s has no history", model)
	}
	filters := []storage.HistoryQuery{
		{Task: clf.Task},
		{Task: gen.Task},
		{Hardware: "H100"},
		{Hardware: "B200"},
		{Dataset: gen.Dataset},
		{Task: gen.Task, Hardware: "H100"},
		{Task: gen.Task, Dataset: genB200.Dataset, Hardware: "B200"},
		{Task: clf.Task, Dataset: clf.Dataset, Hardware: "H100"},
		{Hardware: "TPU v5"},                   // no cohort
		{Task: clf.Task, Dataset: "acme/eval"}, // each matches a cohort, together none
		{Task: "text-classification-other"},    // extends a task's name
	}
	for _, f := range filters {
		f.Model = model
		for _, limit := range []int{1, 3, 7, 1000} {
			q := f
			q.Limit = limit
			var got []storage.HistoryEntry
			for pages := 0; ; pages++ {
				page, err := b.History(ctx(t), q)
				if err != nil {
					t.Fatalf("%+v: %v", q, err)
				}
				if want := filterHistory(all, q); !sameEntries(page, want) {
					t.Fatalf("%+v: %d entries %v, want %d %v", q, len(page), historyIDs(page), len(want), historyIDs(want))
				}
				got = append(got, page...)
				if len(page) < limit {
					break
				}
				q.After = page[len(page)-1].ID
			}
			if want := filterHistory(all, storage.HistoryQuery{Model: model, Task: f.Task, Dataset: f.Dataset, Hardware: f.Hardware, Limit: len(all)}); !reflect.DeepEqual(historyIDs(got), historyIDs(want)) {
				t.Errorf("%+v paged by %d: %v, want %v", f, limit, historyIDs(got), historyIDs(want))
			}
			// Newest ignores After.
			q = f
			q.Limit, q.Newest, q.After = limit, true, all[len(all)/2].ID
			newest, err := b.History(ctx(t), q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			if want := filterHistory(all, q); !sameEntries(newest, want) {
				t.Errorf("%+v: %v, want %v", q, historyIDs(newest), historyIDs(want))
			}
		}
		q := f
		q.Limit, q.After = 10, math.MaxUint64
		if h, err := b.History(ctx(t), q); err != nil || len(h) != 0 {
			t.Errorf("%+v: %v, %v; want nothing after the highest id", q, historyIDs(h), err)
		}
	}
}

// sameEntries reports whether two histories hold equal entries; nil and
// empty are the same.
func sameEntries(a, b []storage.HistoryEntry) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func historyIDs(h []storage.HistoryEntry) []uint64 {
	ids := make([]uint64, len(h))
	for i := range h {
		ids[i] = h[i].ID
	}
	return ids
}

// testHistoryByCohort: a model's history filtered by task, dataset or
// hardware, paged oldest first after an id or read newest first, is its
// whole history filtered, entry for entry (label and revision included),
// for results appended one at a time and in batches, in cohorts that
// interleave; a model whose name extends this one's, or sorts before it,
// is not among them; and so after a reopen.
func testHistoryByCohort(t *testing.T, o Opener) {
	b := o(t)
	defer func() { b.Close() }()
	cohorts := HistoryCohorts
	// The cohort of the i'th result: uneven, so that some pages come from
	// one cohort and some from several.
	cohortOf := func(i int) rating.Cohort { return cohorts[(i*i+i/3)%len(cohorts)] }
	n := 0
	for round := range 8 {
		var batch []storage.Accepted
		for range round%3 + 1 {
			a := InCohort("a/model", float64(n+1), cohortOf(n))
			a.Label.Stars = n%5 + 1
			batch = append(batch, a)
			n++
		}
		// Neighbours: a model whose name extends this one's, one that sorts
		// before it, in the same cohorts.
		batch = append(batch, InCohort("a/model-x", 1, cohortOf(n)), InCohort("a/mode", 1, cohortOf(n+1)))
		if _, _, err := b.Append(ctx(t), batch); err != nil {
			t.Fatal(err)
		}
	}
	if all := wholeHistory(t, b, "a/model"); len(all) != n {
		t.Fatalf("%d entries of a/model, want %d", len(all), n)
	}
	CheckHistory(t, b, "a/model")
	b.Close()
	b = o(t)
	CheckHistory(t, b, "a/model")
	// Results appended after a reopen are indexed too.
	if _, _, err := b.Append(ctx(t), []storage.Accepted{InCohort("a/model", 1, genB200), InCohort("a/model", 2, clf)}); err != nil {
		t.Fatal(err)
	}
	CheckHistory(t, b, "a/model")
}

// testHistoryFilterOnALongHistory: on a model with many results, a filter
// that matches nothing returns nothing, and one that matches a cohort of
// three results among them returns those, oldest first or newest.
func testHistoryFilterOnALongHistory(t *testing.T, o Opener) {
	b := open(t, o)
	const n, batch = 600, 10
	var rare []uint64
	for from := 0; from < n; from += batch {
		var as []storage.Accepted
		for i := from; i < from+batch; i++ {
			c := []rating.Cohort{clf, gen}[i%2]
			if i == 5 || i == 299 || i == 594 {
				c = genB200
			}
			as = append(as, InCohort("a/long", float64(i+1), c))
		}
		first, _, err := b.Append(ctx(t), as)
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < from+batch; i++ {
			if i == 5 || i == 299 || i == 594 {
				rare = append(rare, first+uint64(i-from))
			}
		}
	}
	for _, q := range []storage.HistoryQuery{
		{Model: "a/long", Hardware: "TPU v5", Limit: 100},
		{Model: "a/long", Hardware: "TPU v5", Limit: 100, Newest: true},
		{Model: "a/long", Task: clf.Task, Hardware: "B200", Limit: 100},
		{Model: "a/other", Task: clf.Task, Limit: 100},
	} {
		if h, err := b.History(ctx(t), q); err != nil || len(h) != 0 {
			t.Errorf("%+v: %v, %v; want nothing", q, historyIDs(h), err)
		}
	}
	for _, q := range []storage.HistoryQuery{
		{Model: "a/long", Hardware: "B200", Limit: 100},
		{Model: "a/long", Dataset: genB200.Dataset, Limit: 100, Newest: true},
		{Model: "a/long", Task: gen.Task, Hardware: "B200", Limit: 3},
	} {
		if h, err := b.History(ctx(t), q); err != nil || !slices.Equal(historyIDs(h), rare) || h[1].Measure.X() != 300 {
			t.Errorf("%+v: %v, %v; want %v", q, historyIDs(h), err, rare)
		}
	}
	h, err := b.History(ctx(t), storage.HistoryQuery{Model: "a/long", Hardware: "B200", After: rare[0], Limit: 1})
	if err != nil || !slices.Equal(historyIDs(h), rare[1:2]) {
		t.Errorf("the page of one after %d: %v, %v; want %v", rare[0], historyIDs(h), err, rare[1:2])
	}
	h, err = b.History(ctx(t), storage.HistoryQuery{Model: "a/long", Hardware: "B200", Limit: 2, Newest: true})
	if err != nil || !slices.Equal(historyIDs(h), rare[1:]) {
		t.Errorf("the newest two: %v, %v; want %v", historyIDs(h), err, rare[1:])
	}
	CheckHistory(t, b, "a/long")
}

// Collect reads watch responses until it has n events, an error, the end
// of the watch, or 10 s.
func Collect(ch <-chan storage.WatchResponse, n int) ([]storage.Event, error) {
	var out []storage.Event
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case r, ok := <-ch:
			if !ok {
				return out, errors.New("the watch ended")
			}
			if r.Err != nil {
				return out, r.Err
			}
			out = append(out, r.Events...)
		case <-timeout:
			return out, fmt.Errorf("timed out with %d of %d events", len(out), n)
		}
	}
	return out, nil
}

func testWatchFollowsWrites(t *testing.T, o Opener) {
	b := open(t, o)
	rev, _ := b.Revision(ctx(t))
	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	ch := b.Watch(wctx, rev, storage.WatchFilter{})
	id, r1 := appendOne(t, b, Accepted("a/one", 1))
	r2, err := b.CreateRelease(ctx(t), &rating.Release{Name: "r1", Cohorts: map[rating.Cohort]rating.Bounds{}})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := Collect(ch, 2)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].Kind != storage.ResultAdded || evs[0].Revision != r1 || evs[0].Result.ID != id || evs[0].Result.Label.Stars != 3 ||
		evs[1].Kind != storage.ReleaseCreated || evs[1].Revision != r2 || evs[1].Release.Name != "r1" {
		t.Errorf("events %+v", evs)
	}
}

func testWatchReplaysAfterReopen(t *testing.T, o Opener) {
	b := o(t)
	rev0, _ := b.Revision(ctx(t))
	_, r1 := appendOne(t, b, Accepted("a/one", 1))
	r2, err := b.PutToken(ctx(t), storage.Token{ID: "tok_2", Namespaces: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	_, r3 := appendOne(t, b, Accepted("a/two", 2))
	b.Close()

	b = open(t, o)
	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	// From the start: every event, in order; from r1: exactly those after it.
	evs, err := Collect(b.Watch(wctx, rev0, storage.WatchFilter{}), 3)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].Revision != r1 || evs[0].Result.Model != "a/one" || evs[1].Revision != r2 || evs[1].Token.ID != "tok_2" ||
		evs[2].Revision != r3 || evs[2].Result.Model != "a/two" {
		t.Errorf("replayed %+v", evs)
	}
	ch := b.Watch(wctx, r1, storage.WatchFilter{})
	evs, err = Collect(ch, 2)
	if err != nil || evs[0].Revision != r2 || evs[1].Revision != r3 {
		t.Fatalf("resumed from %d: %+v, %v", r1, evs, err)
	}
	// Then live writes follow on the same watch.
	_, r4 := appendOne(t, b, Accepted("a/three", 3))
	evs, err = Collect(ch, 1)
	if err != nil || evs[0].Revision != r4 {
		t.Errorf("live after replay: %+v, %v", evs, err)
	}
}

func testWatchRefusesAFutureRevision(t *testing.T, o Opener) {
	b := open(t, o)
	rev, _ := b.Revision(ctx(t))
	_, err := Collect(b.Watch(ctx(t), rev+100, storage.WatchFilter{}), 1)
	if !errors.Is(err, storage.ErrCompacted) {
		t.Errorf("a watch from a revision not yet written: %v, want ErrCompacted", err)
	}
}

// A caught-up watch says so, idle or not, at least every ProgressInterval:
// what a replica measures its staleness by.
func testWatchSendsProgress(t *testing.T, o Opener) {
	b := open(t, o)
	rev, _ := b.Revision(ctx(t))
	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	ch := b.Watch(wctx, rev, storage.WatchFilter{})
	progress := func(what string) {
		t.Helper()
		deadline := time.After(4 * storage.ProgressInterval)
		for {
			select {
			case r, ok := <-ch:
				if !ok || r.Err != nil {
					t.Fatalf("%s: the watch ended: %v", what, r.Err)
				}
				if len(r.Events) == 0 {
					return
				}
			case <-deadline:
				t.Fatalf("%s: no progress within %s", what, 4*storage.ProgressInterval)
			}
		}
	}
	progress("idle")
	_, r1 := appendOne(t, b, Accepted("a/one", 1))
	evs, err := Collect(ch, 1)
	if err != nil || evs[0].Revision != r1 {
		t.Fatalf("the write: %+v, %v", evs, err)
	}
	progress("after a write")
}

func testBackup(t *testing.T, o Opener) {
	b := open(t, o)
	appendOne(t, b, Accepted("a/one", 1))
	r, size, err := b.Backup(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if err != nil || n == 0 || (size >= 0 && n != size) {
		t.Errorf("backup of %d bytes read %d, %v", size, n, err)
	}
}

// testRevisionIsTheLastWrite: Revision is the revision every kind of
// write returned, as soon as it returns; a refused write leaves it; it
// never goes back, across a reopen too; a snapshot is at it.
func testRevisionIsTheLastWrite(t *testing.T, o Opener) {
	b := o(t)
	defer func() { b.Close() }()
	last, err := b.Revision(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	// is checks Revision against rev, the revision of the last write.
	is := func(what string, rev int64) {
		t.Helper()
		if got, err := b.Revision(ctx(t)); err != nil || got != rev {
			t.Errorf("Revision() = %d, %v after %s; want %d", got, err, what, rev)
		}
		last = rev
	}
	wrote := func(what string, rev int64, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if rev <= last {
			t.Errorf("%s at revision %d, after %d", what, rev, last)
		}
		is(what, rev)
	}
	refused := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s was stored", what)
		}
		is(what+", refused", last)
	}

	first, rev, err := b.Append(ctx(t), []storage.Accepted{Fingerprinted("a/one", 1, 1), Accepted("a/two", 2)})
	wrote("an append", rev, err)
	rev, err = b.PutToken(ctx(t), storage.Token{ID: "tok_r", Namespaces: []string{"a"}})
	wrote("a token", rev, err)
	gaudi := rating.Accelerator{Name: "Gaudi 3", Family: "Gaudi 3", BoardWatts: 900, FloorFraction: 0.1, Source: "datasheet"}
	rev, err = b.AddAccelerator(ctx(t), gaudi)
	wrote("an accelerator", rev, err)
	ds := rating.Dataset{Name: "acme/eval", Task: "text-generation", Basis: rating.OutputToken}
	rev, err = b.AddDataset(ctx(t), ds)
	wrote("a dataset", rev, err)
	rev, err = b.CreateRelease(ctx(t), &rating.Release{Name: "r1", Cohorts: map[rating.Cohort]rating.Bounds{clf: {Lo: 1, Hi: 2, Models: 2}}})
	wrote("a release", rev, err)
	v := surveyed("a/one", first, 1, 1.1, rating.Survey{Status: rating.StatusVerified, Measurements: 1, DeterminedX: 1.1, DeterminedWh: 1.65})
	rev, err = b.AddVerification(ctx(t), &v)
	wrote("a verification", rev, err)

	_, _, err = b.Append(ctx(t), []storage.Accepted{Fingerprinted("a/one", 3, 1)})
	refused("a measurement stored already", err)
	_, err = b.AddAccelerator(ctx(t), gaudi)
	refused("an accelerator registered already", err)
	_, err = b.AddVerification(ctx(t), &v)
	refused("a verification of a state measured already", err)

	if s, err := b.Snapshot(ctx(t)); err != nil || s.Revision != last {
		t.Errorf("a snapshot after the writes: %v; at revision %v, want %d", err, s, last)
	}
	b.Close()
	b = o(t)
	is("reopening", last)
	_, rev = appendOne(t, b, Accepted("a/three", 3))
	is("an append after reopening", rev)
}

// fullResult is an accepted result whose every field, of the result and
// its audit trail, is set, to something that is neither the zero value
// nor the last one's.
func fullResult(model string, n int) storage.Accepted {
	c := genA
	x := float64(n) + 0.25
	at := time.Date(2026, 11, 20, 10, n, 7, 123456789, time.FixedZone("CET", 3600))
	r := &rating.Result{Model: model, Task: c.Task, Dataset: c.Dataset, Accelerator: "NVIDIA H100 SXM", GPUCount: 2 + n,
		Queries: 1000 + int64(n), FailedQueries: int64(n), GPUEnergyWh: 40 + x, DurationSeconds: 160 + x, RunEnergiesWh: []float64{20, 20 + x},
		Output: rating.Output{Tokens: 250000 + int64(n), Images: 3, ImageWidth: 1024, ImageHeight: 768, VideoFrames: 48, VideoWidth: 640,
			VideoHeight: 480, AudioSeconds: 12.5},
		ParamsBillions: 7 + x, SizeClass: "A", Precision: "bf16", BatchSize: 8 + n, ToolName: "ai_energy_benchmarks", ToolVersion: fmt.Sprint("1.", n),
		MeasuredAt: at, ThroughputTokensPerSecond: 1500 + x, ActiveParamsBillions: 1.5 + x}
	m := rating.Measure{Cohort: c, WhPer1kQueries: 40 + x, EnergyPerUnit: x / 100, Checks: rating.CheckPower | rating.CheckRate, FloorRatio: 3 + x}
	return storage.Accepted{Result: r, Measure: m, Source: rating.Publisher,
		Audit: storage.Audit{TokenID: fmt.Sprint("tok_", n), ReceivedAt: at.Add(time.Hour), ClientAddr: fmt.Sprintf("[2001:db8::%d]:40%03d", n, n),
			PayloadSHA256: fmt.Sprintf("%064x", 1000+n), Fingerprint: fmt.Sprintf("%064x", 2000+n)},
		Label: storage.Label{Grade: "B", EEI: 0.5, Scheme: "grade/2025.1", Stars: 4, Release: "r1"}}
}

// testRecord: Record returns exactly the result and audit trail Append
// was given, every field, for each result of a batch, before and after a
// reopen; an id never handed out is ErrNotFound.
func testRecord(t *testing.T, o Opener) {
	b := o(t)
	defer func() { b.Close() }()
	batch := []storage.Accepted{fullResult("a/one", 1), fullResult("a/two", 2), Accepted("a/plain", 1), fullResult("a/one", 3)}
	first, _, err := b.Append(ctx(t), batch)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for i := range batch {
			id := first + uint64(i)
			r, audit, err := b.Record(ctx(t), id)
			if err != nil {
				t.Errorf("%s: Record(%d): %v", when, id, err)
				continue
			}
			want, wantAudit := *batch[i].Result, batch[i].Audit
			want.MeasuredAt, wantAudit.ReceivedAt = storage.CanonicalTime(want.MeasuredAt), storage.CanonicalTime(wantAudit.ReceivedAt)
			if !reflect.DeepEqual(*r, want) || !reflect.DeepEqual(audit, wantAudit) {
				t.Errorf("%s: Record(%d) =\n%+v\n%+v\nwant\n%+v\n%+v", when, id, *r, audit, want, wantAudit)
			}
		}
		for _, id := range []uint64{0, first + uint64(len(batch)), first + 1000, math.MaxUint64} {
			if r, _, err := b.Record(ctx(t), id); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s: Record of id %d, never handed out: %+v, %v; want ErrNotFound", when, id, r, err)
			}
		}
	}
	check("written")
	b.Close()
	b = o(t)
	check("after reopening")
}

// testSourcesAndRolesRoundTrip: what the read model's trust rests on reads
// back as it was written, from a snapshot, from the watch and from
// history, before and after a reopen: a result's source, whatever token
// submitted it, the reference it carries and its floor ratio; a token's
// role.
func testSourcesAndRolesRoundTrip(t *testing.T, o Opener) {
	b := o(t)
	defer func() { b.Close() }()
	rev0, _ := b.Revision(ctx(t))
	tokens := []storage.Token{
		{ID: "tok_p", SecretSHA256: []byte{1}, Namespaces: []string{"acme"}, CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Role: storage.RolePublisher},
		{ID: "tok_s", SecretSHA256: []byte{2}, CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Role: storage.RoleSurveyor},
		{ID: "tok_x", SecretSHA256: []byte{3}, Namespaces: []string{"x"}, CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	}
	var tokRevs []int64
	for _, tok := range tokens {
		rev, err := b.PutToken(ctx(t), tok)
		if err != nil {
			t.Fatal(err)
		}
		tokRevs = append(tokRevs, rev)
	}
	published := Accepted("acme/ref", 1)
	published.Source, published.Audit.TokenID = rating.Published, "tok_p" // the source, not the token, says
	declared := Accepted("acme/chat", 2)
	declared.Source, declared.Audit.TokenID = rating.Publisher, "admin"
	declared.Carried = storage.Reference{ResultID: 7, X: 1.5, WhPer1k: 1.25}
	declared.Measure.FloorRatio = 27.5
	plain := Accepted("acme/plain", 3) // the zero values: declared, nothing carried, no floor
	batch := []storage.Accepted{published, declared, plain}
	first, rev, err := b.Append(ctx(t), batch)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]storage.Current, len(batch))
	for i := range batch {
		want[i] = storage.CurrentOf(first+uint64(i), &batch[i])
	}
	check := func(when string) {
		t.Helper()
		s, err := b.Snapshot(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(s.Currents, func(x, y storage.Current) int { return int(x.ID) - int(y.ID) })
		if !reflect.DeepEqual(s.Currents, want) {
			t.Errorf("%s: snapshot currents\n%+v\nwant\n%+v", when, s.Currents, want)
		}
		slices.SortFunc(s.Tokens, func(x, y storage.Token) int { return strings.Compare(x.ID, y.ID) })
		for i := range s.Tokens {
			s.Tokens[i].LastUsedAt = time.Time{}
		}
		if !reflect.DeepEqual(s.Tokens, tokens) {
			t.Errorf("%s: snapshot tokens\n%+v\nwant\n%+v", when, s.Tokens, tokens)
		}
		for i, m := range []string{"acme/ref", "acme/chat", "acme/plain"} {
			h, err := b.History(ctx(t), storage.HistoryQuery{Model: m, Limit: 10})
			if err != nil || len(h) != 1 || !reflect.DeepEqual(h[0].Current, want[i]) || h[0].Revision != rev {
				t.Errorf("%s: history of %s %+v, %v; want %+v at revision %d", when, m, h, err, want[i], rev)
			}
		}
		wctx, cancel := context.WithCancel(ctx(t))
		defer cancel()
		evs, err := Collect(b.Watch(wctx, rev0, storage.WatchFilter{}), len(tokens)+len(batch))
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		for i, e := range evs[:len(tokens)] {
			if e.Kind != storage.TokenPut || e.Revision != tokRevs[i] || e.Token.ID != tokens[i].ID || e.Token.Role != tokens[i].Role {
				t.Errorf("%s: event %d %+v, want token %s with role %q", when, i, e, tokens[i].ID, tokens[i].Role)
			}
		}
		for i, e := range evs[len(tokens):] {
			if e.Kind != storage.ResultAdded || e.Revision != rev || !reflect.DeepEqual(e.Result.Current, want[i]) {
				t.Errorf("%s: result event %d %+v, want %+v at revision %d", when, i, e.Result, want[i], rev)
			}
		}
	}
	check("written")
	b.Close()
	b = o(t)
	check("after reopening")
}

// surveyed is a surveyor's measurement of result id of model, declared at
// declared, measured at x, leaving survey.
func surveyed(model string, id uint64, declared, x float64, survey rating.Survey) storage.Verification {
	at := time.Date(2026, 12, 5, 10, survey.Measurements, 0, 0, time.FixedZone("CET", 3600))
	m := Accepted(model, x).Result
	m.RunEnergiesWh = []float64{x / 3, x / 3, x / 3}
	m.ParamsBillions, m.ActiveParamsBillions, m.Precision, m.Output.Tokens = 7, 1.5, "bf16", 12345
	return storage.Verification{Model: model, Cohort: clf, ResultID: id, TokenID: "tok_s", At: at, X: x, WhPer1k: x * 1.5,
		Declared: storage.Reference{ResultID: id, X: declared, WhPer1k: declared * 1.5}, Survey: survey, Measurement: m,
		Audit: storage.Audit{TokenID: "tok_s", ReceivedAt: at.Add(time.Second), ClientAddr: "192.0.2.7:4711",
			PayloadSHA256: fmt.Sprintf("%064x", id), Fingerprint: fmt.Sprintf("%064x", 1000+uint64(survey.Measurements))}}
}

// testVerifications: a surveyor's measurement reads back whole, the
// measurement and its audit trail included, from a snapshot (oldest
// first) and from the watch, with its revision, before and after a
// reopen; a second measurement of the same state, the same name, is
// ErrExists and consumes no revision.
func testVerifications(t *testing.T, o Opener) {
	b := o(t)
	defer func() { b.Close() }()
	one, _ := appendOne(t, b, Accepted("acme/one", 2))
	two, _ := appendOne(t, b, Accepted("acme/two", 3))
	rev0, _ := b.Revision(ctx(t))
	// Names in key order are one's, then two's: the order of writing is
	// two's first.
	vs := []storage.Verification{
		surveyed("acme/two", two, 3, 4.2, rating.Survey{Status: rating.StatusUnderReview, Measurements: 1, DeterminedX: 4.2, DeterminedWh: 6.3}),
		surveyed("acme/one", one, 2, 2.1, rating.Survey{Status: rating.StatusVerified, Measurements: 1, DeterminedX: 2.1, DeterminedWh: 3.15}),
		surveyed("acme/two", two, 3, 4.4, rating.Survey{Status: rating.StatusUnderReview, Measurements: 2, FollowUps: 1,
			SumX: 4.4, SumWh: 6.6, DeterminedX: 4.2, DeterminedWh: 6.3}),
	}
	want := make([]storage.Verification, len(vs))
	for i := range vs {
		rev, err := b.AddVerification(ctx(t), &vs[i])
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && rev <= want[i-1].Revision {
			t.Errorf("verification %d at revision %d, after %d", i, rev, want[i-1].Revision)
		}
		w, m := vs[i], *vs[i].Measurement
		w.Measurement, w.Revision = &m, rev
		w.At, w.Audit.ReceivedAt = storage.CanonicalTime(w.At), storage.CanonicalTime(w.Audit.ReceivedAt)
		want[i] = w
	}
	last, _ := b.Revision(ctx(t))
	again := surveyed("acme/two", two, 3, 5, vs[2].Survey) // another surveyor, the same state
	again.TokenID = "tok_t"
	if _, err := b.AddVerification(ctx(t), &again); !errors.Is(err, storage.ErrExists) {
		t.Errorf("a second measurement of the same state: %v, want ErrExists", err)
	}
	if rev, _ := b.Revision(ctx(t)); rev != last {
		t.Errorf("revision %d after a refused verification, %d before", rev, last)
	}
	check := func(when string) {
		t.Helper()
		s, err := b.Snapshot(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.Verifications, want) {
			t.Errorf("%s: snapshot verifications\n%+v\nwant, oldest first,\n%+v", when, s.Verifications, want)
		}
		wctx, cancel := context.WithCancel(ctx(t))
		defer cancel()
		evs, err := Collect(b.Watch(wctx, rev0, storage.WatchFilter{}), len(want))
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		for i, e := range evs {
			if e.Kind != storage.VerificationAdded || e.Revision != want[i].Revision || e.Verification == nil || !reflect.DeepEqual(*e.Verification, want[i]) {
				t.Errorf("%s: event %d\n%+v\nwant\n%+v", when, i, e, want[i])
			}
		}
	}
	check("written")
	// Live, the watch sends the same.
	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	ch := b.Watch(wctx, last, storage.WatchFilter{})
	next := surveyed("acme/one", one, 2, 2.0, rating.Survey{Status: rating.StatusVerified, Measurements: 2, DeterminedX: 2.1, DeterminedWh: 3.15})
	rev, err := b.AddVerification(ctx(t), &next)
	if err != nil {
		t.Fatal(err)
	}
	w, m := next, *next.Measurement
	w.Measurement, w.Revision = &m, rev
	w.At, w.Audit.ReceivedAt = storage.CanonicalTime(w.At), storage.CanonicalTime(w.Audit.ReceivedAt)
	want = append(want, w)
	evs, err := Collect(ch, 1)
	if err != nil || evs[0].Kind != storage.VerificationAdded || evs[0].Revision != rev || !reflect.DeepEqual(*evs[0].Verification, w) {
		t.Errorf("the live event %+v, %v; want\n%+v", evs, err, w)
	}
	cancel()
	b.Close()
	b = o(t)
	check("after reopening")
}
