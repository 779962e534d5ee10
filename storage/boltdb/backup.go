package boltdb

import (
	"context"
	"io"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/storage/internal/spool"
)

// Backup copies a consistent snapshot of the database into a temporary
// file beside it, and returns it for the caller to read at its own pace.
// The copy runs at the pace of the disk in one read transaction, which is
// closed before Backup returns: a reader that stalls then holds a file,
// never the database, whose writers would otherwise wait for it whenever
// the file must grow. The temporary file is unlinked at once where the
// system allows it, so that not even a crash leaves it behind.
func (d *DB) Backup(ctx context.Context) (io.ReadCloser, int64, error) {
	f, size, err := spool.Copy(filepath.Dir(d.path), ".backup-*", func(w io.Writer) (size int64, err error) {
		err = d.db.View(func(tx *bolt.Tx) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			size, err = tx.WriteTo(w)
			return err
		})
		return size, err
	})
	if err != nil {
		return nil, 0, storageError("backup", err)
	}
	return f, size, nil
}
