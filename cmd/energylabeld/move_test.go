package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/energylabel/energylabel/internal/testkit/aiesoracle"
	"github.com/energylabel/energylabel/internal/testkit/etcdtest"
	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	etcdstore "github.com/energylabel/energylabel/storage/etcdstore"
)

// The AIES 2025-02 import, moved from its bbolt data directory into etcd,
// keeps all 164 published stars and the letter spread, under the same
// result ids; the move prints matching counts and checksums, and refuses
// a prefix that is not empty.
func TestMovingTheAIESImportIntoEtcdKeepsEveryRating(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := servertest.StartWith(t, servertest.Options{DataDir: dir})
	if _, err := importBundled(ctx, src.Server); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Server.CreateRelease(ctx, demoRelease, false); err != nil {
		t.Fatal(err)
	}
	srcRatings := listAll(t, src.Addr)
	src.Stop(t)

	c := etcdtest.Start(t, 1)
	ep := c.Endpoints()[0]
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"-etcd", ep, "-etcd-prefix", "/moved/", "-import-from", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	t.Logf("the move printed:\n%s", out)
	for _, want := range []string{
		`results +166 +166\n`, `ratings +164 +164\n`,
		`grades +A 2, B 2, C 8, D 25, E 48, F 44, G 35 +A 2, B 2, C 8, D 25, E 48, F 44, G 35\n`,
		`latest release +aies-2025-02 +aies-2025-02\n`, `ratings with its stars +164 +164\n`,
		`results sha256 +([0-9a-f]{64}) +([0-9a-f]{64})\n`, `ratings sha256 +([0-9a-f]{64}) +([0-9a-f]{64})\n`,
		`the copy matches the source\n`,
	} {
		m := regexp.MustCompile(want).FindStringSubmatch(out)
		if m == nil || len(m) == 3 && m[1] != m[2] {
			t.Errorf("the output lacks %q", want)
		}
	}

	// A replica on the moved prefix serves what the bbolt server served.
	moved := c.Open(t, "/moved/", etcdstore.Options{})
	dst := servertest.StartWith(t, servertest.Options{Backend: moved})
	dstRatings := listAll(t, dst.Addr)
	if len(dstRatings) != aiesoracle.Ratings || len(srcRatings) != aiesoracle.Ratings {
		t.Fatalf("%d ratings from etcd, %d from bbolt, want %d", len(dstRatings), len(srcRatings), aiesoracle.Ratings)
	}
	oracle, err := aiesoracle.Stars()
	if err != nil {
		t.Fatal(err)
	}
	grades := map[string]int{}
	for key, r := range dstRatings {
		if s := srcRatings[key]; s.GetResultId() != r.GetResultId() || s.GetGrade() != r.GetGrade() || s.GetStars() != r.GetStars() {
			t.Errorf("%s: result %d %s %d★ from bbolt, %d %s %d★ from etcd", key, s.GetResultId(), s.GetGrade(), s.GetStars(), r.GetResultId(), r.GetGrade(), r.GetStars())
		}
		if want := oracle[r.GetTask()][r.GetSizeClass()][r.GetModel()]; r.GetStars() != want || r.GetRelease() != demoRelease {
			t.Errorf("%s: %d stars of %q, published %d", key, r.GetStars(), r.GetRelease(), want)
		}
		grades[r.GetGrade()]++
	}
	if fmt.Sprint(grades) != fmt.Sprint(aiesoracle.Grades) {
		t.Errorf("grade spread %v, want %v", grades, aiesoracle.Grades)
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, []string{"-etcd", ep, "-etcd-prefix", "/moved/", "-import-from", dir}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "etcd prefix /moved/ is not empty") {
		t.Errorf("a second move into /moved/: exit %d, %q", code, stderr.String())
	}
}

// listAll lists every rating of every task, keyed by task, class and model.
func listAll(t *testing.T, addr string) map[string]*energylabelv1.Rating {
	t.Helper()
	rs := energylabelv1.NewRatingServiceClient(dial(t, addr))
	tasks, err := rs.ListTasks(context.Background(), &energylabelv1.ListTasksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*energylabelv1.Rating{}
	for _, task := range tasks.GetTasks() {
		token := ""
		for {
			resp, err := rs.ListRatings(context.Background(), &energylabelv1.ListRatingsRequest{Task: task.GetId(), PageSize: 100, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range resp.GetRatings() {
				out[r.GetTask()+"/"+r.GetSizeClass()+"/"+r.GetModel()] = r
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
	}
	return out
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Two energylabeld processes' worth of replicas, started as an operator
// would, on one etcd prefix: what one accepts, the other serves.
func TestTwoDaemonsOnOneEtcdPrefixAreReplicas(t *testing.T) {
	c := etcdtest.Start(t, 1)
	t.Setenv("ENERGYLABEL_ADMIN_TOKEN", servertest.AdminToken)
	addrs := freeAddrs(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	var done []chan int
	for i := range 2 {
		ch := make(chan int, 1)
		done = append(done, ch)
		go func() {
			ch <- run(ctx, []string{"-etcd", strings.Join(c.Endpoints(), ","), "-etcd-prefix", "/replicas/", "-grpc", addrs[2*i], "-http", addrs[2*i+1], "-log-level", "warn"}, io.Discard, io.Discard)
		}()
	}
	defer func() {
		cancel()
		for _, ch := range done {
			if code := <-ch; code != 0 {
				t.Errorf("a replica exited %d", code)
			}
		}
	}()
	a, b := dial(t, addrs[0]), dial(t, addrs[2])
	if !serving(a) || !serving(b) {
		t.Fatal("the replicas did not start")
	}
	ra, rb := energylabelv1.NewRatingServiceClient(a), energylabelv1.NewRatingServiceClient(b)
	resp, err := ra.SubmitResult(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+servertest.AdminToken),
		&energylabelv1.SubmitResultRequest{Result: &energylabelv1.BenchmarkResult{
			Model: "acme/tiny", Task: "text-classification", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
			Queries: 1000, GpuEnergyWh: 0.5, DurationSeconds: 12,
		}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		r, err := rb.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/tiny"})
		if err == nil && r.GetRatings()[0].GetResultId() == resp.GetResultId() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B did not serve A's result within a second: %v %v", r, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
