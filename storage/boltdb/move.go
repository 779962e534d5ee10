package boltdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/storage"
)

// recordChunk bounds the records one read transaction copies out, so that
// reading a large file never holds one long transaction.
const recordChunk = 10000

// EachRecord calls fn on every stored result, in id order, as stored:
// what a move to another backend copies.
func (d *DB) EachRecord(ctx context.Context, fn func(storage.Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var after uint64
	for {
		var recs []storage.Record
		err := d.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketResults).Cursor()
			for k, v := c.Seek(u64(after + 1)); k != nil && len(recs) < recordChunk; k, v = c.Next() {
				recs = append(recs, storage.Record{ID: binary.BigEndian.Uint64(k), Value: append([]byte(nil), v...)})
			}
			return nil
		})
		if err != nil {
			return storageError("records", err)
		}
		for _, r := range recs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(recs) < recordChunk {
			return nil
		}
		after = recs[len(recs)-1].ID
	}
}

// EachIndexed calls fn on every key of model-history/, in model, cohort
// key and id order: a model, the key of a cohort it has results in, and
// one of those results' ids. A move compares it with the target's.
func (d *DB) EachIndexed(ctx context.Context, fn func(model, cohortKey string, id uint64) error) error {
	var after *indexEntry
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var chunk []indexEntry
		err := d.db.View(func(tx *bolt.Tx) error {
			var err error
			chunk, err = indexChunk(tx, after)
			return err
		})
		if err != nil {
			return storageError("history index", err)
		}
		for _, e := range chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(e.model, e.cohort, e.id); err != nil {
				return err
			}
		}
		if len(chunk) < recordChunk {
			return nil
		}
		after = &chunk[len(chunk)-1]
	}
}

// indexEntry is one entry of the history index as EachIndexed lists it.
type indexEntry struct {
	model, cohort string
	id            uint64
}

// indexChunk reads up to recordChunk entries of the history index, in
// EachIndexed's order, from the one after `after` (nil: from the first).
// Within a model, cohorts are numbered in order of first use, so it
// reads the model's cohorts first and walks them in key order.
func indexChunk(tx *bolt.Tx, after *indexEntry) ([]indexEntry, error) {
	history, keys := tx.Bucket(bucketModelHistory), tx.Bucket(bucketCohorts)
	c := history.Cursor()
	k, _ := c.First()
	if after != nil {
		k, _ = c.Seek(modelPrefix(after.model))
	}
	var chunk []indexEntry
	for k != nil && len(chunk) < recordChunk {
		model, _, _, err := parseModelHistoryKey(k)
		if err != nil {
			return nil, err
		}
		numbers, err := modelCohorts(history, model)
		if err != nil {
			return nil, err
		}
		cohorts, err := cohortsByKey(keys, numbers)
		if err != nil {
			return nil, err
		}
		prefix := modelPrefix(string(model))
		for _, co := range cohorts {
			from := uint64(0)
			if after != nil && after.model == string(model) {
				if co.key < after.cohort || co.key == after.cohort && after.id == math.MaxUint64 {
					continue
				}
				if co.key == after.cohort {
					from = after.id + 1
				}
			}
			cohort := binary.BigEndian.AppendUint32(slices.Clip(prefix), co.number)
			ic := history.Cursor()
			for k, _ := ic.Seek(binary.BigEndian.AppendUint64(slices.Clip(cohort), from)); k != nil && bytes.HasPrefix(k, cohort) && len(chunk) < recordChunk; k, _ = ic.Next() {
				chunk = append(chunk, indexEntry{string(model), co.key, binary.BigEndian.Uint64(k[len(cohort):])})
			}
		}
		end := prefixEnd(prefix)
		if end == nil {
			break
		}
		k, _ = c.Seek(end)
	}
	return chunk, nil
}
