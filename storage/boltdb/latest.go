package boltdb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// latest/ is written at checkpoints, not by Append.
//
// Only start-up reads latest/ (the snapshot the index is built from); the
// index itself follows events. A model's entry is one of two million at
// ten million results, so each result an Append filed there dirtied a page
// of its own: half the cost of a bulk load. Append leaves latest/ alone;
// meta/latest-through records the highest result id whose entry latest/
// holds, and every result after it is pending. A checkpoint decodes the
// pending results, keeps the highest id of each cohort and model, and
// writes those entries in key order, so that a page takes many of them at
// once. An Append that leaves enough results pending (a quarter of
// latest/'s entries: then a checkpoint writes most of its pages, each for
// several results) starts one on a goroutine of its own, so that no
// caller waits for it and no caller's deadline cuts it short; Close waits
// for it and writes what is left, so that start-up after a clean stop
// reads latest/ alone. A snapshot
// taken with results pending reads them too (overlayPending): a crash
// loses nothing.
//
// An entry is only ever replaced by one of a higher result id, so a
// checkpoint cut short (it writes in several transactions, to bound each
// one's memory) is simply done again.

// DefaultLatestCheckpoint and maxLatestCheckpoint bound how many results a
// checkpoint waits for when Options.LatestCheckpoint is 0. A checkpoint
// holds some 400 bytes a pending result while it runs (at ten million
// results, two million entries, it waits for 500,000: some 200 MiB; at
// most some 400 MiB, however many models register), and a start-up after
// a crash reads the pending results beyond latest/.
const (
	DefaultLatestCheckpoint = 1 << 17
	maxLatestCheckpoint     = 1 << 20
)

// latestChunk is the most entries one checkpoint transaction writes.
const latestChunk = 1 << 15

// keyLatestThrough is meta/latest-through, uint64 BE: every result up to
// this id has its entry in latest/ (or a later result of its cohort and
// model has).
var keyLatestThrough = []byte("latest-through")

// latestThrough reads meta/latest-through, and the id of the last result.
// A file before schema 7 has none: every Append wrote latest/ then.
func latestThrough(tx *bolt.Tx) (through, last uint64, err error) {
	last = tx.Bucket(bucketResults).Sequence()
	v := tx.Bucket(bucketMeta).Get(keyLatestThrough)
	if v == nil {
		return last, last, nil
	}
	if len(v) != 8 {
		return 0, 0, fmt.Errorf("meta/latest-through holds %d bytes, not a result id", len(v))
	}
	through = binary.BigEndian.Uint64(v)
	if through > last {
		return 0, 0, fmt.Errorf("meta/latest-through is result %d, past the last result, %d", through, last)
	}
	return through, last, nil
}

// currentKey names an entry of latest/: a model in a cohort.
type currentKey struct {
	cohort rating.Cohort
	model  string
}

// pendingCurrents decodes the results after `through`, up to last, into
// the current each makes, the highest id of each cohort and model only.
func pendingCurrents(tx *bolt.Tx, through, last uint64) (map[currentKey]storage.Current, error) {
	out := map[currentKey]storage.Current{}
	c := tx.Bucket(bucketResults).Cursor()
	var rec storev1.Result
	for k, v := c.Seek(u64(through + 1)); k != nil; k, v = c.Next() {
		id := binary.BigEndian.Uint64(k)
		if id > last {
			break
		}
		rec.Reset()
		if err := proto.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("result %d: %w", id, err)
		}
		cur := records.Current(id, &rec)
		out[currentKey{cur.Measure.Cohort, cur.Model}] = cur // ids rise: the later wins
	}
	return out, nil
}

// overlayPending brings a snapshot's currents, read from latest/, up to
// the last result: each pending result replaces the entry of its cohort
// and model if it is later, or joins them.
func overlayPending(tx *bolt.Tx, currents []storage.Current) ([]storage.Current, error) {
	through, last, err := latestThrough(tx)
	if err != nil || through == last {
		return currents, err
	}
	pending, err := pendingCurrents(tx, through, last)
	if err != nil {
		return nil, err
	}
	for i := range currents {
		k := currentKey{currents[i].Measure.Cohort, currents[i].Model}
		if p, ok := pending[k]; ok {
			if p.ID > currents[i].ID {
				currents[i] = p
			}
			delete(pending, k)
		}
	}
	added := slices.SortedFunc(maps.Values(pending), func(a, b storage.Current) int { return cmp.Compare(a.ID, b.ID) })
	return append(currents, added...), nil
}

// checkpointDue reports whether enough results wait for a checkpoint.
func (d *DB) checkpointDue() bool {
	at := d.checkpointAt
	if at == 0 {
		at = min(max(DefaultLatestCheckpoint, d.latestEntries.Load()/4), maxLatestCheckpoint)
	}
	return d.lastID.Load()-d.latestThrough.Load() >= at
}

// startCheckpointIfDue starts a checkpoint on a goroutine of its own if
// enough results wait for one and none is running. One that fails (the
// file's error would fail Appends too) is tried again after the next
// Append, and at Close, which returns its error.
func (d *DB) startCheckpointIfDue() {
	if !d.checkpointDue() || d.closed.Load() || !d.checkpointing.CompareAndSwap(false, true) {
		return
	}
	d.background.Go(func() {
		defer d.checkpointing.Store(false)
		d.checkpointLatest(context.Background())
	})
}

// checkpointLatest writes the entries of every pending result into
// latest/ and moves meta/latest-through past them. Appends may go on
// meanwhile: they do not write latest/, and what they store stays pending.
func (d *DB) checkpointLatest(ctx context.Context) error {
	d.checkpoint.Lock()
	defer d.checkpoint.Unlock()
	puts, last, err := d.pendingPuts()
	if err != nil || puts == nil {
		return err
	}
	for chunk := range slices.Chunk(puts, latestChunk) {
		if err := ctx.Err(); err != nil {
			return err
		}
		var added int
		err := d.db.Update(func(tx *bolt.Tx) (err error) {
			added, err = putLatest(tx, chunk)
			return err
		})
		if err != nil {
			return err
		}
		d.latestEntries.Add(uint64(added))
	}
	err = d.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyLatestThrough, u64(last))
	})
	if err == nil {
		d.latestThrough.Store(last)
	}
	return err
}

// pendingPuts reads the pending results into the entries a checkpoint
// writes, in key order, and the last result's id; nil when none is
// pending.
func (d *DB) pendingPuts() ([]latestPut, uint64, error) {
	var last uint64
	var pending map[currentKey]storage.Current
	err := d.db.View(func(tx *bolt.Tx) error {
		through, l, err := latestThrough(tx)
		if err != nil || through == l {
			return err
		}
		last = l
		pending, err = pendingCurrents(tx, through, last)
		return err
	})
	if err != nil || pending == nil {
		return nil, 0, err
	}
	puts := make([]latestPut, 0, len(pending))
	for k, cur := range pending {
		puts = append(puts, latestPut{key: latestKey(k.cohort, k.model), current: cur})
	}
	slices.SortFunc(puts, func(a, b latestPut) int { return bytes.Compare(a.key, b.key) })
	return puts, last, nil
}

// latestPut is an entry a checkpoint writes.
type latestPut struct {
	key     []byte
	current storage.Current
}

// putLatest writes entries into latest/, in the order given, each unless
// the entry there is of a later result, and counts those it added.
func putLatest(tx *bolt.Tx, puts []latestPut) (added int, err error) {
	lb := tx.Bucket(bucketLatest)
	for _, p := range puts {
		if v := lb.Get(p.key); v == nil {
			added++
		} else if held, err := latestResultID(v); err != nil {
			return 0, latestError(p.key, err)
		} else if held >= p.current.ID {
			continue
		}
		v, err := proto.Marshal(records.Latest(&p.current))
		if err != nil {
			return 0, err
		}
		if err := lb.Put(p.key, v); err != nil {
			return 0, err
		}
	}
	return added, nil
}

// latestResultID reads the result id of a Latest record: its first field,
// as the encoder writes fields in order, or else wherever it is.
func latestResultID(v []byte) (uint64, error) {
	if num, typ, n := protowire.ConsumeTag(v); n > 0 && num == 1 && typ == protowire.VarintType {
		if id, m := protowire.ConsumeVarint(v[n:]); m > 0 {
			return id, nil
		}
	}
	var l storev1.Latest
	if err := proto.Unmarshal(v, &l); err != nil {
		return 0, err
	}
	return l.ResultId, nil
}
