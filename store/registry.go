package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
)

// ErrExists means a name or a payload is already taken.
var ErrExists = errors.New("already exists")

// AddAccelerator stores an accelerator variant an operator registered.
// The caller has checked it against the whole registry (rating.Accelerators.With).
func (s *Store) AddAccelerator(a rating.Accelerator) error {
	v, err := proto.Marshal(&storev1.Accelerator{Name: a.Name, Family: a.Family, BoardWatts: a.BoardWatts,
		FloorFraction: a.FloorFraction, Aliases: a.Aliases, Source: a.Source})
	if err != nil {
		return err
	}
	return storageError("accelerator "+a.Name, s.db.Update(func(tx *bolt.Tx) error {
		return appendUnique(tx.Bucket(bucketAccelerators), a.Name, v, func(p []byte) (string, error) {
			var o storev1.Accelerator
			return o.Name, proto.Unmarshal(p, &o)
		})
	}))
}

// AddDataset stores a dataset an operator registered.
func (s *Store) AddDataset(d rating.Dataset) error {
	v, err := proto.Marshal(&storev1.Dataset{Name: d.Name, Task: d.Task, Basis: d.Basis.String()})
	if err != nil {
		return err
	}
	return storageError("dataset "+d.Name, s.db.Update(func(tx *bolt.Tx) error {
		return appendUnique(tx.Bucket(bucketDatasets), d.Name, v, func(p []byte) (string, error) {
			var o storev1.Dataset
			return o.Name, proto.Unmarshal(p, &o)
		})
	}))
}

// appendUnique puts v under the bucket's next sequence number, so that a
// listing keeps the order of registration, unless name is taken. Registries
// and releases hold tens of entries: the scan is cheap.
func appendUnique(b *bolt.Bucket, name string, v []byte, nameOf func([]byte) (string, error)) error {
	err := b.ForEach(func(_, p []byte) error {
		n, err := nameOf(p)
		if err != nil {
			return err
		}
		if n == name {
			return fmt.Errorf("%q: %w", name, ErrExists)
		}
		return nil
	})
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return b.Put(u64(seq), v)
}

// Registered returns the accelerators and datasets operators registered,
// in the order they were added.
func (s *Store) Registered() ([]rating.Accelerator, []rating.Dataset, error) {
	var accels []rating.Accelerator
	var datasets []rating.Dataset
	err := s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketAccelerators).ForEach(func(_, v []byte) error {
			var p storev1.Accelerator
			if err := proto.Unmarshal(v, &p); err != nil {
				return err
			}
			accels = append(accels, rating.Accelerator{Name: p.Name, Family: p.Family, BoardWatts: p.BoardWatts,
				FloorFraction: p.FloorFraction, Aliases: p.Aliases, Source: p.Source})
			return nil
		})
		if err != nil {
			return fmt.Errorf("accelerators: %w", err)
		}
		return tx.Bucket(bucketDatasets).ForEach(func(_, v []byte) error {
			var p storev1.Dataset
			if err := proto.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("datasets: %w", err)
			}
			basis, ok := rating.ParseUnit(p.Basis)
			if !ok {
				return fmt.Errorf("dataset %q: unknown basis %q", p.Name, p.Basis)
			}
			datasets = append(datasets, rating.Dataset{Name: p.Name, Task: p.Task, Basis: basis})
			return nil
		})
	})
	return accels, datasets, err
}

// CreateRelease stores a release; its name must be new.
func (s *Store) CreateRelease(rel *rating.Release) error {
	p := &storev1.Release{Name: rel.Name, CreatedAt: timestamp(rel.CreatedAt)}
	for c, b := range rel.Cohorts {
		p.Cohorts = append(p.Cohorts, &storev1.CohortBounds{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass,
			Hardware: c.Hardware, Basis: c.Basis.String(), Lo: b.Lo, Hi: b.Hi, Models: int32(b.Models)})
	}
	slices.SortFunc(p.Cohorts, func(a, b *storev1.CohortBounds) int { return compareCohorts(cohortOfBounds(a), cohortOfBounds(b)) })
	v, err := proto.Marshal(p)
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return appendUnique(tx.Bucket(bucketReleases), rel.Name, v, func(p []byte) (string, error) {
			var o storev1.Release
			err := proto.Unmarshal(p, &o)
			return o.Name, err
		})
	})
	if err != nil {
		return storageError("release "+rel.Name, err)
	}
	s.index.version.Add(1) // every rating's stars may have moved
	return nil
}

// Releases returns every release, oldest first.
func (s *Store) Releases() ([]*rating.Release, error) {
	var out []*rating.Release
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReleases).ForEach(func(k, v []byte) error {
			var p storev1.Release
			if err := proto.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("release %d: %w", binary.BigEndian.Uint64(k), err)
			}
			rel := &rating.Release{Name: p.Name, CreatedAt: canonicalTime(timeOf(p.CreatedAt)), Cohorts: make(map[rating.Cohort]rating.Bounds, len(p.Cohorts))}
			for _, b := range p.Cohorts {
				rel.Cohorts[cohortOfBounds(b)] = rating.Bounds{Lo: b.Lo, Hi: b.Hi, Models: int(b.Models)}
			}
			out = append(out, rel)
			return nil
		})
	})
	return out, err
}

func cohortOfBounds(b *storev1.CohortBounds) rating.Cohort {
	basis, _ := rating.ParseUnit(b.Basis)
	return rating.Cohort{Task: b.Task, Dataset: b.Dataset, SizeClass: b.SizeClass, Hardware: b.Hardware, Basis: basis}
}

// claimPayload records that a payload hash labels model, in the
// submission's transaction: one measurement labels one model.
func claimPayload(tx *bolt.Tx, sha, model string) error {
	if sha == "" {
		return nil
	}
	b := tx.Bucket(bucketPayloads)
	if v := b.Get([]byte(sha)); v != nil {
		if string(v) == model {
			return nil
		}
		return fmt.Errorf("payload %s… already labels model %q: %w", sha[:min(12, len(sha))], v, ErrExists)
	}
	return b.Put([]byte(sha), []byte(model))
}

// migratePayloads fills payloads/ from the results stored before schema 3;
// where two models share a payload, the first keeps it.
func migratePayloads(tx *bolt.Tx) error {
	pb := tx.Bucket(bucketPayloads)
	var rec storev1.Result
	return tx.Bucket(bucketResults).ForEach(func(k, v []byte) error {
		rec.Reset()
		if err := proto.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("result %d: %w", binary.BigEndian.Uint64(k), err)
		}
		sha := rec.GetAudit().GetPayloadSha256()
		if sha == "" || pb.Get([]byte(sha)) != nil {
			return nil
		}
		return pb.Put([]byte(sha), []byte(rec.Model))
	})
}
