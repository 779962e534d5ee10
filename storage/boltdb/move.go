package boltdb

import (
	"context"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/storage"
)

// recordChunk bounds the records one read transaction copies out, so that
// reading a large file never holds one long transaction.
const recordChunk = 10000

// EachRecord calls fn on every stored result, in id order, as stored:
// what a move to another backend copies.
func (d *DB) EachRecord(ctx context.Context, fn func(storage.Record) error) error {
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
