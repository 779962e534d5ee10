package boltdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

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

// EachIndexed calls fn on every key of history-cohorts/, in key order: a
// model, the key of a cohort it has results in, and one of those results'
// ids. A move compares it with the target's.
func (d *DB) EachIndexed(ctx context.Context, fn func(model, cohortKey string, id uint64) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var after []byte
	for {
		type entry struct {
			model, cohort string
			id            uint64
		}
		var chunk []entry
		err := d.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketHistoryCohorts).Cursor()
			k, _ := c.First()
			if after != nil {
				if k, _ = c.Seek(after); bytes.Equal(k, after) {
					k, _ = c.Next()
				}
			}
			for ; k != nil && len(chunk) < recordChunk; k, _ = c.Next() {
				n := len(k) - 9
				model, cohort, ok := bytes.Cut(k[:max(0, n)], []byte{0})
				if n < 0 || k[n] != 0 || !ok {
					return fmt.Errorf("history-cohorts key %q is not a model, a cohort and an id", k)
				}
				chunk = append(chunk, entry{string(model), string(cohort), binary.BigEndian.Uint64(k[n+1:])})
				after = append(after[:0], k...)
			}
			return nil
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
	}
}
