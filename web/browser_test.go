package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating/label"
)

// browser starts headless Chromium with a window of width×height for the
// test, ending it after timeout or with the test; without Chromium, the
// test is skipped, saying so.
func browser(t *testing.T, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		t.Skip("no chromium on PATH: install Debian's chromium to run the browser test (CI does)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(width, height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// findChromium returns a Chromium binary, or "" when none is installed.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestPagesInABrowser loads the leaderboard and a model page from a real
// server with the AIES leaderboard imported, in headless Chromium.
func TestPagesInABrowser(t *testing.T) {
	ctx := browser(t, 1100, 1400, 90*time.Second)
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "aies-2025-02")
	base := "http://" + srv.HTTPAddr
	// Surveyors verify one declared classifier and correct another.
	acme, surveyor := servertest.PublisherToken(t, srv, "acme"), servertest.SurveyorToken(t, srv)
	for model, wh := range map[string]float64{"acme/honest": 0.8, "acme/cheat": 0.7} {
		if _, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(model, wh)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct {
		model string
		wh    float64
	}{{"acme/honest", 0.84}, {"acme/cheat", 0.98}, {"acme/cheat", 0.981}, {"acme/cheat", 0.982}, {"acme/cheat", 0.983}} {
		if _, err := rs.VerifyResult(servertest.WithToken(surveyor), &energylabelv1.VerifyResultRequest{Result: servertest.Classification(m.model, m.wh)}); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning {
				problems = append(problems, fmt.Sprintf("console %s: %v", ev.Type, ev.Args))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})

	var rows int
	var shot []byte
	if err := chromedp.Run(ctx, log.Enable(), runtime.Enable(),
		chromedp.Navigate(base+"/tasks/text-generation"),
		chromedp.WaitVisible("table", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("tbody tr").length`, &rows),
	); err != nil {
		t.Fatal(err)
	}
	if rows != 40 {
		t.Errorf("leaderboard lists %d text-generation models, want 40", rows)
	}
	var first string
	chromedp.Run(ctx, chromedp.Text("tbody tr td a", &first, chromedp.ByQuery))
	if first != "distilbert/distilgpt2" {
		t.Errorf("best class A model is %q, want distilbert/distilgpt2", first)
	}

	// Each cohort has its strip chart: drawn, one linked dot per row.
	var chart struct {
		Charts, Sections, Dots, Links int
		Width, Height                 float64
		Href                          string
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`(() => {
		const svgs = document.querySelectorAll("svg.strip");
		const r = svgs.length ? svgs[0].getBoundingClientRect() : {width: 0, height: 0};
		const a = document.querySelector("svg.strip a");
		return {charts: svgs.length, sections: document.querySelectorAll("section").length,
			dots: document.querySelectorAll("svg.strip circle").length, links: document.querySelectorAll("svg.strip a").length,
			width: r.width, height: r.height, href: a ? a.getAttribute("href") : ""};
	})()`, &chart)); err != nil {
		t.Fatal(err)
	}
	if chart.Charts == 0 || chart.Charts != chart.Sections || chart.Dots != rows || chart.Links != rows || chart.Width < 600 || chart.Height < 40 || chart.Href != "/models/distilbert/distilgpt2" {
		t.Errorf("the text-generation page's charts: %+v, want one per cohort, %d linked dots, the first to distilbert/distilgpt2", chart, rows)
	}

	var taskShot []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&taskShot, 100)); err != nil {
		t.Fatal(err)
	}

	// Searching from the header finds a model by part of its id.
	var found []string
	if err := chromedp.Run(ctx,
		chromedp.SendKeys(`header input[name="q"]`, "whisper", chromedp.ByQuery),
		chromedp.Click(`header button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("ul.results", chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("ul.results > li > a")).map(a => a.textContent)`, &found),
	); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(found, "openai/whisper-large-v3") {
		t.Errorf("searching whisper found %q, want openai/whisper-large-v3", found)
	}

	var broken []string
	var images, classRows, charts int
	var here, explained string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/models/openai/whisper-large-v3"),
		chromedp.WaitVisible("img.label", chromedp.ByQuery),
		chromedp.Poll(`Array.from(document.images).every(i => i.complete)`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`document.images.length`, &images),
		chromedp.Evaluate(`Array.from(document.images).filter(i => i.naturalWidth === 0).map(i => i.src)`, &broken),
		chromedp.Evaluate(`document.querySelectorAll("table.classes tr").length`, &classRows),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("img.history")).filter(i => i.naturalWidth > 0).length`, &charts),
		chromedp.Text("table.classes tr.this", &here, chromedp.ByQuery),
		chromedp.Text(".card", &explained, chromedp.ByQuery),
		chromedp.FullScreenshot(&shot, 100), // 100 gives PNG
	); err != nil {
		t.Fatal(err)
	}
	if images < 4 || len(broken) > 0 || charts != 1 {
		t.Errorf("%d images (%d history charts), broken: %v", images, charts, broken)
	}
	// The class table: A to G as energies of this cohort, this model on G.
	whisper := ratingOf(t, rs, "openai/whisper-large-v3")
	if want := "◀ this model: " + label.FormatEnergy(whisper.GetEnergyPerUnit(), whisper.GetUnit()); classRows != 7 || !strings.Contains(here, "G") ||
		!strings.Contains(here, "> "+label.FormatEnergy(whisper.Classes[6].GetAbove(), whisper.GetUnit())) || !strings.Contains(here, want) {
		t.Errorf("class table: %d rows, this model's row %q, want G, above %s, %q", classRows, here, label.FormatEnergy(whisper.Classes[6].GetAbove(), whisper.GetUnit()), want)
	}
	if !strings.Contains(explained, "rank 13 of 13") || !strings.Contains(explained, "release aies-2025-02") {
		t.Errorf("the card does not explain the rating:\n%s", explained)
	}
	dir := artifactDir(t)
	path := filepath.Join(dir, "model-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the model page: %s", path)
	if err := os.WriteFile(filepath.Join(dir, "task-page.png"), taskShot, 0o644); err != nil {
		t.Fatal(err)
	}

	// A corrected rating's page: the status, the determined figure with
	// the declared one struck through, and its label drawn.
	var corrected struct {
		Status, Struck, Decoration, Label string
		LabelWidth, LabelHeight           float64
	}
	var correctedShot []byte
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/models/acme/cheat"),
		chromedp.WaitVisible("img.label", chromedp.ByQuery),
		chromedp.Poll(`Array.from(document.images).every(i => i.complete)`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`(() => {
			const st = document.querySelector(".status"), del = document.querySelector("del.declared"), img = document.querySelector("img.label");
			return {status: st ? st.textContent : "", struck: del ? del.textContent : "",
				decoration: del ? getComputedStyle(del).textDecorationLine : "",
				label: img.getAttribute("src"), labelWidth: img.naturalWidth, labelHeight: img.naturalHeight};
		})()`, &corrected),
		chromedp.FullScreenshot(&correctedShot, 100),
	); err != nil {
		t.Fatal(err)
	}
	if w, h := labelSize(t); !strings.HasPrefix(corrected.Status, "corrected 20") || !strings.Contains(corrected.Status, "declared grade") ||
		corrected.Struck != label.FormatEnergy(0.7, perQuery) || corrected.Decoration != "line-through" || corrected.LabelWidth != float64(w) || corrected.LabelHeight != float64(h) {
		t.Errorf("the corrected page shows %+v; want %s struck through, a %d×%d label", corrected, label.FormatEnergy(0.7, perQuery), w, h)
	}
	if err := os.WriteFile(filepath.Join(dir, "model-page-corrected.png"), correctedShot, 0o644); err != nil {
		t.Fatal(err)
	}
	// The label as a browser draws it, alone.
	var labelShot []byte
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/label/acme/cheat.svg"),
		chromedp.WaitVisible("svg", chromedp.ByQuery),
		chromedp.Screenshot("svg", &labelShot, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "label-corrected.png"), labelShot, 0o644); err != nil {
		t.Fatal(err)
	}
	var verified string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/tasks/text-classification"),
		chromedp.WaitVisible("table", chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("tbody tr")).filter(tr => tr.textContent.includes("acme/honest")).map(tr => tr.textContent.replace(/\s+/g, " ")).join("")`, &verified),
	); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(verified, "✓ verified") {
		t.Errorf("acme/honest's leaderboard row reads %q", verified)
	}

	// On a 390 px phone nothing is wider than the screen: tables scroll
	// inside their own box, and everything else fits.
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"/", "/tasks/text-generation", "/tasks/text-classification", "/models/openai/whisper-large-v3", "/models/openai-community/gpt2", "/models/acme/cheat", "/search?q=whisper", "/search?q=acme"} {
		var fit struct {
			Viewport, Page float64
			Wide           []string
		}
		var narrow []byte
		if err := chromedp.Run(ctx,
			chromedp.Navigate(base+page),
			chromedp.WaitReady("body", chromedp.ByQuery),
			chromedp.Poll(`Array.from(document.images).every(i => i.complete)`, nil, chromedp.WithPollingTimeout(10*time.Second)),
			chromedp.Evaluate(`(() => {
				const vw = document.documentElement.clientWidth, wide = [];
				for (const el of document.body.querySelectorAll("*")) {
					if (el.parentElement.closest(".scroll, .chart")) continue; // inside a box that scrolls
					const r = el.getBoundingClientRect();
					if ((r.width || r.height) && (r.right > vw + 0.5 || r.left < -0.5)) {
						wide.push(el.tagName + "." + (el.getAttribute("class") || "") + " " + Math.round(r.left) + "–" + Math.round(r.right));
					}
				}
				return {viewport: vw, page: document.documentElement.scrollWidth, wide: wide.slice(0, 10)};
			})()`, &fit),
			chromedp.FullScreenshot(&narrow, 100),
		); err != nil {
			t.Fatal(err)
		}
		if fit.Viewport != 390 || fit.Page > fit.Viewport || len(fit.Wide) > 0 {
			t.Errorf("%s at 390 px: viewport %v, page %v wide; wider than the screen: %q", page, fit.Viewport, fit.Page, fit.Wide)
		}
		name := "narrow" + strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(strings.TrimSuffix(page, "/")) + ".png"
		if err := os.WriteFile(filepath.Join(dir, name), narrow, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the browser reported problems:\n%s", strings.Join(problems, "\n"))
	}
}

// artifactDir is where browser screenshots go: $ENERGYLABEL_ARTIFACTS, or
// testdata/artifacts beside the test.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("ENERGYLABEL_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}
