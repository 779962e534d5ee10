package web_test

import (
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/gpufacts"
	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// A result energylabel measure measured says so on its label and its
// page, as the source of its figures; it is still a declared result.
func TestAMeasuredResultSaysSoOnItsLabelAndPage(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	tok := servertest.PublisherToken(t, srv, "gpu-probe")
	if _, err := rs.SubmitResult(servertest.WithToken(tok), &energylabelv1.SubmitResultRequest{Result: wire.BenchmarkResult(gpufacts.H100.Result(0.1))}); err != nil {
		t.Fatal(err)
	}
	const said = "declared, measured with energylabel measure, NVML"
	base := "http://" + srv.HTTPAddr
	resp, body := servertest.HTTPGet(t, base+"/label/gpu-probe/distilbert-arch-clf.svg")
	if resp.StatusCode != 200 || !strings.Contains(servertest.WellFormedSVG(t, body), said) {
		t.Errorf("the label (%d) does not say %q", resp.StatusCode, said)
	}
	resp, body = servertest.HTTPGet(t, base+"/models/gpu-probe/distilbert-arch-clf")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `<span class="status st-declared">`+said+`</span>`) {
		t.Errorf("the page (%d) does not say %q", resp.StatusCode, said)
	}
}
