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

// History reads a model's results in id order from model-history/ and
// results/. It lists the model's cohorts, one seek each, keeps those the
// query matches (every one when it names no task, dataset or hardware),
// and merges their id-ordered keys up to q.Limit, then reads those
// results. What it reads is bounded by the model's cohorts (a few hundred
// at most) and the page, not by its history: a filter that matches
// nothing reads the cohort list only.
func (d *DB) History(ctx context.Context, q storage.HistoryQuery) ([]storage.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.After == math.MaxUint64 && !q.Newest {
		return nil, nil
	}
	var out []storage.HistoryEntry
	err := d.db.View(func(tx *bolt.Tx) error {
		history := tx.Bucket(bucketModelHistory)
		numbers, err := modelCohorts(history, []byte(q.Model))
		if err != nil {
			return err
		}
		revisions := map[uint64]int64{}
		var cursors []records.IDCursor
		for _, n := range numbers {
			if match, err := cohortMatches(tx, n, q); err != nil || !match {
				if err != nil {
					return err
				}
				continue
			}
			prefix := binary.BigEndian.AppendUint32(modelPrefix(q.Model), n)
			cursors = append(cursors, &cohortCursor{c: history.Cursor(), prefix: prefix, after: q.After, newest: q.Newest, revisions: revisions})
		}
		ids, err := records.MergeIDs(cursors, q.Newest, q.Limit)
		if err != nil {
			return err
		}
		if q.Newest {
			slices.Reverse(ids)
		}
		results := tx.Bucket(bucketResults)
		out = make([]storage.HistoryEntry, 0, len(ids))
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			var rec storev1.Result
			if err := getProto(results, u64(id), &rec); err != nil {
				return fmt.Errorf("result %d: %w", id, err)
			}
			out = append(out, records.HistoryEntry(id, revisions[id], &rec))
		}
		return nil
	})
	return out, storageError("history", err)
}

// cohortMatches reports whether a query keeps the results of cohort n: every
// query that names no task, dataset or hardware does.
func cohortMatches(tx *bolt.Tx, n uint32, q storage.HistoryQuery) (bool, error) {
	if q.Task == "" && q.Dataset == "" && q.Hardware == "" {
		return true, nil
	}
	key, err := cohortKeyOf(tx.Bucket(bucketCohorts), n)
	if err != nil {
		return false, err
	}
	c, err := records.ParseCohortKey(key)
	if err != nil {
		return false, err
	}
	return q.Matches(c), nil
}

// cohortCursor walks the model-history/ keys under prefix (a model's
// results in one cohort): rising from the first id after `after`, or,
// newest, falling from the last. It notes each id's revision, the key's
// value, in revisions.
type cohortCursor struct {
	c         *bolt.Cursor
	prefix    []byte
	after     uint64
	newest    bool
	started   bool
	revisions map[uint64]int64
}

func (cc *cohortCursor) Next() (uint64, bool, error) {
	var k, v []byte
	switch {
	case cc.started && cc.newest:
		k, v = cc.c.Prev()
	case cc.started:
		k, v = cc.c.Next()
	case cc.newest:
		// Past the cohort's last key, then back one.
		if end := prefixEnd(cc.prefix); end == nil {
			k, v = cc.c.Last()
		} else if k, _ = cc.c.Seek(end); k == nil {
			k, v = cc.c.Last()
		} else {
			k, v = cc.c.Prev()
		}
	default:
		k, v = cc.c.Seek(binary.BigEndian.AppendUint64(slices.Clip(cc.prefix), cc.after+1))
	}
	cc.started = true
	if k == nil || !bytes.HasPrefix(k, cc.prefix) {
		return 0, false, nil
	}
	if len(k) != len(cc.prefix)+8 || len(v) != 8 {
		return 0, false, fmt.Errorf("model-history key %q holding %d bytes: not an id and a revision", k, len(v))
	}
	id := binary.BigEndian.Uint64(k[len(cc.prefix):])
	cc.revisions[id] = int64(binary.BigEndian.Uint64(v))
	return id, true, nil
}
