package server

import (
	"context"
	"errors"
	"time"

	"github.com/energylabel/energylabel/storage"
)

// follower runs the loop that applies the backend's events to the
// server's index, tokens and registries: the only way they change, so that
// every replica of one backend reads the same.
type follower struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (f *follower) stop() {
	if f.cancel != nil {
		f.cancel()
		<-f.done
	}
}

// startFollowing loads the backend's snapshot, then follows its events
// from the snapshot's revision on a goroutine of its own.
func (s *Server) startFollowing() error {
	snap, err := s.backend.Snapshot(context.Background())
	if err != nil {
		return err
	}
	if err := s.load(snap); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.follow = follower{cancel: cancel, done: make(chan struct{})}
	go s.followFrom(ctx, snap.Revision)
	return nil
}

func (s *Server) load(snap *storage.Snapshot) error {
	if err := s.reg.load(snap); err != nil {
		return err
	}
	s.tokens.Load(snap.Tokens)
	s.index.Load(snap)
	return nil
}

// followFrom applies events after rev until ctx ends. A watch the backend
// cut off (compacted, or this server fell behind) is answered with a clean
// rebuild from a new snapshot; any other failure with a retry after a
// pause.
func (s *Server) followFrom(ctx context.Context, rev int64) {
	defer close(s.follow.done)
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		var err error
		for resp := range s.backend.Watch(ctx, rev) {
			if resp.Err != nil {
				err = resp.Err
				break
			}
			if n := len(resp.Events); n > 0 {
				s.apply(resp.Events)
				rev = resp.Events[n-1].Revision
				pause = 50 * time.Millisecond
			}
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, storage.ErrCompacted) {
			s.log.Warn("rebuilding the index from a new snapshot", "after_revision", rev, "reason", err)
			snap, serr := s.backend.Snapshot(ctx)
			if serr == nil {
				if serr = s.load(snap); serr == nil {
					rev = snap.Revision
					continue
				}
			}
			err = serr
		}
		s.log.Error("following the backend", "revision", rev, "err", err)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// apply applies one batch of events: tokens and registries first, the
// index last, since its revision is what writers wait for.
func (s *Server) apply(events []storage.Event) {
	for i := range events {
		ev := &events[i]
		switch ev.Kind {
		case storage.TokenPut:
			s.tokens.Put(*ev.Token)
		case storage.AcceleratorAdded, storage.DatasetAdded, storage.ReleaseCreated:
			if err := s.reg.apply(ev); err != nil {
				s.log.Error("a registry event does not apply", "revision", ev.Revision, "kind", ev.Kind.String(), "err", err)
			}
		}
	}
	s.index.Apply(events)
}
