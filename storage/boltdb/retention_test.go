package boltdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// eventsKept reads what events/ holds of an open store.
func eventsKept(t *testing.T, d *DB) EventLog {
	t.Helper()
	var l EventLog
	if err := d.db.View(func(tx *bolt.Tx) error { l = eventLog(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	return l
}

// replayed collects the events of a watch from after until it has n, or
// its error.
func replayed(t *testing.T, d *DB, after int64, n int) ([]storage.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out []storage.Event
	for r := range d.Watch(ctx, after, storage.WatchFilter{}) {
		if r.Err != nil {
			return out, r.Err
		}
		if out = append(out, r.Events...); len(out) >= n {
			return out, nil
		}
	}
	return out, fmt.Errorf("the watch ended with %d of %d events: %w", len(out), n, ctx.Err())
}

// events/ keeps the newest EventRetention revisions' events, pruned as
// writes go: a watch from before them is ErrCompacted, one from the oldest
// kept misses nothing; results, history and records are all kept; a
// lower retention on a reopen catches up a few deletions per write.
func TestEventRetention(t *testing.T) {
	const keep, writes = 10, 40
	dir := t.TempDir()
	d, err := Open(dir, Options{EventRetention: keep})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var revs []int64
	var ids []uint64
	for i := range writes {
		var rev int64
		if i%5 == 4 {
			rev, err = d.PutToken(ctx, storage.Token{ID: fmt.Sprintf("tok_%d", i), Namespaces: []string{"a"}})
		} else {
			var id uint64
			id, rev, err = d.Append(ctx, []storage.Accepted{storagetest.Accepted(fmt.Sprintf("a/m%02d", i), 1)})
			ids = append(ids, id)
		}
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
		if l := eventsKept(t, d); l.Events > keep {
			t.Fatalf("after write %d: events/ holds %d events, retention %d", i, l.Events, keep)
		}
	}
	last := revs[len(revs)-1]
	l := eventsKept(t, d)
	if l.Events != keep || l.From != last-keep+1 || l.Bytes <= 0 {
		t.Errorf("events/ after %d writes: %+v, want %d events from revision %d", writes, l, keep, last-keep+1)
	}
	for _, after := range []int64{0, last - keep - 1} {
		if _, err := replayed(t, d, after, 1); !errors.Is(err, storage.ErrCompacted) {
			t.Errorf("a watch from revision %d, before the oldest kept %d: %v, want ErrCompacted", after, l.From, err)
		}
	}
	evs, err := replayed(t, d, last-keep, keep)
	if err != nil {
		t.Fatalf("a watch from revision %d: %v", last-keep, err)
	}
	var got []int64
	for _, e := range evs {
		got = append(got, e.Revision)
	}
	if !slices.Equal(got, revs[len(revs)-keep:]) {
		t.Errorf("a watch from revision %d got revisions %v, want %v", last-keep, got, revs[len(revs)-keep:])
	}
	// Only events/ is pruned.
	snap, err := d.Snapshot(ctx)
	if err != nil || len(snap.Currents) != len(ids) || len(snap.Tokens) != writes/5 {
		t.Errorf("the snapshot after pruning: %d currents, %d tokens, %v", len(snap.Currents), len(snap.Tokens), err)
	}
	if h, err := d.History(ctx, storage.HistoryQuery{Model: "a/m00", Limit: 10}); err != nil || len(h) != 1 || h[0].ID != ids[0] {
		t.Errorf("the first model's history: %+v, %v", h, err)
	}
	if r, a, err := d.Record(ctx, ids[0]); err != nil || r.Model != "a/m00" || a.TokenID != "tok_1" {
		t.Errorf("the first record: %+v, %+v, %v", r, a, err)
	}
	d.Close()

	// A lower retention: each write deletes pruneBatch events until the
	// log is within it.
	const lower = 3
	d, err = Open(dir, Options{EventRetention: lower})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := d.PutToken(ctx, storage.Token{ID: "tok_again"}); err != nil {
			t.Fatal(err)
		}
		l := eventsKept(t, d)
		if l.Events <= lower {
			if want := (keep - lower + pruneBatch - 2) / (pruneBatch - 1); i+1 > want {
				t.Errorf("the log took %d writes to shrink from %d to %d events, want %d", i+1, keep, lower, want)
			}
			break
		}
		if i > keep {
			t.Fatalf("events/ still holds %d events after %d writes at retention %d", l.Events, i+1, lower)
		}
	}
	last, _ = d.Revision(ctx)
	if _, err := replayed(t, d, last-lower, lower); err != nil {
		t.Errorf("a watch from the oldest kept revision's predecessor: %v", err)
	}
	d.Close()

	// A negative retention keeps every event from then on; CheckFile
	// reports the log.
	d, err = Open(dir, Options{EventRetention: -1})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := d.PutToken(ctx, storage.Token{ID: "tok_again"}); err != nil {
			t.Fatal(err)
		}
	}
	if l := eventsKept(t, d); l.Events != lower+5 {
		t.Errorf("events/ holds %d events, want %d: none pruned", l.Events, lower+5)
	}
	d.Close()
	rep, err := CheckFile(dir, Options{})
	if err != nil || rep.ProblemCount > 0 {
		t.Fatalf("CheckFile: %+v, %v", rep, err)
	}
	if last += 5; rep.Events.Events != lower+5 || rep.Events.From != last-lower-5+1 || rep.Events.Bytes <= 0 {
		t.Errorf("CheckFile's events/: %+v, want %d events from revision %d", rep.Events, lower+5, last-lower-5+1)
	}
}

// A replay whose read transactions end inside a revision, for the
// budget, or whose filter passes a few of many results, sends what a
// replay in one transaction sends.
func TestReplayAcrossReadTransactions(t *testing.T) {
	d := openTest(t, t.TempDir())
	ctx := t.Context()
	var batch []storage.Accepted
	for i := range 600 {
		batch = append(batch, storagetest.Accepted(fmt.Sprintf("o%d/m%d", i%3, i), 1))
	}
	if _, _, err := d.Append(ctx, batch[:37]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.PutToken(ctx, storage.Token{ID: "tok_1"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Append(ctx, batch[37:]); err != nil {
		t.Fatal(err)
	}
	upTo, _ := d.Revision(ctx)
	read := func(f storage.WatchFilter) []storage.WatchResponse {
		r := &replay{d: d, f: f, upTo: upTo}
		var out []storage.WatchResponse
		for !r.done {
			resp, err := r.next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Events) > 0 {
				out = append(out, resp)
			}
		}
		return out
	}
	defer func(n int) { replayScan = n }(replayScan)
	for _, f := range []storage.WatchFilter{{}, {Owner: "o1"}, {Model: "o2/m599"}} {
		replayScan = 1 << 20
		whole := read(f)
		for _, budget := range []int{1, 7, 300} {
			replayScan = budget
			if got := read(f); !sameResponses(got, whole) {
				t.Errorf("filter %+v, %d steps a transaction: %d responses unlike the %d of one transaction", f, budget, len(got), len(whole))
			}
		}
	}
}

func sameResponses(a, b []storage.WatchResponse) bool {
	return slices.EqualFunc(a, b, func(x, y storage.WatchResponse) bool {
		return x.More == y.More && slices.EqualFunc(x.Events, y.Events, func(e, f storage.Event) bool {
			return e.Revision == f.Revision && e.Kind == f.Kind && (e.Result == nil) == (f.Result == nil) && (e.Result == nil || e.Result.ID == f.Result.ID)
		})
	})
}

// Live events are split by size too: a response holds about
// WatchMaxBytes of them, and an event larger than that goes alone.
func TestLiveEventsSplitBySize(t *testing.T) {
	release := func(cohorts int) storage.Event {
		rel := &rating.Release{Name: "r", Cohorts: map[rating.Cohort]rating.Bounds{}}
		for i := range cohorts {
			rel.Cohorts[rating.Cohort{Task: fmt.Sprintf("t%d", i)}] = rating.Bounds{}
		}
		return storage.Event{Revision: 7, Kind: storage.ReleaseCreated, Release: rel}
	}
	big, small := release(4500), release(10)
	if n := storage.EventBytes(&big); n <= storage.WatchMaxBytes/2 || n+storage.EventBytes(&small) > storage.WatchMaxBytes {
		t.Fatalf("a release of 4,500 cohorts estimated at %d bytes: not between a half and the whole of WatchMaxBytes", n)
	}
	var got []storage.WatchResponse
	sendLive([]storage.Event{small, big, big, small, small}, storage.WatchFilter{}, func(r storage.WatchResponse) bool {
		got = append(got, r)
		return true
	})
	var sizes []int
	for i, r := range got {
		sizes = append(sizes, len(r.Events))
		if r.More != (i < len(got)-1) {
			t.Errorf("response %d of %d: More %v", i, len(got), r.More)
		}
	}
	if !slices.Equal(sizes, []int{2, 3}) {
		t.Errorf("responses of %v events, want 2 (a small release and a big one) and 3 (the second big one and the rest)", sizes)
	}
}
