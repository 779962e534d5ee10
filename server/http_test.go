package server_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating/label"
)

func get(t *testing.T, rawURL string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// wellFormed parses an SVG and returns its text content.
func wellFormed(t *testing.T, body []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return text.String()
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			text.Write(tok)
		case xml.StartElement:
			if tok.Name.Local == "script" || tok.Name.Local == "foreignObject" {
				t.Fatalf("SVG holds a <%s> element", tok.Name.Local)
			}
		}
	}
}

func TestBadgesAndLabels(t *testing.T) {
	srv := servertest.Start(t)
	conn := dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	importAIES(t, rs, srv.AdminToken)
	createRelease(t, conn, srv.AdminToken, "aies-2025-02")
	base := "http://" + srv.HTTPAddr

	badgeURL := base + "/badge/openai/whisper-large-v3.svg?task=automatic-speech-recognition"
	resp, body := get(t, badgeURL)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || resp.Header.Get("Cache-Control") != "max-age=300" {
		t.Fatalf("badge: %d %v", resp.StatusCode, resp.Header)
	}
	if text := wellFormed(t, body); !strings.Contains(text, "G · 86.7 Wh/1k") {
		t.Errorf("badge text %q does not name the grade G and the energy", text)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q is not a strong ETag", etag)
	}
	if again, body2 := get(t, badgeURL); again.Header.Get("ETag") != etag || !bytes.Equal(body, body2) {
		t.Error("the same rating gave different bytes or ETag")
	}
	if resp, body := get(t, badgeURL, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: %d with %d bytes, want 304 and none", resp.StatusCode, len(body))
	}
	// The model has one rating, so the task may be left out.
	if resp, _ := get(t, base+"/badge/openai/whisper-large-v3.svg"); resp.StatusCode != 200 {
		t.Errorf("badge without task: %d", resp.StatusCode)
	}
	if _, body := get(t, badgeURL+"&show=stars"); !strings.Contains(wellFormed(t, body), "★☆☆☆☆") {
		t.Errorf("stars badge lacks ★☆☆☆☆: %s", body)
	}
	// scheme names a grade scheme version, and only that.
	if resp, body := get(t, badgeURL+"&scheme=grade/2025.1"); resp.StatusCode != 200 || !strings.Contains(wellFormed(t, body), "G") {
		t.Errorf("badge of grade/2025.1: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, badgeURL+"&scheme=stars"); resp.StatusCode != http.StatusOK || !strings.Contains(wellFormed(t, body), "unknown scheme") {
		t.Errorf("scheme=stars: %d %s, want a badge saying the scheme is unknown", resp.StatusCode, body)
	}

	resp, body = get(t, base+"/badge/acme/never-heard-of.svg?task=asr")
	if resp.StatusCode != 200 || !strings.Contains(wellFormed(t, body), "not rated") {
		t.Errorf("unknown model: %d %s", resp.StatusCode, body)
	}
	for _, hostile := range []string{`<script>alert(1)</script>`, `a"b`, `x' onload='y`} {
		resp, body := get(t, base+"/badge/acme/"+url.PathEscape(hostile)+".svg")
		if resp.StatusCode == 200 {
			wellFormed(t, body)
		}
		if bytes.Contains(body, []byte("<script")) || resp.Header.Get("Content-Type") == "text/html" {
			t.Errorf("hostile name %q reflected unescaped (%d): %s", hostile, resp.StatusCode, body)
		}
	}

	resp, body = get(t, base+"/label/openai/whisper-large-v3.svg?task=asr")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("label SVG: %d %v", resp.StatusCode, resp.Header)
	}
	if text := wellFormed(t, body); !strings.Contains(text, "openai/whisper-large-v3") || !strings.Contains(text, "86.7") || !strings.Contains(text, "grade/2025.1") || !strings.Contains(text, "AIEnergyScore/asr") {
		t.Errorf("label SVG lacks the rating's values: %q", text)
	}
	if _, body := get(t, base+"/label/openai-community/gpt2.svg?task=text-generation"); !strings.Contains(wellFormed(t, body), "Size class\nA\n") {
		t.Errorf("a text-generation label does not show its size class: %q", wellFormed(t, body))
	}
	resp, body = get(t, base+"/label/openai/whisper-large-v3.png?task=asr")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("label PNG: %d %v", resp.StatusCode, resp.Header)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 520 || b.Dy() < 728 {
		t.Errorf("label PNG is %v, want at least 520×728", b)
	}
	if resp, _ := get(t, base+"/label/acme/never-heard-of.png"); resp.StatusCode != 404 {
		t.Errorf("label of an unknown model: %d, want 404", resp.StatusCode)
	}
}

func TestPages(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(dial(t, srv.Addr))
	importAIES(t, rs, srv.AdminToken)
	base := "http://" + srv.HTTPAddr
	for path, wants := range map[string][]string{
		"/":                      {`href="/tasks/text-generation"`, "40 rated"},
		"/tasks/text-generation": {`size class <abbr title="over 66 B parameters">C</abbr>`, "class A up to 20 B parameters", `href="/models/openai-community/gpt2"`},
		"/tasks/asr":             {"openai/whisper-large-v3"},
		"/models/openai/whisper-large-v3": {
			`src="/label/openai/whisper-large-v3.svg?task=automatic-speech-recognition&amp;hardware=H100&amp;dataset=AIEnergyScore/asr"`,
			"[![AI energy rating](http://" + srv.HTTPAddr + "/badge/openai/whisper-large-v3.svg?task=automatic-speech-recognition&amp;hardware=H100&amp;dataset=AIEnergyScore/asr)](http://" + srv.HTTPAddr + "/models/openai/whisper-large-v3)",
		},
	} {
		resp, body := get(t, base+path)
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
	if resp, _ := get(t, base+"/models/acme/nothing"); resp.StatusCode != 404 {
		t.Errorf("unknown model page: %d", resp.StatusCode)
	}
}

func TestBadgeStarsMoveOnlyWithARelease(t *testing.T) {
	srv := servertest.Start(t)
	conn := dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	for model, wh := range map[string]float64{"acme/low": 0.1, "acme/mid": 0.2, "acme/top": 0.3} {
		if _, err := rs.SubmitResult(withToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: clf(model, wh)}); err != nil {
			t.Fatal(err)
		}
	}
	badgeURL := "http://" + srv.HTTPAddr + "/badge/acme/mid.svg?show=stars"
	if _, body := get(t, badgeURL); !strings.Contains(wellFormed(t, body), "no stars") {
		t.Fatalf("before a release the badge reads %q, want no stars", wellFormed(t, body))
	}
	createRelease(t, conn, srv.AdminToken, "r1")
	before, body := get(t, badgeURL)
	if text := wellFormed(t, body); !strings.Contains(text, "★★★☆☆") {
		t.Fatalf("the middle of three has %q, want three stars", text)
	}
	if _, err := rs.SubmitResult(withToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: clf("acme/high", 1)}); err != nil {
		t.Fatal(err)
	}
	if after, _ := get(t, badgeURL, "If-None-Match", before.Header.Get("ETag")); after.StatusCode != http.StatusNotModified {
		t.Errorf("after a new worst model and no release: %d, want 304 (nobody else's stars move)", after.StatusCode)
	}
	createRelease(t, conn, srv.AdminToken, "r2")
	after, body := get(t, badgeURL, "If-None-Match", before.Header.Get("ETag"))
	if after.StatusCode != 200 || after.Header.Get("ETag") == before.Header.Get("ETag") {
		t.Fatalf("after release r2: %d with ETag %s, want 200 with a new ETag", after.StatusCode, after.Header.Get("ETag"))
	}
	if text := wellFormed(t, body); !strings.Contains(text, "★★★★★") {
		t.Errorf("after release r2 the badge shows %q, want five stars", text)
	}
}

func TestABadgeChangesWithItsModelsNextResult(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(dial(t, srv.Addr))
	badgeURL := "http://" + srv.HTTPAddr + "/badge/acme/clf.svg"
	if _, body := get(t, badgeURL); !strings.Contains(wellFormed(t, body), "not rated") {
		t.Fatalf("before any result the badge reads %q", wellFormed(t, body))
	}
	for i, wh := range []float64{0.1, 0.4, 0.2} {
		if _, err := rs.SubmitResult(withToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: clf("acme/clf", wh)}); err != nil {
			t.Fatal(err)
		}
		_, body := get(t, badgeURL)
		if want := label.FormatEnergy(wh, "Wh/1k"); !strings.Contains(wellFormed(t, body), want) {
			t.Errorf("after result %d the badge reads %q, want %q", i+1, wellFormed(t, body), want)
		}
	}
}

// problemBadge checks that a URL gets a grey badge saying words, as an
// image proxy shows it: 200, SVG, a short max-age.
func problemBadge(t *testing.T, rawURL, words string) {
	t.Helper()
	resp, body := get(t, rawURL)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || resp.Header.Get("Cache-Control") != "max-age=60" {
		t.Errorf("%.80s: %d %s %q, want a 200 SVG with a short max-age", rawURL, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if text := wellFormed(t, body); !strings.Contains(text, "AI energy: "+words) || !bytes.Contains(body, []byte(`fill="#9f9f9f"`)) {
		t.Errorf("%.80s reads %q, want a grey badge saying %q", rawURL, text, words)
	}
	if len(body) > 2048 {
		t.Errorf("%.80s: a badge of %d bytes", rawURL, len(body))
	}
}

func TestBadgesFollowShieldsConventions(t *testing.T) {
	srv := servertest.Start(t)
	conn := dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	importAIES(t, rs, srv.AdminToken)
	// acme/two is rated for two tasks, acme/hw on two accelerators.
	rated(t, srv, "acme/hw", "H100", "", 0.2)
	rated(t, srv, "acme/hw", "B200", "", 0.3)
	r := clf("acme/two", 0.2)
	if _, err := rs.SubmitResult(withToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
		t.Fatal(err)
	}
	r = clf("acme/two", 0.2)
	r.Task, r.Dataset = "sentence-similarity", ""
	if _, err := rs.SubmitResult(withToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.HTTPAddr
	whisper := base + "/badge/openai/whisper-large-v3"

	t.Run("endpoint JSON", func(t *testing.T) {
		resp, body := get(t, whisper+".json")
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
		if e["schemaVersion"] != 1.0 || e["label"] != "AI energy" || e["message"] != "G · 86.7 Wh/1k" || e["color"] != "ed1c24" {
			t.Errorf("endpoint JSON %s", body)
		}
		if again, _ := get(t, whisper+".json", "If-None-Match", resp.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", again.StatusCode)
		}
		_, body = get(t, whisper+".json?show=stars&style=for-the-badge&label=energy")
		if err := json.Unmarshal(body, &e); err != nil || e["label"] != "energy" || e["style"] != "for-the-badge" || !strings.Contains(e["message"].(string), "stars") && !strings.ContainsRune(e["message"].(string), '☆') {
			t.Errorf("stars endpoint with a style and label: %s", body)
		}
		_, body = get(t, base+"/badge/acme/two.json")
		if err := json.Unmarshal(body, &e); err != nil || e["isError"] != true || e["message"] != "pick a task" {
			t.Errorf("an ambiguous endpoint: %s", body)
		}
	})

	t.Run("styles", func(t *testing.T) {
		_, flat := get(t, whisper+".svg")
		heights := map[string]string{"flat-square": `height="20"`, "plastic": `height="18"`, "for-the-badge": `height="28"`}
		for style, height := range heights {
			resp, body := get(t, whisper+".svg?style="+style)
			text := wellFormed(t, body)
			if resp.StatusCode != 200 || bytes.Equal(body, flat) || !bytes.Contains(body, []byte(height)) {
				t.Errorf("style=%s: %d, the same SVG as flat: %v, %s", style, resp.StatusCode, bytes.Equal(body, flat), body)
			}
			if style == "for-the-badge" && !strings.Contains(text, "AI ENERGY") {
				t.Errorf("for-the-badge reads %q, want capitals", text)
			}
		}
	})

	t.Run("label", func(t *testing.T) {
		_, body := get(t, whisper+".svg?label=%3Cb%3Eenergy%3C%2Fb%3E")
		if text := wellFormed(t, body); !strings.Contains(text, "<b>energy</b>") || bytes.Contains(body, []byte("<b>")) {
			t.Errorf("label=<b>energy</b> reads %q: want it shown, escaped", text)
		}
		_, body = get(t, whisper+".svg?label=")
		if text := wellFormed(t, body); strings.Contains(text, "AI energy") || !strings.Contains(text, "G · 86.7 Wh/1k") {
			t.Errorf("label= reads %q, want the message alone", text)
		}
		problemBadge(t, whisper+".svg?label="+strings.Repeat("L", 65), "bad label")
	})

	t.Run("errors are badges", func(t *testing.T) {
		problemBadge(t, base+"/badge/acme/two.svg", "pick a task")
		problemBadge(t, whisper+".svg?task=nope", "unknown task")
		problemBadge(t, whisper+".svg?show=nope", "show grade or stars")
		problemBadge(t, whisper+".svg?style=social", "unknown style")
		problemBadge(t, whisper+".svg?hardware="+strings.Repeat("H", 300), "bad hardware")
		problemBadge(t, base+"/badge/acme/"+url.PathEscape("<script>")+".svg", "bad model id")
		if _, body := get(t, base+"/badge/acme/two.svg?task=sentence-similarity"); !strings.Contains(wellFormed(t, body), "AI energy: ") || strings.Contains(wellFormed(t, body), "pick a task") {
			t.Errorf("acme/two with its task: %q", wellFormed(t, body))
		}
	})

	t.Run("two accelerators and no hardware give a badge", func(t *testing.T) {
		resp, body := get(t, base+"/badge/acme/hw.svg")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(wellFormed(t, body), "Wh/1k") {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
}

func TestPagesAnswerAVisitorsQuestions(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(dial(t, srv.Addr))
	importAIES(t, rs, srv.AdminToken)
	base := "http://" + srv.HTTPAddr
	page := func(path string, status int) string {
		t.Helper()
		resp, body := get(t, base+path)
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
		if links, rows := strings.Count(body, `<a href="/models/`), strings.Count(body, "<tr>\n<td>"); links != 2*rows {
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
		if _, err := rs.SubmitResult(withToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
			t.Fatal(err)
		}
		chat := page("/tasks/image-text-to-text", 200)
		if !strings.Contains(chat, `<th class="num">Energy / unit</th>`) || !strings.Contains(chat, "3.60 mJ/token") || !strings.Contains(chat, "200 mWh") {
			t.Errorf("a per-token cohort lacks its energy per token (3.60 mJ/token) or per 1k queries (200 mWh)")
		}
	})

	t.Run("the model page links its leaderboard and Hugging Face", func(t *testing.T) {
		body := page("/models/openai-community/gpt2", 200)
		m := regexp.MustCompile(`<a href="(/tasks/text-generation#[^"]+)">rank (\d+) of (\d+)</a>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no rank linked to the leaderboard")
		}
		anchor := html.UnescapeString(m[1][strings.Index(m[1], "#")+1:])
		if board := page("/tasks/text-generation", 200); !strings.Contains(board, `<section id="`+anchor+`">`) {
			t.Errorf("the rank links to #%s, which the leaderboard lacks", anchor)
		}
		if !strings.Contains(body, `href="https://huggingface.co/openai-community/gpt2"`) {
			t.Error("no link to the model on Hugging Face")
		}
		if !strings.Contains(body, `size class <abbr title="up to 20 B parameters">A</abbr> (up to 20 B parameters)`) {
			t.Error("the size class is not explained")
		}
	})
}
