package etcdstore

import (
	"context"
	"io"
	"os"
)

// snapshotFile is a copy of an etcd snapshot in a temporary file, open at
// its start; Close removes it.
type snapshotFile struct {
	*os.File
	// name is set while the file still has one to remove on Close.
	name string
}

func (f *snapshotFile) Close() error {
	err := f.File.Close()
	if f.name != "" {
		os.Remove(f.name)
	}
	return err
}

// Backup copies a snapshot of the etcd member the client reaches, made by
// etcd at one revision, into a temporary file, and returns it for the
// caller to read at its own pace: etcd holds a read transaction open while
// it streams one, and a reader that stalled it would hold that open too.
// The snapshot is the whole member's keyspace, every prefix's; etcdutl
// snapshot restore starts a cluster from it.
func (s *Store) Backup(ctx context.Context) (io.ReadCloser, int64, error) {
	if err := s.closed("backup"); err != nil {
		return nil, 0, err
	}
	f, err := os.CreateTemp(s.opt.BackupDir, ".energylabel-etcd-backup-*")
	if err != nil {
		return nil, 0, s.storageError(ctx, "backup", err)
	}
	snap := &snapshotFile{File: f, name: f.Name()}
	if os.Remove(f.Name()) == nil {
		snap.name = ""
	}
	size, err := s.copySnapshot(ctx, f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		snap.Close()
		return nil, 0, s.storageError(ctx, "backup", err)
	}
	return snap, size, nil
}

func (s *Store) copySnapshot(ctx context.Context, w io.Writer) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream if the copy fails
	resp, err := s.cli.SnapshotWithVersion(ctx)
	if err != nil {
		return 0, err
	}
	defer resp.Snapshot.Close()
	return io.Copy(w, resp.Snapshot)
}
