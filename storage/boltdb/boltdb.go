// Package boltdb is the embedded storage backend: one bbolt file in a data
// directory. It is the only package that imports bbolt.
//
// Bucket layout (schema version 7; values are energylabel.store.v1 messages):
//
//	meta/
//	  version                        -> uint64 BE schema version
//	  revision                       -> uint64 BE revision of the last write
//	  events-from                    -> uint64 BE oldest revision events/ keeps (absent: 1)
//	  latest-through                 -> uint64 BE last result whose entry latest/ holds (latest.go)
//	results/                         append-only, never rewritten
//	  <id uint64 BE>                 -> Result (with its Audit, Measure and Label)
//	latest/                          the current result of each model in each cohort, as of latest-through
//	  <cohort key> 0x00 <model>      -> Latest (the result's id and what the read model keeps of it)
//	model-history/                   every result of a model, by cohort, in order
//	  <model> 0x00 <cohort uint32 BE> <id uint64 BE> -> uint64 BE revision it was accepted at
//	cohorts/                         the cohort keys model-history/ names by number, in order of first use
//	  <cohort uint32 BE>             -> <cohort key>
//	cohort-numbers/                  the same, the other way
//	  <cohort key>                   -> <cohort uint32 BE>
//	events/                          one entry per committed write, of the newest Options.EventRetention
//	  <revision uint64 BE>           -> Event (what changed, by reference)
//	tokens/
//	  <token id>                     -> Token (SHA-256 of the secret only)
//	fingerprints/                    one measurement labels one model
//	  <fingerprint, hex>             -> <model> 0x00 <id uint64 BE>: the model it labels, and its result
//	accelerators/, datasets/         operators' additions to the registries, in order
//	  <seq uint64 BE>                -> Accelerator, Dataset
//	releases/                        star releases, oldest first
//	  <seq uint64 BE>                -> Release (every cohort's star bounds)
//	verifications/                   surveyors' measurements, oldest first
//	  <revision uint64 BE>           -> Verification (the measurement and the state it left)
//	verification-names/              each verification's storage.VerificationName, taken once
//	  <name>                         -> uint64 BE revision: its key in verifications/
//
// A cohort key is task, dataset, size class, hardware and basis joined by
// 0x1f; names are printable ASCII, so a cohort key holds no 0x00. A
// result's model-history/ key is written in the transaction that stores
// it, under the cohort history reads it in (records.CohortOf), by the
// cohort's number: 13 bytes longer than its model id. History reads the
// model's cohorts from model-history/, one seek each, and merges the
// id-ordered keys of those the query matches, so that it reads about a
// page of keys and decodes only the results it returns, however long the
// model's history. latest/ is written at checkpoints, many results at
// once, not by each Append (latest.go). Snapshot reads latest/ and the
// results after latest-through, tokens/, the registries, the releases and
// the verifications, not the rest of results/, by far the largest bucket.
// Every write transaction but a checkpoint's bumps meta/revision once and
// records its Event; Watch replays events/ from disk, then follows
// commits as they happen.
//
// Migrations: version 1 kept result ids in latest/, and version 2 Latest
// records, both under cohorts named as they were then, and neither had
// registries or releases (latest/ is rebuilt from results/, each model's
// latest result in each cohort as history now measures it); version 3 had no
// revisions, history/ or events/ (history/ is filled from results/ at
// revision 0, and results stored before keep no Label: history shows what
// they said as unknown); version 4 had payloads/, claims of the client's
// payload hashes, which claim nothing any more (dropped), and no
// fingerprints/ (filled from results/: the first result of a fingerprint
// keeps it), verification names or sources in latest/ (a Latest record
// without one takes its result's: published when the admin submitted it);
// version 5 had no history index by cohort, and version 6 kept it apart
// from history/, under whole cohort keys (model-history/ is filled from
// history/ and results/; both old buckets go); before version 7, every
// Append wrote latest/ (latest-through is the last result).
package boltdb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// schemaVersion is bumped with every layout change, together with a
// migration in migrate.
const schemaVersion = 7

// FileName is the database file inside a data directory.
const FileName = "energylabel.db"

var (
	bucketMeta              = []byte("meta")
	bucketResults           = []byte("results")
	bucketLatest            = []byte("latest")
	bucketModelHistory      = []byte("model-history")
	bucketCohorts           = []byte("cohorts")
	bucketCohortNumbers     = []byte("cohort-numbers")
	bucketEvents            = []byte("events")
	bucketTokens            = []byte("tokens")
	bucketFingerprints      = []byte("fingerprints")
	bucketAccelerators      = []byte("accelerators")
	bucketDatasets          = []byte("datasets")
	bucketReleases          = []byte("releases")
	bucketVerifications     = []byte("verifications")
	bucketVerificationNames = []byte("verification-names")
	keyVersion              = []byte("version")
	keyRevision             = []byte("revision")

	// bucketPayloads held schema 4's payload claims; migrate drops it.
	bucketPayloads = []byte("payloads")
	// bucketHistory held schemas 4 to 6's history by model and id, and
	// bucketHistoryCohorts schema 6's index of it by cohort key; migrate
	// fills model-history/ from the first and drops both.
	bucketHistory        = []byte("history")
	bucketHistoryCohorts = []byte("history-cohorts")

	allBuckets = [][]byte{bucketMeta, bucketResults, bucketLatest, bucketModelHistory, bucketCohorts, bucketCohortNumbers, bucketEvents, bucketTokens,
		bucketFingerprints, bucketAccelerators, bucketDatasets, bucketReleases, bucketVerifications, bucketVerificationNames}
)

// ErrLocked means another process holds the database file.
var ErrLocked = errors.New("database is locked by another process")

// Options tune Open. The zero value is usable.
type Options struct {
	// LockTimeout bounds the wait for another process's file lock; 0 means 1s.
	LockTimeout time.Duration
	// MaxSize caps the file in bytes; 0 means no cap.
	MaxSize int
	// WatchBuffer is how many writes a watcher may fall behind by before
	// it is cut off with ErrCompacted; 0 means 1024.
	WatchBuffer int
	// EventRetention is how many of the newest revisions' events events/
	// keeps for watches to replay (see retention.go): older ones are
	// deleted a few per write, and a watch from before them is
	// ErrCompacted. 0 means DefaultEventRetention (1,000,000); a negative
	// value keeps every event. Results, history/ and audit records are
	// never pruned.
	EventRetention int
	// LatestCheckpoint is how many results may wait for their latest/
	// entries before an Append writes them (latest.go); 0 means a quarter
	// of latest/'s entries, and at least DefaultLatestCheckpoint.
	LatestCheckpoint int
	// Init lets Open start an empty database on a file of 0 bytes, which
	// it otherwise refuses (ErrEmpty): such a file is more often a crash
	// during its creation, or a failed copy, than a wish to start over.
	Init bool
}

// DB is the bbolt backend.
type DB struct {
	db   *bolt.DB
	path string
	hub  *hub
	// writers counts Appends in progress: a lone one commits at once.
	writers atomic.Int32
	// first is the snapshot Open read to check the file, for the first
	// Snapshot call: start-up reads latest/ once.
	first atomic.Pointer[storage.Snapshot]
	// lastID is the id of the last result stored, latestThrough the last
	// whose entry latest/ holds (meta/latest-through), and latestEntries
	// about how many entries it holds; checkpoint runs one checkpoint at a
	// time, and background is the one an Append started, if any.
	lastID, latestThrough, latestEntries atomic.Uint64
	checkpoint                           sync.Mutex
	checkpointAt                         uint64 // Options.LatestCheckpoint
	checkpointing                        atomic.Bool
	background                           sync.WaitGroup
	closed                               atomic.Bool
}

// A DB is a Backend, and the source of a move (see move.go); its Append
// takes a batch of any size.
var (
	_ storage.Backend  = (*DB)(nil)
	_ storage.Exporter = (*DB)(nil)
)

// Open opens or creates the database in dir. A damaged file is refused
// with ErrDamaged, an empty one with ErrEmpty, and a file another process
// holds with ErrLocked; each error names the file.
func Open(dir string, opt Options) (*DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	timeout := opt.LockTimeout
	if timeout == 0 {
		timeout = time.Second
	}
	if err := checkFile(path, opt.Init, timeout); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d := &DB{path: path}
	// Opening, migrating and the first full read of latest/ and tokens/
	// are where a damaged file shows; they fail instead of crashing.
	var snap *storage.Snapshot
	err := safely(func() error {
		db, err := openBolt(path, &bolt.Options{Timeout: timeout, MaxSize: opt.MaxSize})
		if err != nil {
			return err
		}
		d.db = db
		if err := d.initialize(); err != nil {
			return err
		}
		return db.View(func(tx *bolt.Tx) error {
			through, last, err := latestThrough(tx)
			if err != nil {
				return err
			}
			d.latestThrough.Store(through)
			d.lastID.Store(last)
			snap, err = readSnapshot(tx)
			return err
		})
	})
	if err != nil {
		if d.db != nil {
			d.db.Close()
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d.first.Store(snap)
	d.checkpointAt = uint64(opt.LatestCheckpoint)
	d.latestEntries.Store(uint64(len(snap.Currents)))
	d.hub = newHub(snap.Revision, cmp.Or(opt.WatchBuffer, defaultWatchBuffer))
	setRetention(d.db, opt.EventRetention)
	return d, nil
}

// Path is the database file's path.
func (d *DB) Path() string { return d.path }

// Close ends every watch, writes the pending latest/ entries, so that the
// next start reads latest/ alone, and closes the file.
func (d *DB) Close() error {
	d.hub.close()
	forgetRetention(d.db)
	var err error
	if d.closed.CompareAndSwap(false, true) {
		d.background.Wait()
		if err = d.checkpointLatest(context.Background()); err != nil {
			err = fmt.Errorf("close %s: checkpoint of latest/: %w", d.path, err)
		}
	}
	return errors.Join(err, d.db.Close())
}

// storedThrough records that results up to id are stored; Appends that
// share a commit may report in any order.
func (d *DB) storedThrough(id uint64) {
	for {
		last := d.lastID.Load()
		if id <= last || d.lastID.CompareAndSwap(last, id) {
			return
		}
	}
}

// Size is the database file's size in bytes.
func (d *DB) Size() int64 {
	var n int64
	d.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// Revision is the revision of the last committed write.
func (d *DB) Revision(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var rev int64
	err := d.db.View(func(tx *bolt.Tx) error { rev = revisionOf(tx); return nil })
	return rev, storageError("revision", err)
}

// Check runs bbolt's consistency check over the whole file.
func (d *DB) Check() error {
	return d.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

func (d *DB) initialize() error {
	return d.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keyVersion)
		if v == nil {
			if err := meta.Put(keyLatestThrough, u64(0)); err != nil {
				return err
			}
			return meta.Put(keyVersion, u64(schemaVersion))
		}
		if from := binary.BigEndian.Uint64(v); from != schemaVersion {
			if err := migrate(tx, from); err != nil {
				return err
			}
			return meta.Put(keyVersion, u64(schemaVersion))
		}
		return nil
	})
}

// migrate brings an older schema up to schemaVersion, in the transaction
// that records the new version: a crash leaves the old one whole.
func migrate(tx *bolt.Tx, from uint64) error {
	if from > schemaVersion {
		return fmt.Errorf("schema version %d is newer than this binary's %d", from, schemaVersion)
	}
	steps := []struct {
		to  uint64
		run func(*bolt.Tx) error
	}{{3, migrateLatest}, {4, migrateHistory}, {5, migrateTrust}, {7, migrateModelHistory}, {7, migrateLatestThrough}}
	for _, s := range steps {
		if from < s.to {
			if err := s.run(tx); err != nil {
				return fmt.Errorf("migrate to schema %d: %w", s.to, err)
			}
		}
	}
	return nil
}

// migrateLatest brings schema 1 and 2 to 3: latest/ is rebuilt from
// results/. Schema 1 kept result ids there and schema 2 Latest records,
// each under the cohort the code of its day named; schema 3 named
// cohorts anew (a registered accelerator's family, a dataset's own
// basis: the AIES text-generation set counts queries, not tokens), and
// the records of those days keep no measure, so that history measures
// them again (records.Current). Rewriting the values under the old keys
// would leave a model's later result beside its earlier one, in what is
// now one cohort; the rebuild keys each model's latest result in each
// cohort as history reads it.
func migrateLatest(tx *bolt.Tx) error {
	latest := map[string]storage.Current{}
	err := eachRecord(tx, func(id uint64, rec *storev1.Result) error { // in id order: the later wins
		c := records.Current(id, rec)
		latest[string(latestKey(c.Measure.Cohort, c.Model))] = c
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket(bucketLatest); err != nil {
		return err
	}
	lb, err := tx.CreateBucket(bucketLatest)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(latest)) { // each page written once
		c := latest[k]
		v, err := proto.Marshal(records.Latest(&c))
		if err != nil {
			return err
		}
		if err := lb.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// rewriteLatest replaces each latest/ value for which fn returns a new one
// (nil leaves it), after the walk: a bucket may not change under ForEach.
func rewriteLatest(tx *bolt.Tx, fn func(k, v []byte) ([]byte, error)) error {
	latest := tx.Bucket(bucketLatest)
	var keys, vals [][]byte
	err := latest.ForEach(func(k, v []byte) error {
		nv, err := fn(k, v)
		if err != nil || nv == nil {
			return err
		}
		keys, vals = append(keys, bytes.Clone(k)), append(vals, nv)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range keys {
		if err := latest.Put(keys[i], vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// migrateHistory fills schema 4's history/ from the results stored
// before it, at revision 0.
func migrateHistory(tx *bolt.Tx) error {
	hb, err := tx.CreateBucketIfNotExists(bucketHistory)
	if err != nil {
		return err
	}
	return eachRecord(tx, func(id uint64, rec *storev1.Result) error {
		return hb.Put(historyKey(rec.Model, id), u64(0))
	})
}

// migrateModelHistory brings schemas 4 to 6 to 7: model-history/ is filled
// from history/ (each result's revision) and results/ (the cohort history
// reads it in), and history/ and schema 6's history-cohorts/ go. It walks
// history/ in key order, a model at a time, and puts each model's keys in
// key order, so that each page is written once.
func migrateModelHistory(tx *bolt.Tx) error {
	old := tx.Bucket(bucketHistory)
	if old == nil {
		return fmt.Errorf("no history/ to migrate")
	}
	results, history, numbers := tx.Bucket(bucketResults), tx.Bucket(bucketModelHistory), newCohortNumbers(tx)
	var model []byte
	var keys, revs [][]byte
	flush := func() error {
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
		for _, i := range order {
			if err := history.Put(keys[i], revs[i]); err != nil {
				return err
			}
		}
		keys, revs = keys[:0], revs[:0]
		return nil
	}
	var rec storev1.Result
	c := old.Cursor()
	for k, rev := c.First(); k != nil; k, rev = c.Next() {
		n := len(k) - 9
		if n < 0 || k[n] != 0 || len(rev) != 8 {
			return fmt.Errorf("history key %q holding %d bytes is not a model and an id, with a revision", k, len(rev))
		}
		if !bytes.Equal(k[:n], model) {
			if err := flush(); err != nil {
				return err
			}
			model = bytes.Clone(k[:n])
		}
		id := k[n+1:]
		rec.Reset()
		if err := getProto(results, id, &rec); err != nil {
			return fmt.Errorf("history lists result %d of %q: %w", binary.BigEndian.Uint64(id), model, err)
		}
		cohort, err := numbers.of(records.CohortKey(records.CohortOf(&rec)))
		if err != nil {
			return err
		}
		keys = append(keys, modelHistoryKey(string(model), cohort, binary.BigEndian.Uint64(id)))
		revs = append(revs, bytes.Clone(rev))
	}
	if err := flush(); err != nil {
		return err
	}
	for _, b := range [][]byte{bucketHistory, bucketHistoryCohorts} {
		if err := tx.DeleteBucket(b); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
	}
	return nil
}

// migrateLatestThrough records that latest/ holds the entry of every
// result: before schema 7, each Append wrote them.
func migrateLatestThrough(tx *bolt.Tx) error {
	return tx.Bucket(bucketMeta).Put(keyLatestThrough, u64(tx.Bucket(bucketResults).Sequence()))
}

// migrateTrust brings schema 4 to 5: payloads/ goes, as a client's hash
// claims nothing; fingerprints/ is filled from results/, the first result
// of a fingerprint keeping it; each Latest record without a source takes
// its result's; and verifications stored under sequence numbers move
// under the revision that stored them, with their names.
func migrateTrust(tx *bolt.Tx) error {
	if err := tx.DeleteBucket(bucketPayloads); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return err
	}
	fb := tx.Bucket(bucketFingerprints)
	err := eachRecord(tx, func(id uint64, rec *storev1.Result) error {
		fp := rec.GetAudit().GetFingerprint()
		if fp == "" || fb.Get([]byte(fp)) != nil {
			return nil
		}
		return fb.Put([]byte(fp), fingerprintClaim(rec.Model, id))
	})
	if err != nil {
		return err
	}
	if err := migrateLatestSources(tx); err != nil {
		return err
	}
	return migrateVerificationKeys(tx)
}

// migrateLatestSources gives each Latest record without a source its
// result's: a record stored before sources were kept reads as published
// when the admin token submitted it, as history reads it.
func migrateLatestSources(tx *bolt.Tx) error {
	results := tx.Bucket(bucketResults)
	var l storev1.Latest
	return rewriteLatest(tx, func(k, v []byte) ([]byte, error) {
		l.Reset()
		if err := proto.Unmarshal(v, &l); err != nil {
			return nil, fmt.Errorf("latest %q: %w", k, err)
		}
		if l.Source != storev1.Source_SOURCE_UNSPECIFIED {
			return nil, nil
		}
		var rec storev1.Result
		if err := getProto(results, u64(l.ResultId), &rec); err != nil {
			return nil, fmt.Errorf("latest points at result %d: %w", l.ResultId, err)
		}
		l.Source = records.SourceRecord(&rec)
		return proto.Marshal(&l)
	})
}

// migrateVerificationKeys moves verifications that schema 4 kept under
// sequence numbers (Open created the bucket then) under the revisions
// their events name, and records their names.
func migrateVerificationKeys(tx *bolt.Tx) error {
	vb := tx.Bucket(bucketVerifications)
	if k, _ := vb.Cursor().First(); k == nil {
		return nil
	}
	revOf := map[uint64]uint64{}
	var ev storev1.Event
	err := tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
		ev.Reset()
		if err := proto.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("event %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if ev.Kind == storev1.Event_KIND_VERIFICATION {
			revOf[ev.Seq] = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	type entry struct {
		rev  uint64
		name string
		v    []byte
	}
	var moved []entry
	err = vb.ForEach(func(k, v []byte) error {
		seq := binary.BigEndian.Uint64(k)
		rev, ok := revOf[seq]
		if !ok {
			return fmt.Errorf("verification %d: no event stored it", seq)
		}
		var p storev1.Verification
		if err := proto.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("verification %d: %w", seq, err)
		}
		ver, err := records.VerificationOf(&p)
		if err != nil {
			return err
		}
		moved = append(moved, entry{rev, storage.VerificationName(&ver), bytes.Clone(v)})
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket(bucketVerifications); err != nil {
		return err
	}
	if vb, err = tx.CreateBucket(bucketVerifications); err != nil {
		return err
	}
	events, names := tx.Bucket(bucketEvents), tx.Bucket(bucketVerificationNames)
	for _, e := range moved {
		if err := vb.Put(u64(e.rev), e.v); err != nil {
			return err
		}
		if names.Get([]byte(e.name)) == nil { // schema 4 refused a name taken, too
			if err := names.Put([]byte(e.name), u64(e.rev)); err != nil {
				return err
			}
		}
		nv, err := proto.Marshal(&storev1.Event{Kind: storev1.Event_KIND_VERIFICATION, Seq: e.rev})
		if err != nil {
			return err
		}
		if err := events.Put(u64(e.rev), nv); err != nil {
			return err
		}
	}
	return nil
}

func eachRecord(tx *bolt.Tx, fn func(uint64, *storev1.Result) error) error {
	var rec storev1.Result
	return tx.Bucket(bucketResults).ForEach(func(k, v []byte) error {
		rec.Reset()
		id := binary.BigEndian.Uint64(k)
		if err := proto.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("result %d: %w", id, err)
		}
		return fn(id, &rec)
	})
}

func getProto(b *bolt.Bucket, key []byte, m proto.Message) error {
	v := b.Get(key)
	if v == nil {
		return storage.ErrNotFound
	}
	return proto.Unmarshal(v, m) // Unmarshal copies; nothing escapes the tx
}

// revisionOf is the revision of the last write committed before tx.
func revisionOf(tx *bolt.Tx) int64 {
	v := tx.Bucket(bucketMeta).Get(keyRevision)
	if v == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// nextRevision records one more write in tx, with its event, and returns
// its revision.
func nextRevision(tx *bolt.Tx, ev *storev1.Event) (int64, error) {
	rev := revisionOf(tx) + 1
	if err := tx.Bucket(bucketMeta).Put(keyRevision, u64(uint64(rev))); err != nil {
		return 0, err
	}
	v, err := proto.Marshal(ev)
	if err != nil {
		return 0, err
	}
	events := tx.Bucket(bucketEvents)
	events.FillPercent = appendFill
	if err := events.Put(u64(uint64(rev)), v); err != nil {
		return 0, err
	}
	return rev, pruneEvents(tx, rev) // retention.go
}

// storageError turns bbolt's errors into the seam's, naming no path.
func storageError(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, bolterrors.ErrMaxSizeReached) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%s: %w (%w)", op, storage.ErrFull, err) // the cause is for the log
	}
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("%s: %w", op, storage.ErrClosed)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// appendFill is the fill of buckets whose keys only grow: a split page is
// never written again and may be filled up; bbolt's default of one half
// would leave every page half empty.
const appendFill = 1.0
