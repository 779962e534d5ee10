package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"

	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// importBatch is how many results one import transaction holds: enough
// that its fsync costs each result little, few enough that a transaction
// stays small in memory.
const importBatch = 8192

// ImportResults validates the streamed results one by one and stores them
// in batches. Committing a batch overlaps with receiving and validating the
// next, so that the fsync's wait costs no throughput.
func (as adminService) ImportResults(stream grpc.ClientStreamingServer[energylabelv1.ImportResultsRequest, energylabelv1.ImportResultsResponse]) error {
	ctx := stream.Context()
	audit := storage.Audit{TokenID: adminTokenID}
	if p := principalFrom(ctx); p != nil {
		audit.TokenID = p.tokenID
	}
	if pr, ok := peer.FromContext(ctx); ok {
		audit.ClientAddr = pr.Addr.String()
	}
	c := newCommitter(ctx, as.s.backend)
	var pending []storage.Accepted
	n := 0 // results received
	var err error
	for err == nil {
		var req *energylabelv1.ImportResultsRequest
		if req, err = stream.Recv(); err != nil {
			break
		}
		audit.ReceivedAt = as.s.now()
		for _, p := range req.GetResults() {
			r := wire.Result(p)
			acc, verr := as.s.accept(&r, rating.Published, audit)
			if verr != nil {
				err = refused(n, r.Model, verr)
				break
			}
			pending = append(pending, acc)
			n++
			if len(pending) == importBatch {
				if err = c.commit(pending); err != nil {
					break
				}
				pending = make([]storage.Accepted, 0, importBatch)
			}
		}
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	// Every result before the end of the stream, or before a refused one,
	// is stored.
	if len(pending) > 0 {
		c.commit(pending) // a failure shows in wait
	}
	resp, cerr := c.wait()
	if cerr != nil {
		return cerr
	}
	if err := as.s.index.WaitFor(ctx, c.rev); err != nil {
		return err
	}
	if err != nil {
		var invalid *rating.InvalidError
		if errors.As(err, &invalid) {
			return fmt.Errorf("%w; the %d results before it are stored", err, resp.Imported)
		}
		return err
	}
	as.s.log.Info("results imported", "results", resp.Imported, "first_id", resp.FirstResultId, "last_id", resp.LastResultId)
	return stream.SendAndClose(resp)
}

// refused names the stream's n-th result in each violation of err.
func refused(n int, model string, err error) error {
	var invalid *rating.InvalidError
	if !errors.As(err, &invalid) {
		return err
	}
	out := &rating.InvalidError{Violations: make([]rating.Violation, len(invalid.Violations))}
	for i, v := range invalid.Violations {
		out.Violations[i] = rating.Violation{Field: fmt.Sprintf("results[%d].%s", n, v.Field), Description: v.Description}
	}
	return fmt.Errorf("result %d (model %q): %w", n, model, out)
}

// committer stores batches in order on a goroutine of its own, one
// transaction at a time.
type committer struct {
	rev     int64 // of the last batch; read after done
	batches chan []storage.Accepted
	done    chan struct{}
	resp    energylabelv1.ImportResultsResponse
	err     error         // the goroutine's; read after done
	failed  chan struct{} // closed when err is set
}

func newCommitter(ctx context.Context, b storage.Backend) *committer {
	c := &committer{batches: make(chan []storage.Accepted, 1), done: make(chan struct{}), failed: make(chan struct{})}
	go func() {
		defer close(c.done)
		limit := batchLimit(b)
		for batch := range c.batches {
			for len(batch) > 0 && c.err == nil {
				part := batch[:min(len(batch), limit)]
				batch = batch[len(part):]
				first, rev, err := b.Append(ctx, part)
				if err != nil {
					c.err = err
					close(c.failed)
					break
				}
				c.rev = rev
				if c.resp.FirstResultId == 0 {
					c.resp.FirstResultId = first
				}
				c.resp.LastResultId = first + uint64(len(part)) - 1
				c.resp.Imported += int64(len(part))
			}
		}
	}()
	return c
}

// commit queues a batch; it fails once an earlier batch has failed.
func (c *committer) commit(batch []storage.Accepted) error {
	select {
	case <-c.failed:
		return errors.New("import: an earlier batch failed")
	case c.batches <- batch:
		return nil
	}
}

// wait waits for every queued batch to be on disk.
func (c *committer) wait() (*energylabelv1.ImportResultsResponse, error) {
	close(c.batches)
	<-c.done
	if c.err != nil {
		return nil, fmt.Errorf("import: %w; %d results were stored before it", c.err, c.resp.Imported)
	}
	return &c.resp, nil
}

// batchLimit is the most results one Append of the backend takes: an etcd
// transaction holds a bounded number of operations, a bbolt one does not.
func batchLimit(b storage.Backend) int {
	if m, ok := b.(storage.BatchLimiter); ok {
		return m.MaxBatch()
	}
	return math.MaxInt
}

// Import stores published results (an operator's import of a leaderboard)
// in one write, or as few as the backend allows (a failure then leaves the
// writes before it stored), and returns once the index has them.
func (s *Server) Import(ctx context.Context, results []rating.Result, a storage.Audit) (int, error) {
	batch := make([]storage.Accepted, len(results))
	for i := range results {
		acc, err := s.accept(&results[i], rating.Published, a)
		if err != nil {
			return 0, refused(i, results[i].Model, err)
		}
		batch[i] = acc
	}
	if len(batch) == 0 {
		return 0, nil
	}
	var rev int64
	for part := range slices.Chunk(batch, batchLimit(s.backend)) {
		var err error
		if _, rev, err = s.backend.Append(ctx, part); err != nil {
			return 0, err
		}
	}
	if err := s.wait(ctx)(rev, nil); err != nil {
		return 0, err
	}
	return len(batch), nil
}
