package service

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// cutMidRevision is a backend whose first watch ends, with an error that
// is not ErrCompacted, right after a response with More: in the middle of
// a revision. It records where each watch starts.
type cutMidRevision struct {
	storage.Backend
	mu     sync.Mutex
	afters []int64
}

func (b *cutMidRevision) Watch(ctx context.Context, after int64, f storage.WatchFilter) <-chan storage.WatchResponse {
	b.mu.Lock()
	b.afters = append(b.afters, after)
	first := len(b.afters) == 1
	b.mu.Unlock()
	if !first {
		return b.Backend.Watch(ctx, after, f)
	}
	ctx, cancel := context.WithCancel(ctx)
	in := b.Backend.Watch(ctx, after, f)
	out := make(chan storage.WatchResponse)
	go func() {
		defer close(out)
		defer cancel()
		for r := range in {
			select {
			case out <- r:
			case <-ctx.Done():
				return
			}
			if r.More {
				select {
				case out <- storage.WatchResponse{Err: fmt.Errorf("cut: %w", storage.ErrUnavailable)}:
				case <-ctx.Done():
				}
				return
			}
		}
	}()
	return out
}

func (b *cutMidRevision) watchedFrom() []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int64(nil), b.afters...)
}

// A follower whose watch ends inside a revision resumes from the revision
// before it, the last it has whole: the index gets every result of the
// revision, and only then reaches it.
func TestAFollowerResumesFromTheLastWholeRevision(t *testing.T) {
	st, err := boltdb.Open(t.TempDir(), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	scheme, err := calibration.Grade2025_1()
	if err != nil {
		t.Fatal(err)
	}
	b := &cutMidRevision{Backend: st}
	s, err := New(Config{Backend: b, Schemes: []*rating.GradeScheme{scheme}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 2*storage.WatchMaxEvents + 10
	batch := make([]storage.Accepted, n)
	for i := range batch {
		batch[i] = storagetest.Accepted(fmt.Sprintf("acme/m%04d", i), float64(1+i%5))
	}
	_, rev, err := st.Append(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.index.WaitFor(ctx, rev); err != nil {
		t.Fatalf("the index never reached revision %d: %v (watched from %v)", rev, err, b.watchedFrom())
	}
	if got := s.index.Count(); got != n {
		t.Errorf("%d ratings in the index, want the revision's %d", got, n)
	}
	if from := b.watchedFrom(); len(from) != 2 || from[1] != rev-1 {
		t.Errorf("watched from %v, want a second watch from %d, the revision before the one cut", from, rev-1)
	}
}

// heldBack is a backend whose watch, while held, lets a response through
// only as the test lets it: a replica paused, or whose watch sits on a
// cut-off member, while the store's revision moves on.
type heldBack struct {
	storage.Backend
	held atomic.Bool
	pass chan struct{} // one response through each
}

func (b *heldBack) Watch(ctx context.Context, after int64, f storage.WatchFilter) <-chan storage.WatchResponse {
	in := b.Backend.Watch(ctx, after, f)
	out := make(chan storage.WatchResponse)
	go func() {
		defer close(out)
		for r := range in {
			if b.held.Load() {
				select {
				case <-b.pass:
				case <-ctx.Done():
					return
				}
			}
			select {
			case out <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Staleness is of the data, not of arrival: while the watch holds
// committed writes back, the replica's staleness grows from the first of
// them and it stops being ready; an old response that then arrives (as
// after a pause) does not make it current while a later write is still
// missing; once everything arrives, both recover.
func TestStalenessIsOfTheDataNotOfArrival(t *testing.T) {
	st, b, s := heldBackService(t, 3*confirmEvery)
	current := func() bool { return s.Staleness() < 2*confirmEvery && s.Ready() == nil }
	waitUntil(t, "current at first", current)

	b.held.Store(true)
	wrote := time.Now()
	for _, m := range []string{"acme/first", "acme/second"} {
		if _, _, err := st.Append(t.Context(), []storage.Accepted{storagetest.Accepted(m, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "not ready while the writes are held back", func() bool { return s.Ready() != nil })
	b.pass <- struct{}{} // the first write's response, late
	time.Sleep(2 * confirmEvery)
	if d, lag := s.Staleness(), time.Since(wrote); d < lag-confirmEvery {
		t.Errorf("staleness %s while a write of %s ago is missing", d, lag)
	}
	b.held.Store(false)
	close(b.pass)
	waitUntil(t, "current again", current)
}

// heldBackService is a Service on a bbolt store whose watch the test
// holds back (heldBack), reporting itself not ready past staleAfter (0:
// the default).
func heldBackService(t *testing.T, staleAfter time.Duration) (*boltdb.DB, *heldBack, *Service) {
	t.Helper()
	st, err := boltdb.Open(t.TempDir(), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	scheme, err := calibration.Grade2025_1()
	if err != nil {
		t.Fatal(err)
	}
	b := &heldBack{Backend: st, pass: make(chan struct{})}
	s, err := New(Config{Backend: b, Schemes: []*rating.GradeScheme{scheme}, StaleAfter: staleAfter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return st, b, s
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A write stored while the read model cannot follow its storage waits for
// it at most CatchUpWait, then says it is stored but not yet shown.
func TestAStoredWriteWaitsForTheReadModelOnlySoLong(t *testing.T) {
	_, b, s := heldBackService(t, 0)
	b.held.Store(true)
	acc := storagetest.Accepted("acme/held", 1)
	start := time.Now()
	_, err := s.Submit(t.Context(), acc.Result, rating.Published, storage.Audit{})
	took := time.Since(start)
	if errdefs.KindOf(err) != errdefs.Unavailable || !strings.Contains(err.Error(), "is stored") {
		t.Errorf("submit while the read model is held back: %v, want Unavailable saying the result is stored", err)
	}
	if took < CatchUpWait || took > CatchUpWait+2*time.Second {
		t.Errorf("it took %s, want CatchUpWait (%s)", took, CatchUpWait)
	}
	b.held.Store(false)
	close(b.pass)
	waitUntil(t, "the result shown once the read model catches up", func() bool {
		_, ok := s.index.Rating("acme/held", acc.Measure.Cohort)
		return ok
	})
}
