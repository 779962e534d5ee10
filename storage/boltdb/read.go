package boltdb

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// Snapshot reads latest/, tokens/, the registries, the releases and the
// verifications in one read transaction: results/, by far the largest
// bucket, is not paged in. The first call after Open returns what Open
// read to check the file.
func (d *DB) Snapshot(ctx context.Context) (*storage.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s := d.first.Swap(nil); s != nil {
		if rev, err := d.Revision(ctx); err == nil && rev == s.Revision {
			return s, nil
		}
	}
	var s *storage.Snapshot
	err := safely(func() error {
		return d.db.View(func(tx *bolt.Tx) error {
			var err error
			s, err = readSnapshot(tx)
			return err
		})
	})
	if err != nil {
		return nil, storageError("snapshot", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func readSnapshot(tx *bolt.Tx) (*storage.Snapshot, error) {
	s := &storage.Snapshot{Revision: revisionOf(tx)}
	var err error
	if s.Currents, err = readLatest(tx); err != nil {
		return s, err
	}
	if s.Currents, err = overlayPending(tx, s.Currents); err != nil {
		return s, err
	}
	if s.Tokens, err = tokens(tx); err != nil {
		return s, err
	}
	return s, registered(tx, s)
}

func tokens(tx *bolt.Tx) ([]storage.Token, error) {
	var out []storage.Token
	err := tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
		var t storev1.Token
		if err := proto.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("token %s: %w", k, err)
		}
		out = append(out, records.TokenOf(&t))
		return nil
	})
	return out, err
}

func registered(tx *bolt.Tx, s *storage.Snapshot) error {
	err := tx.Bucket(bucketAccelerators).ForEach(func(k, v []byte) error {
		var p storev1.Accelerator
		if err := proto.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("accelerator %d: %w", binary.BigEndian.Uint64(k), err)
		}
		s.Accelerators = append(s.Accelerators, records.AcceleratorOf(&p))
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketDatasets).ForEach(func(k, v []byte) error {
		var p storev1.Dataset
		if err := proto.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("dataset %d: %w", binary.BigEndian.Uint64(k), err)
		}
		ds, err := records.DatasetOf(&p)
		s.Datasets = append(s.Datasets, ds)
		return err
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketReleases).ForEach(func(k, v []byte) error {
		var p storev1.Release
		if err := proto.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("release %d: %w", binary.BigEndian.Uint64(k), err)
		}
		s.Releases = append(s.Releases, records.ReleaseOf(&p))
		return nil
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketVerifications).ForEach(func(k, b []byte) error {
		var p storev1.Verification
		if err := proto.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("verification %d: %w", binary.BigEndian.Uint64(k), err)
		}
		v, err := records.VerificationOf(&p)
		v.Revision = int64(binary.BigEndian.Uint64(k))
		s.Verifications = append(s.Verifications, v)
		return err
	})
}

// Record returns a stored result with its audit trail.
func (d *DB) Record(ctx context.Context, id uint64) (*rating.Result, storage.Audit, error) {
	if err := ctx.Err(); err != nil {
		return nil, storage.Audit{}, err
	}
	var rec storev1.Result
	err := d.db.View(func(tx *bolt.Tx) error { return getProto(tx.Bucket(bucketResults), u64(id), &rec) })
	if err != nil {
		return nil, storage.Audit{}, storageError(fmt.Sprintf("result %d", id), err)
	}
	r, a := records.ResultOf(&rec)
	return r, a, nil
}

// Tokens lists every stored token.
func (d *DB) Tokens(ctx context.Context) ([]storage.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Token
	err := d.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = tokens(tx)
		return err
	})
	return out, storageError("tokens", err)
}

// CountResults counts every stored result, superseded ones included.
func (d *DB) CountResults() (int, error) {
	n := 0
	err := d.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketResults).Stats().KeyN
		return nil
	})
	return n, err
}
