package service_test

import (
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func importStream(t *testing.T, admin energylabelv1.AdminServiceClient, token string, msgs ...[]*energylabelv1.BenchmarkResult) (*energylabelv1.ImportResultsResponse, error) {
	t.Helper()
	stream, err := admin.ImportResults(servertest.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := stream.Send(&energylabelv1.ImportResultsRequest{Results: m}); err != nil {
			break // the server ended the call; CloseAndRecv says why
		}
	}
	return stream.CloseAndRecv()
}

func TestImportStoresEveryResultDurablyInOrder(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	admin := energylabelv1.NewAdminServiceClient(conn)
	rs := energylabelv1.NewRatingServiceClient(conn)

	// More than one transaction's worth, in messages of 1,000.
	const n = 9000
	var msgs [][]*energylabelv1.BenchmarkResult
	for i := 0; i < n; i += 1000 {
		var m []*energylabelv1.BenchmarkResult
		for j := i; j < i+1000; j++ {
			r := servertest.Classification(fmt.Sprintf("bulk/m%d", j%3000), float64(1+j))
			r.DurationSeconds = 0 // a leaderboard row: no power check
			m = append(m, r)
		}
		msgs = append(msgs, m)
	}
	resp, err := importStream(t, admin, srv.AdminToken, msgs...)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Imported != n || resp.FirstResultId != 1 || resp.LastResultId != n {
		t.Errorf("response %v, want %d results with ids 1..%d", resp, n, n)
	}
	srv.Restart(t)
	got, err := rs.GetRating(t.Context(), &energylabelv1.GetRatingRequest{Model: "bulk/m7"})
	if err != nil {
		t.Fatal(err)
	}
	// m7's results are the 8th, 3008th and 6008th: the last one wins.
	if r := got.Ratings[0]; r.ResultId != 6008 || r.WhPer_1KQueries != 6008 || r.CohortSize != 3000 {
		t.Errorf("after restart: id %d, %v Wh/1k, cohort of %d; want 6008, 6008, 3000", r.ResultId, r.WhPer_1KQueries, r.CohortSize)
	}
}

func TestImportStopsAtARefusedResultNamingIt(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	admin := energylabelv1.NewAdminServiceClient(conn)
	rs := energylabelv1.NewRatingServiceClient(conn)

	bad := servertest.Classification("bulk/bad", -1)
	_, err := importStream(t, admin, srv.AdminToken,
		[]*energylabelv1.BenchmarkResult{servertest.Classification("bulk/a", 1), servertest.Classification("bulk/b", 2)},
		[]*energylabelv1.BenchmarkResult{servertest.Classification("bulk/c", 3), bad, servertest.Classification("bulk/d", 4)},
	)
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("import with a refused result: %v, want InvalidArgument", err)
	}
	var field string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			field = br.FieldViolations[0].Field
		}
	}
	if field != "results[3].gpu_energy_wh" {
		t.Errorf("violation names %q, want results[3].gpu_energy_wh", field)
	}
	for model, want := range map[string]codes.Code{"bulk/c": codes.OK, "bulk/d": codes.NotFound, "bulk/bad": codes.NotFound} {
		if _, err := rs.GetRating(t.Context(), &energylabelv1.GetRatingRequest{Model: model}); status.Code(err) != want {
			t.Errorf("%s after the refused import: %v, want %v", model, err, want)
		}
	}
}

func TestImportNeedsTheAdminToken(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	admin := energylabelv1.NewAdminServiceClient(conn)
	tok, err := admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{Namespaces: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importStream(t, admin, tok.Token, []*energylabelv1.BenchmarkResult{servertest.Classification("bulk/a", 1)}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("import with a publisher token: %v, want Unauthenticated", err)
	}
}
