package grpcapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func TestHTTPMetricsCountRoutesNotPaths(t *testing.T) {
	srv := servertest.Start(t)
	servertest.SubmitClassification(t, srv, "acme/m", "H100", "", 0.2)
	base := "http://" + srv.HTTPAddr
	badge := base + "/badge/acme/m.svg"
	first, _ := servertest.HTTPGet(t, badge)                                // drawn
	servertest.HTTPGet(t, badge)                                            // from the response cache
	servertest.HTTPGet(t, badge+"?label=x")                                 // another selection, drawn
	servertest.HTTPGet(t, badge, "If-None-Match", first.Header.Get("ETag")) // 304 from the cache
	servertest.HTTPGet(t, base+"/tasks/text-classification")
	servertest.HTTPGet(t, base+"/models/acme/nothing")
	servertest.HTTPGet(t, base+"/no/such/route/acme-secret-path")

	m := servertest.MetricsText(t, srv)
	for series, want := range map[string]float64{
		`energylabel_http_requests_total{code="200",route="GET /badge/{owner}/{file}"}`:      3,
		`energylabel_http_requests_total{code="304",route="GET /badge/{owner}/{file}"}`:      1,
		`energylabel_http_requests_total{code="200",route="GET /tasks/{task}"}`:              1,
		`energylabel_http_requests_total{code="404",route="GET /models/{owner}/{name}"}`:     1,
		`energylabel_http_requests_total{code="404",route="unmatched"}`:                      1,
		`energylabel_http_request_duration_seconds_count{route="GET /badge/{owner}/{file}"}`: 4,
	} {
		if got := metricValue(t, m, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if hits := metricValue(t, m, `energylabel_cache_hits_total{cache="responses"}`); hits < 2 {
		t.Errorf("the response cache counts %v hits, want the 2 it answered", hits)
	}
	if misses := metricValue(t, m, `energylabel_cache_misses_total{cache="responses"}`); misses < 2 {
		t.Errorf("the response cache counts %v misses, want at least the 2 drawn", misses)
	}
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, "energylabel_http_") && (strings.Contains(line, "acme") || strings.Contains(line, "secret")) {
			t.Errorf("a raw path reached a label: %s", line)
		}
	}
}

func TestGRPCMetricsHaveTheStandardLabels(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/m", 0.2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "acme/m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "acme/none"}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetRating of an unknown model: %v", err)
	}
	if _, err := rs.SubmitResult(context.Background(), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/m", 0.2)}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("SubmitResult without a token: %v", err)
	}

	m := servertest.MetricsText(t, srv)
	const getRating = `grpc_method="GetRating",grpc_service="energylabel.v1.RatingService",grpc_type="unary"`
	for series, want := range map[string]float64{
		`grpc_server_handled_total{grpc_code="OK",` + getRating + `}`:       1,
		`grpc_server_handled_total{grpc_code="NotFound",` + getRating + `}`: 1,
		`grpc_server_started_total{` + getRating + `}`:                      2,
		`grpc_server_handled_total{grpc_code="Unauthenticated",grpc_method="SubmitResult",grpc_service="energylabel.v1.RatingService",grpc_type="unary"}`: 1,
		`grpc_server_handling_seconds_count{` + getRating + `}`:                                                    2,
		`energylabel_rpc_duration_seconds_count{code="NotFound",method="/energylabel.v1.RatingService/GetRating"}`: 1,
		`energylabel_submissions_total{outcome="accepted",reason=""}`:                                              1,
	} {
		if got := metricValue(t, m, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	// Every method has its series from the start, at zero.
	if got := metricValue(t, m, `grpc_server_started_total{grpc_method="ListReleases",grpc_service="energylabel.v1.RatingService",grpc_type="unary"}`); got != 0 {
		t.Errorf("ListReleases started %v times, want a series at 0", got)
	}
	if resp, _ := servertest.HTTPGet(t, "http://"+srv.HTTPAddr+"/metrics"); resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics: %d", resp.StatusCode)
	}
}
