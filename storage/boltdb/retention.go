package boltdb

import (
	"encoding/binary"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Retention of the change log.
//
// events/ gets one entry per committed write and is read only by Watch,
// to replay what a watcher missed; accepted results, history/ and every
// audit record live elsewhere and are never pruned. So events/ keeps the
// events of the newest Options.EventRetention revisions only: the write
// transaction that records revision rev deletes, in the same commit, up
// to pruneBatch of the oldest events at or below rev-retention, and
// meta/events-from records the oldest revision still kept. In the steady
// state that is one deletion per write; after the retention is lowered,
// the excess goes pruneBatch-1 writes' worth at a time. A watch whose
// `after` is below events-from - 1 is ErrCompacted: the server then loads
// a snapshot, which holds everything.

// DefaultEventRetention is how many of the newest revisions' events
// events/ keeps when Options.EventRetention is 0: at some 35 bytes an
// event, key and page overhead included, about 35 MB, and days of
// writes at a busy registry's pace: room enough for any watcher that
// reconnects.
const DefaultEventRetention = 1_000_000

// pruneBatch is the most events one write deletes.
const pruneBatch = 4

// keyEventsFrom is meta/events-from, uint64 BE: the oldest revision
// events/ still keeps (absent: 1, nothing pruned).
var keyEventsFrom = []byte("events-from")

// retentions holds each open database's retention, for nextRevision,
// which has its transaction only: *bolt.DB -> int (<0: keep all).
var retentions sync.Map

// setRetention records the retention Options ask for of an open database.
func setRetention(db *bolt.DB, n int) {
	if n == 0 {
		n = DefaultEventRetention
	}
	retentions.Store(db, n)
}

// forgetRetention drops a closed database's retention.
func forgetRetention(db *bolt.DB) { retentions.Delete(db) }

func retentionOf(db *bolt.DB) int {
	if n, ok := retentions.Load(db); ok {
		return n.(int)
	}
	return DefaultEventRetention
}

// oldestKept is the oldest revision whose event events/ keeps, if any
// was recorded: a watch may resume after any revision from oldestKept-1.
func oldestKept(tx *bolt.Tx) int64 {
	v := tx.Bucket(bucketMeta).Get(keyEventsFrom)
	if len(v) != 8 {
		return 1
	}
	return int64(binary.BigEndian.Uint64(v))
}

// pruneEvents deletes up to pruneBatch of the events the retention no
// longer keeps, in the write transaction that records revision rev, and
// moves meta/events-from past them. Most writes find nothing to delete
// but the one event that just fell out of the window.
func pruneEvents(tx *bolt.Tx, rev int64) error {
	keep := retentionOf(tx.DB())
	if keep < 0 {
		return nil
	}
	return dropEvents(tx, rev-int64(keep), pruneBatch)
}

// dropEvents deletes up to limit of the events at or below revision cut,
// oldest first, and moves meta/events-from past them: past cut once none
// is left, so that a watch from a revision before cut is ErrCompacted.
func dropEvents(tx *bolt.Tx, cut int64, limit int) error {
	from := oldestKept(tx)
	if cut < from {
		return nil
	}
	events := tx.Bucket(bucketEvents)
	// The keys are collected first: a cursor must not walk a bucket that
	// changes under it.
	var kept [pruneBatch]uint64
	gone := kept[:0]
	c := events.Cursor()
	for k, _ := c.Seek(u64(uint64(from))); k != nil && len(gone) < limit; k, _ = c.Next() {
		r := binary.BigEndian.Uint64(k)
		if int64(r) > cut {
			break
		}
		gone = append(gone, r)
	}
	next := cut + 1 // nothing more at or below cut
	if len(gone) == limit {
		next = int64(gone[len(gone)-1]) + 1
	}
	for _, r := range gone {
		if err := events.Delete(u64(r)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Put(keyEventsFrom, u64(uint64(next)))
}

// EventLog is what CheckFile reports of events/.
type EventLog struct {
	// Events counts the events kept, and Bytes the space they take: the
	// pages of the bucket, or its bytes when it is small enough to be
	// kept inline in its parent's page.
	Events int
	Bytes  int64
	// From is the oldest revision kept: a watch may resume after From-1
	// or later.
	From int64
}

// eventLog reads what events/ holds.
func eventLog(tx *bolt.Tx) EventLog {
	b := tx.Bucket(bucketEvents)
	if b == nil {
		return EventLog{From: 1}
	}
	st := b.Stats()
	// A small bucket is stored inline, in its parent's page.
	return EventLog{Events: st.KeyN, Bytes: int64(st.BranchAlloc + st.LeafAlloc + st.InlineBucketInuse), From: oldestKept(tx)}
}
