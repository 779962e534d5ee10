package boltdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	bolt "go.etcd.io/bbolt"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// History reads a model's results in id order, from history/ and results/;
// filtered by task, dataset or hardware, from history-cohorts/ (see
// historyByCohort), which reads about a page whatever the model's history
// holds.
func (d *DB) History(ctx context.Context, q storage.HistoryQuery) ([]storage.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.After == math.MaxUint64 && !q.Newest {
		return nil, nil
	}
	if filtered(q) {
		out, err := d.historyByCohort(ctx, q)
		return out, storageError("history", err)
	}
	var out []storage.HistoryEntry
	prefix := append([]byte(q.Model), 0)
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		results := tx.Bucket(bucketResults)
		k, v := c.Seek(historyKey(q.Model, q.After+1))
		next := c.Next
		if q.Newest {
			// From the model's last key backwards, then oldest first.
			defer func() { slices.Reverse(out) }()
			upper := historyKey(q.Model, math.MaxUint64)
			if k, v = c.Seek(upper); k == nil || bytes.Compare(k, upper) > 0 {
				if k == nil {
					k, v = c.Last()
				} else {
					k, v = c.Prev()
				}
			}
			next = c.Prev
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := binary.BigEndian.Uint64(k[len(prefix):])
			var rec storev1.Result
			if err := getProto(results, k[len(prefix):], &rec); err != nil {
				return fmt.Errorf("result %d: %w", id, err)
			}
			out = append(out, records.HistoryEntry(id, int64(binary.BigEndian.Uint64(v)), &rec))
			if len(out) == q.Limit {
				break
			}
		}
		return nil
	})
	return out, storageError("history", err)
}

// filtered reports whether a history query keeps only some cohorts.
func filtered(q storage.HistoryQuery) bool {
	return q.Task != "" || q.Dataset != "" || q.Hardware != ""
}

// historyByCohort answers a filtered history query from history-cohorts/:
// it lists the model's cohorts, one seek each, keeps those the query
// matches, and merges their id-ordered keys up to q.Limit, then reads
// those results and their revisions. What it reads is bounded by the
// model's cohorts (a few hundred at most) and the page, not by its
// history: a filter that matches nothing reads the cohort list only.
func (d *DB) historyByCohort(ctx context.Context, q storage.HistoryQuery) ([]storage.HistoryEntry, error) {
	var out []storage.HistoryEntry
	err := d.db.View(func(tx *bolt.Tx) error {
		index := tx.Bucket(bucketHistoryCohorts)
		cohorts, err := modelCohorts(index, q.Model)
		if err != nil {
			return err
		}
		var cursors []records.IDCursor
		for _, ck := range cohorts {
			c, err := records.ParseCohortKey(ck)
			if err != nil {
				return err
			}
			if q.Matches(c) {
				cursors = append(cursors, &cohortCursor{c: index.Cursor(), prefix: cohortPrefix(q.Model, ck), after: q.After, newest: q.Newest})
			}
		}
		if len(cursors) == 0 {
			return nil
		}
		ids, err := records.MergeIDs(cursors, q.Newest, q.Limit)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if q.Newest {
			slices.Reverse(ids)
		}
		results, history := tx.Bucket(bucketResults), tx.Bucket(bucketHistory)
		out = make([]storage.HistoryEntry, 0, len(ids))
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			var rec storev1.Result
			if err := getProto(results, u64(id), &rec); err != nil {
				return fmt.Errorf("result %d: %w", id, err)
			}
			rev := history.Get(historyKey(q.Model, id))
			if len(rev) != 8 {
				return fmt.Errorf("result %d of %q: history-cohorts/ lists it, history/ does not", id, q.Model)
			}
			out = append(out, records.HistoryEntry(id, int64(binary.BigEndian.Uint64(rev)), &rec))
		}
		return nil
	})
	return out, err
}

// modelCohorts lists the cohort keys of a model's results, in key order,
// from history-cohorts/: one seek per cohort, each past the last key of
// the one before (the model, 0x00, its cohort key, then 0x01: past 0x00
// and every id after it).
func modelCohorts(index *bolt.Bucket, model string) ([]string, error) {
	prefix := append([]byte(model), 0)
	var out []string
	c := index.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); {
		n := len(k) - 9
		if n < len(prefix) || k[n] != 0 {
			return nil, fmt.Errorf("history-cohorts key %q is not a model, a cohort and an id", k)
		}
		ck := k[len(prefix):n]
		out = append(out, string(ck))
		k, _ = c.Seek(append(append(slices.Clip(prefix), ck...), 1))
	}
	return out, nil
}

// cohortCursor walks the history-cohorts/ keys under prefix (a model's
// results in one cohort): rising from the first id after `after`, or,
// newest, falling from the last.
type cohortCursor struct {
	c       *bolt.Cursor
	prefix  []byte
	after   uint64
	newest  bool
	started bool
}

func (cc *cohortCursor) Next() (uint64, bool, error) {
	var k []byte
	switch {
	case cc.started && cc.newest:
		k, _ = cc.c.Prev()
	case cc.started:
		k, _ = cc.c.Next()
	case cc.newest:
		// Past the cohort's last key, then back one.
		end := append(slices.Clip(cc.prefix[:len(cc.prefix)-1]), 1)
		if k, _ = cc.c.Seek(end); k == nil {
			k, _ = cc.c.Last()
		} else {
			k, _ = cc.c.Prev()
		}
	default:
		k, _ = cc.c.Seek(binary.BigEndian.AppendUint64(slices.Clip(cc.prefix), cc.after+1))
	}
	cc.started = true
	if k == nil || !bytes.HasPrefix(k, cc.prefix) {
		return 0, false, nil
	}
	if len(k) != len(cc.prefix)+8 {
		return 0, false, fmt.Errorf("history-cohorts key %q: the id is not 8 bytes", k)
	}
	return binary.BigEndian.Uint64(k[len(cc.prefix):]), true, nil
}
