package boltdb

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// write runs one write transaction that records the event fn returns as
// a new revision, rev, and publishes the event yield makes once the commit
// is on disk. A context done already stores nothing.
func (d *DB) write(ctx context.Context, op string, fn func(tx *bolt.Tx, rev int64) (*storev1.Event, error), yield func(rev int64) storage.Event) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var rev int64
	err := d.db.Update(func(tx *bolt.Tx) error {
		ev, err := fn(tx, revisionOf(tx)+1)
		if err != nil {
			return err
		}
		rev, err = nextRevision(tx, ev)
		return err
	})
	if err != nil {
		return 0, storageError(op, err)
	}
	d.hub.publish(rev, []storage.Event{yield(rev)})
	return rev, nil
}

// PutToken creates or replaces a token.
// Its event, like every live event, is what a replay reads back.
func (d *DB) PutToken(ctx context.Context, t storage.Token) (int64, error) {
	p := records.Token(&t)
	v, err := proto.Marshal(p)
	if err != nil {
		return 0, err
	}
	tok := records.TokenOf(p)
	return d.write(ctx, "token "+t.ID, func(tx *bolt.Tx, _ int64) (*storev1.Event, error) {
		return &storev1.Event{Kind: storev1.Event_KIND_TOKEN, TokenId: t.ID}, tx.Bucket(bucketTokens).Put([]byte(t.ID), v)
	}, func(rev int64) storage.Event {
		return storage.Event{Revision: rev, Kind: storage.TokenPut, Token: &tok}
	})
}

// AddAccelerator stores an accelerator variant an operator registered.
func (d *DB) AddAccelerator(ctx context.Context, a rating.Accelerator) (int64, error) {
	v, err := proto.Marshal(records.Accelerator(&a))
	if err != nil {
		return 0, err
	}
	return d.write(ctx, "accelerator "+a.Name, func(tx *bolt.Tx, _ int64) (*storev1.Event, error) {
		seq, err := appendUnique(tx.Bucket(bucketAccelerators), a.Name, v, func(p []byte) (string, error) {
			var o storev1.Accelerator
			return o.Name, proto.Unmarshal(p, &o)
		})
		return &storev1.Event{Kind: storev1.Event_KIND_ACCELERATOR, Seq: seq}, err
	}, func(rev int64) storage.Event {
		return storage.Event{Revision: rev, Kind: storage.AcceleratorAdded, Accelerator: &a}
	})
}

// AddDataset stores a dataset an operator registered.
func (d *DB) AddDataset(ctx context.Context, ds rating.Dataset) (int64, error) {
	v, err := proto.Marshal(records.Dataset(&ds))
	if err != nil {
		return 0, err
	}
	return d.write(ctx, "dataset "+ds.Name, func(tx *bolt.Tx, _ int64) (*storev1.Event, error) {
		seq, err := appendUnique(tx.Bucket(bucketDatasets), ds.Name, v, func(p []byte) (string, error) {
			var o storev1.Dataset
			return o.Name, proto.Unmarshal(p, &o)
		})
		return &storev1.Event{Kind: storev1.Event_KIND_DATASET, Seq: seq}, err
	}, func(rev int64) storage.Event {
		return storage.Event{Revision: rev, Kind: storage.DatasetAdded, Dataset: &ds}
	})
}

// CreateRelease stores a release; its name must be new.
func (d *DB) CreateRelease(ctx context.Context, rel *rating.Release) (int64, error) {
	p := records.Release(rel)
	v, err := proto.Marshal(p)
	if err != nil {
		return 0, err
	}
	stored := records.ReleaseOf(p)
	return d.write(ctx, "release "+rel.Name, func(tx *bolt.Tx, _ int64) (*storev1.Event, error) {
		seq, err := appendUnique(tx.Bucket(bucketReleases), rel.Name, v, func(p []byte) (string, error) {
			var o storev1.Release
			return o.Name, proto.Unmarshal(p, &o)
		})
		return &storev1.Event{Kind: storev1.Event_KIND_RELEASE, Seq: seq}, err
	}, func(rev int64) storage.Event {
		return storage.Event{Revision: rev, Kind: storage.ReleaseCreated, Release: stored}
	})
}

// appendUnique puts v under the bucket's next sequence number, so that a
// listing keeps the order of registration, unless name is taken. Registries
// and releases hold tens of entries: the scan is cheap.
func appendUnique(b *bolt.Bucket, name string, v []byte, nameOf func([]byte) (string, error)) (uint64, error) {
	err := b.ForEach(func(_, p []byte) error {
		n, err := nameOf(p)
		if err != nil {
			return err
		}
		if n == name {
			return fmt.Errorf("%q: %w", name, storage.ErrExists)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	return seq, b.Put(u64(seq), v)
}

// AddVerification stores a surveyor's measurement under the revision
// that stores it, unless another measurement of the same state took its
// name first: verification-names/ holds the names taken.
func (d *DB) AddVerification(ctx context.Context, v *storage.Verification) (int64, error) {
	p := records.Verification(v)
	b, err := proto.Marshal(p)
	if err != nil {
		return 0, err
	}
	// The event is what a replay reads back: the record's times.
	ev, err := records.VerificationOf(p)
	if err != nil {
		return 0, err
	}
	name := storage.VerificationName(v)
	return d.write(ctx, "verification "+name, func(tx *bolt.Tx, rev int64) (*storev1.Event, error) {
		names := tx.Bucket(bucketVerificationNames)
		if names.Get([]byte(name)) != nil {
			return nil, fmt.Errorf("%q: %w", name, storage.ErrExists)
		}
		if err := names.Put([]byte(name), u64(uint64(rev))); err != nil {
			return nil, err
		}
		vb := tx.Bucket(bucketVerifications)
		vb.FillPercent = appendFill
		return &storev1.Event{Kind: storev1.Event_KIND_VERIFICATION, Seq: uint64(rev)}, vb.Put(u64(uint64(rev)), b)
	}, func(rev int64) storage.Event {
		ev.Revision = rev
		return storage.Event{Revision: rev, Kind: storage.VerificationAdded, Verification: &ev}
	})
}
