package boltdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// defaultWatchBuffer is how many committed writes a watcher may fall
// behind by before it is cut off with ErrCompacted, so that no watcher
// ever holds up a writer.
const defaultWatchBuffer = 1024

// replayScan bounds the work of one read transaction of a replay: the
// events and results it steps over, whether they pass the watch's filter
// or not. A watch resuming far back, or one whose filter passes little,
// never holds a long read transaction; it reads on in the next one. Each
// transaction reads one result at least. A variable for tests.
var replayScan = 16384

// hub publishes committed writes to watchers in revision order. Commits
// that share a bbolt Batch finish in any order; the hub holds a revision
// back until every earlier one is published.
type hub struct {
	mu       sync.Mutex
	last     int64                     // the highest revision published
	pending  map[int64][]storage.Event // committed, waiting for an earlier one
	watchers map[*watcher]struct{}
	buffer   int
	closed   bool
}

type watcher struct {
	// live carries one committed revision's events at a time, as the
	// writer made them: shared by every watcher, never changed.
	live chan []storage.Event
	// cut is closed when the watch must end, once it has sent what live
	// holds: the watcher fell behind, or the store was closed. err says
	// which; it is set before cut is closed.
	cut  chan struct{}
	err  error
	once sync.Once
}

// end ends the watch with err, unless it was ended already.
func (w *watcher) end(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.cut)
	})
}

func newHub(rev int64, buffer int) *hub {
	return &hub{last: rev, pending: map[int64][]storage.Event{}, watchers: map[*watcher]struct{}{}, buffer: buffer}
}

// publish hands the events of committed revision rev to every watcher,
// once every revision before it is published.
func (h *hub) publish(rev int64, events []storage.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pending[rev] = events
	for {
		evs, ok := h.pending[h.last+1]
		if !ok {
			return
		}
		delete(h.pending, h.last+1)
		h.last++
		for w := range h.watchers {
			select {
			case w.live <- evs:
			default: // it fell behind: it must reload, never hold up writers
				w.end(fmt.Errorf("the watcher fell %d writes behind: %w", cap(w.live), storage.ErrCompacted))
				delete(h.watchers, w)
			}
		}
	}
}

// subscribe registers a watcher and returns the last revision published
// before it: the watcher gets every later one live.
func (h *hub) subscribe() (*watcher, int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, 0, false
	}
	w := &watcher{live: make(chan []storage.Event, h.buffer), cut: make(chan struct{})}
	h.watchers[w] = struct{}{}
	return w, h.last, true
}

func (h *hub) unsubscribe(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.watchers, w)
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for w := range h.watchers {
		w.end(fmt.Errorf("watch: %w", storage.ErrClosed))
		delete(h.watchers, w)
	}
}

// Watch sends the events after revision `after` that pass f, from disk,
// then live ones, in responses of at most storage.WatchMaxEvents events
// (see storage.WatchResponse). On disk, a result passes or not on its
// model alone, read from its record without decoding it (modelOf); only
// the results that pass are decoded. A revision older than events/ keeps
// (see EventRetention) is ErrCompacted, and so is falling more than
// Options.WatchBuffer writes behind live ones; Close ends every watch with
// ErrClosed. Live events, which the writer decoded already, are filtered
// and split the same way.
func (d *DB) Watch(ctx context.Context, after int64, f storage.WatchFilter) <-chan storage.WatchResponse {
	out := make(chan storage.WatchResponse, 1)
	w, upTo, ok := d.hub.subscribe()
	if !ok {
		out <- storage.WatchResponse{Err: storage.ErrClosed}
		close(out)
		return out
	}
	go func() {
		defer close(out)
		defer d.hub.unsubscribe(w)
		send := func(r storage.WatchResponse) bool {
			select {
			case out <- r:
				return true
			case <-ctx.Done():
				return false
			}
		}
		if after > upTo || after < 0 {
			send(storage.WatchResponse{Err: fmt.Errorf("revision %d: the latest is %d: %w", after, upTo, storage.ErrCompacted)})
			return
		}
		// Replay what was committed before the subscription.
		r := &replay{d: d, f: f, rev: after, upTo: upTo}
		for !r.done {
			resp, err := r.next(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				send(storage.WatchResponse{Err: storageError("watch", err)})
				return
			}
			if len(resp.Events) > 0 && !send(resp) {
				return
			}
		}
		progress := time.NewTicker(storage.ProgressInterval)
		defer progress.Stop()
		for {
			select {
			case evs := <-w.live:
				if !sendLive(evs, f, send) {
					return
				}
			case <-progress.C:
				// Caught up, unless live events wait: then they say more.
				if len(w.live) == 0 && !send(storage.WatchResponse{}) {
					return
				}
			case <-w.cut:
				// Send what arrived before the cut, then say why it ends.
				for drained := false; !drained; {
					select {
					case evs := <-w.live:
						if !sendLive(evs, f, send) {
							return
						}
					default:
						drained = true
					}
				}
				send(storage.WatchResponse{Err: w.err})
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// sendLive sends the events of one live revision that pass f, in
// responses within the bounds, More set on all but the last; it reports
// whether the watch goes on. evs is shared with other watchers: it is
// sliced, never changed.
func sendLive(evs []storage.Event, f storage.WatchFilter, send func(storage.WatchResponse) bool) bool {
	if f != (storage.WatchFilter{}) {
		evs = passing(evs, f)
	}
	for len(evs) > 0 {
		n, size := 0, 0
		for n < len(evs) {
			s := storage.EventBytes(&evs[n])
			if !storage.WatchFits(n, size, s) {
				break
			}
			n, size = n+1, size+s
		}
		if !send(storage.WatchResponse{Events: evs[:n:n], More: n < len(evs)}) {
			return false
		}
		evs = evs[n:]
	}
	return true
}

// passing returns the events that pass f: evs itself when all do, else a
// copy of those.
func passing(evs []storage.Event, f storage.WatchFilter) []storage.Event {
	for i := range evs {
		if f.Passes(&evs[i]) {
			continue
		}
		out := append([]storage.Event(nil), evs[:i]...)
		for j := i + 1; j < len(evs); j++ {
			if f.Passes(&evs[j]) {
				out = append(out, evs[j])
			}
		}
		return out
	}
	return evs
}

// replay reads the events of revisions (rev, upTo] that pass f from
// events/, a response at a time. Its position survives between read
// transactions: revision rev is read whole, and the first skip results of
// revision rev+1 (a revision of results a response split, or a read
// transaction's budget ended inside).
type replay struct {
	d    *DB
	f    storage.WatchFilter
	rev  int64
	skip uint32
	upTo int64
	// pending is the response being filled, and bytes what its events
	// hold (storage.EventBytes).
	pending []storage.Event
	bytes   int
	done    bool
}

// next returns the next response: full, or the replay's last (done is
// then set). It reads as many read transactions as it takes, each bounded
// by replayScan, until ctx ends; a response that ends inside a revision
// says More.
func (r *replay) next(ctx context.Context) (storage.WatchResponse, error) {
	for {
		if err := ctx.Err(); err != nil {
			return storage.WatchResponse{}, err
		}
		var resp storage.WatchResponse
		full := false
		err := r.d.db.View(func(tx *bolt.Tx) error {
			var err error
			resp, full, err = r.read(tx)
			return err
		})
		if err != nil {
			return storage.WatchResponse{}, err
		}
		if full || r.done {
			return resp, nil
		}
	}
}

// read goes on with the replay in tx until a response is full (it returns
// it), the replay is done (it returns the last one), or tx's budget is
// spent (the response goes on in the next transaction).
func (r *replay) read(tx *bolt.Tx) (storage.WatchResponse, bool, error) {
	if from := oldestKept(tx); r.rev+1 < from {
		return storage.WatchResponse{}, false, fmt.Errorf("revision %d: events/ keeps revisions from %d on: %w", r.rev, from, storage.ErrCompacted)
	}
	results := tx.Bucket(bucketResults).Cursor()
	steps := 0
	c := tx.Bucket(bucketEvents).Cursor()
	var ev storev1.Event
	for k, v := c.Seek(u64(uint64(r.rev + 1))); k != nil; k, v = c.Next() {
		rev := int64(binary.BigEndian.Uint64(k))
		if rev > r.upTo {
			break
		}
		if steps >= replayScan {
			return storage.WatchResponse{}, false, nil
		}
		steps++
		ev.Reset()
		if err := proto.Unmarshal(v, &ev); err != nil {
			return storage.WatchResponse{}, false, fmt.Errorf("event %d: %w", rev, err)
		}
		if r.skip > 0 && rev != r.rev+1 {
			return storage.WatchResponse{}, false, fmt.Errorf("event %d: the replay stopped inside revision %d, which events/ no longer holds", rev, r.rev+1)
		}
		if ev.Kind != storev1.Event_KIND_RESULTS {
			e, err := eventOf(tx, rev, &ev)
			if err != nil {
				return storage.WatchResponse{}, false, fmt.Errorf("event %d: %w", rev, err)
			}
			full, resp := r.add(e)
			r.rev = rev
			if full {
				return resp, true, nil
			}
			continue
		}
		// A revision of results: step over those f does not pass, reading
		// their model alone, and decode the others.
		var rk, rv []byte
		for ; r.skip < ev.Results; steps++ {
			if steps > replayScan {
				return storage.WatchResponse{}, false, nil
			}
			id := ev.FirstResultId + uint64(r.skip)
			if rk != nil && binary.BigEndian.Uint64(rk)+1 == id {
				rk, rv = results.Next() // a batch's ids are consecutive
			} else {
				rk, rv = results.Seek(u64(id))
			}
			if rk == nil || binary.BigEndian.Uint64(rk) != id {
				return storage.WatchResponse{}, false, fmt.Errorf("event %d: result %d: %w", rev, id, storage.ErrNotFound)
			}
			r.skip++
			if r.f != (storage.WatchFilter{}) {
				model, err := modelOf(rv)
				if err != nil {
					return storage.WatchResponse{}, false, fmt.Errorf("event %d: result %d: %w", rev, id, err)
				}
				if !matches(r.f, model) {
					continue
				}
			}
			var rec storev1.Result
			if err := proto.Unmarshal(rv, &rec); err != nil {
				return storage.WatchResponse{}, false, fmt.Errorf("event %d: result %d: %w", rev, id, err)
			}
			h := records.HistoryEntry(id, rev, &rec)
			if full, resp := r.add(storage.Event{Revision: rev, Kind: storage.ResultAdded, Result: &h}); full {
				return resp, true, nil
			}
		}
		r.rev, r.skip = rev, 0
	}
	// Nothing more up to upTo (a migrated file recorded no events before
	// schema 4: nothing to replay there).
	r.rev, r.skip, r.done = r.upTo, 0, true
	resp := storage.WatchResponse{Events: r.pending}
	r.pending, r.bytes = nil, 0
	return resp, false, nil
}

// add puts e in the response being filled, unless it is full: then it
// returns that response, and e starts the next. The full one says More
// when e continues its last revision.
func (r *replay) add(e storage.Event) (bool, storage.WatchResponse) {
	size := storage.EventBytes(&e)
	if storage.WatchFits(len(r.pending), r.bytes, size) {
		r.pending, r.bytes = append(r.pending, e), r.bytes+size
		return false, storage.WatchResponse{}
	}
	resp := storage.WatchResponse{Events: r.pending, More: r.pending[len(r.pending)-1].Revision == e.Revision}
	r.pending, r.bytes = append(make([]storage.Event, 0, min(cap(r.pending), storage.WatchMaxEvents)), e), size
	return true, resp
}

// modelOf reads the model of an encoded storev1.Result, field 1, without
// decoding the rest: Marshal writes each field once, in field order, so
// that this reads a few bytes. The bytes returned are v's.
func modelOf(v []byte) ([]byte, error) {
	for len(v) > 0 {
		num, typ, n := protowire.ConsumeTag(v)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		v = v[n:]
		if num == 1 && typ == protowire.BytesType {
			b, n := protowire.ConsumeBytes(v)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			return b, nil
		}
		if n = protowire.ConsumeFieldValue(num, typ, v); n < 0 {
			return nil, protowire.ParseError(n)
		}
		v = v[n:]
	}
	return nil, nil // no model: proto3's empty string
}

// matches is f.Matches on a model's bytes, without a copy.
func matches(f storage.WatchFilter, model []byte) bool {
	if f.Model != "" && string(model) != f.Model {
		return false
	}
	if f.Owner == "" {
		return true
	}
	owner, _, _ := bytes.Cut(model, []byte{'/'})
	return string(owner) == f.Owner
}

// eventOf reads the one event a stored event other than results stands
// for.
func eventOf(tx *bolt.Tx, rev int64, ev *storev1.Event) (storage.Event, error) {
	switch ev.Kind {
	case storev1.Event_KIND_TOKEN:
		var t storev1.Token
		if err := getProto(tx.Bucket(bucketTokens), []byte(ev.TokenId), &t); err != nil {
			return storage.Event{}, fmt.Errorf("token %s: %w", ev.TokenId, err)
		}
		tok := records.TokenOf(&t)
		return storage.Event{Revision: rev, Kind: storage.TokenPut, Token: &tok}, nil
	case storev1.Event_KIND_RELEASE:
		var p storev1.Release
		if err := getProto(tx.Bucket(bucketReleases), u64(ev.Seq), &p); err != nil {
			return storage.Event{}, fmt.Errorf("release %d: %w", ev.Seq, err)
		}
		return storage.Event{Revision: rev, Kind: storage.ReleaseCreated, Release: records.ReleaseOf(&p)}, nil
	case storev1.Event_KIND_VERIFICATION:
		var p storev1.Verification
		if err := getProto(tx.Bucket(bucketVerifications), u64(ev.Seq), &p); err != nil {
			return storage.Event{}, fmt.Errorf("verification %d: %w", ev.Seq, err)
		}
		v, err := records.VerificationOf(&p)
		if err != nil {
			return storage.Event{}, err
		}
		v.Revision = rev
		return storage.Event{Revision: rev, Kind: storage.VerificationAdded, Verification: &v}, nil
	case storev1.Event_KIND_ACCELERATOR:
		var p storev1.Accelerator
		if err := getProto(tx.Bucket(bucketAccelerators), u64(ev.Seq), &p); err != nil {
			return storage.Event{}, fmt.Errorf("accelerator %d: %w", ev.Seq, err)
		}
		a := records.AcceleratorOf(&p)
		return storage.Event{Revision: rev, Kind: storage.AcceleratorAdded, Accelerator: &a}, nil
	case storev1.Event_KIND_DATASET:
		var p storev1.Dataset
		if err := getProto(tx.Bucket(bucketDatasets), u64(ev.Seq), &p); err != nil {
			return storage.Event{}, fmt.Errorf("dataset %d: %w", ev.Seq, err)
		}
		ds, err := records.DatasetOf(&p)
		if err != nil {
			return storage.Event{}, err
		}
		return storage.Event{Revision: rev, Kind: storage.DatasetAdded, Dataset: &ds}, nil
	}
	return storage.Event{}, fmt.Errorf("unknown kind %v", ev.Kind)
}
