package service_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// GetRating's for_badge answers the rating the server's images show, so
// that the CLI's badge and card need not choose again; hardware may be
// any name the server's registry knows.
func TestGetRatingForABadgeIsTheServersChoice(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	admin := energylabelv1.NewAdminServiceClient(servertest.Dial(t, srv.Addr))
	ctx := servertest.WithToken(srv.AdminToken)
	if _, err := admin.AddAccelerator(ctx, &energylabelv1.AddAcceleratorRequest{Accelerator: &energylabelv1.Accelerator{
		Name: "Acme Tensor 9", Family: "A100", Aliases: []string{"at9"}, BoardWatts: 400, FloorWatts: 30, Source: "test"}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*energylabelv1.BenchmarkResult{servertest.Classification("acme/x", 1), servertest.Classification("acme/x", 3)} {
		if r.GpuEnergyWh == 3 {
			r.Hardware.Accelerator = "A100"
		}
		if _, err := rs.SubmitResult(ctx, &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := rs.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/x", Hardware: "at9", ForBadge: true})
	if err != nil || len(got.GetRatings()) != 1 || got.GetRatings()[0].GetHardware() != "A100" {
		t.Fatalf("for a badge on at9: %v, %v", got, err)
	}
	all, err := rs.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/x"})
	if err != nil || len(all.GetRatings()) != 2 {
		t.Fatalf("every rating: %v, %v", all, err)
	}
	one, err := rs.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/x", ForBadge: true})
	if err != nil || len(one.GetRatings()) != 1 {
		t.Fatalf("for a badge: %v, %v", one, err)
	}
	_, err = rs.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/x", Hardware: "B200", ForBadge: true})
	if status.Code(err) != codes.NotFound {
		t.Errorf("for a badge on B200: %v, want NotFound", err)
	}
}
