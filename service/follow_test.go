package service

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
