package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating/formats"
)

// optimumReport is the AIES optimum-benchmark report in testdata.
var optimumReport = filepath.Join("..", "rating", "formats", "optimum", "testdata", "benchmark_report.json")

// readOptimum reads a report as the CLI does for a publisher of model: a
// 7 B text-generation model on one H100, 1,200 s, and the file's hash.
func readOptimum(t *testing.T, data []byte, model string) *energylabelv1.SubmitResultRequest {
	t.Helper()
	rs, _, err := formats.Parse("benchmark_report.json", data, formats.Optimum, formats.Meta{
		Model: model, Task: "text-generation", Hardware: "H100", GPUs: 1, Params: 7, DurationSeconds: 1200})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return &energylabelv1.SubmitResultRequest{Result: wire.BenchmarkResult(&rs[0]), PayloadSha256: hex.EncodeToString(sum[:])}
}

func history(t *testing.T, rs energylabelv1.RatingServiceClient, model string) []*energylabelv1.HistoryEntry {
	t.Helper()
	h, err := rs.GetHistory(context.Background(), &energylabelv1.GetHistoryRequest{Model: model})
	if err != nil {
		t.Fatal(err)
	}
	return h.GetEntries()
}

// Issue 16's twin: one trailing space in a real optimum-benchmark report
// made another file, whose client-side hash labelled a second model. The
// server fingerprints the figures it parsed, so the twin is the same
// measurement, and it already labels acme/m.
func TestTheTrailingSpaceTwinLabelsNoSecondModel(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	acme, evil := servertest.PublisherToken(t, srv, "acme"), servertest.PublisherToken(t, srv, "evil")
	report, err := os.ReadFile(optimumReport)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.SubmitResult(servertest.WithToken(acme), readOptimum(t, report, "acme/m")); err != nil {
		t.Fatal(err)
	}
	twin := readOptimum(t, append(append([]byte(nil), report...), ' '), "evil/twin")
	_, err = rs.SubmitResult(servertest.WithToken(evil), twin)
	if status.Code(err) != codes.AlreadyExists || !strings.Contains(err.Error(), `"acme/m"`) {
		t.Errorf("the trailing-space twin for evil/twin: %v, want AlreadyExists naming acme/m", err)
	}
	if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "evil/twin"}); status.Code(err) != codes.NotFound {
		t.Errorf("the twin was stored: %v", err)
	}
	// The same figures under another task or tool are still the same run.
	twin.Result.Task, twin.Result.Tool = "reasoning", &energylabelv1.Tool{Name: "hand-made"}
	if _, err := rs.SubmitResult(servertest.WithToken(evil), twin); status.Code(err) != codes.AlreadyExists {
		t.Errorf("the twin as reasoning by another tool: %v, want AlreadyExists", err)
	}
}

// Issue 16's squat: a payload_sha256 copied from a rival's public file
// blocked the rival's own submission of it. The client's hash claims
// nothing now; it stays in the audit trail.
func TestAClientsPayloadHashClaimsNothing(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	acme, evil := servertest.PublisherToken(t, srv, "acme"), servertest.PublisherToken(t, srv, "evil")
	report, err := os.ReadFile(optimumReport)
	if err != nil {
		t.Fatal(err)
	}
	genuine := readOptimum(t, report, "acme/m")
	squat := &energylabelv1.SubmitResultRequest{Result: servertest.TextGeneration("evil/squat", 7, 1, 1000, 100_000, 50, 600), PayloadSha256: genuine.PayloadSha256}
	if _, err := rs.SubmitResult(servertest.WithToken(evil), squat); err != nil {
		t.Fatalf("evil's own measurement under acme's file hash: %v", err)
	}
	resp, err := rs.SubmitResult(servertest.WithToken(acme), genuine)
	if err != nil || resp.GetAlreadyStored() {
		t.Fatalf("acme's genuine file after the squat: %v, %v", resp, err)
	}
	_, audit, err := srv.Backend.Record(context.Background(), resp.GetResultId())
	if err != nil || audit.PayloadSHA256 != genuine.PayloadSha256 || audit.Fingerprint == "" {
		t.Errorf("audit of the genuine result: %+v, %v; want the client's hash kept and a server fingerprint", audit, err)
	}
}

// The same file twice for one model is stored once: the second answer is
// the first result, and the model's history has one entry.
func TestTheSameMeasurementTwiceIsStoredOnce(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	acme := servertest.PublisherToken(t, srv, "acme")
	report, err := os.ReadFile(optimumReport)
	if err != nil {
		t.Fatal(err)
	}
	first, err := rs.SubmitResult(servertest.WithToken(acme), readOptimum(t, report, "acme/m"))
	if err != nil {
		t.Fatal(err)
	}
	rev, err := srv.Backend.Revision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	again, err := rs.SubmitResult(servertest.WithToken(acme), readOptimum(t, append(report, '\n'), "acme/m"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.GetAlreadyStored() || again.GetResultId() != first.GetResultId() {
		t.Errorf("the same file again: result %d, already_stored %v; want result %d, already stored",
			again.GetResultId(), again.GetAlreadyStored(), first.GetResultId())
	}
	if len(again.GetRatings()) != 1 || again.GetRatings()[0].GetResultId() != first.GetResultId() ||
		again.GetRatings()[0].GetGrade() != first.GetRatings()[0].GetGrade() {
		t.Errorf("the answer's ratings %v, want the first result's %v", again.GetRatings(), first.GetRatings())
	}
	if n := len(history(t, rs, "acme/m")); n != 1 {
		t.Errorf("history has %d entries, want 1", n)
	}
	if got, _ := srv.Backend.Revision(context.Background()); got != rev {
		t.Errorf("the revision moved from %d to %d: something was written", rev, got)
	}
	// Another measurement of the same model is a new result.
	other := servertest.TextGeneration("acme/m", 7, 1, 1000, 100_000, 50, 600)
	if resp, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: other}); err != nil || resp.GetAlreadyStored() {
		t.Errorf("a new measurement: %v, %v", resp, err)
	}
	// Once superseded, the first measurement again answers with the
	// model's current rating in its cohort.
	again, err = rs.SubmitResult(servertest.WithToken(acme), readOptimum(t, report, "acme/m"))
	if err != nil || !again.GetAlreadyStored() || again.GetResultId() != first.GetResultId() || len(again.GetRatings()) != 1 {
		t.Fatalf("the first file after a newer result: %v, %v", again, err)
	}
	if got := again.GetRatings()[0].GetResultId(); got == first.GetResultId() {
		t.Errorf("the answer's rating is the superseded result %d, want the current one", got)
	}
}

// Published leaderboards may repeat a figure for two models; an admin's
// import is the leaderboard's word and claims no fingerprint.
func TestAdminImportsAreNotFingerprinted(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	for _, model := range []string{"acme/one", "acme/two"} {
		resp, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(model, 0.9)})
		if err != nil || resp.GetAlreadyStored() {
			t.Fatalf("%s: %v, %v", model, resp, err)
		}
		if _, audit, err := srv.Backend.Record(context.Background(), resp.GetResultId()); err != nil || audit.Fingerprint != "" {
			t.Errorf("%s: fingerprint %q, %v; want none", model, audit.Fingerprint, err)
		}
	}
	// A publisher's same figures are a measurement, and claim them.
	acme := servertest.PublisherToken(t, srv, "acme")
	if _, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/three", 0.9)}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/four", 0.9)}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("the same figures for acme/four: %v, want AlreadyExists", err)
	}
}
