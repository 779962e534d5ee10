package server

import (
	"errors"
	"fmt"
	"io"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/store"
)

// backupChunk is the size of one Backup message, well under the 4 MiB
// default message limit of clients.
const backupChunk = 256 << 10

// Snapshotter is a store that can copy a consistent snapshot of itself.
type Snapshotter interface {
	Snapshot() (*store.Snapshot, error)
}

// Backup streams a snapshot of the database. The snapshot is copied to a
// temporary file first, so however slowly the client reads, it holds up no
// write; the stream limits end it if the client stops reading.
func (as adminService) Backup(_ *energylabelv1.BackupRequest, stream energylabelv1.AdminService_BackupServer) error {
	st, ok := as.s.store.(Snapshotter)
	if !ok {
		return fmt.Errorf("backup: %w", errUnsupported)
	}
	snap, err := st.Snapshot()
	if err != nil {
		return err
	}
	defer snap.Close()
	buf := make([]byte, backupChunk)
	msg := &energylabelv1.BackupResponse{Size: snap.Size} // the first message carries the size
	for sent := int64(0); sent < snap.Size; {
		n, err := io.ReadFull(snap, buf)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("backup: the snapshot ended after %d of %d bytes", sent, snap.Size)
		}
		msg.Chunk = buf[:n]
		if err := stream.Send(msg); err != nil {
			return err
		}
		sent += int64(n)
		msg.Size = 0
	}
	as.s.log.Info("backup streamed", "bytes", snap.Size)
	return nil
}
