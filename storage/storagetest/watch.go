package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// The watch's bounded responses and its filter, run by Run.
var watchTests = []struct {
	name string
	fn   func(*testing.T, Opener)
}{
	{"WatchSplitsALargeRevision", testWatchSplitsALargeRevision},
	{"WatchFilter", testWatchFilter},
}

// The watch tests that need a hook of the factory.
var hookedWatchTests = []struct {
	name string
	fn   func(*testing.T, Factory)
}{
	{"ASlowWatcherIsCutOff", testASlowWatcherIsCutOff},
	{"ASlowReaderOfHistoryGetsAllOfIt", testASlowReaderOfHistoryGetsAllOfIt},
	{"ACompactedRevisionEndsTheWatch", testACompactedRevisionEndsTheWatch},
}

func runWatchTests(t *testing.T, f Factory) {
	for _, tt := range watchTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, f.New(t)) })
	}
	for _, tt := range hookedWatchTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, f) })
	}
}

// responses reads watch responses, progress included, until they hold n
// events, an error, or 10s.
func responses(t *testing.T, ch <-chan storage.WatchResponse, n int) []storage.WatchResponse {
	t.Helper()
	var out []storage.WatchResponse
	timeout := time.After(10 * time.Second)
	for got := 0; got < n; {
		select {
		case r, ok := <-ch:
			if !ok {
				t.Fatalf("the watch ended after %d of %d events", got, n)
			}
			if r.Err != nil {
				t.Fatalf("after %d of %d events: %v", got, n, r.Err)
			}
			out = append(out, r)
			got += len(r.Events)
		case <-timeout:
			t.Fatalf("timed out with %d of %d events", got, n)
		}
	}
	return out
}

// testWatchSplitsALargeRevision: one revision of more results than a
// response holds comes in several consecutive responses, live and on
// replay, More set on each but the last, nothing lost or repeated, no
// progress between them; the next revision follows whole.
func testWatchSplitsALargeRevision(t *testing.T, o Opener) {
	const n = storage.WatchMaxEvents + 44
	b := open(t, o)
	if mb, ok := b.(storage.BatchLimiter); ok && mb.MaxBatch() < n {
		t.Skipf("the backend takes batches of %d at most, this test needs %d in one revision", mb.MaxBatch(), n)
	}
	rev0, _ := b.Revision(ctx(t))
	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	live := b.Watch(wctx, rev0, storage.WatchFilter{})
	batch := make([]storage.Accepted, n)
	for i := range batch {
		batch[i] = Accepted(fmt.Sprintf("acme/m%04d", i), float64(1+i%7))
	}
	first, rev, err := b.Append(ctx(t), batch)
	if err != nil {
		t.Fatal(err)
	}
	rev2, err := b.PutToken(ctx(t), storage.Token{ID: "tok_after", Namespaces: []string{"acme"}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(how string, rs []storage.WatchResponse) {
		t.Helper()
		var ids []uint64
		var pieces []storage.WatchResponse
		for i, r := range rs {
			if len(r.Events) > storage.WatchMaxEvents {
				t.Errorf("%s: response %d holds %d events, more than %d", how, i, len(r.Events), storage.WatchMaxEvents)
			}
			if len(r.Events) == 0 {
				if r.More {
					t.Errorf("%s: response %d is progress with More", how, i)
				}
				if len(pieces) > 0 && pieces[len(pieces)-1].More {
					t.Errorf("%s: progress inside revision %d", how, rev)
				}
				continue
			}
			pieces = append(pieces, r)
			for j, e := range r.Events {
				if j > 0 && e.Revision < r.Events[j-1].Revision {
					t.Errorf("%s: revision %d after %d", how, e.Revision, r.Events[j-1].Revision)
				}
				if e.Revision == rev {
					if e.Kind != storage.ResultAdded {
						t.Fatalf("%s: a %v event at revision %d", how, e.Kind, rev)
					}
					ids = append(ids, e.Result.ID)
				}
			}
			if last := r.Events[len(r.Events)-1]; r.More != (last.Revision == rev && len(ids) < n) {
				t.Errorf("%s: response %d ends at revision %d with %d of its results sent, More %v", how, i, last.Revision, len(ids), r.More)
			}
		}
		want := make([]uint64, n)
		for i := range want {
			want[i] = first + uint64(i)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%s: result ids %v\nwant %d from %d, in order, once each", how, ids, n, first)
		}
		if len(pieces) < 2 {
			t.Errorf("%s: %d results in %d response(s), want them split", how, n, len(pieces))
		}
		last := pieces[len(pieces)-1]
		if e := last.Events[len(last.Events)-1]; e.Revision != rev2 || e.Kind != storage.TokenPut || last.More {
			t.Errorf("%s: the last event %+v (More %v), want the token at %d", how, e, last.More, rev2)
		}
	}
	check("live", responses(t, live, n+1))
	check("replayed", responses(t, b.Watch(wctx, rev0, storage.WatchFilter{}), n+1))
}

// testWatchFilter: a filtered watch sends only its model's, or its
// owner's, results, and every token, registry, release and verification
// event; live and on replay. A revision it passes nothing of sends
// nothing.
func testWatchFilter(t *testing.T, o Opener) {
	b := open(t, o)
	rev0, _ := b.Revision(ctx(t))
	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	filters := []storage.WatchFilter{{}, {Model: "acme/a"}, {Owner: "acme"}, {Model: "acme/a", Owner: "other"}, {Model: "nobody/x"}}
	live := make([]<-chan storage.WatchResponse, len(filters))
	for i, f := range filters {
		live[i] = b.Watch(wctx, rev0, f)
	}

	type want struct {
		rev   int64
		kind  storage.EventKind
		model string // of a result
	}
	var all []want
	write := func(kind storage.EventKind, rev int64, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, want{rev, kind, ""})
	}
	results := func(models ...string) uint64 {
		t.Helper()
		batch := make([]storage.Accepted, len(models))
		for i, m := range models {
			batch[i] = Accepted(m, float64(1+i))
		}
		first, rev, err := b.Append(ctx(t), batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range models {
			all = append(all, want{rev, storage.ResultAdded, m})
		}
		return first
	}
	rev, err := b.PutToken(ctx(t), storage.Token{ID: "tok_f", Namespaces: []string{"acme"}})
	write(storage.TokenPut, rev, err)
	results("acme/a", "acme/b", "acmeco/a", "other/a", "acme/a")
	rev, err = b.AddAccelerator(ctx(t), rating.Accelerator{Name: "Gaudi 3", Family: "Gaudi 3", BoardWatts: 900, FloorFraction: 0.1, Source: "datasheet",
		PeakTFLOPS16: 1835, PeakTFLOPSFastest: 1835, FastestPrecision: "fp8", MemoryGB: 128})
	write(storage.AcceleratorAdded, rev, err)
	results("other/b")
	rev, err = b.AddDataset(ctx(t), rating.Dataset{Name: "acme/eval", Task: "text-generation", Basis: rating.OutputToken})
	write(storage.DatasetAdded, rev, err)
	rev, err = b.CreateRelease(ctx(t), &rating.Release{Name: "r1", CreatedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		Cohorts: map[rating.Cohort]rating.Bounds{clf: {Lo: 1, Hi: 4, Models: 3}}})
	write(storage.ReleaseCreated, rev, err)
	id := results("other/c")
	v := surveyed("other/c", id, 1, 1.1, rating.Survey{Status: rating.StatusVerified, Measurements: 1, DeterminedX: 1.1, DeterminedWh: 1.65})
	rev, err = b.AddVerification(ctx(t), &v)
	write(storage.VerificationAdded, rev, err)
	results("acme/a")
	// The last write passes every filter: once it arrives, everything
	// before it that passes has.
	rev, err = b.PutToken(ctx(t), storage.Token{ID: "tok_g", Namespaces: []string{"other"}})
	write(storage.TokenPut, rev, err)

	check := func(how string, f storage.WatchFilter, ch <-chan storage.WatchResponse) {
		t.Helper()
		var expect []want
		for _, w := range all {
			if w.kind != storage.ResultAdded || f.Matches(w.model) {
				expect = append(expect, w)
			}
		}
		var got []want
		for _, r := range responses(t, ch, len(expect)) {
			for _, e := range r.Events {
				w := want{e.Revision, e.Kind, ""}
				if e.Result != nil {
					w.model = e.Result.Model
				}
				got = append(got, w)
			}
		}
		if !slices.Equal(got, expect) {
			t.Errorf("%s, filter %+v:\n got %v\nwant %v", how, f, got, expect)
		}
	}
	for i, f := range filters {
		check("live", f, live[i])
		check("replayed", f, b.Watch(wctx, rev0, f))
	}
	if f := (storage.WatchFilter{Owner: "acme"}); !f.Matches("acme/x") || f.Matches("acmeco/x") || f.Matches("other/acme") {
		t.Error("an owner's filter passes what is not its models, or not one of them")
	}
}

// watchBuffer is how many writes the slow watchers' backends let a
// watcher fall behind (Factory.SlowWatchers).
const watchBuffer = 8

// testASlowWatcherIsCutOff: a caught-up watcher that stops reading holds
// up no writer; once it falls more writes behind than the backend
// buffers, it is sent ErrCompacted, after what came before.
func testASlowWatcherIsCutOff(t *testing.T, f Factory) {
	if f.SlowWatchers == nil {
		t.Skip("the factory has no SlowWatchers hook to open a backend with a small watch buffer")
	}
	const writes = 50
	b := open(t, f.SlowWatchers(t, watchBuffer))
	rev, _ := b.Revision(ctx(t))
	ch := b.Watch(ctx(t), rev, storage.WatchFilter{})
	caughtUp(t, ch) // lifecycle.go; from now on, not read until the writes are done
	start := time.Now()
	for i := range writes {
		appendOne(t, b, Accepted(fmt.Sprintf("a/m%d", i), 1))
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("%d writes took %s with a stalled watcher", writes, took)
	}
	time.Sleep(200 * time.Millisecond) // let the watch take in the last of them
	events := 0
	for r := range ch {
		events += len(r.Events)
		if r.Err != nil {
			if !errors.Is(r.Err, storage.ErrCompacted) {
				t.Errorf("the watch ended with %v, want ErrCompacted", r.Err)
			}
			if events < watchBuffer || events >= writes {
				t.Errorf("%d events before the cut, want the buffer's %d or more and fewer than all %d", events, watchBuffer, writes)
			}
			return
		}
	}
	t.Error("the stalled watcher was never cut off")
}

// testASlowReaderOfHistoryGetsAllOfIt: a watch from far behind, read
// slowly, is not cut off however little the backend buffers: the
// revisions before it started are the backend's to keep, and the watch
// waits for its reader. Then it follows live writes.
func testASlowReaderOfHistoryGetsAllOfIt(t *testing.T, f Factory) {
	if f.SlowWatchers == nil {
		t.Skip("the factory has no SlowWatchers hook to open a backend with a small watch buffer")
	}
	b := open(t, f.SlowWatchers(t, 4))
	rev0, _ := b.Revision(ctx(t))
	var revs []int64
	for i := range 30 {
		_, rev := appendOne(t, b, Accepted(fmt.Sprintf("a/m%d", i), 1))
		revs = append(revs, rev)
	}
	ch := b.Watch(ctx(t), rev0, storage.WatchFilter{})
	var got []int64
	for len(got) < len(revs) {
		time.Sleep(5 * time.Millisecond)
		evs, err := Collect(ch, 1)
		if err != nil {
			t.Fatalf("after %d events: %v", len(got), err)
		}
		for _, e := range evs {
			got = append(got, e.Revision)
		}
	}
	if !slices.Equal(got, revs) {
		t.Fatalf("revisions %v, want %v", got, revs)
	}
	_, rev := appendOne(t, b, Accepted("a/live", 1))
	if evs, err := Collect(ch, 1); err != nil || evs[0].Revision != rev {
		t.Errorf("live after history: %+v, %v", evs, err)
	}
}

// testACompactedRevisionEndsTheWatch: once the backend no longer keeps
// the revisions before rev (Factory.Compact), a watch from one of them is
// ErrCompacted, and one from rev misses nothing; what the store holds is
// whole, and a watch from a new snapshot's revision follows new writes.
func testACompactedRevisionEndsTheWatch(t *testing.T, f Factory) {
	if f.Compact == nil {
		t.Skip("the factory has no Compact hook: the backend's compaction is out of the suite's reach")
	}
	b := open(t, f.New(t))
	rev0, _ := b.Revision(ctx(t))
	one, r1 := appendOne(t, b, Accepted("a/one", 1))
	_, r2 := appendOne(t, b, Accepted("a/two", 2))
	r3, err := b.PutToken(ctx(t), storage.Token{ID: "tok_c", Namespaces: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	f.Compact(t, b, r2)
	for _, after := range []int64{rev0, r1} {
		if evs, err := Collect(b.Watch(ctx(t), after, storage.WatchFilter{}), 1); !errors.Is(err, storage.ErrCompacted) {
			t.Errorf("a watch from revision %d, compacted before %d: %+v, %v; want ErrCompacted", after, r2, evs, err)
		}
	}
	if evs, err := Collect(b.Watch(ctx(t), r2, storage.WatchFilter{}), 1); err != nil || evs[0].Revision != r3 || evs[0].Kind != storage.TokenPut {
		t.Errorf("a watch from revision %d, the compaction's: %+v, %v; want the token at %d", r2, evs, err, r3)
	}
	snap, err := b.Snapshot(ctx(t))
	if err != nil || len(snap.Currents) != 2 || len(snap.Tokens) != 1 || snap.Revision != r3 {
		t.Fatalf("the snapshot after compaction: %+v, %v; want 2 current results and the token at %d", snap, err, r3)
	}
	if h, err := b.History(ctx(t), storage.HistoryQuery{Model: "a/one", Limit: 10}); err != nil || len(h) != 1 || h[0].ID != one || h[0].Revision != r1 {
		t.Errorf("history of a/one after compaction: %+v, %v", h, err)
	}
	if r, _, err := b.Record(ctx(t), one); err != nil || r.Model != "a/one" {
		t.Errorf("Record(%d) after compaction: %+v, %v", one, r, err)
	}
	ch := b.Watch(ctx(t), snap.Revision, storage.WatchFilter{})
	_, r4 := appendOne(t, b, Accepted("a/three", 3))
	if evs, err := Collect(ch, 1); err != nil || evs[0].Revision != r4 {
		t.Errorf("a watch from the new snapshot: %+v, %v; want the result at %d", evs, err, r4)
	}
}
