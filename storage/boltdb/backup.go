package boltdb

import (
	"context"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// snapshotFile is a consistent copy of the database in a temporary file,
// open at its start; Close removes it.
type snapshotFile struct {
	*os.File
	// name is set while the file still has one to remove on Close.
	name string
}

func (s *snapshotFile) Close() error {
	err := s.File.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
	return err
}

// Backup copies a consistent snapshot of the database into a temporary
// file beside it, and returns it for the caller to read at its own pace.
// The copy runs at the pace of the disk in one read transaction, which is
// closed before Backup returns: a reader that stalls then holds a file,
// never the database, whose writers would otherwise wait for it whenever
// the file must grow. The temporary file is unlinked at once where the
// system allows it, so that not even a crash leaves it behind.
func (d *DB) Backup(ctx context.Context) (io.ReadCloser, int64, error) {
	f, err := os.CreateTemp(filepath.Dir(d.path), ".backup-*")
	if err != nil {
		return nil, 0, storageError("backup", err)
	}
	snap := &snapshotFile{File: f, name: f.Name()}
	if os.Remove(f.Name()) == nil {
		snap.name = ""
	}
	var size int64
	err = d.db.View(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		size, err = tx.WriteTo(f)
		return err
	})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		snap.Close()
		return nil, 0, storageError("backup", err)
	}
	return snap, size, nil
}
