package service_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// The attacks of issue 16 on stars and ranks: one declared result that
// would have reset a cohort's stars, and 67 made-up models that would have
// pushed a real one down the ranks. Declared results are graded and placed
// against the release, and move no one.
func TestDeclaredResultsMoveNoStarsAndNoRanks(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	r1 := servertest.CreateRelease(t, conn, srv.AdminToken, "r1")
	classA := &energylabelv1.ListRatingsRequest{Task: "text-generation", SizeClass: "A", PageSize: 100}
	before := map[string]*energylabelv1.Rating{}
	for _, r := range servertest.ListAll(t, rs, classA) {
		before[r.Model] = r
	}
	distil := before["distilbert/distilgpt2"]
	if distil == nil || distil.GetRank() != 1 || distil.GetReleaseCohortSize() != int32(len(before)) {
		t.Fatalf("distilgpt2 before: %v (of %d models)", distil, len(before))
	}

	// 1 query on 1,024 H100s for a year, at half their board power.
	evil := servertest.PublisherToken(t, srv, "evil")
	year := 365 * 24 * 3600.0
	heavy, err := rs.SubmitResult(servertest.WithToken(evil), &energylabelv1.SubmitResultRequest{
		Result: servertest.TextGeneration("evil/heavy-7b", 7, 1024, 1, 100, 350*1024*year/3600, year)})
	if err != nil {
		t.Fatal(err)
	}
	if got := heavy.Ratings[0]; got.GetGrade() != "G" || got.GetVerification().GetStatus() != "declared" || got.GetStars() != 1 {
		t.Errorf("evil/heavy-7b: grade %s, %d stars, %s; want a declared G with 1 star", got.GetGrade(), got.GetStars(), got.GetVerification().GetStatus())
	}

	// 67 made-up models, each far better than any real one.
	made := servertest.PublisherToken(t, srv, "made")
	for i := range 67 {
		_, err := rs.SubmitResult(servertest.WithToken(made), &energylabelv1.SubmitResultRequest{
			Result: servertest.TextGeneration(fmt.Sprintf("made/up-%d", i), 7, 1, 1000, 100_000+int64(i), 0.5+float64(i)/1000, 6)})
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		for _, r := range servertest.ListAll(t, rs, classA) {
			b := before[r.Model]
			if b == nil {
				if r.GetVerification().GetStatus() != "declared" {
					t.Errorf("%s: %s is %s", when, r.Model, r.GetVerification().GetStatus())
				}
				continue
			}
			if r.GetStars() != b.GetStars() || r.GetRank() != b.GetRank() || r.GetReleaseCohortSize() != b.GetReleaseCohortSize() {
				t.Errorf("%s: %s went from %d stars, rank %d of %d to %d stars, rank %d of %d", when, r.Model,
					b.GetStars(), b.GetRank(), b.GetReleaseCohortSize(), r.GetStars(), r.GetRank(), r.GetReleaseCohortSize())
			}
		}
	}
	check("after 68 declared models")

	dry, err := energylabelv1.NewAdminServiceClient(conn).CreateRelease(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateReleaseRequest{Name: "r2", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.GetRatingsChanged() != 0 || dry.GetRelease().GetModels() != r1.GetRelease().GetModels() {
		t.Errorf("the next release: stars change for %d ratings, %d models; want 0 changes over the same %d reference models",
			dry.GetRatingsChanged(), dry.GetRelease().GetModels(), r1.GetRelease().GetModels())
	}
	servertest.CreateRelease(t, conn, srv.AdminToken, "r2")
	check("after release r2")
}

// Market surveillance: a surveyor's measurement within the tolerance
// verifies a declared result, which the next release counts; one 40 %
// worse puts it under review, where resubmitting changes nothing, and three
// more at that level correct it to their mean.
func TestSurveyorsVerifyAndCorrectDeclaredResults(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	r1 := servertest.CreateRelease(t, conn, srv.AdminToken, "r1")
	acme, surveyor := servertest.PublisherToken(t, srv, "acme"), servertest.SurveyorToken(t, srv)
	// Each declared result is its own run, in seconds: the same figures
	// for two models would be one measurement labelling both.
	submit := func(model string, wh, seconds float64) {
		t.Helper()
		r := servertest.Classification(model, wh)
		r.DurationSeconds = seconds
		if _, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(model string, wh float64) *energylabelv1.VerifyResultResponse {
		t.Helper()
		resp, err := rs.VerifyResult(servertest.WithToken(surveyor), &energylabelv1.VerifyResultRequest{Result: servertest.Classification(model, wh)})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	submit("acme/honest", 0.5, 12)
	submit("acme/cheat", 0.5, 13)

	// Who may verify: a surveyor, never a publisher; and a surveyor submits
	// no declared results.
	if _, err := rs.VerifyResult(servertest.WithToken(acme), &energylabelv1.VerifyResultRequest{Result: servertest.Classification("acme/cheat", 0.9)}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a publisher's verification: %v, want PermissionDenied", err)
	}
	if _, err := rs.SubmitResult(servertest.WithToken(surveyor), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/other", 0.5)}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a surveyor's submission: %v, want PermissionDenied", err)
	}
	if _, err := rs.VerifyResult(servertest.WithToken(surveyor), &energylabelv1.VerifyResultRequest{Result: servertest.Classification("acme/nothing", 0.5)}); status.Code(err) != codes.NotFound {
		t.Errorf("verifying a model with no declared result: %v, want NotFound", err)
	}

	// 8 % worse than declared: within the one-sided 10 %.
	ok := verify("acme/honest", 0.54)
	if !ok.GetWithinTolerance() || ok.GetRating().GetVerification().GetStatus() != "verified" || ok.GetRating().GetEnergyPerUnit() != 0.5 {
		t.Errorf("within the tolerance: %v", ok)
	}

	// 40 % worse: under review, with the declared figure shown.
	bad := verify("acme/cheat", 0.7)
	if bad.GetWithinTolerance() || bad.GetRating().GetVerification().GetStatus() != "under_review" || bad.GetRating().GetWhPer_1KQueries() != 0.5 {
		t.Errorf("outside the tolerance: %v", bad)
	}
	submit("acme/cheat", 0.45, 12) // a new declared figure is no way out
	got, err := rs.GetRating(t.Context(), &energylabelv1.GetRatingRequest{Model: "acme/cheat"})
	if err != nil {
		t.Fatal(err)
	}
	if st := got.Ratings[0].GetVerification().GetStatus(); st != "under_review" {
		t.Errorf("after resubmitting: %s, want under_review", st)
	}
	for range 2 {
		if st := verify("acme/cheat", 0.7).GetRating().GetVerification().GetStatus(); st != "under_review" {
			t.Errorf("during the follow-ups: %s", st)
		}
	}
	corrected := verify("acme/cheat", 0.7).GetRating()
	v := corrected.GetVerification()
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if v.GetStatus() != "corrected" || !near(corrected.GetWhPer_1KQueries(), 0.7) || v.GetDeclaredWhPer_1KQueries() != 0.45 ||
		!near(v.GetDeterminedWhPer_1KQueries(), 0.7) || v.GetMeasurements() != 4 {
		t.Errorf("corrected: %v", corrected)
	}

	// History keeps every verification, with who and the figures.
	h, err := rs.GetHistory(t.Context(), &energylabelv1.GetHistoryRequest{Model: "acme/cheat"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range h.Entries {
		kinds = append(kinds, e.GetKind()+":"+e.GetVerification().GetStatus())
		if e.GetKind() == "verification" && (e.GetTokenId() == "" || e.GetWhPer_1KQueries() != 0.7) {
			t.Errorf("verification entry %v", e)
		}
	}
	if want := "result: verification:under_review result: verification:under_review verification:under_review verification:corrected"; strings.Join(kinds, " ") != want {
		t.Errorf("history %v\nwant %s", kinds, want)
	}

	// The next release counts both as references: acme/honest with its
	// declared figure, acme/cheat with the determined one.
	r2 := servertest.CreateRelease(t, conn, srv.AdminToken, "r2")
	if n, m := r2.GetRelease().GetModels(), r1.GetRelease().GetModels(); n != m+2 {
		t.Errorf("release r2 has %d reference models, r1 had %d; want 2 more", n, m)
	}
}

// Namespaces that could pass for others are refused, naming the one they
// look like: a token's, or an imported model's owner.
func TestLookAlikeNamespacesAreRefused(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	servertest.ImportAIES(t, energylabelv1.NewRatingServiceClient(conn), srv.AdminToken)
	admin := energylabelv1.NewAdminServiceClient(conn)
	create := func(ns string) error {
		_, err := admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{Namespaces: []string{ns}})
		return err
	}
	for _, ns := range []string{"meta-llama.", "Meta-Llama", "meta_llama", ".meta-llama", "meta--llama", "meta-.llama", "OpenAI"} {
		err := create(ns)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("namespace %q: %v, want InvalidArgument", ns, err)
		} else if ns != ".meta-llama" && ns != "meta-llama." && !strings.Contains(err.Error(), `looks like the existing namespace`) && !strings.Contains(err.Error(), "may not follow") {
			t.Errorf("namespace %q: %v does not say why", ns, err)
		}
	}
	if err := create("meta-llama"); err != nil {
		t.Errorf("the namespace itself: %v", err)
	}
	if err := create("acme"); err != nil {
		t.Fatal(err)
	}
	if err := create("ac-me"); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `"acme"`) {
		t.Errorf("ac-me after acme: %v", err)
	}
	if _, err := admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{Role: "surveyor", Namespaces: []string{"acme"}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a surveyor token with namespaces: %v", err)
	}
	if _, err := admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{Role: "root"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("an unknown role: %v", err)
	}
}

// A surveyor token is held to the submission rate as a publisher's is:
// its verifications are writes that every replica keeps in memory.
func TestSurveyorsAreRateLimited(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{SubmitLimit: limits.RateLimit{Rate: 0.001, Burst: 2}})
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/m", 0.5)}); err != nil {
		t.Fatal(err)
	}
	surveyor := servertest.SurveyorToken(t, srv)
	var last error
	for range 3 {
		_, last = rs.VerifyResult(servertest.WithToken(surveyor), &energylabelv1.VerifyResultRequest{Result: servertest.Classification("acme/m", 0.5)})
	}
	if status.Code(last) != codes.ResourceExhausted {
		t.Errorf("a surveyor's third call in a burst of 2: %v, want ResourceExhausted", last)
	}
}
