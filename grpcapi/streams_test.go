package grpcapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// bulky is a result of some 4 KB, so that a few thousand make a file of
// several MB.
func bulky(model string) *energylabelv1.BenchmarkResult {
	r := servertest.Classification(model, 1)
	r.RunEnergiesWh = make([]float64, 500)
	for i := range r.RunEnergiesWh {
		r.RunEnergiesWh[i] = 1 + float64(i)/1000
	}
	return r
}

// preload imports n bulky results through AdminService.ImportResults.
func preload(t *testing.T, srv *servertest.Server, n int) {
	t.Helper()
	stream, err := energylabelv1.NewAdminServiceClient(servertest.Dial(t, srv.Addr)).ImportResults(servertest.WithToken(srv.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 100 {
		req := &energylabelv1.ImportResultsRequest{}
		for j := i; j < min(n, i+100); j++ {
			req.Results = append(req.Results, bulky(fmt.Sprintf("bulk/m%d", j)))
		}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
}

// slowReader dials with fixed 64 KB flow-control windows, so that a client
// that stops reading stops the server's sends soon after.
func slowReader(t *testing.T, addr string) energylabelv1.AdminServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return energylabelv1.NewAdminServiceClient(conn)
}

func TestAStalledBackupHoldsUpNoSubmission(t *testing.T) {
	if testing.Short() {
		t.Skip("writes some 20 MB; skipped with -short")
	}
	const idle = 6 * time.Second
	srv := servertest.StartWith(t, servertest.Options{Limits: limits.Limits{StreamIdle: idle, StreamTimeout: time.Minute}})
	preload(t, srv, 2000)
	sizeBefore := srv.Backend.Size()

	// A backup that reads one chunk and stops.
	backup, err := slowReader(t, srv.Addr).Backup(servertest.WithToken(srv.AdminToken), &energylabelv1.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := backup.Recv()
	if err != nil {
		t.Fatal(err)
	}
	stalled := time.Now()
	if first.Size < sizeBefore || len(first.Chunk) == 0 {
		t.Fatalf("first message announces %d bytes with a chunk of %d; the file has %d", first.Size, len(first.Chunk), sizeBefore)
	}

	// Submissions that grow the file by several MB, while it stalls.
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  []error
		wg        sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := range 150 {
				ctx, cancel := context.WithTimeout(servertest.WithToken(srv.AdminToken), 5*time.Second)
				start := time.Now()
				_, err := rs.SubmitResult(ctx, &energylabelv1.SubmitResultRequest{Result: bulky(fmt.Sprintf("grow/w%d-%d", w, i))})
				took := time.Since(start)
				cancel()
				mu.Lock()
				latencies = append(latencies, took)
				if err != nil {
					failures = append(failures, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	submitted := time.Since(stalled)
	if len(failures) > 0 {
		t.Fatalf("%d of %d submissions failed while a backup stalled, the first: %v", len(failures), len(latencies), failures[0])
	}
	slices.Sort(latencies)
	p99 := latencies[len(latencies)*99/100]
	grew := srv.Backend.Size() - sizeBefore
	t.Logf("%d submissions in %s while the backup stalled: p99 %s, file %d → %d bytes", len(latencies), submitted.Round(time.Millisecond), p99, sizeBefore, sizeBefore+grew)
	if slowest := latencies[len(latencies)-1]; p99 >= time.Second || slowest >= 2*time.Second {
		t.Errorf("submissions while a backup stalled took up to %s (p99 %s), want p99 under 1s and none near the stall", slowest, p99)
	}
	if grew < 4<<20 {
		t.Errorf("the file grew by %d bytes; the test needs several MB to prove anything", grew)
	}
	if submitted >= idle {
		t.Errorf("the submissions took %s, as long as the server lets a stream stall (%s)", submitted, idle)
	}

	// The server ends the stalled stream once it has been idle too long,
	// while its client still reads nothing.
	const ended = "method=/energylabel.v1.AdminService/Backup code=DeadlineExceeded"
	for !strings.Contains(srv.Logs.String(), ended) && time.Since(stalled) < idle+2*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(stalled); !strings.Contains(srv.Logs.String(), ended) || took > idle+time.Second {
		t.Errorf("%s after the backup stalled, the server has not ended it (idle limit %s):\n%s", took.Round(time.Millisecond), idle, srv.Logs.String())
	}
	for err == nil {
		_, err = backup.Recv()
	}
	if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(status.Convert(err).Message(), "read nothing") {
		t.Errorf("the stalled backup ended with %v, want DeadlineExceeded saying the client read nothing", err)
	}
}

func TestStreamsEndAtTheServersDeadlineAndIdleLimit(t *testing.T) {
	const timeout, idle = 1500 * time.Millisecond, 500 * time.Millisecond
	srv := servertest.StartWith(t, servertest.Options{Limits: limits.Limits{StreamTimeout: timeout, StreamIdle: idle}})
	preload(t, srv, 500)

	// A backup read steadily but too slowly to finish within the timeout.
	backup, err := slowReader(t, srv.Addr).Backup(servertest.WithToken(srv.AdminToken), &energylabelv1.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		if _, err = backup.Recv(); err != nil {
			break
		}
		time.Sleep(idle / 3)
	}
	if took := time.Since(start); status.Code(err) != codes.DeadlineExceeded || took > timeout+time.Second {
		t.Errorf("a slow backup ended after %s with %v, want DeadlineExceeded at %s", took, err, timeout)
	}

	// An import that sends nothing.
	imp, err := energylabelv1.NewAdminServiceClient(servertest.Dial(t, srv.Addr)).ImportResults(servertest.WithToken(srv.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	err = imp.RecvMsg(&energylabelv1.ImportResultsResponse{})
	if took := time.Since(start); status.Code(err) != codes.DeadlineExceeded || !strings.Contains(status.Convert(err).Message(), "sent nothing") || took > idle+time.Second {
		t.Errorf("an import that sends nothing ended after %s with %v, want DeadlineExceeded at %s", took, err, idle)
	}
}

func TestConnectionsAreLimitedInStreamsAndIdleTime(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{Limits: limits.Limits{MaxStreams: 2, ConnIdle: 300 * time.Millisecond}})
	conn := servertest.Dial(t, srv.Addr)
	admin := energylabelv1.NewAdminServiceClient(conn)
	rs := energylabelv1.NewRatingServiceClient(conn)
	if _, err := rs.ListTasks(context.Background(), &energylabelv1.ListTasksRequest{}); err != nil {
		t.Fatal(err)
	}

	// Two open streams take every stream this connection may have.
	var held []grpc.ClientStreamingClient[energylabelv1.ImportResultsRequest, energylabelv1.ImportResultsResponse]
	for range 2 {
		s, err := admin.ImportResults(servertest.WithToken(srv.AdminToken))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, s)
	}
	time.Sleep(100 * time.Millisecond) // for the server to take both
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, err := rs.ListTasks(ctx, &energylabelv1.ListTasksRequest{})
	cancel()
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("a third call on a connection with two open streams: %v, want it to wait (DeadlineExceeded)", err)
	}
	other := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := other.ListTasks(context.Background(), &energylabelv1.ListTasksRequest{}); err != nil {
		t.Errorf("a call on another connection: %v", err)
	}
	for _, s := range held {
		if _, err := s.CloseAndRecv(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rs.ListTasks(context.Background(), &energylabelv1.ListTasksRequest{}); err != nil {
		t.Errorf("a call once the streams closed: %v", err)
	}

	// A connection without calls is closed by the server.
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for state := conn.GetState(); state == connectivity.Ready; state = conn.GetState() {
		if !conn.WaitForStateChange(ctx, state) {
			t.Fatalf("the connection is still %s 3s after its last call; the server's idle limit is 300ms", state)
		}
	}
}
