package boltdb

import (
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// write runs one write transaction that records ev as a new revision, and
// publishes the events it yields once the commit is on disk.
func (d *DB) write(op string, fn func(tx *bolt.Tx) (*storev1.Event, error), yield func(rev int64) storage.Event) (int64, error) {
	var rev int64
	err := d.db.Update(func(tx *bolt.Tx) error {
		ev, err := fn(tx)
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
func (d *DB) PutToken(_ context.Context, t storage.Token) (int64, error) {
	v, err := proto.Marshal(tokenRecord(&t))
	if err != nil {
		return 0, err
	}
	return d.write("token "+t.ID, func(tx *bolt.Tx) (*storev1.Event, error) {
		return &storev1.Event{Kind: storev1.Event_KIND_TOKEN, TokenId: t.ID}, tx.Bucket(bucketTokens).Put([]byte(t.ID), v)
	}, func(rev int64) storage.Event { return storage.Event{Revision: rev, Kind: storage.TokenPut, Token: &t} })
}

// AddAccelerator stores an accelerator variant an operator registered.
func (d *DB) AddAccelerator(_ context.Context, a rating.Accelerator) (int64, error) {
	v, err := proto.Marshal(&storev1.Accelerator{Name: a.Name, Family: a.Family, BoardWatts: a.BoardWatts,
		FloorFraction: a.FloorFraction, Aliases: a.Aliases, Source: a.Source})
	if err != nil {
		return 0, err
	}
	return d.write("accelerator "+a.Name, func(tx *bolt.Tx) (*storev1.Event, error) {
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
func (d *DB) AddDataset(_ context.Context, ds rating.Dataset) (int64, error) {
	v, err := proto.Marshal(&storev1.Dataset{Name: ds.Name, Task: ds.Task, Basis: ds.Basis.String()})
	if err != nil {
		return 0, err
	}
	return d.write("dataset "+ds.Name, func(tx *bolt.Tx) (*storev1.Event, error) {
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
func (d *DB) CreateRelease(_ context.Context, rel *rating.Release) (int64, error) {
	v, err := proto.Marshal(releaseRecord(rel))
	if err != nil {
		return 0, err
	}
	return d.write("release "+rel.Name, func(tx *bolt.Tx) (*storev1.Event, error) {
		seq, err := appendUnique(tx.Bucket(bucketReleases), rel.Name, v, func(p []byte) (string, error) {
			var o storev1.Release
			return o.Name, proto.Unmarshal(p, &o)
		})
		return &storev1.Event{Kind: storev1.Event_KIND_RELEASE, Seq: seq}, err
	}, func(rev int64) storage.Event {
		return storage.Event{Revision: rev, Kind: storage.ReleaseCreated, Release: rel}
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

func releaseRecord(rel *rating.Release) *storev1.Release {
	p := &storev1.Release{Name: rel.Name, CreatedAt: timestamp(rel.CreatedAt)}
	for c, b := range rel.Cohorts {
		p.Cohorts = append(p.Cohorts, &storev1.CohortBounds{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass,
			Hardware: c.Hardware, Basis: c.Basis.String(), Lo: b.Lo, Hi: b.Hi, Models: int32(b.Models)})
	}
	slices.SortFunc(p.Cohorts, func(a, b *storev1.CohortBounds) int { return compareCohorts(cohortOfBounds(a), cohortOfBounds(b)) })
	return p
}

func releaseOf(p *storev1.Release) *rating.Release {
	rel := &rating.Release{Name: p.Name, CreatedAt: storage.CanonicalTime(timeOf(p.CreatedAt)), Cohorts: make(map[rating.Cohort]rating.Bounds, len(p.Cohorts))}
	for _, b := range p.Cohorts {
		rel.Cohorts[cohortOfBounds(b)] = rating.Bounds{Lo: b.Lo, Hi: b.Hi, Models: int(b.Models)}
	}
	return rel
}

func cohortOfBounds(b *storev1.CohortBounds) rating.Cohort {
	basis, _ := rating.ParseUnit(b.Basis)
	return rating.Cohort{Task: b.Task, Dataset: b.Dataset, SizeClass: b.SizeClass, Hardware: b.Hardware, Basis: basis}
}

func compareCohorts(a, b rating.Cohort) int {
	return slices.Compare([]string{a.Task, a.Dataset, a.SizeClass, a.Hardware, a.Basis.String()},
		[]string{b.Task, b.Dataset, b.SizeClass, b.Hardware, b.Basis.String()})
}

func acceleratorOf(p *storev1.Accelerator) rating.Accelerator {
	return rating.Accelerator{Name: p.Name, Family: p.Family, BoardWatts: p.BoardWatts,
		FloorFraction: p.FloorFraction, Aliases: p.Aliases, Source: p.Source}
}

func datasetOf(p *storev1.Dataset) (rating.Dataset, error) {
	basis, ok := rating.ParseUnit(p.Basis)
	if !ok {
		return rating.Dataset{}, fmt.Errorf("dataset %q: unknown basis %q", p.Name, p.Basis)
	}
	return rating.Dataset{Name: p.Name, Task: p.Task, Basis: basis}, nil
}
