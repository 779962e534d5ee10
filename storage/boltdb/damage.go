package boltdb

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Errors of a file that cannot be opened as it is.
var (
	// ErrDamaged means the file is not a whole, consistent database:
	// truncated, overwritten, or not a database at all.
	ErrDamaged = errors.New("damaged database")
	// ErrEmpty means the file exists but holds nothing, as a crash during
	// its creation or a failed copy leaves it. Options.Init starts an empty
	// database on it.
	ErrEmpty = errors.New("the database file is empty (0 bytes)")
)

// safely runs fn, turning a panic, or a memory fault, into ErrDamaged.
// bbolt reads the file through a memory map and trusts what it finds: a
// truncated file faults on the pages past its end, and garbage trips
// bbolt's assertions or indexes out of range.
func safely(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s", ErrDamaged, firstLine(fmt.Sprint(r)))
		}
	}()
	return fn()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// checkFile refuses what bbolt would fault on or silently replace, before
// it opens the file for writing: an empty file (unless init), and a file
// shorter than the pages its header says it has. A file that does not
// exist yet is fine: Open creates it.
func checkFile(path string, init bool, lockTimeout time.Duration) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Size() == 0 && init:
		return nil
	case fi.Size() == 0:
		return ErrEmpty
	}
	return safely(func() error {
		db, err := openBolt(path, &bolt.Options{ReadOnly: true, Timeout: lockTimeout})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error {
			if need := tx.Size(); need > fi.Size() {
				return fmt.Errorf("%w: truncated: the file has %d bytes, its pages reach %d", ErrDamaged, fi.Size(), need)
			}
			return nil
		})
	})
}

// openBolt is bolt.Open with its errors made the backend's.
func openBolt(path string, opt *bolt.Options) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, opt)
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("%w (is another energylabeld using this data directory?)", ErrLocked)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	case strings.Contains(err.Error(), "file size too small"):
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return nil, err
}

// Report is what CheckFile found.
type Report struct {
	Path  string
	Bytes int64
	// Results counts stored results, Current the current result of each
	// model in each cohort, Tokens the publisher tokens.
	Results, Current, Tokens int
	// Events is what events/, the change log watches replay, holds: how
	// many events, the space they take, and the oldest revision kept
	// (Options.EventRetention).
	Events EventLog
	// Problems are what bbolt's consistency check and the store's own
	// reading found, at most maxProblems of them; ProblemCount counts all.
	Problems     []string
	ProblemCount int
}

const maxProblems = 20

// CheckFile checks the database of a data directory without changing it:
// it reads every page, decodes what the index is built from, and runs
// bbolt's consistency check (tx.Check). It fails as Open does on a file it
// cannot open; damage it finds inside an open file is in the report.
func CheckFile(dir string, opt Options) (Report, error) {
	rep := Report{Path: filepath.Join(dir, FileName)}
	timeout := opt.LockTimeout
	if timeout == 0 {
		timeout = time.Second
	}
	fi, err := os.Stat(rep.Path)
	if err != nil {
		return rep, err
	}
	rep.Bytes = fi.Size()
	if err := checkFile(rep.Path, false, timeout); err != nil {
		return rep, fmt.Errorf("check %s: %w", rep.Path, err)
	}
	problem := func(err error) {
		if rep.ProblemCount++; len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, firstLine(err.Error()))
		}
	}
	var db *bolt.DB
	err = safely(func() (err error) {
		db, err = openBolt(rep.Path, &bolt.Options{ReadOnly: true, Timeout: timeout, PreLoadFreelist: true})
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("check %s: %w", rep.Path, err)
	}
	defer db.Close()
	// Read every key and value here, where a fault is caught: tx.Check
	// reads the same pages on a goroutine of its own, where it would not
	// be. Only a file read whole without a fault goes on to tx.Check.
	err = safely(func() error {
		return db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return readAll(b) })
		})
	})
	if err != nil {
		problem(err)
		return rep, nil
	}
	err = safely(func() error {
		return db.View(func(tx *bolt.Tx) error {
			snap, err := readSnapshot(tx)
			if snap != nil {
				rep.Current, rep.Tokens = len(snap.Currents), len(snap.Tokens)
			}
			return err
		})
	})
	if err != nil {
		problem(err)
	}
	err = safely(func() error {
		return db.View(func(tx *bolt.Tx) error {
			if b := tx.Bucket(bucketResults); b != nil {
				rep.Results = b.Stats().KeyN
			}
			if tx.Bucket(bucketMeta) != nil {
				rep.Events = eventLog(tx)
			}
			for err := range tx.Check() {
				problem(err)
			}
			return nil
		})
	})
	if err != nil {
		problem(err)
	}
	return rep, nil
}

// readAll reads every key and value of a bucket and of the buckets in it,
// so that every page of it is touched.
func readAll(b *bolt.Bucket) error {
	h := crc32.NewIEEE()
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if child := b.Bucket(k); child != nil {
				return readAll(child)
			}
		}
		h.Write(k)
		h.Write(v)
		return nil
	})
}
