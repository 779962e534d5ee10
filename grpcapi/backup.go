package grpcapi

import (
	"errors"
	"fmt"
	"io"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// backupChunk is the size of one Backup message, well under the 4 MiB
// default message limit of clients.
const backupChunk = 256 << 10

// Backup streams a snapshot of the database. The snapshot is copied to a
// temporary file first, so however slowly the client reads, it holds up no
// write; the stream limits end it if the client stops reading.
func (as adminService) Backup(_ *energylabelv1.BackupRequest, stream energylabelv1.AdminService_BackupServer) error {
	snap, size, err := as.s.svc.Backup(stream.Context())
	if err != nil {
		return err
	}
	defer snap.Close()
	if size < 0 {
		return fmt.Errorf("backup: %w: this backend's copies have no size known up front; use its own tools", errUnsupported)
	}
	buf := make([]byte, backupChunk)
	msg := &energylabelv1.BackupResponse{Size: size} // the first message carries the size
	for sent := int64(0); sent < size; {
		n, err := io.ReadFull(snap, buf)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("backup: the snapshot ended after %d of %d bytes", sent, size)
		}
		msg.Chunk = buf[:n]
		if err := stream.Send(msg); err != nil {
			return err
		}
		sent += int64(n)
		msg.Size = 0
	}
	as.s.log.Info("backup streamed", "bytes", size)
	return nil
}
