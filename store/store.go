// Package store keeps results and tokens durably in one bbolt file and
// serves reads from an in-memory index of cohorts. It is the only package
// that imports bbolt.
//
// Bucket layout (schema version 3; values are energylabel.store.v1 messages):
//
//	meta/
//	  version                        -> uint64 BE schema version
//	results/                         append-only, never rewritten
//	  <id uint64 BE>                 -> Result (with its Audit)
//	latest/                          the current result of each model in each cohort
//	  <cohort key> 0x00 <model>      -> Latest (the result's id and what the index keeps of it)
//	tokens/
//	  <token id>                     -> Token (SHA-256 of the secret only)
//	payloads/                        one measurement labels one model
//	  <payload SHA-256, hex>         -> the model it labels
//	accelerators/                    variants operators registered, in order
//	  <seq uint64 BE>                -> Accelerator
//	datasets/                        datasets operators registered, in order
//	  <seq uint64 BE>                -> Dataset
//	releases/                        star releases, oldest first
//	  <seq uint64 BE>                -> Release (every cohort's star bounds)
//
// A cohort key is task, dataset, size class, hardware and basis joined by
// 0x1f. The index is rebuilt from latest/ alone at Open, without reading
// results/, and updated after each commit, so reads never touch the file.
//
// Version 1 kept only the result's id in latest/; migrate rewrites it.
// Version 2 had no payloads/, registries or releases; migrate fills
// payloads/ from results/.
//
// bbolt trusts the file it maps. Open refuses an empty file, and a file
// shorter than its pages, before bbolt reads it, and turns faults and
// panics while opening and rebuilding the index into ErrDamaged (see
// damage.go); CheckFile reads everything and runs tx.Check.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
)

// schemaVersion is bumped with every layout change, together with a
// migration in migrate.
const schemaVersion = 3

// FileName is the database file inside a data directory.
const FileName = "energylabel.db"

var (
	bucketMeta    = []byte("meta")
	bucketResults = []byte("results")
	bucketLatest  = []byte("latest")
	bucketTokens  = []byte("tokens")
	keyVersion    = []byte("version")

	bucketPayloads     = []byte("payloads")
	bucketAccelerators = []byte("accelerators")
	bucketDatasets     = []byte("datasets")
	bucketReleases     = []byte("releases")
)

// Sentinel errors, matched with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	// ErrLocked means another process holds the database file.
	ErrLocked = errors.New("database is locked by another process")
	// ErrFull means the database reached its maximum size, or its disk is
	// full; reads go on.
	ErrFull = errors.New("storage full")
)

// Options tune Open. The zero value is usable.
type Options struct {
	// LockTimeout bounds the wait for another process's file lock; 0 means 1s.
	LockTimeout time.Duration
	// MaxSize caps the file in bytes; 0 means no cap.
	MaxSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Init lets Open start an empty database on a file of 0 bytes, which
	// it otherwise refuses (ErrEmpty): such a file is more often a crash
	// during its creation, or a failed copy, than a wish to start over.
	Init bool
}

// Store is a bbolt-backed store of results and tokens.
type Store struct {
	db    *bolt.DB
	path  string
	now   func() time.Time
	index *index
	auth  *tokenCache
	// writers counts submissions in progress.
	writers atomic.Int32
}

// Audit records who submitted a result, when, from where, and what bytes.
type Audit struct {
	TokenID       string
	ReceivedAt    time.Time
	ClientAddr    string
	PayloadSHA256 string
}

// Open opens or creates the database in dir and rebuilds the index. A
// damaged file is refused with ErrDamaged, an empty one with ErrEmpty,
// and a file another process holds with ErrLocked; each error names the
// file.
func Open(dir string, opt Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	path := dataFile(dir)
	timeout := opt.LockTimeout
	if timeout == 0 {
		timeout = time.Second
	}
	if err := checkFile(path, opt.Init, timeout); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{path: path, now: opt.Now, index: newIndex(), auth: newTokenCache()}
	if s.now == nil {
		s.now = time.Now
	}
	// Opening, migrating and the first full read of latest/ and tokens/
	// are where a damaged file shows; they fail instead of crashing.
	err := safely(func() error {
		db, err := openBolt(path, &bolt.Options{Timeout: timeout, MaxSize: opt.MaxSize})
		if err != nil {
			return err
		}
		s.db = db
		if err := s.initialize(); err != nil {
			return err
		}
		return s.load()
	})
	if err != nil {
		if s.db != nil {
			s.db.Close()
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

func dataFile(dir string) string { return filepath.Join(dir, FileName) }

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database file.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) initialize() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketResults, bucketLatest, bucketTokens,
			bucketPayloads, bucketAccelerators, bucketDatasets, bucketReleases} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keyVersion)
		if v == nil {
			return meta.Put(keyVersion, u64(schemaVersion))
		}
		from := binary.BigEndian.Uint64(v)
		if from == schemaVersion {
			return nil
		}
		if err := migrate(tx, from); err != nil {
			return err
		}
		return meta.Put(keyVersion, u64(schemaVersion))
	})
}

// migrate brings an older schema up to schemaVersion, in the transaction
// that records the new version: a crash leaves the old one whole.
func migrate(tx *bolt.Tx, from uint64) error {
	if from > schemaVersion {
		return fmt.Errorf("schema version %d is newer than this binary's %d", from, schemaVersion)
	}
	if from < 2 {
		if err := migrateLatestValues(tx); err != nil {
			return fmt.Errorf("migrate to schema 2: %w", err)
		}
	}
	if from < 3 {
		if err := migratePayloads(tx); err != nil {
			return fmt.Errorf("migrate to schema 3: %w", err)
		}
	}
	return nil
}

// migrateLatestValues turns version 1's result ids in latest/ into Latest
// records, with the measure the current code computes for each result.
func migrateLatestValues(tx *bolt.Tx) error {
	results, latest := tx.Bucket(bucketResults), tx.Bucket(bucketLatest)
	var keys, vals [][]byte
	err := latest.ForEach(func(k, idb []byte) error {
		v := results.Get(idb)
		if v == nil {
			return fmt.Errorf("latest points at missing result %d", binary.BigEndian.Uint64(idb))
		}
		var rec storev1.Result
		if err := proto.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("result %d: %w", binary.BigEndian.Uint64(idb), err)
		}
		nv, err := proto.Marshal(latestOf(entryOf(binary.BigEndian.Uint64(idb), &rec)))
		if err != nil {
			return err
		}
		keys, vals = append(keys, bytes.Clone(k)), append(vals, nv)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range keys { // a bucket may not change under ForEach
		if err := latest.Put(keys[i], vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// load rebuilds the index and the token cache from the file. It reads
// latest/ and tokens/ only: results/, by far the largest bucket, is not
// paged in.
func (s *Store) load() error {
	return s.db.View(func(tx *bolt.Tx) error {
		var entries []*Entry
		var rec storev1.Latest
		err := tx.Bucket(bucketLatest).ForEach(func(k, v []byte) error {
			rec.Reset()
			if err := proto.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("latest %q: %w", k, err)
			}
			e, err := entryOfLatest(&rec)
			if err != nil {
				return err
			}
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			return err
		}
		s.index.putAll(entries)
		return tx.Bucket(bucketTokens).ForEach(func(_, v []byte) error {
			var t storev1.Token
			if err := proto.Unmarshal(v, &t); err != nil {
				return err
			}
			s.auth.put(tokenOf(&t))
			return nil
		})
	})
}

// Submit stores a validated result durably and indexes it. It returns once
// the result is on disk.
func (s *Store) Submit(ctx context.Context, r *rating.Result, m rating.Measure, a Audit) (Entry, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, err
	}
	rec := recordOf(r, a)
	val, err := proto.Marshal(rec)
	if err != nil {
		return Entry{}, err
	}
	e := entryOfMeasure(0, r, m, a.ReceivedAt)
	lkey := latestKey(m.Cohort, r.Model)
	// A lone submission commits at once; concurrent ones share a commit
	// through Batch, which waits up to MaxBatchDelay to gather them.
	commit := s.db.Batch
	if s.writers.Add(1) == 1 {
		commit = s.db.Update
	}
	defer s.writers.Add(-1)
	err = commit(func(tx *bolt.Tx) error {
		results := tx.Bucket(bucketResults)
		results.FillPercent = appendFill
		seq, err := results.NextSequence()
		if err != nil {
			return err
		}
		if err := results.Put(u64(seq), val); err != nil {
			return err
		}
		e.ID = seq
		lv, err := proto.Marshal(latestOf(e))
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketLatest).Put(lkey, lv); err != nil {
			return err
		}
		if err := claimPayload(tx, a.PayloadSHA256, r.Model); err != nil {
			return err
		}
		return touchToken(tx, a.TokenID, a.ReceivedAt)
	})
	if err != nil {
		return Entry{}, storageError("submit", err)
	}
	s.index.put(e)
	if a.TokenID != "" {
		s.auth.used(a.TokenID, a.ReceivedAt)
	}
	return *e, nil
}

// touchToken records a token's last use in the submission's own
// transaction, so it costs no extra fsync.
func touchToken(tx *bolt.Tx, id string, at time.Time) error {
	b := tx.Bucket(bucketTokens)
	v := b.Get([]byte(id))
	if v == nil {
		return nil // the admin token is not stored
	}
	var t storev1.Token
	if err := proto.Unmarshal(v, &t); err != nil {
		return fmt.Errorf("token %s: %w", id, err)
	}
	t.LastUsedAt = timestamp(at)
	nv, err := proto.Marshal(&t)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), nv)
}

// storageError turns bbolt's errors into the store's.
func storageError(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, bolterrors.ErrMaxSizeReached) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%s: %w (%w)", op, ErrFull, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Record returns a stored result with its audit trail.
func (s *Store) Record(id uint64) (*rating.Result, Audit, error) {
	var rec storev1.Result
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketResults).Get(u64(id))
		if v == nil {
			return fmt.Errorf("result %d: %w", id, ErrNotFound)
		}
		return proto.Unmarshal(v, &rec) // Unmarshal copies; nothing escapes the tx
	})
	if err != nil {
		return nil, Audit{}, err
	}
	r, a := resultOf(&rec)
	return r, a, nil
}

// CountResults counts every stored result, superseded ones included.
func (s *Store) CountResults() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketResults).Stats().KeyN
		return nil
	})
	return n, err
}

// Check runs bbolt's consistency check over the whole file.
func (s *Store) Check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func latestKey(c rating.Cohort, model string) []byte {
	var b bytes.Buffer
	b.WriteString(cohortKey(c))
	b.WriteByte(0)
	b.WriteString(model)
	return b.Bytes()
}

func cohortKey(c rating.Cohort) string {
	const sep = "\x1f"
	return c.Task + sep + c.Dataset + sep + c.SizeClass + sep + c.Hardware + sep + c.Basis.String()
}

// Snapshot is a consistent copy of the database in a temporary file, open
// at its start.
type Snapshot struct {
	*os.File
	// Size is the copy's length in bytes.
	Size int64
	// name is set while the file still has one to remove on Close.
	name string
}

// Close closes the copy, which is then gone.
func (s *Snapshot) Close() error {
	err := s.File.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
	return err
}

// Snapshot copies a consistent snapshot of the database into a temporary
// file beside it, and returns it for the caller to read at its own pace.
// The copy runs at the pace of the disk in one read transaction, which is
// closed before Snapshot returns: a reader that stalls then holds a file,
// never the database, whose writers would otherwise wait for it whenever
// the file must grow. The temporary file is unlinked at once where the
// system allows it, so that not even a crash leaves it behind.
func (s *Store) Snapshot() (*Snapshot, error) {
	f, err := os.CreateTemp(filepath.Dir(s.path), ".backup-*")
	if err != nil {
		return nil, storageError("backup", err)
	}
	snap := &Snapshot{File: f, name: f.Name()}
	if os.Remove(f.Name()) == nil {
		snap.name = ""
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		snap.Size, err = tx.WriteTo(f)
		return err
	})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		snap.Close()
		return nil, storageError("backup", err)
	}
	return snap, nil
}

// Size is the database file's size in bytes.
func (s *Store) Size() int64 {
	var n int64
	s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}
