package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/energylabel/energylabel/storage"
)

// follower runs the loop that applies the backend's events to the
// server's index, tokens and registries: the only way they change, so that
// every replica of one backend reads the same. It also knows how current
// the index is, as of its data rather than of the events' arrival: a time
// before which every committed write is in the index (see confirmLoop),
// and whether it is being rebuilt.
type follower struct {
	cancel context.CancelFunc
	done   chan struct{}
	// start is the origin of heard, on the monotonic clock.
	start time.Time
	// heard is when the backend last confirmed the index current, as
	// nanoseconds since start.
	heard      atomic.Int64
	rebuilding atomic.Bool
}

func (f *follower) stop() {
	if f.cancel != nil {
		f.cancel()
		<-f.done
	}
}

// confirm records that the index had every write committed before at.
func (f *follower) confirm(at time.Time) {
	n := int64(at.Sub(f.start))
	for {
		old := f.heard.Load()
		if n <= old || f.heard.CompareAndSwap(old, n) {
			return
		}
	}
}

// staleness is how long ago the index was last confirmed current: the
// most a read from it can miss.
func (f *follower) staleness() time.Duration {
	return max(0, time.Since(f.start)-time.Duration(f.heard.Load()))
}

// startFollowing loads the backend's snapshot, then follows its events
// from the snapshot's revision on a goroutine of its own.
func (s *Service) startFollowing() error {
	s.follow.start = time.Now()
	asked := time.Now()
	snap, err := s.backend.Snapshot(context.Background())
	if err != nil {
		return err
	}
	if err := s.load(snap); err != nil {
		return err
	}
	s.follow.confirm(asked)
	ctx, cancel := context.WithCancel(context.Background())
	s.follow.cancel, s.follow.done = cancel, make(chan struct{})
	confirmed := make(chan struct{})
	go func() {
		defer close(confirmed)
		s.confirmLoop(ctx)
	}()
	// Only the revision outlives start-up: the snapshot's currents, some
	// hundreds of MiB at millions of series, are garbage once loaded.
	rev := snap.Revision
	go func() {
		s.followFrom(ctx, rev)
		<-confirmed
		close(s.follow.done)
	}()
	return nil
}

// recountTimeout bounds the recount of the day's quota usage at start.
const recountTimeout = 30 * time.Second

func (s *Service) load(snap *storage.Snapshot) error {
	if err := s.reg.load(snap); err != nil {
		return err
	}
	s.tokens.Load(snap.Tokens)
	ctx, cancel := context.WithTimeout(context.Background(), recountTimeout)
	s.recountUsage(ctx, snap.Currents)
	cancel()
	s.index.Load(snap)
	return nil
}

// followFrom applies events after rev until ctx ends. A watch the backend
// cut off (compacted, or this server fell behind) is answered with a clean
// rebuild from a new snapshot; any other failure with a retry after a
// pause. rev is the last revision applied whole: a response with More
// leaves its last revision in part, and a watch that ends then resumes
// from the revision before it, which sends that revision again from its
// start (applying a result again changes nothing).
func (s *Service) followFrom(ctx context.Context, rev int64) {
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		var err error
		for resp := range s.backend.Watch(ctx, rev, storage.WatchFilter{}) {
			if resp.Err != nil {
				err = resp.Err
				break
			}
			if n := len(resp.Events); n > 0 {
				s.apply(resp.Events, !resp.More)
				last := resp.Events[n-1].Revision
				if resp.More {
					last-- // every revision before the last is whole
				}
				rev = max(rev, last)
				pause = 50 * time.Millisecond
			}
		}
		if ctx.Err() != nil || errors.Is(err, storage.ErrClosed) {
			return // stopped, or the backend closed under it: nothing more to follow
		}
		if errors.Is(err, storage.ErrCompacted) {
			s.log.Warn("rebuilding the index from a new snapshot", "after_revision", rev, "reason", err)
			s.follow.rebuilding.Store(true)
			asked := time.Now()
			snap, serr := s.backend.Snapshot(ctx)
			if serr == nil {
				if serr = s.load(snap); serr == nil {
					rev = snap.Revision
					s.follow.confirm(asked)
					s.follow.rebuilding.Store(false)
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

// confirmEvery is how often the follower confirms its index current.
const confirmEvery = storage.ProgressInterval

// confirmLoop confirms, every confirmEvery, how current the index is, as
// of its data: it notes the time, then reads the backend's current
// revision by a linearizable read, and once the index has applied that
// revision, every write committed before the noted time is in it. Not the
// arrival of events or of a watch's progress: events buffered while the
// process was paused arrive at once and old, and etcd 3.4 before 3.4.25
// can send a requested progress notice ahead of its revision's events. So
// a replica that was paused, or whose watch is cut off, reports its true
// staleness until it has caught up.
func (s *Service) confirmLoop(ctx context.Context) {
	t := time.NewTicker(confirmEvery)
	defer t.Stop()
	for {
		asked := time.Now()
		rctx, cancel := context.WithTimeout(ctx, s.staleAfter)
		rev, err := s.backend.Revision(rctx)
		if err == nil && s.index.WaitFor(rctx, rev) == nil {
			s.follow.confirm(asked)
		}
		cancel()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// apply applies one batch of events: tokens and registries first, the
// index last, since its revision is what writers wait for. complete says
// whether the last event's revision is whole (storage.WatchResponse.More).
func (s *Service) apply(events []storage.Event, complete bool) {
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
	s.usage.count(events)
	s.index.Apply(events, complete)
}

// Staleness is how long ago the backend last confirmed that this server's
// index had every committed write: the most its reads can miss. Healthy,
// it stays under confirmEvery and a round trip to the backend.
func (s *Service) Staleness() time.Duration { return s.follow.staleness() }

// Ready says whether the server should take traffic, and if not, why: its
// index is being rebuilt, or the backend has not confirmed it current for
// longer than Config.StaleAfter (an etcd without quorum, or out of reach).
func (s *Service) Ready() error {
	if s.follow.rebuilding.Load() {
		return errors.New("rebuilding the index from the backend")
	}
	if d := s.Staleness(); d > s.staleAfter {
		return fmt.Errorf("no word from the backend for %s", d.Round(100*time.Millisecond))
	}
	return nil
}

// StalenessHeader says, on every read, how stale its answer may be: the
// seconds since the backend last confirmed this server's read model
// current, to a tenth. gRPC sends it as header metadata, HTTP as a header.
const StalenessHeader = "energylabel-staleness-seconds"

// StalenessText is a staleness in tenths of a second as the header says it.
func StalenessText(tenths int64) string { return strconv.FormatFloat(float64(tenths)/10, 'f', 1, 64) }
