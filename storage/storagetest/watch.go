package storagetest

import (
	"context"
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

func runWatchTests(t *testing.T, newOpener func(t *testing.T) Opener) {
	for _, tt := range watchTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newOpener(t)) })
	}
}

// batcher is a backend that says how many results one Append may hold.
type batcher interface{ MaxBatch() int }

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
	if mb, ok := b.(batcher); ok && mb.MaxBatch() < n {
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
