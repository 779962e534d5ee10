// Package storagetest is the conformance suite every storage backend must
// pass, as containerd's snapshotter testsuite is for snapshotters: ordering,
// atomic batches, revisions, reopening, tokens, history, and events after a
// reopen.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Opener opens a backend on an empty store the first time it is called
// in a test, and reopens the same store on later calls. The suite closes
// what it opens.
type Opener func(t *testing.T) storage.Backend

// Run runs the suite. newOpener returns a fresh Opener for each test.
func Run(t *testing.T, newOpener func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"IdsAndRevisionsIncrease", testIdsAndRevisionsIncrease},
		{"ABatchIsAtomic", testABatchIsAtomic},
		{"LaterResultIsCurrent", testLaterResultIsCurrent},
		{"OnePayloadLabelsOneModel", testOnePayloadLabelsOneModel},
		{"ReopenKeepsEverything", testReopenKeepsEverything},
		{"Tokens", testTokens},
		{"RegistriesAndReleases", testRegistriesAndReleases},
		{"History", testHistory},
		{"WatchFollowsWrites", testWatchFollowsWrites},
		{"WatchReplaysAfterReopen", testWatchReplaysAfterReopen},
		{"WatchRefusesAFutureRevision", testWatchRefusesAFutureRevision},
		{"WatchSendsProgress", testWatchSendsProgress},
		{"Backup", testBackup},
		{"Record", testRecord},
		{"VerificationsAndTrust", testVerificationsAndTrust},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newOpener(t)) })
	}
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
	taken := Accepted("a/owner", 1)
	taken.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 1)
	appendOne(t, b, taken)
	rev, _ := b.Revision(ctx(t))
	before := currents(t, b)

	bad := []storage.Accepted{Accepted("b/x", 2), Accepted("b/y", 3), Accepted("b/z", 4)}
	bad[2].Audit.PayloadSHA256 = taken.Audit.PayloadSHA256
	if _, _, err := b.Append(ctx(t), bad); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a batch reusing another model's payload: %v, want ErrExists", err)
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

func testOnePayloadLabelsOneModel(t *testing.T, o Opener) {
	b := open(t, o)
	a := Accepted("a/one", 1)
	a.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 7)
	appendOne(t, b, a)
	appendOne(t, b, a) // the same model may resubmit it
	other := Accepted("b/two", 1)
	other.Audit.PayloadSHA256 = a.Audit.PayloadSHA256
	if _, _, err := b.Append(ctx(t), []storage.Accepted{other}); !errors.Is(err, storage.ErrExists) {
		t.Errorf("another model's payload: %v, want ErrExists", err)
	}
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
	gaudi := rating.Accelerator{Name: "Gaudi 3", Family: "Gaudi 3", BoardWatts: 900, Aliases: []string{"Intel Gaudi 3"}, Source: "datasheet"}
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
	if len(s.Accelerators) != 1 || s.Accelerators[0].Name != "Gaudi 3" || s.Accelerators[0].Aliases[0] != "Intel Gaudi 3" ||
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
}

// collect reads watch responses until it has n events or the timeout.
func collect(t *testing.T, ch <-chan storage.WatchResponse, n int) ([]storage.Event, error) {
	t.Helper()
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
	ch := b.Watch(wctx, rev)
	id, r1 := appendOne(t, b, Accepted("a/one", 1))
	r2, err := b.CreateRelease(ctx(t), &rating.Release{Name: "r1", Cohorts: map[rating.Cohort]rating.Bounds{}})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := collect(t, ch, 2)
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
	evs, err := collect(t, b.Watch(wctx, rev0), 3)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].Revision != r1 || evs[0].Result.Model != "a/one" || evs[1].Revision != r2 || evs[1].Token.ID != "tok_2" ||
		evs[2].Revision != r3 || evs[2].Result.Model != "a/two" {
		t.Errorf("replayed %+v", evs)
	}
	ch := b.Watch(wctx, r1)
	evs, err = collect(t, ch, 2)
	if err != nil || evs[0].Revision != r2 || evs[1].Revision != r3 {
		t.Fatalf("resumed from %d: %+v, %v", r1, evs, err)
	}
	// Then live writes follow on the same watch.
	_, r4 := appendOne(t, b, Accepted("a/three", 3))
	evs, err = collect(t, ch, 1)
	if err != nil || evs[0].Revision != r4 {
		t.Errorf("live after replay: %+v, %v", evs, err)
	}
}

func testWatchRefusesAFutureRevision(t *testing.T, o Opener) {
	b := open(t, o)
	rev, _ := b.Revision(ctx(t))
	_, err := collect(t, b.Watch(ctx(t), rev+100), 1)
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
	ch := b.Watch(wctx, rev)
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
	evs, err := collect(t, ch, 1)
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

func testRecord(t *testing.T, o Opener) {
	b := open(t, o)
	a := Accepted("a/one", 1)
	a.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 9)
	id, _ := appendOne(t, b, a)
	r, audit, err := b.Record(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "a/one" || r.GPUEnergyWh != 1 || !r.MeasuredAt.Equal(a.Result.MeasuredAt) || audit.PayloadSHA256 != a.Audit.PayloadSHA256 ||
		audit.TokenID != "tok_1" || !audit.ReceivedAt.Equal(a.Audit.ReceivedAt) {
		t.Errorf("Record(%d) = %+v, %+v", id, r, audit)
	}
	if _, _, err := b.Record(ctx(t), id+100); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Record of an unknown id: %v, want ErrNotFound", err)
	}
}

// testVerificationsAndTrust: what the read model's trust rests on reads
// back from every backend as it was written, from a snapshot, from the
// watch and after a reopen: a result's source, the reference it carries
// and its floor ratio; a token's role; a surveyor's verification, whose
// name a second measurement of the same state may not take.
func testVerificationsAndTrust(t *testing.T, o Opener) {
	b := o(t)
	a := Accepted("acme/chat", 2)
	a.Source, a.Carried, a.Measure.FloorRatio = rating.Publisher, storage.Reference{ResultID: 7, X: 1.5, WhPer1k: 1.5}, 27.5
	id, rev := appendOne(t, b, a)
	if _, err := b.PutToken(ctx(t), storage.Token{ID: "tok_s", SecretSHA256: []byte{3}, Role: storage.RoleSurveyor,
		CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	m := *a.Result
	m.GPUEnergyWh = 2.8
	v := storage.Verification{Model: "acme/chat", Cohort: clf, ResultID: id, TokenID: "tok_s",
		At: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), X: 2.8, WhPer1k: 2.8,
		Declared:    storage.Reference{ResultID: id, X: 2, WhPer1k: 2},
		Survey:      rating.Survey{Status: rating.StatusUnderReview, Measurements: 1, DeterminedX: 2.8, DeterminedWh: 2.8},
		Measurement: &m, Audit: storage.Audit{TokenID: "tok_s", ReceivedAt: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), ClientAddr: "127.0.0.1:2"}}
	vrev, err := b.AddVerification(ctx(t), &v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddVerification(ctx(t), &v); !errors.Is(err, storage.ErrExists) {
		t.Errorf("a second measurement of the same state: %v, want ErrExists", err)
	}
	check := func(when string, s *storage.Snapshot) {
		t.Helper()
		if len(s.Currents) != 1 || s.Currents[0].Source != rating.Publisher || s.Currents[0].Carried != a.Carried ||
			s.Currents[0].Measure.FloorRatio != 27.5 {
			t.Errorf("%s: currents %+v", when, s.Currents)
		}
		if len(s.Tokens) != 1 || s.Tokens[0].Role != storage.RoleSurveyor {
			t.Errorf("%s: tokens %+v", when, s.Tokens)
		}
		if len(s.Verifications) != 1 {
			t.Fatalf("%s: %d verifications, want 1", when, len(s.Verifications))
		}
		got := s.Verifications[0]
		if got.Survey != v.Survey || got.Declared != v.Declared || got.X != v.X || !got.At.Equal(v.At) || got.TokenID != "tok_s" ||
			got.Measurement == nil || got.Measurement.GPUEnergyWh != 2.8 || got.Audit.ClientAddr != "127.0.0.1:2" {
			t.Errorf("%s: verification %+v", when, got)
		}
	}
	snap, err := b.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	check("snapshot", snap)

	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	var seen []storage.Event
	for resp := range b.Watch(wctx, rev-1) {
		if resp.Err != nil {
			t.Fatal(resp.Err)
		}
		seen = append(seen, resp.Events...)
		if n := len(seen); n > 0 && seen[n-1].Revision >= vrev {
			break
		}
	}
	last := seen[len(seen)-1]
	if last.Kind != storage.VerificationAdded || last.Verification == nil || last.Verification.Revision != vrev ||
		last.Verification.Survey != v.Survey {
		t.Errorf("the watch's last event %+v, want the verification at revision %d", last, vrev)
	}
	if seen[0].Kind != storage.ResultAdded || seen[0].Result.Source != rating.Publisher || seen[0].Result.Carried != a.Carried {
		t.Errorf("the watch's result event %+v", seen[0])
	}
	cancel()
	b.Close()
	b = open(t, o)
	snap, err = b.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	check("after reopening", snap)
}
