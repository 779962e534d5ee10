package boltdb

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// defaultWatchBuffer is how many committed writes a watcher may fall
// behind by before it is cut off with ErrCompacted, so that no watcher
// ever holds up a writer.
const defaultWatchBuffer = 1024

// replayChunk bounds the events one read transaction replays from disk,
// so that a watch resuming far back never holds a long read transaction.
const replayChunk = 4096

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
	live chan []storage.Event
	// cut is closed when the watcher fell behind.
	cut  chan struct{}
	once sync.Once
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
				w.once.Do(func() { close(w.cut) })
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
		w.once.Do(func() { close(w.cut) })
		delete(h.watchers, w)
	}
}

// Watch sends the events after revision `after` from disk, then live ones.
func (d *DB) Watch(ctx context.Context, after int64) <-chan storage.WatchResponse {
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
		// Replay what was committed before the subscription, in chunks.
		for from := after; from < upTo; {
			evs, last, err := d.replay(from, upTo)
			if err != nil {
				send(storage.WatchResponse{Err: err})
				return
			}
			if len(evs) > 0 && !send(storage.WatchResponse{Events: evs}) {
				return
			}
			from = last
		}
		progress := time.NewTicker(storage.ProgressInterval)
		defer progress.Stop()
		for {
			select {
			case evs := <-w.live:
				if !send(storage.WatchResponse{Events: evs}) {
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
						if !send(storage.WatchResponse{Events: evs}) {
							return
						}
					default:
						drained = true
					}
				}
				send(storage.WatchResponse{Err: fmt.Errorf("the watcher fell %d writes behind: %w", cap(w.live), storage.ErrCompacted)})
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// replay reads the events of revisions (from, upTo], at most replayChunk
// writes, and returns them with the last revision read.
func (d *DB) replay(from, upTo int64) ([]storage.Event, int64, error) {
	var out []storage.Event
	last := from
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		n := 0
		for k, v := c.Seek(u64(uint64(from + 1))); k != nil && n < replayChunk; k, v = c.Next() {
			rev := int64(binary.BigEndian.Uint64(k))
			if rev > upTo {
				break
			}
			var ev storev1.Event
			if err := proto.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("event %d: %w", rev, err)
			}
			evs, err := eventsOf(tx, rev, &ev)
			if err != nil {
				return fmt.Errorf("event %d: %w", rev, err)
			}
			out = append(out, evs...)
			last, n = rev, n+1
		}
		if last == from {
			last = upTo // no event recorded in (from, upTo]: a migrated file
		}
		return nil
	})
	return out, last, err
}

// eventsOf expands a stored event into the events Watch sends.
func eventsOf(tx *bolt.Tx, rev int64, ev *storev1.Event) ([]storage.Event, error) {
	switch ev.Kind {
	case storev1.Event_KIND_RESULTS:
		out := make([]storage.Event, 0, ev.Results)
		results := tx.Bucket(bucketResults)
		for id := ev.FirstResultId; id < ev.FirstResultId+uint64(ev.Results); id++ {
			var rec storev1.Result
			if err := getProto(results, u64(id), &rec); err != nil {
				return nil, fmt.Errorf("result %d: %w", id, err)
			}
			h := records.HistoryEntry(id, rev, &rec)
			out = append(out, storage.Event{Revision: rev, Kind: storage.ResultAdded, Result: &h})
		}
		return out, nil
	case storev1.Event_KIND_TOKEN:
		var t storev1.Token
		if err := getProto(tx.Bucket(bucketTokens), []byte(ev.TokenId), &t); err != nil {
			return nil, fmt.Errorf("token %s: %w", ev.TokenId, err)
		}
		tok := records.TokenOf(&t)
		return []storage.Event{{Revision: rev, Kind: storage.TokenPut, Token: &tok}}, nil
	case storev1.Event_KIND_RELEASE:
		var p storev1.Release
		if err := getProto(tx.Bucket(bucketReleases), u64(ev.Seq), &p); err != nil {
			return nil, fmt.Errorf("release %d: %w", ev.Seq, err)
		}
		return []storage.Event{{Revision: rev, Kind: storage.ReleaseCreated, Release: records.ReleaseOf(&p)}}, nil
	case storev1.Event_KIND_VERIFICATION:
		var p storev1.Verification
		if err := getProto(tx.Bucket(bucketVerifications), u64(ev.Seq), &p); err != nil {
			return nil, fmt.Errorf("verification %d: %w", ev.Seq, err)
		}
		v, err := records.VerificationOf(&p)
		if err != nil {
			return nil, err
		}
		v.Revision = rev
		return []storage.Event{{Revision: rev, Kind: storage.VerificationAdded, Verification: &v}}, nil
	case storev1.Event_KIND_ACCELERATOR:
		var p storev1.Accelerator
		if err := getProto(tx.Bucket(bucketAccelerators), u64(ev.Seq), &p); err != nil {
			return nil, fmt.Errorf("accelerator %d: %w", ev.Seq, err)
		}
		a := records.AcceleratorOf(&p)
		return []storage.Event{{Revision: rev, Kind: storage.AcceleratorAdded, Accelerator: &a}}, nil
	case storev1.Event_KIND_DATASET:
		var p storev1.Dataset
		if err := getProto(tx.Bucket(bucketDatasets), u64(ev.Seq), &p); err != nil {
			return nil, fmt.Errorf("dataset %d: %w", ev.Seq, err)
		}
		ds, err := records.DatasetOf(&p)
		if err != nil {
			return nil, err
		}
		return []storage.Event{{Revision: rev, Kind: storage.DatasetAdded, Dataset: &ds}}, nil
	}
	return nil, fmt.Errorf("unknown kind %v", ev.Kind)
}
