package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/storage/boltdb"
)

// The test binary doubles as energylabeld, so the crash test kills a real
// server process without building one.
func TestMain(m *testing.M) {
	if os.Getenv("ENERGYLABELD_TEST_MAIN") == "1" {
		if spec := os.Getenv(tmpfsEnv); spec != "" {
			if err := mountTmpfs(spec); err != nil {
				fmt.Fprintf(os.Stderr, "mount tmpfs: %v\n", err)
				os.Exit(99)
			}
		}
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const crashAdminToken = "crash-test-admin-token-0123456789abcdef"

// TestKilledServerLosesNoAcknowledgedSubmission runs cycles of: start
// energylabeld, submit from several clients at once, SIGKILL the server at
// a random moment, then check the file with tx.Check and that every
// acknowledged submission is there. ENERGYLABEL_CRASH_CYCLES sets the count.
func TestKilledServerLosesNoAcknowledgedSubmission(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real server processes; skipped with -short")
	}
	cycles := 20
	if v := os.Getenv("ENERGYLABEL_CRASH_CYCLES"); v != "" {
		cycles, _ = strconv.Atoi(v)
	}
	dir := t.TempDir()
	var acked []string
	for cycle := range cycles {
		addrs := freeAddrs(t, 2)
		addr := addrs[0]
		proc, logs := startDaemon(t, dir, addr, addrs[1])
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		if !serving(conn) {
			t.Fatalf("cycle %d: energylabeld did not start serving within 10s:\n%s", cycle, logs)
		}
		rs := energylabelv1.NewRatingServiceClient(conn)
		// The restarted server must serve what the last one acknowledged.
		for _, model := range acked {
			if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: model}); err != nil {
				t.Fatalf("cycle %d: acknowledged %s is missing after restart: %v", cycle, model, err)
			}
		}

		submitted, ackedNow := hammer(rs, cycle, proc, time.Duration(50+rand.IntN(400))*time.Millisecond)
		conn.Close()
		acked = append(acked, ackedNow...)
		t.Logf("cycle %2d: %3d submitted, %3d acknowledged, %4d acknowledged in all", cycle, submitted, len(ackedNow), len(acked))

		st, err := boltdb.Open(dir, boltdb.Options{})
		if err != nil {
			t.Fatalf("cycle %d: reopening after SIGKILL: %v", cycle, err)
		}
		if err := st.Check(); err != nil {
			t.Fatalf("cycle %d: tx.Check: %v", cycle, err)
		}
		snap, err := st.Snapshot(context.Background())
		if err != nil {
			t.Fatalf("cycle %d: snapshot: %v", cycle, err)
		}
		stored := map[string]int{}
		for _, c := range snap.Currents {
			stored[c.Model]++
		}
		for _, model := range acked {
			if stored[model] != 1 {
				t.Errorf("cycle %d: acknowledged %s lost", cycle, model)
			}
		}
		st.Close()
	}
}

// hammer submits from 4 clients until the server is killed after d, and
// returns how many were sent and which were acknowledged.
func hammer(rs energylabelv1.RatingServiceClient, cycle int, proc *exec.Cmd, d time.Duration) (int, []string) {
	var (
		mu        sync.Mutex
		submitted int
		acked     []string
		wg        sync.WaitGroup
		killed    = make(chan struct{})
	)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+crashAdminToken)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-killed:
					return
				default:
				}
				model := fmt.Sprintf("crash/c%d-w%d-%d", cycle, w, i)
				r := &energylabelv1.BenchmarkResult{
					Model: model, Task: "text-classification", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
					Queries: 1000, GpuEnergyWh: 0.1 + rand.Float64(),
				}
				mu.Lock()
				submitted++
				mu.Unlock()
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := rs.SubmitResult(cctx, &energylabelv1.SubmitResultRequest{Result: r})
				cancel()
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, model)
				mu.Unlock()
			}
		})
	}
	time.Sleep(d)
	proc.Process.Signal(syscall.SIGKILL)
	proc.Wait()
	close(killed)
	wg.Wait()
	return submitted, acked
}

func startDaemon(t *testing.T, dir, grpcAddr, httpAddr string, more ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cmd := exec.Command(os.Args[0], append([]string{"-data", dir, "-grpc", grpcAddr, "-http", httpAddr, "-log-format", "json"}, more...)...)
	cmd.Env = append(os.Environ(), "ENERGYLABELD_TEST_MAIN=1", "ENERGYLABEL_ADMIN_TOKEN="+crashAdminToken)
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, logs
}

// serving waits for the server's health check. It first waits for the port
// to accept connections, so that gRPC's reconnect backoff never kicks in.
func serving(conn *grpc.ClientConn) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", conn.Target()); err == nil {
			c.Close()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.Status == healthpb.HealthCheckResponse_SERVING {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// freeAddrs finds n distinct free loopback ports, holding each until all
// are found so that none is handed out twice.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}
