package boltdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/pbtime"
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
	cohorts := make([]string, len(batch))
	for i := range batch {
		cohorts[i] = records.CohortKey(batch[i].Measure.Cohort)
	}

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
		first, rev, entries, err = appendTx(tx, batch, vals, cohorts)
		return err
	})
	if err != nil {
		return 0, 0, storageError("append", err)
	}
	d.storedThrough(first + uint64(len(batch)) - 1)
	d.startCheckpointIfDue()
	events := make([]storage.Event, len(entries))
	for i := range entries {
		events[i] = storage.Event{Revision: rev, Kind: storage.ResultAdded, Result: &entries[i]}
	}
	d.hub.publish(rev, events)
	return first, rev, nil
}

// appendTx is Append's transaction. Batch may run it more than once, so it
// returns everything it made.
func appendTx(tx *bolt.Tx, batch []storage.Accepted, vals [][]byte, cohorts []string) (uint64, int64, []storage.HistoryEntry, error) {
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
	for i, v := range vals {
		id := first + uint64(i)
		if err := results.Put(u64(id), v); err != nil {
			return 0, 0, nil, err
		}
		a := &batch[i]
		if err := claimFingerprint(tx, a.Audit.Fingerprint, a.Result.Model, id, first); err != nil {
			return 0, 0, nil, fmt.Errorf("result %d of the batch: %w", i, err)
		}
		entries[i] = storage.HistoryEntry{Current: storage.CurrentOf(id, a), Label: a.Label, Revision: rev, StoredBytes: len(v)}
	}
	if err := putHistory(tx, batch, cohorts, first, rev); err != nil {
		return 0, 0, nil, err
	}
	for id, at := range lastUse(batch) {
		if err := touchToken(tx, id, at); err != nil {
			return 0, 0, nil, err
		}
	}
	return first, rev, entries, nil
}

// putHistory files each result of the batch (ids from first) under its
// model and cohort in model-history/, at revision rev. The keys are put in
// key order, so that each page is touched once.
func putHistory(tx *bolt.Tx, batch []storage.Accepted, cohorts []string, first uint64, rev int64) error {
	numbers := newCohortNumbers(tx)
	keys := make([][]byte, len(batch))
	for i := range batch {
		n, err := numbers.of(cohorts[i])
		if err != nil {
			return err
		}
		keys[i] = modelHistoryKey(batch[i].Result.Model, n, first+uint64(i))
	}
	slices.SortFunc(keys, bytes.Compare)
	history, revision := tx.Bucket(bucketModelHistory), u64(uint64(rev))
	for _, k := range keys {
		if err := history.Put(k, revision); err != nil {
			return err
		}
	}
	return nil
}

// claimFingerprint records that a measurement's fingerprint labels model,
// as result id: one measurement labels one model. A fingerprint another
// model holds is ErrExists; one the same model holds, a *DuplicateError
// naming its result, unless that result is an earlier one of the same
// batch (its ids start at first), which stores the measurement twice.
func claimFingerprint(tx *bolt.Tx, fp, model string, id, first uint64) error {
	if fp == "" {
		return nil
	}
	b := tx.Bucket(bucketFingerprints)
	v := b.Get([]byte(fp))
	if v == nil {
		return b.Put([]byte(fp), fingerprintClaim(model, id))
	}
	owner, stored, err := parseFingerprintClaim(v)
	switch {
	case err != nil:
		return fmt.Errorf("fingerprint %s…: %w", short(fp), err)
	case owner != model:
		return fmt.Errorf("fingerprint %s… already labels model %q: %w", short(fp), owner, storage.ErrExists)
	case stored >= first:
		return fmt.Errorf("fingerprint %s… is also the batch's result %d's: %w", short(fp), stored-first, storage.ErrExists)
	}
	return &storage.DuplicateError{ResultID: stored}
}

// fingerprintClaim is a fingerprints/ value: the model, 0x00, the result id.
func fingerprintClaim(model string, id uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(model), 0), id)
}

func parseFingerprintClaim(v []byte) (string, uint64, error) {
	n := len(v) - 9
	if n < 0 || v[n] != 0 {
		return "", 0, fmt.Errorf("a claim of %d bytes, not a model and an id", len(v))
	}
	return string(v[:n]), binary.BigEndian.Uint64(v[n+1:]), nil
}

// short is the start of a fingerprint, enough to recognise it in a message.
func short(fp string) string { return fp[:min(12, len(fp))] }

// touchToken records a token's last use in the write's own transaction, so
// it costs no extra fsync. It only moves forward: concurrent submissions
// commit in any order, and the last to commit may have been received
// before another.
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
	if !at.After(pbtime.Time(t.LastUsedAt)) {
		return nil
	}
	t.LastUsedAt = pbtime.Timestamp(at)
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
