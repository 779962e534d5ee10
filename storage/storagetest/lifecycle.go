package storagetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// call is a call of one of a backend's methods, by name: do makes it
// with ctx and returns its error.
type call struct {
	name string
	do   func(ctx context.Context) error
}

// everyCall is a call of each of b's methods but Watch, Size and Close,
// those of the capabilities it has included, on a store that holds
// result id: writes of what it does not hold yet.
func everyCall(b storage.Backend, id uint64) []call {
	verification := surveyed("a/one", id, 1, 1.1, rating.Survey{Status: rating.StatusVerified, Measurements: 7})
	calls := []call{
		{"Append", func(ctx context.Context) error {
			_, _, err := b.Append(ctx, []storage.Accepted{Accepted("a/other", 1)})
			return err
		}},
		{"Snapshot", func(ctx context.Context) error { _, err := b.Snapshot(ctx); return err }},
		{"Revision", func(ctx context.Context) error { _, err := b.Revision(ctx); return err }},
		{"History", func(ctx context.Context) error {
			_, err := b.History(ctx, storage.HistoryQuery{Model: "a/one", Limit: 10})
			return err
		}},
		{"History of a cohort", func(ctx context.Context) error {
			_, err := b.History(ctx, storage.HistoryQuery{Model: "a/one", Hardware: clf.Hardware, Limit: 10, Newest: true})
			return err
		}},
		{"Record", func(ctx context.Context) error { _, _, err := b.Record(ctx, id); return err }},
		{"PutToken", func(ctx context.Context) error {
			_, err := b.PutToken(ctx, storage.Token{ID: "tok_late", Namespaces: []string{"a"}})
			return err
		}},
		{"Tokens", func(ctx context.Context) error { _, err := b.Tokens(ctx); return err }},
		{"AddAccelerator", func(ctx context.Context) error {
			_, err := b.AddAccelerator(ctx, rating.Accelerator{Name: "Late 1", Family: "Late 1", BoardWatts: 500})
			return err
		}},
		{"AddDataset", func(ctx context.Context) error {
			_, err := b.AddDataset(ctx, rating.Dataset{Name: "acme/late", Task: "text-generation", Basis: rating.OutputToken})
			return err
		}},
		{"CreateRelease", func(ctx context.Context) error {
			_, err := b.CreateRelease(ctx, &rating.Release{Name: "late"})
			return err
		}},
		{"AddVerification", func(ctx context.Context) error {
			_, err := b.AddVerification(ctx, &verification)
			return err
		}},
		{"Backup", func(ctx context.Context) error {
			r, _, err := b.Backup(ctx)
			if err == nil {
				r.Close()
			}
			return err
		}},
	}
	if e, ok := b.(storage.Exporter); ok {
		calls = append(calls,
			call{"EachRecord", func(ctx context.Context) error {
				return e.EachRecord(ctx, func(storage.Record) error { return nil })
			}},
			call{"EachIndexed", func(ctx context.Context) error {
				return e.EachIndexed(ctx, func(string, string, uint64) error { return nil })
			}})
	}
	if im, ok := b.(storage.Importer); ok {
		calls = append(calls,
			call{"Empty", func(ctx context.Context) error { _, err := im.Empty(ctx); return err }},
			call{"Import", func(ctx context.Context) error {
				return im.Import(ctx, []storage.Record{{ID: id + 1000, Value: []byte{}}}, nil)
			}})
	}
	return calls
}

// ended reads ch until it closes, and returns the error it ended with,
// if any; it fails t if ch stays open for 10s.
func ended(t *testing.T, ch <-chan storage.WatchResponse) error {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var err error
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				return err
			}
			if r.Err != nil {
				err = r.Err
			}
		case <-timeout:
			t.Fatal("the watch is still open after 10s")
		}
	}
}

// caughtUp reads ch until a progress response: the watch is live.
func caughtUp(t *testing.T, ch <-chan storage.WatchResponse) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r, ok := <-ch:
			if !ok || r.Err != nil {
				t.Fatalf("the watch ended: %v", r.Err)
			}
			if len(r.Events) == 0 {
				return
			}
		case <-timeout:
			t.Fatal("no progress within 10s")
		}
	}
}

// testAClosedStore: once closed, every method fails with ErrClosed, a
// watch open at the time ends with it, a watch started then ends with it
// at once, Size still answers, and closing again does no harm.
func testAClosedStore(t *testing.T, o Opener) {
	b := o(t)
	id, rev := appendOne(t, b, Accepted("a/one", 1))
	live := b.Watch(ctx(t), rev, storage.WatchFilter{})
	caughtUp(t, live)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := ended(t, live); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("a watch open across Close ended with %v, want ErrClosed", err)
	}
	for _, c := range everyCall(b, id) {
		if err := c.do(ctx(t)); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", c.name, err)
		}
	}
	if err := ended(t, b.Watch(ctx(t), rev, storage.WatchFilter{})); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("a watch started after Close ended with %v, want ErrClosed", err)
	}
	b.Size() // answers, whatever it knows
	if err := b.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Close again: %v", err)
	}
}

// testACancelledContext: a call whose context is done already returns
// the context's error, and a write stores nothing; a watch whose context
// ends closes its channel, caught up or not yet started.
func testACancelledContext(t *testing.T, o Opener) {
	b := open(t, o)
	id, _ := appendOne(t, b, Accepted("a/one", 1))
	if _, err := b.PutToken(ctx(t), storage.Token{ID: "tok_1", Namespaces: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	before, err := b.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx(t))
	cancel()
	for _, c := range everyCall(b, id) {
		if err := c.do(done); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", c.name, err)
		}
	}
	after, err := b.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	sortSnapshot(before)
	sortSnapshot(after)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("the writes with a cancelled context stored something:\n%+v\nbefore:\n%+v", after, before)
	}
	if err := ended(t, b.Watch(done, 0, storage.WatchFilter{})); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("a watch with a cancelled context ended with %v", err)
	}
	wctx, stop := context.WithCancel(ctx(t))
	ch := b.Watch(wctx, before.Revision, storage.WatchFilter{})
	caughtUp(t, ch)
	stop()
	if err := ended(t, ch); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("a watch whose context ended ended with %v", err)
	}
}
