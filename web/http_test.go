package web_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
)

func TestBadgesAndLabels(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "aies-2025-02")
	base := "http://" + srv.HTTPAddr

	badgeURL := base + "/badge/openai/whisper-large-v3.svg?task=automatic-speech-recognition"
	resp, body := servertest.HTTPGet(t, badgeURL)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || resp.Header.Get("Cache-Control") != "max-age=300" {
		t.Fatalf("badge: %d %v", resp.StatusCode, resp.Header)
	}
	if text := servertest.WellFormedSVG(t, body); !strings.Contains(text, "G · 86.7 Wh/1k") {
		t.Errorf("badge text %q does not name the grade G and the energy", text)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q is not a strong ETag", etag)
	}
	if again, body2 := servertest.HTTPGet(t, badgeURL); again.Header.Get("ETag") != etag || !bytes.Equal(body, body2) {
		t.Error("the same rating gave different bytes or ETag")
	}
	if resp, body := servertest.HTTPGet(t, badgeURL, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: %d with %d bytes, want 304 and none", resp.StatusCode, len(body))
	}
	// The model has one rating, so the task may be left out.
	if resp, _ := servertest.HTTPGet(t, base+"/badge/openai/whisper-large-v3.svg"); resp.StatusCode != 200 {
		t.Errorf("badge without task: %d", resp.StatusCode)
	}
	if _, body := servertest.HTTPGet(t, badgeURL+"&show=stars"); !strings.Contains(servertest.WellFormedSVG(t, body), "★☆☆☆☆") {
		t.Errorf("stars badge lacks ★☆☆☆☆: %s", body)
	}
	// scheme names a grade scheme version, and only that.
	if resp, body := servertest.HTTPGet(t, badgeURL+"&scheme=grade/2025.1"); resp.StatusCode != 200 || !strings.Contains(servertest.WellFormedSVG(t, body), "G") {
		t.Errorf("badge of grade/2025.1: %d %s", resp.StatusCode, body)
	}
	if resp, body := servertest.HTTPGet(t, badgeURL+"&scheme=stars"); resp.StatusCode != http.StatusOK || !strings.Contains(servertest.WellFormedSVG(t, body), "unknown scheme") {
		t.Errorf("scheme=stars: %d %s, want a badge saying the scheme is unknown", resp.StatusCode, body)
	}

	resp, body = servertest.HTTPGet(t, base+"/badge/acme/never-heard-of.svg?task=asr")
	if resp.StatusCode != 200 || !strings.Contains(servertest.WellFormedSVG(t, body), "not rated") {
		t.Errorf("unknown model: %d %s", resp.StatusCode, body)
	}
	for _, hostile := range []string{`<script>alert(1)</script>`, `a"b`, `x' onload='y`} {
		resp, body := servertest.HTTPGet(t, base+"/badge/acme/"+url.PathEscape(hostile)+".svg")
		if resp.StatusCode == 200 {
			servertest.WellFormedSVG(t, body)
		}
		if bytes.Contains(body, []byte("<script")) || resp.Header.Get("Content-Type") == "text/html" {
			t.Errorf("hostile name %q reflected unescaped (%d): %s", hostile, resp.StatusCode, body)
		}
	}

	resp, body = servertest.HTTPGet(t, base+"/label/openai/whisper-large-v3.svg?task=asr")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("label SVG: %d %v", resp.StatusCode, resp.Header)
	}
	if text := servertest.WellFormedSVG(t, body); !strings.Contains(text, "openai/whisper-large-v3") || !strings.Contains(text, "86.7") || !strings.Contains(text, "grade/2025.1") || !strings.Contains(text, "AIEnergyScore/asr") {
		t.Errorf("label SVG lacks the rating's values: %q", text)
	}
	if _, body := servertest.HTTPGet(t, base+"/label/openai-community/gpt2.svg?task=text-generation"); !strings.Contains(servertest.WellFormedSVG(t, body), "Size class\n"+label.SizeClassText("A")+"\n") {
		t.Errorf("a text-generation label does not show its size class: %q", servertest.WellFormedSVG(t, body))
	}
	resp, body = servertest.HTTPGet(t, base+"/label/openai/whisper-large-v3.png?task=asr")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("label PNG: %d %v", resp.StatusCode, resp.Header)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := labelSize(t); img.Bounds().Dx() != label.PNGScale*w || img.Bounds().Dy() != label.PNGScale*h {
		t.Errorf("label PNG is %v, want %d×%d", img.Bounds(), label.PNGScale*w, label.PNGScale*h)
	}
	// A label of a model without a rating is a grey picture saying so, as
	// a model card must not show a broken one.
	if resp, body := servertest.HTTPGet(t, base+"/label/acme/never-heard-of.png"); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "max-age=60" || len(body) == 0 {
		t.Errorf("label of an unknown model: %d %v, want a grey PNG, status 200", resp.StatusCode, resp.Header)
	}
}

func TestPages(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	servertest.ImportAIES(t, rs, srv.AdminToken)
	base := "http://" + srv.HTTPAddr
	for path, wants := range map[string][]string{
		"/":                      {`href="/tasks/text-generation"`, "40 rated"},
		"/tasks/text-generation": {html.EscapeString("size class C (" + sizeNote("C") + ")"), html.EscapeString("size class A ≤ 20 B parameters"), `href="/models/openai-community/gpt2"`},
		"/tasks/asr":             {"openai/whisper-large-v3"},
		"/models/openai/whisper-large-v3": {
			`src="/label/openai/whisper-large-v3.svg?task=automatic-speech-recognition&amp;hardware=H100&amp;dataset=AIEnergyScore/asr"`,
			"[![AI energy rating](http://" + srv.HTTPAddr + "/badge/openai/whisper-large-v3.svg?task=automatic-speech-recognition&amp;hardware=H100&amp;dataset=AIEnergyScore/asr)](http://" + srv.HTTPAddr + "/models/openai/whisper-large-v3)",
		},
	} {
		resp, body := servertest.HTTPGet(t, base+path)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range wants {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
		if bytes.Contains(body, []byte("http://")) && !bytes.Contains(body, []byte(srv.HTTPAddr)) {
			t.Errorf("%s refers to another host", path)
		}
	}
	if resp, _ := servertest.HTTPGet(t, base+"/models/acme/nothing"); resp.StatusCode != 404 {
		t.Errorf("unknown model page: %d", resp.StatusCode)
	}
}

func TestBadgeStarsMoveOnlyWithARelease(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	for model, wh := range map[string]float64{"acme/low": 0.1, "acme/mid": 0.2, "acme/top": 0.3} {
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(model, wh)}); err != nil {
			t.Fatal(err)
		}
	}
	badgeURL := "http://" + srv.HTTPAddr + "/badge/acme/mid.svg?show=stars"
	if _, body := servertest.HTTPGet(t, badgeURL); !strings.Contains(servertest.WellFormedSVG(t, body), "no stars") {
		t.Fatalf("before a release the badge reads %q, want no stars", servertest.WellFormedSVG(t, body))
	}
	servertest.CreateRelease(t, conn, srv.AdminToken, "r1")
	before, body := servertest.HTTPGet(t, badgeURL)
	if text := servertest.WellFormedSVG(t, body); !strings.Contains(text, "★★★☆☆") {
		t.Fatalf("the middle of three has %q, want three stars", text)
	}
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/high", 1)}); err != nil {
		t.Fatal(err)
	}
	if after, _ := servertest.HTTPGet(t, badgeURL, "If-None-Match", before.Header.Get("ETag")); after.StatusCode != http.StatusNotModified {
		t.Errorf("after a new worst model and no release: %d, want 304 (nobody else's stars move)", after.StatusCode)
	}
	servertest.CreateRelease(t, conn, srv.AdminToken, "r2")
	after, body := servertest.HTTPGet(t, badgeURL, "If-None-Match", before.Header.Get("ETag"))
	if after.StatusCode != 200 || after.Header.Get("ETag") == before.Header.Get("ETag") {
		t.Fatalf("after release r2: %d with ETag %s, want 200 with a new ETag", after.StatusCode, after.Header.Get("ETag"))
	}
	if text := servertest.WellFormedSVG(t, body); !strings.Contains(text, "★★★★★") {
		t.Errorf("after release r2 the badge shows %q, want five stars", text)
	}
}

func TestABadgeChangesWithItsModelsNextResult(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	badgeURL := "http://" + srv.HTTPAddr + "/badge/acme/clf.svg"
	if _, body := servertest.HTTPGet(t, badgeURL); !strings.Contains(servertest.WellFormedSVG(t, body), "not rated") {
		t.Fatalf("before any result the badge reads %q", servertest.WellFormedSVG(t, body))
	}
	for i, wh := range []float64{0.1, 0.4, 0.2} {
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/clf", wh)}); err != nil {
			t.Fatal(err)
		}
		_, body := servertest.HTTPGet(t, badgeURL)
		if want := label.FormatEnergy(wh, "Wh/1k"); !strings.Contains(servertest.WellFormedSVG(t, body), want) {
			t.Errorf("after result %d the badge reads %q, want %q", i+1, servertest.WellFormedSVG(t, body), want)
		}
	}
}

func TestBadgesFollowShieldsConventions(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	// acme/two is rated for two tasks, acme/hw on two accelerators.
	servertest.SubmitClassification(t, srv, "acme/hw", "H100", "", 0.2)
	servertest.SubmitClassification(t, srv, "acme/hw", "B200", "", 0.3)
	r := servertest.Classification("acme/two", 0.2)
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
		t.Fatal(err)
	}
	r = servertest.Classification("acme/two", 0.2)
	r.Task, r.Dataset = "sentence-similarity", ""
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.HTTPAddr
	whisper := base + "/badge/openai/whisper-large-v3"

	t.Run("endpoint JSON", func(t *testing.T) {
		resp, body := servertest.HTTPGet(t, whisper+".json")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("ETag") == "" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		var e map[string]any
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		for k := range e {
			if !slices.Contains([]string{"schemaVersion", "label", "message", "color", "labelColor", "isError", "namedLogo", "logoSvg", "style", "cacheSeconds"}, k) {
				t.Errorf("key %q, which shields' endpoint schema refuses", k)
			}
		}
		if e["schemaVersion"] != 1.0 || e["label"] != "AI energy" || e["message"] != badgeMessage(t, rs, "openai/whisper-large-v3") || e["color"] != "ed1c24" {
			t.Errorf("endpoint JSON %s", body)
		}
		if again, _ := servertest.HTTPGet(t, whisper+".json", "If-None-Match", resp.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", again.StatusCode)
		}
		_, body = servertest.HTTPGet(t, whisper+".json?show=stars&style=for-the-badge&label=energy")
		if err := json.Unmarshal(body, &e); err != nil || e["label"] != "energy" || e["style"] != "for-the-badge" || !strings.Contains(e["message"].(string), "stars") && !strings.ContainsRune(e["message"].(string), '☆') {
			t.Errorf("stars endpoint with a style and label: %s", body)
		}
		_, body = servertest.HTTPGet(t, base+"/badge/acme/two.json")
		if err := json.Unmarshal(body, &e); err != nil || e["isError"] != true || e["message"] != "pick a task" {
			t.Errorf("an ambiguous endpoint: %s", body)
		}
	})

	t.Run("styles", func(t *testing.T) {
		_, flat := servertest.HTTPGet(t, whisper+".svg")
		heights := map[string]string{"flat-square": `height="20"`, "plastic": `height="18"`, "for-the-badge": `height="28"`}
		for style, height := range heights {
			resp, body := servertest.HTTPGet(t, whisper+".svg?style="+style)
			text := servertest.WellFormedSVG(t, body)
			if resp.StatusCode != 200 || bytes.Equal(body, flat) || !bytes.Contains(body, []byte(height)) {
				t.Errorf("style=%s: %d, the same SVG as flat: %v, %s", style, resp.StatusCode, bytes.Equal(body, flat), body)
			}
			if style == "for-the-badge" && !strings.Contains(text, "AI ENERGY") {
				t.Errorf("for-the-badge reads %q, want capitals", text)
			}
		}
	})

	t.Run("label", func(t *testing.T) {
		_, body := servertest.HTTPGet(t, whisper+".svg?label=%3Cb%3Eenergy%3C%2Fb%3E")
		if text := servertest.WellFormedSVG(t, body); !strings.Contains(text, "<b>energy</b>") || bytes.Contains(body, []byte("<b>")) {
			t.Errorf("label=<b>energy</b> reads %q: want it shown, escaped", text)
		}
		_, body = servertest.HTTPGet(t, whisper+".svg?label=")
		if text := servertest.WellFormedSVG(t, body); strings.Contains(text, "AI energy") || !strings.Contains(text, "G · 86.7 Wh/1k") {
			t.Errorf("label= reads %q, want the message alone", text)
		}
		servertest.ProblemBadge(t, whisper+".svg?label="+strings.Repeat("L", 65), "bad label")
	})

	t.Run("errors are badges", func(t *testing.T) {
		servertest.ProblemBadge(t, base+"/badge/acme/two.svg", "pick a task")
		servertest.ProblemBadge(t, whisper+".svg?task=nope", "unknown task")
		servertest.ProblemBadge(t, whisper+".svg?show=nope", "show grade or stars")
		servertest.ProblemBadge(t, whisper+".svg?style=social", "unknown style")
		servertest.ProblemBadge(t, whisper+".svg?hardware="+strings.Repeat("H", 300), "bad hardware")
		servertest.ProblemBadge(t, base+"/badge/acme/"+url.PathEscape("<script>")+".svg", "bad model id")
		if _, body := servertest.HTTPGet(t, base+"/badge/acme/two.svg?task=sentence-similarity"); !strings.Contains(servertest.WellFormedSVG(t, body), "AI energy: ") || strings.Contains(servertest.WellFormedSVG(t, body), "pick a task") {
			t.Errorf("acme/two with its task: %q", servertest.WellFormedSVG(t, body))
		}
	})

	t.Run("two accelerators and no hardware give a badge", func(t *testing.T) {
		resp, body := servertest.HTTPGet(t, base+"/badge/acme/hw.svg")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(servertest.WellFormedSVG(t, body), "Wh/1k") {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
}

func TestPagesAnswerAVisitorsQuestions(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "aies-2025-02")
	base := "http://" + srv.HTTPAddr
	page := func(path string, status int) string {
		t.Helper()
		resp, body := servertest.HTTPGet(t, base+path)
		if resp.StatusCode != status {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, status)
		}
		return string(body)
	}

	t.Run("search on every page", func(t *testing.T) {
		for _, path := range []string{"/", "/tasks/asr", "/models/openai/whisper-large-v3", "/search"} {
			if body := page(path, 200); !strings.Contains(body, `<form action="/search" method="get" role="search">`) {
				t.Errorf("%s has no search form", path)
			}
		}
		body := page("/search?q=WHISPER", 200)
		if !strings.Contains(body, `href="/models/openai/whisper-large-v3"`) {
			t.Errorf("searching WHISPER does not find openai/whisper-large-v3")
		}
		if strings.Contains(body, `href="/models/openai-community/gpt2"`) {
			t.Error("searching WHISPER finds gpt2")
		}
		if body := page("/search?q=no-such-model", 200); !strings.Contains(body, "No rated model") {
			t.Error("an empty search does not say so")
		}
		if body := page("/search?q="+strings.Repeat("x", 300), 400); !strings.Contains(body, "at most 193 bytes") || strings.Count(body, "x") > 400 {
			t.Error("a long query is not refused shortly")
		}
		if body := page("/search?q=%3Cscript%3E", 200); strings.Contains(body, "<script>") {
			t.Error("the query is echoed unescaped")
		}
	})

	t.Run("leaderboards have charts and no duplicate columns", func(t *testing.T) {
		body := page("/tasks/text-generation", 200)
		sections := strings.Count(body, `<section id="`)
		if charts := strings.Count(body, `<svg class="strip"`); charts == 0 || charts != sections {
			t.Errorf("%d charts for %d cohorts", charts, sections)
		}
		if links, rows := strings.Count(body, `<a href="/models/`), strings.Count(body, "<tr>\n<td"); links != 2*rows {
			t.Errorf("%d model links for %d rows, want one in the table and one in the chart each", links, rows)
		}
		// AIES cohorts are graded per query: one energy column each.
		if n := strings.Count(body, `<th class="num">`); n != sections {
			t.Errorf("%d energy columns in %d per-query cohorts, want one each", n, sections)
		}
		// A per-token cohort shows both figures.
		r := &energylabelv1.BenchmarkResult{
			Model: "acme/chat", Task: "image-text-to-text", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
			Queries: 1000, GpuEnergyWh: 0.2, DurationSeconds: 0.2 * 3600 / 300, Output: &energylabelv1.Output{Tokens: 200_000},
		}
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
			t.Fatal(err)
		}
		chat := page("/tasks/image-text-to-text", 200)
		perToken, perQ := label.FormatEnergy(0.2*3600/200_000, "J/token"), label.FormatEnergy(0.2, perQuery)
		if text := textOf(chat); !strings.Contains(chat, `<th class="num">Energy / unit</th>`) || !strings.Contains(text, perToken) || !strings.Contains(text, perQ) {
			t.Errorf("a per-token cohort lacks its energy per token (%s) or per 1k queries (%s)", perToken, perQ)
		}
	})

	t.Run("the model page links its leaderboard and Hugging Face", func(t *testing.T) {
		body := page("/models/openai-community/gpt2", 200)
		// The rank is the place among the release's references, and says so.
		m := regexp.MustCompile(`<a href="(/tasks/text-generation#[^"]+)">would rank (\d+) of (\d+) in aies-2025-02</a>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no rank in the release linked to the leaderboard")
		}
		anchor := html.UnescapeString(m[1][strings.Index(m[1], "#")+1:])
		if board := page("/tasks/text-generation", 200); !strings.Contains(board, `<section id="`+anchor+`">`) {
			t.Errorf("the rank links to #%s, which the leaderboard lacks", anchor)
		}
		if !strings.Contains(body, `href="https://huggingface.co/openai-community/gpt2"`) {
			t.Error("no link to the model on Hugging Face")
		}
		if !strings.Contains(textOf(body), "size class A ("+sizeNote("A")+")") {
			t.Error("the size class is not explained")
		}
	})
}

// Market surveillance on every surface that shows a rating: a published
// figure, a declared one, one a surveyor verified, one under review and
// one corrected each say so on the badge and its endpoint JSON, the
// label (SVG and PNG), the model page, the leaderboard, search, and the
// grade counts of /metrics; a corrected one shows the determined figure,
// grade and stars, and the declared figure struck through.
func TestEveryStatusShowsWhereverTheRatingIs(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "aies-2025-02")
	acme, surveyor := servertest.PublisherToken(t, srv, "acme"), servertest.SurveyorToken(t, srv)
	base := "http://" + srv.HTTPAddr
	submit := func(model string, wh float64) *energylabelv1.Rating {
		t.Helper()
		resp, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(model, wh)})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Ratings[0]
	}
	verify := func(model string, wh float64) *energylabelv1.Rating {
		t.Helper()
		resp, err := rs.VerifyResult(servertest.WithToken(surveyor), &energylabelv1.VerifyResultRequest{Result: servertest.Classification(model, wh)})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetRating()
	}
	// Declared at 0.9 of the cohort's reference, grade E; surveyors find
	// 1.4 times that, grade F.
	ref := submit("acme/plain", 0.3).GetReference()
	declared, determined := 0.9*ref, 1.26*ref
	honest := 0.99 * declared // one measurement labels one model
	submit("acme/honest", honest)
	submit("acme/cheat", declared)
	badge := func(model string) (svg string, endpoint string, etag string) {
		t.Helper()
		resp, body := servertest.HTTPGet(t, base+"/badge/"+model+".svg")
		svg, etag = servertest.WellFormedSVG(t, body), resp.Header.Get("ETag")
		_, body = servertest.HTTPGet(t, base+"/badge/"+model+".json")
		var e struct{ Message string }
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s endpoint JSON: %v", model, err)
		}
		return svg, e.Message, etag
	}
	labelText := func(model string) string {
		t.Helper()
		resp, body := servertest.HTTPGet(t, base+"/label/"+model+".svg")
		if resp.StatusCode != 200 {
			t.Fatalf("%s label: %d", model, resp.StatusCode)
		}
		return servertest.WellFormedSVG(t, body)
	}
	page := func(path string) string {
		t.Helper()
		resp, body := servertest.HTTPGet(t, base+path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return string(body)
	}
	gradeCount := func(grade string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^energylabel_ratings\{grade="` + grade + `"\} (\d+)$`).FindStringSubmatch(page("/metrics"))
		if m == nil {
			t.Fatalf("/metrics has no count of grade %s", grade)
		}
		return m[1]
	}
	ofE, ofF := gradeCount("E"), gradeCount("F")
	wh := func(v float64) string { return label.FormatEnergy(v, perQuery) }

	// Published and declared figures say who stands behind them.
	if svg, msg, _ := badge("openai/whisper-large-v3"); !strings.Contains(svg, badgeMessage(t, rs, "openai/whisper-large-v3")) || strings.Contains(svg, "✓") || msg != badgeMessage(t, rs, "openai/whisper-large-v3") {
		t.Errorf("a published rating's badge reads %q, endpoint %q", svg, msg)
	}
	if text := labelText("openai/whisper-large-v3"); !strings.Contains(text, "published leaderboard") {
		t.Errorf("a published rating's label lacks its status: %q", text)
	}
	if body := page("/models/openai/whisper-large-v3"); !strings.Contains(body, "published leaderboard") {
		t.Error("a published rating's page lacks its status")
	}
	if text := labelText("acme/plain"); !strings.Contains(text, "declared by the publisher") {
		t.Errorf("a declared rating's label lacks its status: %q", text)
	}
	if body := page("/models/acme/plain"); !strings.Contains(body, `<span class="status st-declared">declared by the publisher</span>`) {
		t.Error("a declared rating's page lacks its status")
	}
	_, _, declaredETag := badge("acme/cheat")

	// Verified: a ✓ after the figure, the date on the label and the page.
	v := verify("acme/honest", 1.08*honest).GetVerification()
	day := v.GetCheckedAt().AsTime().UTC().Format("2006-01-02")
	if svg, msg, _ := badge("acme/honest"); !strings.Contains(svg, "E · "+wh(honest)+" ✓") || msg != "E · "+wh(honest)+" ✓" {
		t.Errorf("a verified badge reads %q, endpoint %q; want E · %s ✓", svg, msg, wh(honest))
	}
	if text := labelText("acme/honest"); !strings.Contains(text, "verified "+day) {
		t.Errorf("a verified label lacks %q: %q", "verified "+day, text)
	}
	if body := page("/models/acme/honest"); !strings.Contains(body, "✓ </span>verified "+day) {
		t.Error("a verified rating's page lacks its status")
	}

	// Under review: the declared figure and grade, and what the surveyor
	// measured; the badge drawn before is not served again.
	verify("acme/cheat", determined)
	svg, msg, etag := badge("acme/cheat")
	if etag == declaredETag || !strings.Contains(svg, "E · "+wh(declared)+" under review") || msg != "E · "+wh(declared)+" under review" {
		t.Errorf("under review, the badge reads %q, endpoint %q (same ETag as before: %v)", svg, msg, etag == declaredETag)
	}
	n, u := label.SplitEnergy(determined, perQuery)
	if _, du := label.SplitEnergy(declared, perQuery); du != u {
		n += " " + u
	}
	review := "under review: declared " + wh(declared) + ", surveyor measured " + n
	if text := labelText("acme/cheat"); !strings.Contains(text, review) {
		t.Errorf("the label under review lacks %q: %q", review, text)
	}
	if body := page("/models/acme/cheat"); !strings.Contains(body, review) {
		t.Errorf("the page under review lacks %q", review)
	}

	// Corrected: the determined figure, grade and stars; the declared
	// figure struck through beside it.
	for range 3 {
		verify("acme/cheat", determined)
	}
	got, err := rs.GetRating(t.Context(), &energylabelv1.GetRatingRequest{Model: "acme/cheat"})
	if err != nil {
		t.Fatal(err)
	}
	corrected := got.Ratings[0]
	if corrected.GetVerification().GetStatus() != "corrected" || corrected.GetGrade() != "F" {
		t.Fatalf("after three follow-ups: %v", corrected)
	}
	mean := label.FormatEnergy(corrected.GetWhPer_1KQueries(), perQuery)
	if svg, msg, _ := badge("acme/cheat"); !strings.Contains(svg, "F · "+mean+" corrected") || msg != "F · "+mean+" corrected" {
		t.Errorf("a corrected badge reads %q, endpoint %q; want F · %s corrected", svg, msg, mean)
	}
	_, body := servertest.HTTPGet(t, base+"/badge/acme/cheat.svg?show=stars")
	if stars := strings.Repeat("★", int(corrected.GetStars())); corrected.GetStars() == 0 || !strings.Contains(servertest.WellFormedSVG(t, body), stars) || !strings.Contains(servertest.WellFormedSVG(t, body), "corrected") {
		t.Errorf("a corrected stars badge reads %q, want %d stars, corrected", servertest.WellFormedSVG(t, body), corrected.GetStars())
	}
	text := labelText("acme/cheat")
	// The label heads its figures "Energy per 1,000 queries" and writes
	// them in Wh.
	for _, want := range []string{"corrected " + day + " · declared grade E", "\ndeclared\n", label.FormatEnergy(declared, "Wh") + "\n", "grade F", "corrected " + day + ", declared " + label.FormatEnergy(declared, "Wh")} {
		if !strings.Contains(text, want) {
			t.Errorf("the corrected label lacks %q: %q", want, text)
		}
	}
	resp, png := servertest.HTTPGet(t, base+"/label/acme/cheat.png")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || len(png) == 0 {
		t.Errorf("the corrected label's PNG: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	body = []byte(page("/models/acme/cheat"))
	for _, want := range []string{
		`<span class="grade g-F"`,
		`<span class="figure">` + label.FormatEnergy(corrected.GetWhPer_1KQueries(), perQuery) + `</span> <span>(declared <del class="declared">` + label.FormatEnergy(declared, perQuery) + `</del>)</span>`,
		`<span class="status st-corrected">corrected ` + day + `; declared grade E</span>`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("the corrected page lacks %s", want)
		}
	}
	// The grade counts move with what ratings show: acme/cheat went from
	// E to F.
	if e, f := gradeCount("E"), gradeCount("F"); atoi(e) != atoi(ofE)-1 || atoi(f) != atoi(ofF)+1 {
		t.Errorf("grade counts E %s→%s, F %s→%s; want acme/cheat counted as F, no longer E", ofE, e, ofF, f)
	}

	// The leaderboard and search say the same.
	board := page("/tasks/text-classification")
	for _, want := range []string{`<span class="st st-verified" title="verified ` + day + `">✓ verified</span>`, `<span class="st st-corrected"`,
		`<del class="declared" title="declared by the publisher, corrected by surveyors">` + label.FormatEnergy(declared, perQuery) + `</del>`, "Ranks are the place each figure would take among the"} {
		if !strings.Contains(board, want) {
			t.Errorf("the leaderboard lacks %s", want)
		}
	}
	// The leaderboard puts the corrected model where its determined figure
	// ranks it, not where it declared itself.
	listed := servertest.ListAll(t, rs, &energylabelv1.ListRatingsRequest{Task: "text-classification", PageSize: 1000})
	slices.SortStableFunc(listed, func(a, b *energylabelv1.Rating) int { return cmp.Compare(a.EnergyPerUnit, b.EnergyPerUnit) })
	var want, rows []string
	for _, r := range listed {
		want = append(want, r.Model)
	}
	for _, m := range regexp.MustCompile(`<td><a href="/models/([^"]+)">`).FindAllStringSubmatch(board, -1) {
		rows = append(rows, m[1])
	}
	if !slices.Equal(rows, want) || slices.Index(rows, "acme/cheat") <= slices.Index(rows, "acme/honest")+1 {
		t.Errorf("the leaderboard lists\n%q\nwant them best first by the figures shown\n%q", rows, want)
	}
	if found := page("/search?q=acme/"); !strings.Contains(found, "✓ verified") || !strings.Contains(found, ">corrected</span>") || !strings.Contains(found, ">declared</span>") {
		t.Error("search results do not say each rating's status")
	}
}

// A model page says how far above the physical floor a result is, and
// ranks it among the release's references, whatever declared models
// joined since.
func TestModelPageShowsTheFloorAndTheReleaseRank(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "aies-2025-02")
	acme := servertest.PublisherToken(t, srv, "acme")
	// A 7 B model: 1,000 queries, 100,000 output tokens, 2 Wh in 60 s
	// on one H100, well above its floor.
	resp, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: servertest.TextGeneration("acme/chat-7b", 7, 1, 1000, 100_000, 2, 60)})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Ratings[0]
	if r.FloorRatio == nil {
		t.Fatalf("a sized text-generation result has no floor ratio: %v", r)
	}
	_, body := servertest.HTTPGet(t, "http://"+srv.HTTPAddr+"/models/acme/chat-7b")
	page := string(body)
	if want := `<p class="floor">` + label.FormatRatio(r.GetFloorRatio()) + ` the physical minimum</p>`; !strings.Contains(page, want) {
		t.Errorf("the page lacks %s", want)
	}
	if want := fmt.Sprintf("would rank %d of %d in aies-2025-02", r.GetRank(), r.GetReleaseCohortSize()); r.GetReleaseCohortSize() == 0 || !strings.Contains(page, want) {
		t.Errorf("the page lacks %q (cohort of %d now)", want, r.GetCohortSize())
	}
	if strings.Contains(page, fmt.Sprintf("of %d in", r.GetCohortSize())) && r.GetCohortSize() != r.GetReleaseCohortSize() {
		t.Error("the rank counts the cohort now, not the release's references")
	}
	// An imported row has no floor: a token-unit one says why, another
	// says nothing of one.
	_, body = servertest.HTTPGet(t, "http://"+srv.HTTPAddr+"/models/openai-community/gpt2")
	if !strings.Contains(string(body), `<p class="floor">physics not checked`) || strings.Contains(string(body), "physical minimum") {
		t.Error("an imported text-generation rating does not say its physics was not checked")
	}
	_, body = servertest.HTTPGet(t, "http://"+srv.HTTPAddr+"/models/openai/whisper-large-v3")
	if strings.Contains(string(body), `class="floor"`) {
		t.Error("a rating of a task not graded per token speaks of physical floors")
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// perQuery is the unit of Wh per 1,000 queries, as rating/label writes
// every figure of it.
var perQuery = rating.Query.Symbol()

// sizeNote is what a size class means, as the label says it after its
// letter: "≤ 20 billion parameters".
func sizeNote(class string) string {
	_, note, _ := strings.Cut(label.SizeClassText(class), " · ")
	return note
}

// ratingOf is the one rating of a model.
func ratingOf(t *testing.T, rs energylabelv1.RatingServiceClient, model string) *energylabelv1.Rating {
	t.Helper()
	got, err := rs.GetRating(t.Context(), &energylabelv1.GetRatingRequest{Model: model})
	if err != nil || len(got.GetRatings()) != 1 {
		t.Fatalf("%s: %v, %d ratings", model, err, len(got.GetRatings()))
	}
	return got.Ratings[0]
}

// badgeMessage is what the grade badge of a model's rating says, as
// rating/label draws it from the API's rating.
func badgeMessage(t *testing.T, rs energylabelv1.RatingServiceClient, model string) string {
	t.Helper()
	var e struct{ Message string }
	if err := json.Unmarshal(label.RatingBadge(wire.LabelRating(ratingOf(t, rs, model), ""), label.GradeBadge).Endpoint(label.Flat, 300), &e); err != nil {
		t.Fatal(err)
	}
	return e.Message
}

// labelSize is the size of an energy label, in SVG units.
func labelSize(t *testing.T) (w, h int) {
	t.Helper()
	d, err := label.Label(label.Rating{Model: "acme/m", PageURL: "http://localhost/models/acme/m"})
	if err != nil {
		t.Fatal(err)
	}
	fw, fh := d.Size()
	return int(fw), int(fh)
}

// textOf is what a page says, without its markup: the text a reader
// sees, as one string.
func textOf(page string) string {
	return html.UnescapeString(markup.ReplaceAllString(page, ""))
}

var markup = regexp.MustCompile(`<[^>]*>`)
