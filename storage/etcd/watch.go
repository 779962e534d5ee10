package etcdstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// retryWatch is how long a watch waits before it resumes on another try,
// after its member lost the leader.
const retryWatch = 200 * time.Millisecond

// Watch sends the events after revision `after`, from etcd's history, then
// live ones, from one etcd watch on the prefix. A revision etcd compacted
// away, or one not yet written, ends it with ErrCompacted. So does falling
// WatchBuffer writes behind live ones: etcd never holds up a writer for a
// watcher, and this keeps the client from buffering without bound for one.
func (s *Store) Watch(ctx context.Context, after int64) <-chan storage.WatchResponse {
	out := make(chan storage.WatchResponse, 1)
	go s.watch(ctx, after, out)
	return out
}

func (s *Store) watch(ctx context.Context, after int64, out chan<- storage.WatchResponse) {
	defer close(out)
	send := func(r storage.WatchResponse) bool {
		select {
		case out <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	now, err := s.Revision(ctx)
	if err != nil {
		send(storage.WatchResponse{Err: fmt.Errorf("watch: %w", err)})
		return
	}
	if after < 0 || after > now {
		send(storage.WatchResponse{Err: fmt.Errorf("revision %d: the latest is %d: %w", after, now, storage.ErrCompacted)})
		return
	}
	q := make(chan []storage.Event, s.opt.WatchBuffer)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A watcher of its own is a gRPC stream of its own: etcd reports
	// progress only to a stream whose every watch has caught up, so that
	// another watch replaying history would keep this one from hearing it.
	// Closing it closes whatever stream a progress request opened.
	w := clientv3.NewWatcher(s.cli)
	done := make(chan error, 1)
	go func() {
		done <- s.follow(fctx, w, after, now, q)
		cancel()
		w.Close()
	}()
	for {
		select {
		case evs := <-q:
			if !send(storage.WatchResponse{Events: evs}) {
				return
			}
		case err := <-done:
			// Send what came before the end, then say why it ends.
			for empty := false; !empty; {
				select {
				case evs := <-q:
					if !send(storage.WatchResponse{Events: evs}) {
						return
					}
				default:
					empty = true
				}
			}
			send(storage.WatchResponse{Err: err})
			return
		case <-ctx.Done():
			return
		}
	}
}

// follow puts the events of each revision after `after` on q. Revisions up
// to `now` are history: when q is full, it cancels the etcd watch, so that
// nothing piles up in the client, waits for the reader, then watches again
// from the next revision. Past `now`, a full q means the reader fell behind
// live writes.
func (s *Store) follow(ctx context.Context, w clientv3.Watcher, after, now int64, q chan<- []storage.Event) error {
	next := after + 1
	for {
		wait, err := s.followFrom(ctx, w, &next, now, q)
		if wait == nil {
			return err
		}
		if err := wait(ctx); err != nil {
			return err
		}
	}
}

// pause waits, before a watch resumes.
type pause func(context.Context) error

// retry waits a little, for a member that lost its leader or a watch that
// ended for no reason given.
func retry(ctx context.Context) error {
	select {
	case <-time.After(retryWatch):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drained waits until the reader has taken half of q, so that a slow reader
// of history costs a watch every cap(q)/2 revisions, not every revision.
func drained(q chan<- []storage.Event) pause {
	return func(ctx context.Context) error {
		for len(q) > cap(q)/2 {
			select {
			case <-time.After(10 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
}

// followFrom runs one etcd watch from *next, advancing it past every
// revision it hands on. It returns what to wait for before watching again,
// or nil and why the watch ends.
func (s *Store) followFrom(ctx context.Context, w clientv3.Watcher, next *int64, now int64, q chan<- []storage.Event) (pause, error) {
	// Without a leader a member's watch would go silent; this way it ends,
	// and the next one may reach a member that has one.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	// etcd reports progress only to a watch that started at or before its
	// revision, so the watch starts one revision early, at one that exists,
	// and skips what was handed on already.
	ch := w.Watch(wctx, s.prefix, clientv3.WithPrefix(), clientv3.WithRev(max(*next-1, 1)))
	go requestProgress(wctx, w)
	for resp := range ch {
		if err := resp.Err(); err != nil {
			if errors.Is(err, rpctypes.ErrNoLeader) || transient(err) {
				return retry, nil
			}
			return nil, s.storageError(ctx, "watch", err)
		}
		if resp.IsProgressNotify() {
			// Caught up; unless events wait for the reader, which then
			// hears of progress from the next one.
			if len(q) == 0 {
				select {
				case q <- nil:
				default:
				}
			}
			continue
		}
		for evs := range revisions(resp.Events) {
			rev := evs[0].Kv.ModRevision
			if rev < *next {
				continue
			}
			out, err := s.eventsOf(rev, evs)
			if err != nil {
				return nil, fmt.Errorf("watch: revision %d: %w", rev, err)
			}
			if len(out) > 0 {
				select {
				case q <- out:
				default:
					if rev > now {
						return nil, fmt.Errorf("the watcher fell %d writes behind: %w", cap(q), storage.ErrCompacted)
					}
					cancel()
					select {
					case q <- out:
					case <-ctx.Done():
						return nil, ctx.Err()
					}
					*next = rev + 1
					return drained(q), nil
				}
			}
			*next = rev + 1
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.cli.Ctx().Err() != nil {
		return nil, fmt.Errorf("watch: %w", storage.ErrClosed)
	}
	return retry, nil
}

// requestProgress asks etcd every ProgressInterval to tell the watch how
// far it has caught up, until ctx ends. etcd answers only a watch that has.
func requestProgress(ctx context.Context, w clientv3.Watcher) {
	t := time.NewTicker(storage.ProgressInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.RequestProgress(ctx) // a failure shows as the watch's
		case <-ctx.Done():
			return
		}
	}
}

// revisions splits a watch response's events by revision; etcd never
// splits a revision across responses.
func revisions(evs []*clientv3.Event) func(func([]*clientv3.Event) bool) {
	return func(yield func([]*clientv3.Event) bool) {
		for len(evs) > 0 {
			n := 1
			for n < len(evs) && evs[n].Kv.ModRevision == evs[0].Kv.ModRevision {
				n++
			}
			if !yield(evs[:n]) {
				return
			}
			evs = evs[n:]
		}
	}
}

// eventsOf turns the puts of one revision into the seam's events.
func (s *Store) eventsOf(rev int64, evs []*clientv3.Event) ([]storage.Event, error) {
	results := slices.ContainsFunc(evs, func(ev *clientv3.Event) bool {
		return strings.HasPrefix(string(ev.Kv.Key), s.prefix+dirResults)
	})
	var out []storage.Event
	for _, ev := range evs {
		if ev.Type != mvccpb.PUT {
			continue
		}
		k, _ := strings.CutPrefix(string(ev.Kv.Key), s.prefix)
		e := storage.Event{Revision: rev}
		switch {
		case strings.HasPrefix(k, dirResults):
			id, rec, err := s.decodeResult(ev.Kv)
			if err != nil {
				return nil, err
			}
			h := records.HistoryEntry(id, rev, rec)
			e.Kind, e.Result = storage.ResultAdded, &h
		case strings.HasPrefix(k, dirTokens) && !results: // with results, it is their token's last use
			var p storev1.Token
			if err := proto.Unmarshal(ev.Kv.Value, &p); err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			t := records.TokenOf(&p)
			e.Kind, e.Token = storage.TokenPut, &t
		case strings.HasPrefix(k, dirReleases):
			var p storev1.Release
			if err := proto.Unmarshal(ev.Kv.Value, &p); err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			e.Kind, e.Release = storage.ReleaseCreated, records.ReleaseOf(&p)
		case strings.HasPrefix(k, dirVerifications):
			var p storev1.Verification
			if err := proto.Unmarshal(ev.Kv.Value, &p); err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			v, err := records.VerificationOf(&p)
			if err != nil {
				return nil, err
			}
			v.Revision = rev
			e.Kind, e.Verification = storage.VerificationAdded, &v
		case strings.HasPrefix(k, dirAccelerators):
			var p storev1.Accelerator
			if err := proto.Unmarshal(ev.Kv.Value, &p); err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			a := records.AcceleratorOf(&p)
			e.Kind, e.Accelerator = storage.AcceleratorAdded, &a
		case strings.HasPrefix(k, dirDatasets):
			var p storev1.Dataset
			if err := proto.Unmarshal(ev.Kv.Value, &p); err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			ds, err := records.DatasetOf(&p)
			if err != nil {
				return nil, err
			}
			e.Kind, e.Dataset = storage.DatasetAdded, &ds
		default:
			continue
		}
		out = append(out, e)
	}
	// A batch's results in id order, as Append hands them out.
	slices.SortStableFunc(out, func(a, b storage.Event) int {
		if a.Result == nil || b.Result == nil {
			return 0
		}
		return cmp.Compare(a.Result.ID, b.Result.ID)
	})
	return out, nil
}
