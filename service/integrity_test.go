package service_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// publisher creates a publisher token for namespace acme.
func publisher(t *testing.T, admin energylabelv1.AdminServiceClient, adminToken string) string {
	t.Helper()
	resp, err := admin.CreateToken(servertest.WithToken(adminToken), &energylabelv1.CreateTokenRequest{Namespaces: []string{"acme"}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetToken()
}

func TestRealHardwareNamesReachTheirCohortAndAreChecked(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	token := publisher(t, energylabelv1.NewAdminServiceClient(conn), srv.AdminToken)

	// As NVML names an H100 SXM: 0.9 Wh per 1,000 queries in 41.5 s.
	r := &energylabelv1.BenchmarkResult{Model: "acme/clf", Task: "text-classification",
		Hardware: &energylabelv1.Hardware{Accelerator: "NVIDIA H100 80GB HBM3", Count: 1},
		Queries:  1000, GpuEnergyWh: 0.9, DurationSeconds: 41.5}
	resp, err := rs.SubmitResult(servertest.WithToken(token), &energylabelv1.SubmitResultRequest{Result: r})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetRatings()[0]
	if got.GetHardware() != "H100" || got.GetCohortSize() != 14 || !got.GetPowerChecked() || !slices.Contains(got.GetChecks(), "power") {
		t.Errorf("rating: hardware %q, cohort of %d, power checked %v, checks %v; want H100 with the 13 AIES models, power-checked",
			got.GetHardware(), got.GetCohortSize(), got.GetPowerChecked(), got.GetChecks())
	}

	for _, tt := range []struct {
		name, accelerator string
		wh, seconds       float64
		field             string
	}{
		{"3000 Wh in 10 s", "NVIDIA H100 80GB HBM3", 3000, 10, "gpu_energy_wh"},
		{"a made-up accelerator", "Quantum9000", 0.9, 41.5, "hardware.accelerator"},
		{"Cyrillic H", "\u041d100", 0.9, 41.5, "hardware.accelerator"},
		{"a zero-width space", "H100\u200b", 0.9, 41.5, "hardware.accelerator"},
		{"full-width digits", "H\uff11\uff10\uff10", 0.9, 41.5, "hardware.accelerator"},
	} {
		bad := proto.CloneOf(r)
		bad.Model, bad.Hardware.Accelerator, bad.GpuEnergyWh, bad.DurationSeconds = "acme/bad", tt.accelerator, tt.wh, tt.seconds
		_, err := rs.SubmitResult(servertest.WithToken(token), &energylabelv1.SubmitResultRequest{Result: bad})
		if fields := servertest.RefusedFields(t, err); !slices.Contains(fields, tt.field) {
			t.Errorf("%s: refused naming %v, want %s", tt.name, fields, tt.field)
		}
	}
	if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "acme/bad"}); status.Code(err) != codes.NotFound {
		t.Errorf("a refused result was stored: %v", err)
	}
}

func TestGamingAttemptsAreRefusedAndNothingIsStored(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	token := publisher(t, energylabelv1.NewAdminServiceClient(conn), srv.AdminToken)
	llm := func() *energylabelv1.BenchmarkResult {
		return &energylabelv1.BenchmarkResult{Model: "acme/llm", Task: "text-generation",
			Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1}, Queries: 1000, GpuEnergyWh: 20,
			DurationSeconds: 600, ParametersBillions: 7, Output: &energylabelv1.Output{Tokens: 200000}}
	}
	for _, tt := range []struct {
		name  string
		edit  func(*energylabelv1.BenchmarkResult)
		field string
	}{
		{"size class C on a 7 B model", func(r *energylabelv1.BenchmarkResult) { r.SizeClass = "C" }, "size_class"},
		{"9e18 tokens", func(r *energylabelv1.BenchmarkResult) { r.Output.Tokens = 9e18 }, "output.tokens"},
		{"1e308 Wh for one query", func(r *energylabelv1.BenchmarkResult) { r.GpuEnergyWh, r.Queries = 1e308, 1 }, "gpu_energy_wh"},
		{"no duration", func(r *energylabelv1.BenchmarkResult) { r.DurationSeconds = 0 }, "duration_seconds"},
		{"an unregistered dataset that sorts first", func(r *energylabelv1.BenchmarkResult) { r.Dataset = "AIEnergyScore/a" }, "dataset"},
		{"no parameter count", func(r *energylabelv1.BenchmarkResult) { r.ParametersBillions = 0 }, "parameters_billions"},
		{"1e300 billion parameters", func(r *energylabelv1.BenchmarkResult) { r.ParametersBillions = 1e300 }, "parameters_billions"},
		{"the largest int64 of queries", func(r *energylabelv1.BenchmarkResult) { r.Queries = 9223372036854775807 }, "queries"},
		{"a payload hash that is not one", func(r *energylabelv1.BenchmarkResult) {}, "payload_sha256"},
	} {
		r := llm()
		tt.edit(r)
		req := &energylabelv1.SubmitResultRequest{Result: r}
		if tt.field == "payload_sha256" {
			req.PayloadSha256 = strings.Repeat("z", 64)
		}
		_, err := rs.SubmitResult(servertest.WithToken(token), req)
		if fields := servertest.RefusedFields(t, err); !slices.Contains(fields, tt.field) {
			t.Errorf("%s: refused naming %v, want %s", tt.name, fields, tt.field)
		}
	}
	if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "acme/llm"}); status.Code(err) != codes.NotFound {
		t.Errorf("a refused result was stored: %v", err)
	}
	// The same result, honestly declared, is accepted as class A.
	resp, err := rs.SubmitResult(servertest.WithToken(token), &energylabelv1.SubmitResultRequest{Result: llm()})
	if err != nil || resp.GetRatings()[0].GetSizeClass() != "A" {
		t.Errorf("the honest result: %v, %v", resp, err)
	}
}

func TestFrozenStarsForAQuarterOfTheBestClassifier(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "r1")
	req := &energylabelv1.ListRatingsRequest{Task: "text-classification"}
	before := servertest.ListAll(t, rs, req)

	best := before[0].GetWhPer_1KQueries()
	quarter := &energylabelv1.BenchmarkResult{Model: "acme/tiny-clf", Task: "text-classification",
		Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1}, Queries: 1000, GpuEnergyWh: 0.05443, DurationSeconds: 1.3}
	if q := best / 4; q < 0.054 || q > 0.0545 {
		t.Fatalf("a quarter of the best is %v Wh/1k, not the 0.05443 the check names", q)
	}
	token := publisher(t, energylabelv1.NewAdminServiceClient(conn), srv.AdminToken)
	resp, err := rs.SubmitResult(servertest.WithToken(token), &energylabelv1.SubmitResultRequest{Result: quarter})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetRatings()[0]; got.GetStars() != 5 || got.GetRelease() != "r1" {
		t.Errorf("the new best: %d stars of %q, want 5 of r1", got.GetStars(), got.GetRelease())
	}
	after := map[string]*energylabelv1.Rating{}
	for _, r := range servertest.ListAll(t, rs, req) {
		after[r.GetModel()] = r
	}
	for _, b := range before {
		if a := after[b.GetModel()]; a.GetStars() != b.GetStars() {
			t.Errorf("%s: %d stars became %d without a release", b.GetModel(), b.GetStars(), a.GetStars())
		}
	}
	servertest.CreateRelease(t, conn, srv.AdminToken, "r2")
	hi := before[len(before)-1].GetWhPer_1KQueries()
	for _, r := range servertest.ListAll(t, rs, req) {
		if want := rating.Stars(r.GetWhPer_1KQueries(), 0.05443, hi); int(r.GetStars()) != want {
			t.Errorf("%s after r2: %d stars, the AIES rule gives %d", r.GetModel(), r.GetStars(), want)
		}
	}
}

func TestARatingExplainsItself(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "aies-2025-02")
	resp, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "openai/whisper-large-v3"})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.GetRatings()[0]
	if r.GetRelease() != "aies-2025-02" || r.GetReleaseCohortSize() != 13 || r.GetRank() != 13 || r.GetCohortSize() != 13 {
		t.Errorf("release %q of %d models, rank %d of %d", r.GetRelease(), r.GetReleaseCohortSize(), r.GetRank(), r.GetCohortSize())
	}
	if r.Reference == nil || len(r.GetClasses()) != 7 || r.GetClasses()[6].UpTo != nil {
		t.Fatalf("reference %v, classes %v", r.Reference, r.GetClasses())
	}
	// The classes tile the energy axis, and this model's energy sits in its grade's range.
	for i, c := range r.GetClasses() {
		if i > 0 && c.GetAbove() != r.GetClasses()[i-1].GetUpTo() {
			t.Errorf("class %s starts at %v, the previous ends at %v", c.GetGrade(), c.GetAbove(), r.GetClasses()[i-1].GetUpTo())
		}
		if c.GetGrade() == r.GetGrade() && !(r.GetEnergyPerUnit() > c.GetAbove() && (c.UpTo == nil || r.GetEnergyPerUnit() <= c.GetUpTo())) {
			t.Errorf("%v is outside its class %s (%v, %v]", r.GetEnergyPerUnit(), c.GetGrade(), c.GetAbove(), c.GetUpTo())
		}
	}
	if got := r.GetClasses()[4].GetUpTo(); got != r.GetReference() {
		t.Errorf("E ends at %v, want the reference %v", got, r.GetReference())
	}
	if r.GetPowerChecked() || len(r.GetChecks()) != 0 {
		t.Errorf("a published figure claims checks: %v", r.GetChecks())
	}
}
