package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// The history chart draws a model's latest results: after 505 of them, the
// last 5 much heavier, it shows those (it drew the oldest 500 before).
func TestHistoryChartShowsTheLatestResults(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	for i := range 505 {
		wh := 0.5 + float64(i)/1e6 // E
		if i >= 500 {
			wh = 5 // G
		}
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/long", wh)}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get("http://" + srv.HTTPAddr + "/history/acme/long.svg?task=text-classification")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	svg := string(body)
	if resp.StatusCode != 200 || strings.Count(svg, "<circle") != 500 || strings.Count(svg, "grade G") != 5 {
		t.Errorf("status %d, %d points, %d of grade G; want 500 points with the 5 latest G", resp.StatusCode, strings.Count(svg, "<circle"), strings.Count(svg, "grade G"))
	}
}
