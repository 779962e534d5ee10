package grpcapi_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

func TestAuth(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	admin := energylabelv1.NewAdminServiceClient(conn)

	_, err := rs.SubmitResult(context.Background(), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("org-a/x", 1)})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("submit without token: %v, want Unauthenticated", err)
	}
	_, err = rs.SubmitResult(servertest.WithToken("elp_nonsense"), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("org-a/x", 1)})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("submit with unknown token: %v, want Unauthenticated", err)
	}
	if _, err := admin.CreateToken(servertest.WithToken("elp_nonsense"), &energylabelv1.CreateTokenRequest{Namespaces: []string{"*"}}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("admin call with a publisher-shaped token: %v", err)
	}
	tok, err := admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{Namespaces: []string{"org-a"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.SubmitResult(servertest.WithToken(tok.Token), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("org-b/x", 1)}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("org-a token writing org-b: %v, want PermissionDenied", err)
	}
	if _, err := rs.SubmitResult(servertest.WithToken(tok.Token), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("org-a/x", 1)}); err != nil {
		t.Errorf("org-a token writing org-a: %v", err)
	}
	if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "org-a/x"}); err != nil {
		t.Errorf("public read: %v", err)
	}
	if _, err := admin.RevokeToken(servertest.WithToken(srv.AdminToken), &energylabelv1.RevokeTokenRequest{Id: tok.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.SubmitResult(servertest.WithToken(tok.Token), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("org-a/x", 1)}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("revoked token: %v, want Unauthenticated", err)
	}
}

func TestBadInputIsRefusedNamingTheFieldAndNothingIsStored(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	ctx := servertest.WithToken(srv.AdminToken)
	tests := []struct {
		name  string
		edit  func(*energylabelv1.BenchmarkResult)
		field string
	}{
		{"negative energy", func(r *energylabelv1.BenchmarkResult) { r.GpuEnergyWh = -1 }, "gpu_energy_wh"},
		{"NaN energy", func(r *energylabelv1.BenchmarkResult) { r.GpuEnergyWh = math.NaN() }, "gpu_energy_wh"},
		{"zero queries", func(r *energylabelv1.BenchmarkResult) { r.Queries = 0 }, "queries"},
		{"unknown task", func(r *energylabelv1.BenchmarkResult) { r.Task = "juggling" }, "task"},
		{"path traversal model", func(r *energylabelv1.BenchmarkResult) { r.Model = "../etc" }, "model"},
		{"more failed than run", func(r *energylabelv1.BenchmarkResult) { r.FailedQueries = 1001 }, "failed_queries"},
		{"300 kWh in one second on one H100", func(r *energylabelv1.BenchmarkResult) { r.GpuEnergyWh, r.DurationSeconds = 300000, 1 }, "gpu_energy_wh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := servertest.Classification("acme/bad", 1)
			tt.edit(r)
			_, err := rs.SubmitResult(ctx, &energylabelv1.SubmitResultRequest{Result: r})
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("got %v, want InvalidArgument", err)
			}
			var fields []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.FieldViolations {
						fields = append(fields, v.Field)
					}
				}
			}
			if fmt.Sprint(fields) != fmt.Sprint([]string{tt.field}) {
				t.Errorf("BadRequest names %v, want [%s]; message %q", fields, tt.field, st.Message())
			}
		})
	}
	if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "acme/bad"}); status.Code(err) != codes.NotFound {
		t.Errorf("after refusals, GetRating = %v, want NotFound", err)
	}
	if n, _ := srv.Backend.CountResults(); n != 0 {
		t.Errorf("%d results stored, want 0", n)
	}
}

func TestANewBestModelMovesNoStarsUntilTheNextRelease(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "r1")
	req := &energylabelv1.ListRatingsRequest{Task: "object_detection", PageSize: 4}
	before := servertest.ListAll(t, rs, req)
	if len(before) != 6 {
		t.Fatalf("%d object detection ratings, want 6", len(before))
	}
	hi := before[len(before)-1].WhPer_1KQueries

	// A tenth of the best, at 150 W on one H100.
	newBest := before[0].WhPer_1KQueries / 10
	r := &energylabelv1.BenchmarkResult{Model: "acme/detr-tiny", Task: "object_detection", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
		Queries: 1000, GpuEnergyWh: newBest, DurationSeconds: newBest * 3600 / 150}
	resp, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Ratings[0]; got.GetStars() != 5 || got.GetRelease() != "r1" || got.GetCohortSize() != 7 || got.GetRank() != 1 {
		t.Errorf("new best: %d stars of %q, rank %d in a cohort of %d", got.GetStars(), got.GetRelease(), got.GetRank(), got.GetCohortSize())
	}
	after := map[string]*energylabelv1.Rating{}
	for _, r := range servertest.ListAll(t, rs, req) {
		after[r.Model] = r
	}
	for _, b := range before {
		if a := after[b.Model]; a.GetStars() != b.GetStars() || a.GetGrade() != b.GetGrade() || a.GetEei() != b.GetEei() {
			t.Errorf("%s: %d stars, grade %s became %d stars, grade %s before a new release", b.Model, b.GetStars(), b.GetGrade(), a.GetStars(), a.GetGrade())
		}
	}

	// The next release moves stars exactly as the AIES rule says over the
	// new cohort; grades never move.
	ch := servertest.CreateRelease(t, conn, srv.AdminToken, "r2")
	moved := 0
	for _, r := range servertest.ListAll(t, rs, req) {
		after[r.Model] = r
	}
	for _, b := range before {
		a := after[b.Model]
		if want := rating.Stars(b.WhPer_1KQueries, newBest, hi); int(a.GetStars()) != want || a.GetRelease() != "r2" {
			t.Errorf("%s: %d stars of %s, the rule gives %d", b.Model, a.GetStars(), a.GetRelease(), want)
		}
		if a.GetStars() != b.GetStars() {
			moved++
		}
		if a.GetGrade() != b.GetGrade() || a.GetEei() != b.GetEei() {
			t.Errorf("%s: grade %s (eei %v) became %s (eei %v)", b.Model, b.GetGrade(), b.GetEei(), a.GetGrade(), a.GetEei())
		}
	}
	if moved == 0 || int64(moved) != ch.GetRatingsChanged() {
		t.Errorf("%d ratings' stars moved; the release said %d", moved, ch.GetRatingsChanged())
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	servertest.ImportAIES(t, rs, srv.AdminToken)
	req := &energylabelv1.ListRatingsRequest{Task: "text-generation"}
	before := servertest.ListAll(t, rs, req)
	srv.Restart(t)
	rs = energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	after := servertest.ListAll(t, rs, req)
	if len(before) != 40 || len(before) != len(after) {
		t.Fatalf("%d ratings before, %d after", len(before), len(after))
	}
	for i := range before {
		if !proto.Equal(before[i], after[i]) {
			t.Errorf("rating %d changed across restart:\n%v\n%v", i, before[i], after[i])
		}
	}
}

func TestListingFiltersAndPages(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	servertest.ImportAIES(t, rs, srv.AdminToken)
	all := servertest.ListAll(t, rs, &energylabelv1.ListRatingsRequest{Task: "text_generation", PageSize: 7})
	classes := map[string]int{}
	for i, r := range all {
		classes[r.SizeClass]++
		if i > 0 && all[i-1].SizeClass == r.SizeClass && all[i-1].EnergyPerUnit > r.EnergyPerUnit {
			t.Errorf("not best first at %d", i)
		}
	}
	if classes["A"] != 32 || classes["B"] != 3 || classes["C"] != 5 {
		t.Errorf("classes = %v", classes)
	}
	if b := servertest.ListAll(t, rs, &energylabelv1.ListRatingsRequest{Task: "text-generation", SizeClass: "B", PageSize: 3}); len(b) != 3 {
		t.Errorf("class B page of exactly its size: %d ratings", len(b))
	}
	for _, bad := range []*energylabelv1.ListRatingsRequest{{}, {Task: "juggling"}, {Task: "asr", PageToken: "garbage"}, {Task: "asr", SizeClass: "Z"}} {
		if _, err := rs.ListRatings(context.Background(), bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("ListRatings(%v) = %v, want InvalidArgument", bad, err)
		}
	}
}

func TestHealthAndTasks(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	h, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "energylabel.v1.RatingService"})
	if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v %v", h, err)
	}
	tasks, err := energylabelv1.NewRatingServiceClient(conn).ListTasks(context.Background(), &energylabelv1.ListTasksRequest{})
	if err != nil || len(tasks.Tasks) != 14 {
		t.Errorf("ListTasks: %d tasks, %v", len(tasks.GetTasks()), err)
	}
}
