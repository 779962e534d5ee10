package service_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/service"
)

// One namespace's publishers spend their own day's quota, not another's:
// one token filled a shared 3 MB store in 30 s before, and the next
// publisher got "storage full".
func TestANamespaceQuotaStopsItsPublishersOnly(t *testing.T) {
	quotas := &service.Quotas{Default: service.Quota{ResultsPerDay: 3}, By: map[string]service.Quota{"big": {ResultsPerDay: 5}}}
	srv := servertest.StartWith(t, servertest.Options{Quotas: quotas})
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	token := func(ns string) context.Context { return servertest.WithToken(servertest.PublisherToken(t, srv, ns)) }
	submit := func(ctx context.Context, model string, i int) error {
		// Each model its own figures: one measurement labels one model.
		wh := float64(1+i) + float64(len(model))/100 + float64(model[0])/10
		_, err := rs.SubmitResult(ctx, &energylabelv1.SubmitResultRequest{Result: servertest.Classification(model, wh)})
		return err
	}
	flood, big, other := token("flood"), token("big"), token("other")
	for i := range 3 {
		if err := submit(flood, "flood/m", i); err != nil {
			t.Fatalf("result %d within the quota: %v", i, err)
		}
	}
	err := submit(flood, "flood/m", 3)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "namespace flood") {
		t.Fatalf("past the quota: %v, want ResourceExhausted naming namespace flood", err)
	}
	if err := submit(other, "other/m", 0); err != nil {
		t.Errorf("another namespace: %v", err)
	}
	for i := range 5 {
		if err := submit(big, "big/m", i); err != nil {
			t.Fatalf("big's own quota of 5, result %d: %v", i, err)
		}
	}
	// The admin token imports leaderboards: no quota binds it.
	if err := submit(servertest.WithToken(srv.AdminToken), "flood/n", 0); err != nil {
		t.Errorf("the admin token: %v", err)
	}
	// A restarted server counts the day's stored results again.
	srv.Restart(t)
	rs = energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if err := submit(flood, "flood/m", 4); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("past the quota after a restart: %v", err)
	}
}
