package service_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// One model, one size: issue 16 graded the same measurement F as a 7 B
// model and A as a 70 B one. A model's parameter count is fixed by its
// first accepted result, within 1 %; the admin, importing a published
// leaderboard, is not held to it.
func TestAModelKeepsItsParameterCount(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	acme := servertest.PublisherToken(t, srv, "acme")
	submit := func(token string, params, wh float64) (*energylabelv1.SubmitResultResponse, error) {
		return rs.SubmitResult(servertest.WithToken(token), &energylabelv1.SubmitResultRequest{Result: servertest.TextGeneration("acme/chat", params, 1, 1000, 100_000, wh, 600)})
	}
	if _, err := submit(acme, 7, 50); err != nil {
		t.Fatal(err)
	}
	_, err := submit(acme, 70, 51)
	if status.Code(err) != codes.InvalidArgument || !slices.Contains(servertest.RefusedFields(t, err), "parameters_billions") ||
		!strings.Contains(err.Error(), "70 B") || !strings.Contains(err.Error(), "7 B") {
		t.Errorf("re-declared as 70 B: %v, want parameters_billions refused naming 70 B and 7 B", err)
	}
	for _, p := range []float64{6.92, 7.08} {
		if _, err := submit(acme, p, 52); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v B, more than 1 %% off: %v", p, err)
		}
	}
	if resp, err := submit(acme, 7.05, 53); err != nil || resp.GetAlreadyStored() {
		t.Errorf("7.05 B, within 1 %%: %v, %v", resp, err)
	}
	if _, err := submit(srv.AdminToken, 70, 54); err != nil {
		t.Errorf("the admin's 70 B: %v", err)
	}
	// The admin's later figure fixes nothing: the first result's does.
	if _, err := submit(acme, 7, 55); err != nil {
		t.Errorf("7 B after the admin's 70 B: %v", err)
	}
	if _, err := submit(acme, 70, 56); status.Code(err) != codes.InvalidArgument {
		t.Errorf("70 B from the publisher after the admin's: %v", err)
	}

	// A published leaderboard's count binds the model's publisher.
	imported := servertest.TextGeneration("acme/imported", 7, 1, 1000, 100_000, 50, 600)
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: imported}); err != nil {
		t.Fatal(err)
	}
	declared := servertest.TextGeneration("acme/imported", 70, 1, 1000, 100_000, 57, 600)
	if _, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: declared}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("70 B declared for a model imported at 7 B: %v", err)
	}
}
