package client_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/energylabel/energylabel/client"
	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func dial(t *testing.T, addr string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func classifier(model string, whPer1k float64) *energylabelv1.BenchmarkResult {
	return &energylabelv1.BenchmarkResult{
		Model: model, Task: "text-classification",
		Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
		Queries:  1000, GpuEnergyWh: whPer1k, DurationSeconds: whPer1k * 3600 / 150, // 150 W
	}
}

func TestAgainstARealServer(t *testing.T) {
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := dial(t, srv.Addr, client.WithToken(srv.AdminToken))
	public := dial(t, srv.Addr)

	id, token, err := admin.CreateToken(ctx, []string{"org-a"}, time.Now().Add(time.Hour))
	if err != nil || id == "" || token == "" {
		t.Fatalf("CreateToken = %q, %q, %v", id, token, err)
	}
	publisher := dial(t, srv.Addr, client.WithToken(token))

	if _, err := public.Submit(ctx, classifier("org-a/m0", 0.2), ""); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("Submit without a token = %v, want ErrUnauthenticated", err)
	}
	if _, err := publisher.Submit(ctx, classifier("org-b/m0", 0.2), ""); !errors.Is(err, client.ErrPermissionDenied) {
		t.Errorf("Submit outside the token's namespace = %v, want ErrPermissionDenied", err)
	}

	bad := classifier("org-a/bad", math.NaN())
	bad.Queries = 0
	_, err = publisher.Submit(ctx, bad, "")
	var inv *client.InvalidArgumentError
	if !errors.As(err, &inv) || !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("Submit of a bad result = %v, want an *InvalidArgumentError", err)
	}
	fields := map[string]bool{}
	for _, v := range inv.Violations {
		fields[v.Field] = true
	}
	if !fields["gpu_energy_wh"] || !fields["queries"] {
		t.Errorf("violations %+v do not name gpu_energy_wh and queries", inv.Violations)
	}

	// Stars come from reference results: the admin imports them, as from a
	// published leaderboard.
	for i := range 7 {
		resp, err := admin.Submit(ctx, classifier(fmt.Sprintf("org-a/m%d", i), 0.1*float64(i+1)), fmt.Sprintf("%064x", i+1))
		if err != nil || resp.GetResultId() == 0 || len(resp.GetRatings()) != 1 {
			t.Fatalf("Submit %d = %v, %v", i, resp, err)
		}
	}

	if _, err := public.CreateRelease(ctx, "r1", false); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("CreateRelease without a token = %v, want ErrUnauthenticated", err)
	}
	if resp, err := admin.CreateRelease(ctx, "r1", false); err != nil || resp.GetRatingsStarred() != 7 {
		t.Fatalf("CreateRelease = %v, %v", resp, err)
	}
	rs, err := public.GetRating(ctx, "org-a/m0", "", "")
	if err != nil || len(rs) != 1 || rs[0].GetStars() != 5 || rs[0].GetCohortSize() != 7 {
		t.Errorf("GetRating = %v, %v", rs, err)
	}
	if _, err := public.GetRating(ctx, "org-a/nothing", "", ""); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetRating of an unknown model = %v, want ErrNotFound", err)
	}

	// Two per page: AllRatings follows the tokens to the end, best first.
	all, err := public.AllRatings(ctx, &energylabelv1.ListRatingsRequest{Task: "text-classification", PageSize: 2})
	if err != nil || len(all) != 7 {
		t.Fatalf("AllRatings = %d ratings, %v; want 7", len(all), err)
	}
	for i, r := range all {
		if want := fmt.Sprintf("org-a/m%d", i); r.GetModel() != want {
			t.Errorf("rating %d is %s, want %s", i, r.GetModel(), want)
		}
	}
	page, err := public.ListRatings(ctx, &energylabelv1.ListRatingsRequest{Task: "text-classification", PageSize: 2})
	if err != nil || len(page.GetRatings()) != 2 || page.GetNextPageToken() == "" {
		t.Errorf("ListRatings = %v, %v; want one page of 2 and a token", page, err)
	}
	n := 0
	for _, err := range public.Ratings(ctx, &energylabelv1.ListRatingsRequest{Task: "text-classification", PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break // stopping early is allowed
		}
	}
	if _, err := public.AllRatings(ctx, &energylabelv1.ListRatingsRequest{}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("AllRatings without a task = %v, want ErrInvalidArgument", err)
	}

	tasks, err := public.ListTasks(ctx)
	if err != nil || len(tasks) != 14 {
		t.Errorf("ListTasks = %d tasks, %v", len(tasks), err)
	}

	if _, err := publisher.ListTokens(ctx); err == nil {
		t.Error("ListTokens with a publisher token succeeded")
	}
	infos, err := admin.ListTokens(ctx)
	if err != nil || len(infos) != 1 || infos[0].GetId() != id || infos[0].GetRevoked() {
		t.Fatalf("ListTokens = %v, %v", infos, err)
	}
	if err := admin.RevokeToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := publisher.Submit(ctx, classifier("org-a/m9", 0.2), ""); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("Submit with a revoked token = %v, want ErrUnauthenticated", err)
	}
}

func TestServerInfo(t *testing.T) {
	srv := servertest.Start(t)
	info, err := dial(t, srv.Addr).ServerInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.GetBaseUrl() != "http://"+srv.HTTPAddr || info.GetVersion() == "" || len(info.GetGradeSchemes()) == 0 || info.GetTasks() == 0 {
		t.Errorf("ServerInfo = %v", info)
	}
}

// TestUnreachableServerIsAConnectError proves that a call to an address
// where no gRPC server answers fails with a *ConnectError naming the
// address, at once when nothing listens, and after the connect timeout
// when something listens but never answers.
func TestUnreachableServerIsAConnectError(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()
	hung, err := net.Listen("tcp", "127.0.0.1:0") // never accepts
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	for _, tc := range []struct {
		addr   string
		reason string
		within time.Duration
	}{
		{refused, "connection refused", time.Second},
		{hung.Addr().String(), "no gRPC handshake", 2 * time.Second},
	} {
		c := dial(t, tc.addr, client.WithConnectTimeout(500*time.Millisecond))
		start := time.Now()
		_, err := c.ListTasks(context.Background())
		var ce *client.ConnectError
		if !errors.As(err, &ce) || ce.Addr != tc.addr || !strings.Contains(ce.Reason, tc.reason) || !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("%s: ListTasks = %v, want a ConnectError (%s)", tc.addr, err, tc.reason)
		}
		if !strings.Contains(err.Error(), "cannot reach a server at "+tc.addr) {
			t.Errorf("error %q does not name the address", err)
		}
		if d := time.Since(start); d > tc.within {
			t.Errorf("%s: failed after %v, want within %v", tc.addr, d, tc.within)
		}
	}
}

func TestStoppedServerIsUnavailable(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv.Addr)
	srv.Stop(t)
	if _, err := c.ListTasks(context.Background()); !errors.Is(err, client.ErrUnavailable) {
		t.Errorf("ListTasks on a stopped server = %v, want ErrUnavailable", err)
	}
}
