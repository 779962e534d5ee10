package service_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/etcdtest"
	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/storage"
	etcdstore "github.com/energylabel/energylabel/storage/etcdstore"
)

// replica starts a server on an etcd client of its own, under the prefix
// every replica of the test shares.
func replica(t *testing.T, c *etcdtest.Cluster, opt servertest.Options, sopt etcdstore.Options) *servertest.Server {
	t.Helper()
	opt.Backend = c.Open(t, "/energylabel/", sopt)
	return servertest.StartWith(t, opt)
}

// within polls f every 10ms until it holds or d has passed since start,
// and returns how long it took.
func within(t *testing.T, start time.Time, d time.Duration, what string, f func() bool) time.Duration {
	t.Helper()
	for {
		if f() {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func staleness(t *testing.T, v []string) float64 {
	t.Helper()
	if len(v) != 1 {
		t.Fatalf("%s: %q, want one value", service.StalenessHeader, v)
	}
	f, err := strconv.ParseFloat(v[0], 64)
	if err != nil {
		t.Fatalf("%s: %v", service.StalenessHeader, err)
	}
	return f
}

// Two replicas on one etcd cluster of three members: what A accepts, B
// serves within a second, through GetRating, its badge and WatchRatings.
func TestASubmissionThroughOneReplicaIsServedByTheOther(t *testing.T) {
	c := etcdtest.Start(t, 3)
	a := replica(t, c, servertest.Options{}, etcdstore.Options{})
	b := replica(t, c, servertest.Options{}, etcdstore.Options{})
	ra := energylabelv1.NewRatingServiceClient(servertest.Dial(t, a.Addr))
	rb := energylabelv1.NewRatingServiceClient(servertest.Dial(t, b.Addr))
	ctx := t.Context()

	info, err := rb.GetServerInfo(ctx, &energylabelv1.GetServerInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	watch, err := rb.WatchRatings(ctx, &energylabelv1.WatchRatingsRequest{StartRevision: info.GetRevision()})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ra.SubmitResult(servertest.WithToken(a.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/replicated", 0.5)})
	if err != nil {
		t.Fatal(err)
	}
	acked, id, grade := time.Now(), resp.GetResultId(), resp.GetRatings()[0].GetGrade()

	var header metadata.MD
	took := within(t, acked, time.Second, "GetRating on B", func() bool {
		r, err := rb.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/replicated"}, grpc.Header(&header))
		return err == nil && r.GetRatings()[0].GetResultId() == id && r.GetRatings()[0].GetGrade() == grade
	})
	t.Logf("GetRating on B had result %d %s after A acknowledged it", id, took)
	if s := staleness(t, header.Get(service.StalenessHeader)); s > 1 {
		t.Errorf("B says its read is %gs stale, want under a second", s)
	}
	took = within(t, acked, time.Second, "B's badge", func() bool {
		resp, body := servertest.HTTPGet(t, "http://"+b.HTTPAddr+"/badge/acme/replicated.svg?task=text-classification")
		return resp.StatusCode == http.StatusOK && strings.Contains(servertest.WellFormedSVG(t, body), grade+" ·")
	})
	t.Logf("B's badge showed grade %s after %s", grade, took)

	msg, err := watch.Recv()
	if err != nil {
		t.Fatal(err)
	}
	ev := msg.GetEvents()[0]
	if ev.GetRating().GetResultId() != id || ev.GetRating().GetModel() != "acme/replicated" {
		t.Errorf("B's watch sent %v, want result %d", ev, id)
	}
	if took := time.Since(acked); took > time.Second {
		t.Errorf("B's watch sent the event %s after A acknowledged it", took)
	}

	// And the other way round, from a fresh cohort.
	resp, err = rb.SubmitResult(servertest.WithToken(b.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/other-way", 0.7)})
	if err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), time.Second, "GetRating on A", func() bool {
		r, err := ra.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/other-way"})
		return err == nil && r.GetRatings()[0].GetResultId() == resp.GetResultId()
	})
}

func healthOf(t *testing.T, addr string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	h, err := healthpb.NewHealthClient(servertest.Dial(t, addr)).Check(ctx, &healthpb.HealthCheckRequest{Service: "energylabel.v1.RatingService"})
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	return h.GetStatus()
}

// Without a quorum a replica says it is not ready, refuses writes with
// Unavailable and goes on serving reads from its index, saying how stale
// they are; with the quorum back, all of it recovers.
func TestWithoutQuorumWritesAreUnavailableAndReadsGoOn(t *testing.T) {
	c := etcdtest.Start(t, 3)
	sopt := etcdstore.Options{RequestTimeout: time.Second}
	opt := servertest.Options{StaleAfter: 1500 * time.Millisecond}
	a, b := replica(t, c, opt, sopt), replica(t, c, opt, sopt)
	ra := energylabelv1.NewRatingServiceClient(servertest.Dial(t, a.Addr))
	rb := energylabelv1.NewRatingServiceClient(servertest.Dial(t, b.Addr))
	ctx := t.Context()
	if _, err := ra.SubmitResult(servertest.WithToken(a.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/before", 0.5)}); err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), time.Second, "B has it", func() bool {
		_, err := rb.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/before"})
		return err == nil
	})
	if st := healthOf(t, b.Addr); st != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("B's health before: %v", st)
	}

	lost := time.Now()
	c.Members[1].Stop()
	c.Members[2].Stop()
	took := within(t, lost, 15*time.Second, "B NOT_SERVING", func() bool {
		return healthOf(t, b.Addr) == healthpb.HealthCheckResponse_NOT_SERVING
	})
	t.Logf("B went NOT_SERVING %s after the quorum was lost", took)
	if resp, body := servertest.HTTPGet(t, "http://"+b.HTTPAddr+"/healthz"); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "no word from the backend") {
		t.Errorf("/healthz without quorum: %d %q", resp.StatusCode, body)
	}
	var header metadata.MD
	r, err := rb.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/before"}, grpc.Header(&header))
	if err != nil || r.GetRatings()[0].GetModel() != "acme/before" {
		t.Errorf("GetRating without quorum: %v, %v", r, err)
	}
	if s := staleness(t, header.Get(service.StalenessHeader)); s < 1.5 {
		t.Errorf("a read without quorum says it is %gs stale, want at least the 1.5s it took to say NOT_SERVING", s)
	}
	resp, body := servertest.HTTPGet(t, "http://"+b.HTTPAddr+"/badge/acme/before.svg?task=text-classification")
	if resp.StatusCode != http.StatusOK || !strings.Contains(servertest.WellFormedSVG(t, body), "Wh/1k") {
		t.Errorf("the badge without quorum: %d %s", resp.StatusCode, body)
	}
	if s := staleness(t, resp.Header.Values(service.StalenessHeader)); s < 1.5 {
		t.Errorf("a badge without quorum says it is %gs stale", s)
	}
	start := time.Now()
	_, err = ra.SubmitResult(servertest.WithToken(a.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/during", 0.5)})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("a submission without quorum: %v, want Unavailable", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the submission failed after %s, want about the 1s request timeout", took)
	}

	back := time.Now()
	c.Members[1].Restart(t)
	c.Members[2].Restart(t)
	took = within(t, back, 20*time.Second, "B SERVING again", func() bool {
		return healthOf(t, b.Addr) == healthpb.HealthCheckResponse_SERVING
	})
	t.Logf("B was SERVING again %s after the quorum came back", took)
	var after *energylabelv1.SubmitResultResponse
	within(t, time.Now(), 5*time.Second, "a submission with the quorum back", func() bool {
		after, err = ra.SubmitResult(servertest.WithToken(a.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/after", 0.5)})
		return err == nil
	})
	within(t, time.Now(), time.Second, "B has it", func() bool {
		r, err := rb.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/after"})
		return err == nil && r.GetRatings()[0].GetResultId() == after.GetResultId()
	})
}

// A replica cut off from etcd while the others write, and whose watch
// then finds its revision compacted, rebuilds its index and serves what
// the others accepted.
func TestAReplicaBehindACompactionRebuilds(t *testing.T) {
	c := etcdtest.Start(t, 3)
	a := replica(t, c, servertest.Options{}, etcdstore.Options{})
	b := replica(t, c, servertest.Options{}, etcdstore.Options{Endpoints: []string{c.Members[2].ClientURL.Host}})
	ra := energylabelv1.NewRatingServiceClient(servertest.Dial(t, a.Addr))
	rb := energylabelv1.NewRatingServiceClient(servertest.Dial(t, b.Addr))
	ctx := t.Context()

	c.Members[2].Stop() // B's only member
	var last *energylabelv1.SubmitResultResponse
	for _, m := range []string{"acme/one", "acme/two", "acme/three"} {
		var err error
		if last, err = ra.SubmitResult(servertest.WithToken(a.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(m, 0.5)}); err != nil {
			t.Fatal(err)
		}
	}
	info, err := ra.GetServerInfo(ctx, &energylabelv1.GetServerInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints()[:2], DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Compact(ctx, info.GetRevision(), clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	c.Members[2].Restart(t)
	within(t, time.Now(), 20*time.Second, "B serves what A accepted", func() bool {
		r, err := rb.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/three"})
		return err == nil && r.GetRatings()[0].GetResultId() == last.GetResultId()
	})
	if !strings.Contains(b.Logs.String(), "rebuilding the index from a new snapshot") {
		t.Errorf("B caught up without a rebuild; its log:\n%s", b.Logs)
	}
	within(t, time.Now(), 5*time.Second, "B SERVING", func() bool {
		return healthOf(t, b.Addr) == healthpb.HealthCheckResponse_SERVING
	})
}

// Every read says how stale it may be, over gRPC and HTTP; a write, which
// answers from the backend itself, does not. On bbolt, whose watch is in
// process, a read is current within the progress interval.
func TestReadsSayHowStaleTheyAre(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	var header metadata.MD
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/one", 0.5)}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if v := header.Get(service.StalenessHeader); len(v) != 0 {
		t.Errorf("SubmitResult says %s: %q", service.StalenessHeader, v)
	}
	time.Sleep(2 * storage.ProgressInterval) // idle: progress alone keeps it current
	for name, call := range map[string]func(opt grpc.CallOption) error{
		"GetRating": func(opt grpc.CallOption) error {
			_, err := rs.GetRating(t.Context(), &energylabelv1.GetRatingRequest{Model: "acme/one"}, opt)
			return err
		},
		"ListRatings": func(opt grpc.CallOption) error {
			_, err := rs.ListRatings(t.Context(), &energylabelv1.ListRatingsRequest{Task: "text-classification"}, opt)
			return err
		},
	} {
		header = nil
		if err := call(grpc.Header(&header)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s := staleness(t, header.Get(service.StalenessHeader)); s > storage.ProgressInterval.Seconds()+0.2 {
			t.Errorf("%s says it is %gs stale", name, s)
		}
	}
	for _, path := range []string{"/badge/acme/one.svg?task=text-classification", "/models/acme/one", "/healthz"} {
		resp, body := servertest.HTTPGet(t, "http://"+srv.HTTPAddr+path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if s := staleness(t, resp.Header.Values(service.StalenessHeader)); s > storage.ProgressInterval.Seconds()+0.2 {
			t.Errorf("%s says it is %gs stale", path, s)
		}
	}
	if err := srv.Server.Ready(); err != nil {
		t.Errorf("Ready() = %v", err)
	}
}

// A bulk import on etcd, whose transactions hold a few dozen results,
// is stored in as many as it takes, in order, and served by every replica.
func TestABulkImportOnEtcdIsStoredInTransactionsEtcdTakes(t *testing.T) {
	c := etcdtest.Start(t, 1)
	a := replica(t, c, servertest.Options{}, etcdstore.Options{})
	b := replica(t, c, servertest.Options{}, etcdstore.Options{})
	var results []*energylabelv1.BenchmarkResult
	for i := range 200 {
		results = append(results, servertest.Classification(fmt.Sprintf("bulk/m%03d", i), 0.3+float64(i)/1000))
	}
	resp, err := importStream(t, energylabelv1.NewAdminServiceClient(servertest.Dial(t, a.Addr)), a.AdminToken, results[:150], results[150:])
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetImported() != 200 || resp.GetLastResultId()-resp.GetFirstResultId() != 199 {
		t.Errorf("imported %d, ids %d to %d; want 200 in a row", resp.GetImported(), resp.GetFirstResultId(), resp.GetLastResultId())
	}
	rb := energylabelv1.NewRatingServiceClient(servertest.Dial(t, b.Addr))
	within(t, time.Now(), time.Second, "B lists all 200", func() bool {
		n, token := 0, ""
		for {
			page, err := rb.ListRatings(t.Context(), &energylabelv1.ListRatingsRequest{Task: "text-classification", PageSize: 100, PageToken: token})
			if err != nil {
				return false
			}
			n += len(page.GetRatings())
			if token = page.GetNextPageToken(); token == "" {
				return n == 200
			}
		}
	})
}
