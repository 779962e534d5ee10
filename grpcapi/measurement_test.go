package grpcapi_test

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/gpufacts"
	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// A result energylabel measure measured says so on its rating, and stays
// a declared one; a trace that disagrees with its energy is refused
// naming the field, and nothing is stored.
func TestAMeasuredResultSaysSoAndABadTraceIsRefused(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	tok, err := energylabelv1.NewAdminServiceClient(conn).CreateToken(servertest.WithToken(srv.AdminToken),
		&energylabelv1.CreateTokenRequest{Namespaces: []string{"gpu-probe", "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := servertest.WithToken(tok.Token) // a publisher's: its results are declared

	bad := gpufacts.H200.Result(0.1)
	bad.Model = "gpu-probe/bad-trace"
	for i := range bad.Measurement.Trace {
		bad.Measurement.Trace[i].Watts *= 2
	}
	_, err = rs.SubmitResult(ctx, &energylabelv1.SubmitResultRequest{Result: wire.BenchmarkResult(bad)})
	st := status.Convert(err)
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				fields = append(fields, v.Field)
			}
		}
	}
	if st.Code() != codes.InvalidArgument || !slices.Equal(fields, []string{"measurement.trace"}) {
		t.Fatalf("a trace twice the counters: %v, fields %v", err, fields)
	}
	if n, _ := srv.Backend.CountResults(); n != 0 {
		t.Fatalf("%d results stored after the refusal", n)
	}

	for _, run := range []gpufacts.Run{gpufacts.H100, gpufacts.H200} {
		resp, err := rs.SubmitResult(ctx, &energylabelv1.SubmitResultRequest{Result: wire.BenchmarkResult(run.Result(0.1))})
		if err != nil {
			t.Fatalf("%s: %v", run.Name, err)
		}
		model := resp.GetRatings()[0].GetModel()
		got, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: model})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range append(resp.GetRatings(), got.GetRatings()...) {
			if r.GetMeasuredWith() != rating.MeasuredWithNVML || !slices.Contains(r.GetChecks(), "trace") || r.GetVerification().GetStatus() != "declared" {
				t.Errorf("%s: measured_with %q, checks %v, status %q", run.Name, r.GetMeasuredWith(), r.GetChecks(), r.GetVerification().GetStatus())
			}
		}
	}
	// One without a measurement says nothing of one.
	resp, err := rs.SubmitResult(ctx, &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/typed", 1)})
	if err != nil || resp.GetRatings()[0].GetMeasuredWith() != "" {
		t.Fatalf("%v, %v", err, resp)
	}
}
