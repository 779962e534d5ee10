package boltdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// A cohort number stands for a cohort key in model-history/ keys: 4 bytes
// in place of 60 or more, in a key written once per result. Numbers are
// given in order of first use and never reused; a store holds a few
// hundred cohorts, so both buckets stay a page or two.

// cohortNumbers gives cohort keys their numbers in a write transaction,
// numbering a key it has not seen. It remembers what it looked up, so a
// batch reads each of its cohorts once.
type cohortNumbers struct {
	keys, numbers *bolt.Bucket
	seen          map[string]uint32
}

func newCohortNumbers(tx *bolt.Tx) *cohortNumbers {
	return &cohortNumbers{keys: tx.Bucket(bucketCohorts), numbers: tx.Bucket(bucketCohortNumbers), seen: map[string]uint32{}}
}

// of is a cohort key's number, given now if it has none.
func (c *cohortNumbers) of(key string) (uint32, error) {
	if n, ok := c.seen[key]; ok {
		return n, nil
	}
	if v := c.numbers.Get([]byte(key)); v != nil {
		if len(v) != 4 {
			return 0, fmt.Errorf("cohort-numbers/ holds %d bytes for cohort %q, not a number", len(v), key)
		}
		n := binary.BigEndian.Uint32(v)
		c.seen[key] = n
		return n, nil
	}
	seq, err := c.keys.NextSequence()
	if err != nil {
		return 0, err
	}
	if seq > math.MaxUint32 {
		return 0, fmt.Errorf("cohort %q: every cohort number is taken", key)
	}
	n := uint32(seq)
	if err := c.keys.Put(u32(n), []byte(key)); err != nil {
		return 0, err
	}
	if err := c.numbers.Put([]byte(key), u32(n)); err != nil {
		return 0, err
	}
	c.seen[key] = n
	return n, nil
}

// cohortKeyOf is the cohort key a number stands for.
func cohortKeyOf(keys *bolt.Bucket, n uint32) (string, error) {
	v := keys.Get(u32(n))
	if v == nil {
		return "", fmt.Errorf("model-history/ names cohort %d, which cohorts/ does not hold", n)
	}
	return string(v), nil
}

// modelCohorts lists the numbers of the cohorts a model has results in,
// from model-history/: one seek per cohort, each to the next number's
// first key.
func modelCohorts(history *bolt.Bucket, model []byte) ([]uint32, error) {
	prefix := modelPrefix(string(model))
	var out []uint32
	c := history.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); {
		if len(k) != len(prefix)+cohortHistorySuffix {
			return nil, fmt.Errorf("model-history key %q is not a model, a cohort number and an id", k)
		}
		n := binary.BigEndian.Uint32(k[len(prefix):])
		out = append(out, n)
		if n == math.MaxUint32 {
			break
		}
		k, _ = c.Seek(binary.BigEndian.AppendUint32(slices.Clip(prefix), n+1))
	}
	return out, nil
}

// cohortsByKey pairs each of a model's cohort numbers with its key, in
// key order: the order of the history index's contract.
func cohortsByKey(keys *bolt.Bucket, numbers []uint32) ([]numberedCohort, error) {
	out := make([]numberedCohort, len(numbers))
	for i, n := range numbers {
		k, err := cohortKeyOf(keys, n)
		if err != nil {
			return nil, err
		}
		out[i] = numberedCohort{n, k}
	}
	slices.SortFunc(out, func(a, b numberedCohort) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

type numberedCohort struct {
	number uint32
	key    string
}

// prefixEnd is the least key past every key that starts with prefix, or
// nil when there is none (prefix is all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
