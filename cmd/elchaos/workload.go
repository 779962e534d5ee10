package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// The workload: writers that submit, each acknowledgement followed by a
// read of the model on the acknowledging replica; readers of every
// replica's revision and of models' current results; readers of models'
// histories (etcd); and a poller of every replica's /healthz. All of it
// goes over real gRPC and HTTP, as any client's would.

const stalenessHeader = "energylabel-staleness-seconds"

type workload struct {
	c      *cluster
	tokens []string // one publisher token per writer
	start  time.Time
	epoch  time.Duration // how long a group writes the same models
	think  time.Duration

	// conns[client][replica]; readers use the clients after the writers'.
	conns [][]energylabelv1.RatingServiceClient
	raw   []*grpc.ClientConn

	nextID atomic.Int64
	mu     sync.Mutex
	writes []Write
	reads  []Read
	health []Health
}

const (
	writers        = 10
	groups         = writers / 2 // two writers share each group's models
	modelsPerGroup = 2
	infoReaders    = 2 // per replica
	historyReaders = 2
)

var dialOpts = []grpc.DialOption{
	grpc.WithTransportCredentials(insecure.NewCredentials()),
	// Reconnect to a restarted replica within a second, not gRPC's
	// default of up to two minutes.
	grpc.WithConnectParams(grpc.ConnectParams{
		Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
		MinConnectTimeout: 2 * time.Second,
	}),
}

func newWorkload(c *cluster, think, epoch time.Duration) (*workload, error) {
	w := &workload{c: c, think: think, epoch: epoch}
	for range writers + 3*infoReaders + historyReaders {
		var row []energylabelv1.RatingServiceClient
		for _, r := range c.replicas {
			conn, err := grpc.NewClient(r.grpcAddr(), dialOpts...)
			if err != nil {
				return nil, err
			}
			w.raw = append(w.raw, conn)
			row = append(row, energylabelv1.NewRatingServiceClient(conn))
		}
		w.conns = append(w.conns, row)
	}
	return w, nil
}

func (w *workload) close() {
	for _, c := range w.raw {
		c.Close()
	}
}

// createTokens makes one publisher token per writer for namespace chaos,
// through replica r1 with the admin token.
func (w *workload) createTokens(ctx context.Context) error {
	conn, err := grpc.NewClient(w.c.replicas[0].grpcAddr(), dialOpts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	admin := energylabelv1.NewAdminServiceClient(conn)
	actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+w.c.admin)
	for range writers {
		cctx, cancel := context.WithTimeout(actx, 10*time.Second)
		resp, err := admin.CreateToken(cctx, &energylabelv1.CreateTokenRequest{Namespaces: []string{"chaos"}})
		cancel()
		if err != nil {
			return fmt.Errorf("creating a publisher token: %w", err)
		}
		w.tokens = append(w.tokens, resp.GetToken())
	}
	return nil
}

// modelFor is the model a writer of group g writes now: each group's
// writers share modelsPerGroup models per epoch, so that two writers
// race on each, and every model's history stays short.
func (w *workload) modelFor(g int, at time.Time, k int) string {
	e := int(at.Sub(w.start) / w.epoch)
	return fmt.Sprintf("chaos/g%d-e%03d-%d", g, e, k)
}

// someModel is a model written lately, for the readers.
func (w *workload) someModel(at time.Time) string {
	back := time.Duration(0)
	if rand.IntN(4) == 0 {
		back = w.epoch // now and then the previous epoch's
	}
	t := at.Add(-back)
	if t.Before(w.start) {
		t = w.start
	}
	return w.modelFor(rand.IntN(groups), t, rand.IntN(modelsPerGroup))
}

// run drives the workload until ctx ends.
func (w *workload) run(ctx context.Context) {
	w.start = time.Now()
	var wg sync.WaitGroup
	for c := range writers {
		wg.Add(1)
		go func() { defer wg.Done(); w.writer(ctx, c) }()
	}
	n := writers
	for r := range w.c.replicas {
		for range infoReaders {
			id := n
			n++
			wg.Add(1)
			go func() { defer wg.Done(); w.reader(ctx, id, r) }()
		}
	}
	for range historyReaders {
		id := n
		n++
		wg.Add(1)
		go func() { defer wg.Done(); w.historyReader(ctx, id) }()
	}
	for r := range w.c.replicas {
		wg.Add(1)
		go func() { defer wg.Done(); w.poll(ctx, r) }()
	}
	wg.Wait()
}

func (w *workload) result(id int64, model string) *energylabelv1.BenchmarkResult {
	return &energylabelv1.BenchmarkResult{
		Model: model, Task: "text-classification",
		Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
		Queries:  queriesFor(id), GpuEnergyWh: energyFor(id), DurationSeconds: durationFor(id),
		Tool:       &energylabelv1.Tool{Name: "elchaos", Version: "1"},
		MeasuredAt: timestamppb.New(measuredAt(id)),
	}
}

// writer submits every think interval, to the replicas in turn, with at
// most maxInFlight submissions of its own waiting: a stalled replica or
// cluster slows it down without stopping it, so that every fault window
// sees submissions start throughout.
func (w *workload) writer(ctx context.Context, c int) {
	g := c / 2
	replica := c % len(w.c.replicas)
	tctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+w.tokens[c])
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		replica = (replica + 1) % len(w.c.replicas)
		wg.Add(1)
		go func(replica int) {
			defer wg.Done()
			defer func() { <-slots }()
			if !w.submit(tctx, c, g, replica) {
				sleep(ctx, 100*time.Millisecond+time.Duration(rand.IntN(100))*time.Millisecond)
			}
		}(replica)
		sleep(ctx, w.think)
	}
}

const maxInFlight = 3

// submit makes one submission and, once acknowledged, reads the model
// back from the acknowledging replica. It reports whether it was
// acknowledged.
func (w *workload) submit(tctx context.Context, c, g, replica int) bool {
	now := time.Now()
	model := w.modelFor(g, now, rand.IntN(modelsPerGroup))
	id := w.nextID.Add(1)
	op := Write{ID: id, Client: c, Replica: replica, Model: model, Invoke: now}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(tctx), 15*time.Second)
	resp, err := w.conns[c][replica].SubmitResult(cctx, &energylabelv1.SubmitResultRequest{Result: w.result(id, model)})
	cancel()
	op.Complete = time.Now()
	if err == nil {
		op.Outcome, op.ResultID, op.AlreadyStored = OK, resp.GetResultId(), resp.GetAlreadyStored()
	} else {
		op.Outcome, op.Code, op.Err = classify(err)
	}
	w.mu.Lock()
	w.writes = append(w.writes, op)
	w.mu.Unlock()
	if op.Outcome != OK {
		return false
	}
	// Read-your-writes, on the replica that acknowledged.
	rd := w.getRating(tctx, c, replica, model, ReadRYW)
	rd.After = id
	w.record(rd)
	return true
}

// classify sorts a failed submission: certainly not stored, or unknown.
func classify(err error) (outcome, code, msg string) {
	st, _ := status.FromError(err)
	code, msg = st.Code().String(), st.Message()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.AlreadyExists,
		codes.FailedPrecondition, codes.ResourceExhausted, codes.NotFound, codes.OutOfRange, codes.Unimplemented:
		return Failed, code, msg
	case codes.Unavailable:
		// The call never left: the connection could not be made.
		if strings.Contains(msg, "while dialing") || strings.Contains(msg, "connection refused") ||
			strings.Contains(msg, "no route to host") {
			return Failed, code, msg
		}
	}
	return Unknown, code, msg
}

func (w *workload) record(rd Read) {
	w.mu.Lock()
	w.reads = append(w.reads, rd)
	w.mu.Unlock()
}

func stalenessOf(md metadata.MD) float64 {
	if v := md.Get(stalenessHeader); len(v) > 0 {
		if f, err := strconv.ParseFloat(v[0], 64); err == nil {
			return f
		}
	}
	return -1
}

func (w *workload) getRating(ctx context.Context, client, replica int, model, kind string) Read {
	rd := Read{Kind: kind, Reader: client, Replica: replica, Incarnation: w.c.replicas[replica].Incarnation(), Model: model, Invoke: time.Now(), Staleness: -1}
	var md metadata.MD
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	resp, err := w.conns[client][replica].GetRating(cctx, &energylabelv1.GetRatingRequest{Model: model, Task: "text-classification"}, grpc.Header(&md))
	cancel()
	rd.Complete = time.Now()
	rd.Staleness = stalenessOf(md)
	switch {
	case err == nil:
		rd.OK = true
		for _, r := range resp.GetRatings() {
			if r.GetResultId() > rd.ResultID {
				rd.ResultID, rd.Value = r.GetResultId(), valueOf(r.GetMeasuredAt().AsTime(), r.GetWhPer_1KQueries())
			}
		}
	case status.Code(err) == codes.NotFound:
		rd.OK = true // no rating yet
	default:
		rd.Code = status.Code(err).String()
	}
	return rd
}

// reader reads one replica's revision and a recent model's current
// result every readEvery, whether or not earlier reads have been
// answered (up to maxReads waiting): reads sent to a stopped replica pile
// up and are answered when it resumes, which is when its staleness header
// matters most.
func (w *workload) reader(ctx context.Context, id, replica int) {
	slots := make(chan struct{}, maxReads)
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if rand.IntN(2) == 0 {
				w.record(w.getInfo(ctx, id, replica))
			} else {
				w.record(w.getRating(ctx, id, replica, w.someModel(time.Now()), ReadRating))
			}
		}()
		sleep(ctx, readEvery)
	}
}

const (
	readEvery = 30 * time.Millisecond
	maxReads  = 300
)

func (w *workload) getInfo(ctx context.Context, id, replica int) Read {
	rd := Read{Kind: ReadInfo, Reader: id, Replica: replica, Incarnation: w.c.replicas[replica].Incarnation(), Invoke: time.Now(), Staleness: -1}
	var md metadata.MD
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	resp, err := w.conns[id][replica].GetServerInfo(cctx, &energylabelv1.GetServerInfoRequest{}, grpc.Header(&md))
	cancel()
	rd.Complete = time.Now()
	rd.Staleness = stalenessOf(md)
	if err == nil {
		rd.OK, rd.Revision = true, resp.GetRevision()
	} else {
		rd.Code = status.Code(err).String()
	}
	return rd
}

// historyReader reads models' newest results from etcd, through any
// replica, for the linearizability check.
func (w *workload) historyReader(ctx context.Context, id int) {
	for ctx.Err() == nil {
		replica := rand.IntN(len(w.c.replicas))
		model := w.someModel(time.Now())
		rd := Read{Kind: ReadHistory, Reader: id, Replica: replica, Incarnation: w.c.replicas[replica].Incarnation(), Model: model, Invoke: time.Now(), Staleness: -1}
		entries, err := history(context.WithoutCancel(ctx), w.conns[id][replica], model, 15*time.Second)
		rd.Complete = time.Now()
		if err == nil {
			rd.OK = true
			if len(entries) > 0 {
				rd.ResultID, rd.Value = entries[len(entries)-1].ResultID, entries[len(entries)-1].Value
			}
		} else {
			rd.Code = status.Code(err).String()
		}
		w.record(rd)
		sleep(ctx, 100*time.Millisecond)
	}
}

// history reads a model's whole history; a model without one is empty.
func history(ctx context.Context, rs energylabelv1.RatingServiceClient, model string, timeout time.Duration) ([]Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out []Entry
	token := ""
	for {
		resp, err := rs.GetHistory(ctx, &energylabelv1.GetHistoryRequest{Model: model, PageSize: 1000, PageToken: token})
		if status.Code(err) == codes.NotFound {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetEntries() {
			out = append(out, Entry{ResultID: e.GetResultId(), Revision: e.GetRevision(), Value: valueOf(e.GetMeasuredAt().AsTime(), e.GetWhPer_1KQueries())})
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

func (w *workload) poll(ctx context.Context, replica int) {
	r := w.c.replicas[replica]
	for ctx.Err() == nil {
		h := Health{Replica: replica, At: time.Now()}
		h.Status = healthz(context.WithoutCancel(ctx), r)
		w.mu.Lock()
		w.health = append(w.health, h)
		w.mu.Unlock()
		sleep(ctx, 200*time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// collect reads what every replica serves at the end: the models
// ListRatings shows, and every model's current rating and history.
func collect(ctx context.Context, c *cluster, models []string) Final {
	n := len(c.replicas)
	f := Final{History: make([]map[string][]Entry, n), Current: make([]map[string]Entry, n), Listed: make([]map[string]Entry, n)}
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		f.Errors = append(f.Errors, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for i, r := range c.replicas {
		f.History[i], f.Current[i], f.Listed[i] = map[string][]Entry{}, map[string]Entry{}, map[string]Entry{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := grpc.NewClient(r.grpcAddr(), dialOpts...)
			if err != nil {
				fail("%s: %v", r.name, err)
				return
			}
			defer conn.Close()
			rs := energylabelv1.NewRatingServiceClient(conn)
			retry := func(what string, fn func() error) {
				var err error
				for range 5 {
					if err = fn(); err == nil {
						return
					}
					sleep(ctx, time.Second)
				}
				fail("%s: %s: %v", r.name, what, err)
			}
			retry("ListRatings", func() error {
				listed := map[string]Entry{}
				token := ""
				for {
					lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
					resp, err := rs.ListRatings(lctx, &energylabelv1.ListRatingsRequest{Task: "text-classification", PageSize: 1000, PageToken: token})
					cancel()
					if err != nil {
						return err
					}
					for _, rt := range resp.GetRatings() {
						listed[rt.GetModel()] = Entry{ResultID: rt.GetResultId(), Value: valueOf(rt.GetMeasuredAt().AsTime(), rt.GetWhPer_1KQueries())}
					}
					if token = resp.GetNextPageToken(); token == "" {
						break
					}
				}
				f.Listed[i] = listed
				return nil
			})
			all := append([]string(nil), models...)
			for m := range f.Listed[i] {
				all = append(all, m)
			}
			for _, model := range dedupe(all) {
				retry("GetRating "+model, func() error {
					gctx, cancel := context.WithTimeout(ctx, 15*time.Second)
					resp, err := rs.GetRating(gctx, &energylabelv1.GetRatingRequest{Model: model, Task: "text-classification"})
					cancel()
					if status.Code(err) == codes.NotFound {
						return nil
					}
					if err != nil {
						return err
					}
					var best Entry
					for _, rt := range resp.GetRatings() {
						if rt.GetResultId() > best.ResultID {
							best = Entry{ResultID: rt.GetResultId(), Value: valueOf(rt.GetMeasuredAt().AsTime(), rt.GetWhPer_1KQueries())}
						}
					}
					if best.ResultID != 0 {
						f.Current[i][model] = best
					}
					return nil
				})
				retry("GetHistory "+model, func() error {
					es, err := history(ctx, rs, model, 30*time.Second)
					if err != nil {
						return err
					}
					if len(es) > 0 {
						f.History[i][model] = es
					}
					return nil
				})
			}
		}()
	}
	wg.Wait()
	return f
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

var errNotConverged = errors.New("the replicas did not converge")
