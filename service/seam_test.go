package service_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func TestSubmitRepliesWithItsOwnRatingUnderConcurrency(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	// 32 submitters, all of the same model in the same cohort, each with
	// its own energy: each reply must carry its own.
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			wh := 0.5 + float64(i)/100
			resp, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/same", wh)})
			if err != nil {
				t.Error(err)
				return
			}
			r := resp.GetRatings()[0]
			if r.GetResultId() != resp.GetResultId() || math.Abs(r.GetWhPer_1KQueries()-wh) > 1e-12 {
				t.Errorf("submitter %d (%v Wh/1k) got result %d's rating at %v Wh/1k", i, wh, r.GetResultId(), r.GetWhPer_1KQueries())
			}
		})
	}
	wg.Wait()
}

func TestHistoryKeepsWhatEachLabelSaid(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	for i, m := range []string{"acme/b", "acme/c", "acme/d"} { // 0.4, 0.5, 0.6
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(m, 0.4+float64(i)/10)}); err != nil {
			t.Fatal(err)
		}
	}
	servertest.CreateRelease(t, conn, srv.AdminToken, "r1") // 0.4 to 0.6 Wh/1k over 3 models
	submit := func(model string, wh float64) {
		t.Helper()
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(model, wh)}); err != nil {
			t.Fatal(err)
		}
	}
	submit("acme/a", 0.45) // ★★★★ of r1
	submit("acme/a", 0.55) // ★★ of r1
	submit("acme/e", 0.1)
	submit("acme/f", 3)
	servertest.CreateRelease(t, conn, srv.AdminToken, "r2") // 0.1 to 3 over 5 models: acme/a's 0.55 is now ★★★★★
	now, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "acme/a"})
	if err != nil || now.GetRatings()[0].GetStars() != 5 || now.GetRatings()[0].GetRelease() != "r2" {
		t.Fatalf("acme/a now: %v, %v; want 5 stars of r2", now, err)
	}
	submit("acme/a", 0.9) // ★★★★ of r2
	h, err := rs.GetHistory(context.Background(), &energylabelv1.GetHistoryRequest{Model: "acme/a"})
	if err != nil {
		t.Fatal(err)
	}
	type said struct {
		wh      float64
		grade   string
		stars   int32
		release string
	}
	var got []said
	for _, e := range h.GetEntries() {
		got = append(got, said{e.GetWhPer_1KQueries(), e.GetGrade(), e.GetStars(), e.GetRelease()})
	}
	want := []said{{0.45, "E", 4, "r1"}, {0.55, "E", 2, "r1"}, {0.9, "F", 4, "r2"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history %v, want %v: the old entries keep the stars of their release", got, want)
	}
	// Paged one at a time, the same entries.
	var paged []uint64
	req := &energylabelv1.GetHistoryRequest{Model: "acme/a", PageSize: 1}
	for {
		resp, err := rs.GetHistory(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.GetEntries() {
			paged = append(paged, e.GetResultId())
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	if len(paged) != 3 || paged[0] != h.GetEntries()[0].GetResultId() || paged[2] != h.GetEntries()[2].GetResultId() {
		t.Errorf("paged ids %v", paged)
	}
	for _, bad := range []*energylabelv1.GetHistoryRequest{{Model: "a"}, {Model: "acme/a", PageToken: "x"}, {Model: "acme/a", PageSize: 5000}} {
		if _, err := rs.GetHistory(context.Background(), bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("GetHistory(%v) = %v, want InvalidArgument", bad, err)
		}
	}
}

func TestWatchFollowsAndResumes(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := rs.WatchRatings(ctx, &energylabelv1.WatchRatingsRequest{Task: "text-classification"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the watch start from now
	start := time.Now()
	resp, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/one", 0.5)})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	ev := msg.GetEvents()[0]
	if ev.GetKind() != energylabelv1.RatingEvent_KIND_RESULT || ev.GetRating().GetResultId() != resp.GetResultId() || time.Since(start) > time.Second {
		t.Fatalf("event %v after %s", ev, time.Since(start))
	}
	first := ev.GetRevision()
	// Two more, one of another task, which the filter leaves out.
	other := servertest.Classification("acme/asr", 50)
	other.Task = "automatic-speech-recognition"
	for _, r := range []*energylabelv1.BenchmarkResult{servertest.Classification("acme/two", 0.6), other, servertest.Classification("acme/three", 0.7)} {
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
			t.Fatal(err)
		}
	}
	// A watcher that resumes from the first event gets exactly the two it missed.
	resumed, err := rs.WatchRatings(ctx, &energylabelv1.WatchRatingsRequest{Task: "text-classification", StartRevision: first})
	if err != nil {
		t.Fatal(err)
	}
	var models []string
	for len(models) < 2 {
		msg, err := resumed.Recv()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range msg.GetEvents() {
			if e.GetRevision() <= first {
				t.Errorf("resumed after %d, got revision %d", first, e.GetRevision())
			}
			models = append(models, e.GetRating().GetModel())
		}
	}
	if fmt.Sprint(models) != "[acme/two acme/three]" {
		t.Errorf("resumed with %v", models)
	}
	// A revision the server has not reached is out of range.
	future, err := rs.WatchRatings(ctx, &energylabelv1.WatchRatingsRequest{StartRevision: first + 1000})
	if err == nil {
		_, err = future.Recv()
	}
	if status.Code(err) != codes.OutOfRange {
		t.Errorf("a watch from a future revision: %v, want OutOfRange", err)
	}
}

func TestGetRatingAnswersFromItsCacheUntilTheRevisionMoves(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	for _, m := range []string{"acme/a", "acme/b"} {
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(m, 0.5)}); err != nil {
			t.Fatal(err)
		}
	}
	get := func() *energylabelv1.GetRatingResponse {
		t.Helper()
		resp, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "acme/a"})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	first, second := get(), get()
	if !proto.Equal(first, second) || second.GetRatings()[0].GetCohortSize() != 2 {
		t.Fatalf("the cached answer differs:\n%v\n%v", first, second)
	}
	if !strings.Contains(servertest.MetricsText(t, srv), `energylabel_cache_hits_total{cache="answers"} 1`) {
		t.Error("the second GetRating was not answered from the cache")
	}
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/c", 0.1)}); err != nil {
		t.Fatal(err)
	}
	// The cohort grows at once; ranks come from releases only, and there
	// is none yet.
	if third := get(); third.GetRatings()[0].GetCohortSize() != 3 || third.GetRatings()[0].GetRank() != 0 {
		t.Errorf("after another model joined the cohort: %v", third)
	}
}

func TestServerInfo(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	info, err := rs.GetServerInfo(context.Background(), &energylabelv1.GetServerInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetBaseUrl() != "http://"+srv.HTTPAddr || info.GetVersion() == "" || fmt.Sprint(info.GetGradeSchemes()) != "[grade/2025.1]" ||
		info.GetRelease() != "" || info.GetAccelerators() < 30 || info.GetTasks() != 14 {
		t.Errorf("server info %v", info)
	}
	servertest.CreateRelease(t, conn, srv.AdminToken, "r1")
	if info, _ := rs.GetServerInfo(context.Background(), &energylabelv1.GetServerInfoRequest{}); info.GetRelease() != "r1" {
		t.Errorf("after a release: %v", info)
	}
}
