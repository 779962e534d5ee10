package boltdb

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// Append stores a batch of accepted results in one write transaction, as
// one revision. It returns once the commit is on disk (fsynced). A lone
// call commits at once; concurrent ones share a commit through bbolt's
// Batch, which waits up to MaxBatchDelay to gather them, each still its own
// revision. Bulk loads append thousands at a time, so that the fsync, the
// only slow part, is shared by all of them.
func (d *DB) Append(ctx context.Context, batch []storage.Accepted) (uint64, int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if len(batch) == 0 {
		return 0, 0, fmt.Errorf("append: an empty batch")
	}
	vals := make([][]byte, len(batch))
	for i := range batch {
		var err error
		if vals[i], err = proto.Marshal(records.Result(&batch[i])); err != nil {
			return 0, 0, err
		}
	}
	// latest/ is keyed by cohort and model, in no relation to arrival:
	// putting its keys in key order touches each page once. The stable sort
	// keeps a model's later result after its earlier one.
	latest := make([]latestPut, len(batch))
	for i := range batch {
		latest[i] = latestPut{key: latestKey(batch[i].Measure.Cohort, batch[i].Result.Model), at: i}
	}
	slices.SortStableFunc(latest, func(a, b latestPut) int { return bytes.Compare(a.key, b.key) })

	commit := d.db.Batch
	if d.writers.Add(1) == 1 {
		commit = d.db.Update
	}
	defer d.writers.Add(-1)
	var first uint64
	var rev int64
	var entries []storage.HistoryEntry
	err := commit(func(tx *bolt.Tx) error {
		var err error
		first, rev, entries, err = appendTx(tx, batch, vals, latest)
		return err
	})
	if err != nil {
		return 0, 0, storageError("append", err)
	}
	events := make([]storage.Event, len(entries))
	for i := range entries {
		events[i] = storage.Event{Revision: rev, Kind: storage.ResultAdded, Result: &entries[i]}
	}
	d.hub.publish(rev, events)
	return first, rev, nil
}

type latestPut struct {
	key []byte
	at  int // index in the batch
}

// appendTx is Append's transaction. Batch may run it more than once, so it
// returns everything it made.
func appendTx(tx *bolt.Tx, batch []storage.Accepted, vals [][]byte, latest []latestPut) (uint64, int64, []storage.HistoryEntry, error) {
	results := tx.Bucket(bucketResults)
	results.FillPercent = appendFill
	seq := results.Sequence()
	first := seq + 1
	if err := results.SetSequence(seq + uint64(len(vals))); err != nil {
		return 0, 0, nil, err
	}
	rev, err := nextRevision(tx, &storev1.Event{Kind: storev1.Event_KIND_RESULTS, FirstResultId: first, Results: uint32(len(batch))})
	if err != nil {
		return 0, 0, nil, err
	}
	entries := make([]storage.HistoryEntry, len(batch))
	history := tx.Bucket(bucketHistory)
	for i, v := range vals {
		id := first + uint64(i)
		if err := results.Put(u64(id), v); err != nil {
			return 0, 0, nil, err
		}
		a := &batch[i]
		if err := history.Put(historyKey(a.Result.Model, id), u64(uint64(rev))); err != nil {
			return 0, 0, nil, err
		}
		if err := claimPayload(tx, a.Audit.PayloadSHA256, a.Result.Model); err != nil {
			return 0, 0, nil, fmt.Errorf("result %d of the batch: %w", i, err)
		}
		entries[i] = storage.HistoryEntry{Current: storage.CurrentOf(id, a), Label: a.Label, Revision: rev}
	}
	lb := tx.Bucket(bucketLatest)
	for i, p := range latest {
		if i+1 < len(latest) && bytes.Equal(p.key, latest[i+1].key) {
			continue // superseded within the batch
		}
		v, err := proto.Marshal(records.Latest(&entries[p.at].Current))
		if err != nil {
			return 0, 0, nil, err
		}
		if err := lb.Put(p.key, v); err != nil {
			return 0, 0, nil, err
		}
	}
	for id, at := range lastUse(batch) {
		if err := touchToken(tx, id, at); err != nil {
			return 0, 0, nil, err
		}
	}
	return first, rev, entries, nil
}

// claimPayload records that a payload hash labels model: one measurement
// labels one model.
func claimPayload(tx *bolt.Tx, sha, model string) error {
	if sha == "" {
		return nil
	}
	b := tx.Bucket(bucketPayloads)
	if v := b.Get([]byte(sha)); v != nil {
		if string(v) == model {
			return nil
		}
		return fmt.Errorf("payload %s… already labels model %q: %w", sha[:min(12, len(sha))], v, storage.ErrExists)
	}
	return b.Put([]byte(sha), []byte(model))
}

// touchToken records a token's last use in the write's own transaction, so
// it costs no extra fsync.
func touchToken(tx *bolt.Tx, id string, at time.Time) error {
	b := tx.Bucket(bucketTokens)
	v := b.Get([]byte(id))
	if v == nil {
		return nil // the admin token is not stored
	}
	var t storev1.Token
	if err := proto.Unmarshal(v, &t); err != nil {
		return fmt.Errorf("token %s: %w", id, err)
	}
	t.LastUsedAt = records.Timestamp(at)
	nv, err := proto.Marshal(&t)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), nv)
}

// lastUse is when each token in a batch was last used.
func lastUse(batch []storage.Accepted) map[string]time.Time {
	last := map[string]time.Time{}
	for i := range batch {
		a := batch[i].Audit
		if a.TokenID == "" {
			continue
		}
		if t, ok := last[a.TokenID]; !ok || a.ReceivedAt.After(t) {
			last[a.TokenID] = a.ReceivedAt
		}
	}
	return last
}
