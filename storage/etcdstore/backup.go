package etcdstore

import (
	"context"
	"io"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/energylabel/energylabel/storage/internal/spool"
)

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
	f, size, err := spool.Copy(s.opt.BackupDir, ".energylabel-etcd-backup-*", func(w io.Writer) (int64, error) {
		return s.copySnapshot(ctx, w)
	})
	if err != nil {
		return nil, 0, s.storageError(ctx, "backup", err)
	}
	return f, size, nil
}

// copySnapshot streams a member's snapshot into w: from the member
// requests go to first, or, when one has not begun to send within
// AttemptTimeout, the next, within RequestTimeout. Once it sends, the copy
// takes as long as it takes; a member that stops answering midway is cut
// off by the connection's keepalive.
func (s *Store) copySnapshot(ctx context.Context, w io.Writer) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream if the copy fails, and any that began late
	type opened struct {
		resp *clientv3.SnapshotResponse
		err  error
	}
	var resp *clientv3.SnapshotResponse
	err := s.do(ctx, "backup", func(actx context.Context, cli *clientv3.Client) error {
		ch := make(chan opened, 1)
		go func() {
			r, err := cli.SnapshotWithVersion(ctx)
			ch <- opened{r, err}
		}()
		select {
		case o := <-ch:
			resp = o.resp
			return o.err
		case <-actx.Done():
			go func() {
				if o := <-ch; o.err == nil {
					o.resp.Snapshot.Close()
				}
			}()
			return actx.Err()
		}
	})
	if err != nil {
		return 0, err
	}
	defer resp.Snapshot.Close()
	return io.Copy(w, resp.Snapshot)
}
