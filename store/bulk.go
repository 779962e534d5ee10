package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/rating"
)

// Imported is one validated result of a bulk load.
type Imported struct {
	Result  *rating.Result
	Measure rating.Measure
	Audit   Audit
}

// Import stores a batch of validated results in one write transaction and
// indexes them. It returns once the transaction's commit is on disk
// (fsynced): either every result of the batch is durable or none is. Ids are
// consecutive from first, in the batch's order, so a later result of a
// model in a cohort supersedes an earlier one, as with Submit.
//
// Bulk loads call it with thousands of results at a time: the commit's
// fsync, the only slow part of a submission, is then shared by all of them.
func (s *Store) Import(ctx context.Context, batch []Imported) (first uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(batch) == 0 {
		return 0, nil
	}
	vals := make([][]byte, len(batch))
	entries := make([]*Entry, len(batch))
	for i := range batch {
		b := &batch[i]
		if vals[i], err = proto.Marshal(recordOf(b.Result, b.Audit)); err != nil {
			return 0, err
		}
		entries[i] = entryOfMeasure(0, b.Result, b.Measure, b.Audit.ReceivedAt)
	}
	// The latest bucket is keyed by cohort and model, in no relation to
	// arrival: putting its keys in key order touches each page once. The
	// stable sort keeps a model's later result after its earlier one.
	latest := make([]latestPut, len(batch))
	for i := range batch {
		latest[i] = latestPut{key: latestKey(batch[i].Measure.Cohort, batch[i].Result.Model), at: i}
	}
	slices.SortStableFunc(latest, func(a, b latestPut) int { return bytes.Compare(a.key, b.key) })

	err = s.db.Update(func(tx *bolt.Tx) error {
		results := tx.Bucket(bucketResults)
		results.FillPercent = appendFill
		seq := results.Sequence()
		first = seq + 1
		for i, v := range vals {
			if err := results.Put(u64(first+uint64(i)), v); err != nil {
				return err
			}
		}
		if err := results.SetSequence(seq + uint64(len(vals))); err != nil {
			return err
		}
		for i, e := range entries {
			e.ID = first + uint64(i)
		}
		lb := tx.Bucket(bucketLatest)
		for i, p := range latest {
			if i+1 < len(latest) && bytes.Equal(p.key, latest[i+1].key) {
				continue // superseded within the batch
			}
			v, err := proto.Marshal(latestOf(entries[p.at]))
			if err != nil {
				return err
			}
			if err := lb.Put(p.key, v); err != nil {
				return err
			}
		}
		for i := range batch {
			if err := claimPayload(tx, batch[i].Audit.PayloadSHA256, batch[i].Result.Model); err != nil {
				return fmt.Errorf("result %d of the batch: %w", i, err)
			}
		}
		for id, at := range lastUse(batch) {
			if err := touchToken(tx, id, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, storageError("import", err)
	}
	s.index.putAll(entries)
	for id, at := range lastUse(batch) {
		s.auth.used(id, at)
	}
	return first, nil
}

// lastUse is when each token in a batch was last used.
func lastUse(batch []Imported) map[string]time.Time {
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

type latestPut struct {
	key []byte
	at  int // index in the batch
}

// appendFill is the fill of the results bucket's pages. Its keys only ever
// grow, so a split page is never written again and may be filled up;
// bbolt's default of one half would leave every page half empty.
const appendFill = 1.0
