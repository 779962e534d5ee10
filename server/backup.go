package server

import (
	"bufio"
	"fmt"
	"io"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// backupChunk is the size of one Backup message, well under the 4 MiB
// default message limit of clients.
const backupChunk = 256 << 10

// Backuper is a store that can snapshot itself.
type Backuper interface {
	Backup(w io.Writer, size func(int64) error) error
}

func (as adminService) Backup(_ *energylabelv1.BackupRequest, stream energylabelv1.AdminService_BackupServer) error {
	b, ok := as.s.store.(Backuper)
	if !ok {
		return fmt.Errorf("backup: %w", errUnsupported)
	}
	cw := &chunkWriter{stream: stream}
	w := bufio.NewWriterSize(cw, backupChunk)
	err := b.Backup(w, func(n int64) error { cw.size = n; return nil })
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		as.s.log.Info("backup streamed", "bytes", cw.size)
	}
	return err
}

// chunkWriter sends each write as one message; the first carries the size.
type chunkWriter struct {
	stream energylabelv1.AdminService_BackupServer
	size   int64
	sent   bool
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	msg := &energylabelv1.BackupResponse{Chunk: p}
	if !c.sent {
		msg.Size, c.sent = c.size, true
	}
	if err := c.stream.Send(msg); err != nil {
		return 0, err
	}
	return len(p), nil
}
