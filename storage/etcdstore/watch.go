package etcdstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// retryWatch is how long a watch waits before it resumes, after its
// member lost the leader or its watch ended for no reason given.
const retryWatch = 200 * time.Millisecond

// Watch sends the events after revision `after` that pass f, from etcd's
// history, then live ones, from one etcd watch on the prefix at a time. A
// revision etcd compacted away, or one not yet written, ends it with
// ErrCompacted. So does falling WatchBuffer responses behind live ones:
// etcd never holds up a writer for a watcher, and this keeps the client
// from buffering without bound for one.
//
// The etcd watch is on one member, the one requests go to first when it
// starts. It asks for progress every storage.ProgressInterval, and checks
// as often that the member still serves a linearizable read (within
// AttemptTimeout): a member cut off from the leader goes on answering a
// watch, and its progress notices, with revisions it will not pass. When
// that read fails, when the member hears nothing for WatchTimeout
// (neither an event nor a progress notice), or when the member loses its
// leader, the etcd watch is ended and started again on the next member,
// from the revision after the last one it handed on whole: nothing is
// lost, and nothing sent twice.
//
// A result's model is in its key (results/<model> 0x00 <id>): f is
// applied to the key, and only the results that pass are decoded, a
// response's worth at a time (storage.WatchMaxEvents); a revision with
// more is split, More set on all but its last response.
func (s *Store) Watch(ctx context.Context, after int64, f storage.WatchFilter) <-chan storage.WatchResponse {
	out := make(chan storage.WatchResponse, 1)
	go s.watch(ctx, after, f, out)
	return out
}

func (s *Store) watch(ctx context.Context, after int64, f storage.WatchFilter, out chan<- storage.WatchResponse) {
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
	// q holds responses: events, or progress (neither).
	q := make(chan storage.WatchResponse, s.opt.WatchBuffer)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.follow(fctx, after, now, f, q)
		cancel()
	}()
	for {
		select {
		case r := <-q:
			if !send(r) {
				return
			}
		case err := <-done:
			// Send what came before the end, then say why it ends.
			for empty := false; !empty; {
				select {
				case r := <-q:
					if !send(r) {
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

// follow puts the events of each revision after `after` that pass f on q,
// in responses. Revisions up to `now` are history: when q is full, it
// cancels the etcd watch, so that nothing piles up in the client, hands on
// the rest of the revision as the reader takes it, waits for the reader,
// then watches again from the next revision. Past `now`, a full q means
// the reader fell behind live writes. A member that fails the watch
// leaves it to the next (see Watch).
func (s *Store) follow(ctx context.Context, after, now int64, f storage.WatchFilter, q chan<- storage.WatchResponse) error {
	next := after + 1
	a := s.attempts()
	for {
		i := a.pick()
		wait, moveOn, err := s.followFrom(ctx, i, &next, now, f, q)
		if wait == nil {
			return err
		}
		if moveOn {
			s.failed(i)
			a.next = (i + 1) % len(s.members)
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

// resume resumes at once, on the next member.
func resume(context.Context) error { return nil }

// drained waits until the reader has taken half of q, so that a slow reader
// of history costs a watch every cap(q)/2 revisions, not every revision.
func drained(q chan<- storage.WatchResponse) pause {
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

// followFrom runs one etcd watch, on member i, from *next, advancing it
// past every revision it hands on. It returns what to wait for before
// watching again, and whether on the next member; or nil and why the watch
// ends.
func (s *Store) followFrom(ctx context.Context, i int, next *int64, now int64, f storage.WatchFilter, q chan<- storage.WatchResponse) (pause, bool, error) {
	m := s.members[i]
	dctx, cancel := context.WithTimeout(ctx, s.opt.AttemptTimeout)
	cli, err := m.client(dctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		if !retryable(err) {
			return nil, false, s.watchError(ctx, err)
		}
		return retry, true, nil
	}
	// Without a leader a member's watch would go silent; this way it ends,
	// and the next one may reach a member that has one.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	// A watcher of its own is a gRPC stream of its own: etcd reports
	// progress only to a stream whose every watch has caught up, so that
	// another watch replaying history would keep this one from hearing it.
	// Closing it closes whatever stream a progress request opened; it is
	// closed aside, so that a member that hangs holds up nothing.
	w := clientv3.NewWatcher(cli)
	defer func() { go w.Close() }()
	// etcd reports progress only to a watch that started at or before its
	// revision, so the watch starts one revision early, at one that exists,
	// and skips what was handed on already.
	ch := w.Watch(wctx, s.prefix, clientv3.WithPrefix(), clientv3.WithRev(max(*next-1, 1)))
	unhealthy := make(chan error, 1)
	go s.checkMember(wctx, w, cli, unhealthy)
	silence := time.NewTimer(s.opt.WatchTimeout)
	defer silence.Stop()
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case resp, ok = <-ch:
		case <-silence.C:
			return resume, true, nil
		case <-unhealthy:
			return resume, true, nil
		}
		if !ok {
			break
		}
		if err := resp.Err(); err != nil {
			if retryable(err) {
				return retry, true, nil
			}
			return nil, false, s.watchError(ctx, err)
		}
		if resp.IsProgressNotify() {
			// Caught up; unless events wait for the reader, which then
			// hears of progress from the next one.
			if len(q) == 0 {
				select {
				case q <- storage.WatchResponse{}:
				default:
				}
			}
			silence.Reset(s.opt.WatchTimeout)
			continue
		}
		for evs := range revisions(resp.Events) {
			rev := evs[0].Kv.ModRevision
			if rev < *next {
				continue
			}
			// Hand on each response of the revision; once q is full, in
			// history, the etcd watch is cancelled and the rest of the
			// revision waits for the reader.
			full := false
			err := s.eventsOf(rev, evs, f, func(r storage.WatchResponse) error {
				if !full {
					select {
					case q <- r:
						return nil
					default:
					}
					if rev > now {
						return fmt.Errorf("the watcher fell %d responses behind: %w", cap(q), storage.ErrCompacted)
					}
					full = true
					cancel()
				}
				select {
				case q <- r:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			switch {
			case err == nil:
			case errors.Is(err, storage.ErrCompacted) || ctx.Err() != nil:
				return nil, false, err
			default:
				return nil, false, fmt.Errorf("watch: revision %d: %w", rev, err)
			}
			*next = rev + 1
			if full {
				return drained(q), false, nil
			}
		}
		silence.Reset(s.opt.WatchTimeout)
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if s.ctx.Err() != nil {
		return nil, false, fmt.Errorf("watch: %w", storage.ErrClosed)
	}
	return retry, false, nil
}

// watchError is storageError for a watch that etcd ended: whatever etcd
// gave as its reason, unless it says more, is storage.ErrUnavailable.
func (s *Store) watchError(ctx context.Context, err error) error {
	err = s.storageError(ctx, "watch", err)
	for _, known := range []error{storage.ErrUnavailable, storage.ErrClosed, storage.ErrCompacted, storage.ErrFull, ctx.Err()} {
		if known != nil && errors.Is(err, known) {
			return err
		}
	}
	return fmt.Errorf("%w (%v)", storage.ErrUnavailable, err)
}

// checkMember asks etcd every ProgressInterval to tell the watch how far
// it has caught up (etcd answers only a watch that has), and checks that
// the watch's member serves a linearizable read, until ctx ends; the
// first that fails is put on unhealthy.
func (s *Store) checkMember(ctx context.Context, w clientv3.Watcher, cli *clientv3.Client, unhealthy chan<- error) {
	t := time.NewTicker(storage.ProgressInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		w.RequestProgress(ctx) // a failure shows as the watch's
		actx, cancel := context.WithTimeout(ctx, s.opt.AttemptTimeout)
		_, err := cli.Get(actx, s.key(keyVersion), clientv3.WithCountOnly())
		cancel()
		if err != nil && ctx.Err() == nil && retryable(err) {
			unhealthy <- err
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

// eventsOf turns the puts of one revision that pass f into the seam's
// events, and hands them to emit in responses within the bounds
// (storage.WatchMaxEvents, WatchMaxBytes), More set on all but the last.
// A result passes or not on the model its key names; only those that
// pass are decoded, one response's worth at a time. It emits nothing for
// a revision nothing of passes.
func (s *Store) eventsOf(rev int64, evs []*clientv3.Event, f storage.WatchFilter, emit func(storage.WatchResponse) error) error {
	results := slices.ContainsFunc(evs, func(ev *clientv3.Event) bool {
		return strings.HasPrefix(string(ev.Kv.Key), s.prefix+dirResults)
	})
	// The puts that make events, a batch's results in id order, as Append
	// hands them out: an id is 16 hex digits at the key's end.
	var puts []*mvccpb.KeyValue
	for _, ev := range evs {
		if ev.Type != mvccpb.PUT {
			continue
		}
		k, _ := strings.CutPrefix(string(ev.Kv.Key), s.prefix)
		switch {
		case strings.HasPrefix(k, dirResults):
			model, _, ok := strings.Cut(k[len(dirResults):], "\x00")
			if ok && !f.Matches(model) {
				continue
			}
		case strings.HasPrefix(k, dirTokens) && !results: // with results, it is their token's last use
		case strings.HasPrefix(k, dirReleases), strings.HasPrefix(k, dirVerifications),
			strings.HasPrefix(k, dirAccelerators), strings.HasPrefix(k, dirDatasets):
		default:
			continue
		}
		puts = append(puts, ev.Kv)
	}
	if results {
		slices.SortStableFunc(puts, func(a, b *mvccpb.KeyValue) int {
			return strings.Compare(resultID(a.Key), resultID(b.Key))
		})
	}
	var out []storage.Event
	size := 0
	for _, kv := range puts {
		e, err := s.eventOf(rev, kv)
		if err != nil {
			return err
		}
		n := storage.EventBytes(&e)
		if !storage.WatchFits(len(out), size, n) {
			if err := emit(storage.WatchResponse{Events: out, More: true}); err != nil {
				return err
			}
			out, size = make([]storage.Event, 0, min(len(out), storage.WatchMaxEvents)), 0
		}
		out, size = append(out, e), size+n
	}
	if len(out) == 0 {
		return nil
	}
	return emit(storage.WatchResponse{Events: out})
}

// resultID is the hex id at the end of a results/ key; "" for another key.
func resultID(k []byte) string {
	i := bytes.LastIndexByte(k, 0)
	if i < 0 {
		return ""
	}
	return string(k[i+1:])
}

// eventOf decodes one put that eventsOf kept.
func (s *Store) eventOf(rev int64, kv *mvccpb.KeyValue) (storage.Event, error) {
	k, _ := strings.CutPrefix(string(kv.Key), s.prefix)
	e := storage.Event{Revision: rev}
	switch {
	case strings.HasPrefix(k, dirResults):
		id, rec, err := s.decodeResult(kv)
		if err != nil {
			return e, err
		}
		h := records.HistoryEntry(id, rev, rec)
		e.Kind, e.Result = storage.ResultAdded, &h
	case strings.HasPrefix(k, dirTokens):
		var p storev1.Token
		if err := proto.Unmarshal(kv.Value, &p); err != nil {
			return e, fmt.Errorf("%q: %w", k, err)
		}
		t := records.TokenOf(&p)
		e.Kind, e.Token = storage.TokenPut, &t
	case strings.HasPrefix(k, dirReleases):
		var p storev1.Release
		if err := proto.Unmarshal(kv.Value, &p); err != nil {
			return e, fmt.Errorf("%q: %w", k, err)
		}
		e.Kind, e.Release = storage.ReleaseCreated, records.ReleaseOf(&p)
	case strings.HasPrefix(k, dirVerifications):
		var p storev1.Verification
		if err := proto.Unmarshal(kv.Value, &p); err != nil {
			return e, fmt.Errorf("%q: %w", k, err)
		}
		v, err := records.VerificationOf(&p)
		if err != nil {
			return e, err
		}
		v.Revision = rev
		e.Kind, e.Verification = storage.VerificationAdded, &v
	case strings.HasPrefix(k, dirAccelerators):
		var p storev1.Accelerator
		if err := proto.Unmarshal(kv.Value, &p); err != nil {
			return e, fmt.Errorf("%q: %w", k, err)
		}
		a := records.AcceleratorOf(&p)
		e.Kind, e.Accelerator = storage.AcceleratorAdded, &a
	case strings.HasPrefix(k, dirDatasets):
		var p storev1.Dataset
		if err := proto.Unmarshal(kv.Value, &p); err != nil {
			return e, fmt.Errorf("%q: %w", k, err)
		}
		ds, err := records.DatasetOf(&p)
		if err != nil {
			return e, err
		}
		e.Kind, e.Dataset = storage.DatasetAdded, &ds
	default:
		return e, fmt.Errorf("%q: not an event's key", k)
	}
	return e, nil
}
