package service

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// importBatch is how many results one import transaction holds: enough
// that its fsync costs each result little, few enough that a transaction
// stays small in memory.
const importBatch = 8192

// Imported is what an import stored: how many results, and the ids of
// the first and last.
type Imported struct {
	Results         int64
	FirstID, LastID uint64
}

// Importer stores a stream of published results (an operator's import of
// a leaderboard) in batches, as they come. Committing a batch overlaps
// with receiving and validating the next, so that the fsync's wait costs
// no throughput.
type Importer struct {
	s       *Service
	ctx     context.Context
	audit   storage.Audit
	c       *committer
	pending []storage.Accepted
	n       int // results received
	err     error
}

// NewImport starts an import by the admin.
func (s *Service) NewImport(ctx context.Context, c *Caller, a storage.Audit) (*Importer, error) {
	if c == nil || !c.Admin {
		return nil, fmt.Errorf("%w: importing needs the admin token", errPermissionDenied)
	}
	a.TokenID = c.TokenID
	return &Importer{s: s, ctx: ctx, audit: a, c: newCommitter(ctx, s.backend)}, nil
}

// Add validates and queues results received together; they must not
// change from now on (the queue points into them). After the first
// refused result, Add refuses everything.
func (im *Importer) Add(results []rating.Result) error {
	if im.err != nil {
		return im.err
	}
	im.audit.ReceivedAt = im.s.now()
	for i := range results {
		acc, err := im.s.accept(&results[i], rating.Published, im.audit)
		if err != nil {
			im.err = refused(im.n, results[i].Model, err)
			return im.err
		}
		im.pending = append(im.pending, acc)
		im.n++
		if len(im.pending) == importBatch {
			if im.err = im.c.commit(im.pending); im.err != nil {
				return im.err
			}
			im.pending = make([]storage.Accepted, 0, importBatch)
		}
	}
	return nil
}

// Finish stores what is queued and waits until the read model has it.
// Every result before the end of the stream, or before a refused one,
// is stored; the error then says how many.
func (im *Importer) Finish() (Imported, error) {
	if len(im.pending) > 0 {
		im.c.commit(im.pending) // a failure shows in wait
	}
	resp, cerr := im.c.wait()
	if cerr != nil {
		return Imported{}, cerr
	}
	if err := im.s.caughtUp(im.ctx, im.c.rev, fmt.Sprintf("the import's %d results", resp.Results)); err != nil {
		return Imported{}, err
	}
	if im.err != nil {
		var invalid *rating.InvalidError
		if errors.As(im.err, &invalid) {
			return Imported{}, fmt.Errorf("%w; the %d results before it are stored", im.err, resp.Results)
		}
		return Imported{}, im.err
	}
	im.s.log.Info("results imported", "results", resp.Results, "first_id", resp.FirstID, "last_id", resp.LastID)
	return *resp, nil
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
	resp    Imported
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
				if c.resp.FirstID == 0 {
					c.resp.FirstID = first
				}
				c.resp.LastID = first + uint64(len(part)) - 1
				c.resp.Results += int64(len(part))
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
func (c *committer) wait() (*Imported, error) {
	close(c.batches)
	<-c.done
	if c.err != nil {
		return nil, fmt.Errorf("import: %w; %d results were stored before it", c.err, c.resp.Results)
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
func (s *Service) Import(ctx context.Context, results []rating.Result, a storage.Audit) (int, error) {
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
