package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// fitScript measures every element of a page, as a reader at this width
// sees it, and lists what does not fit:
//   - the page wider than the viewport;
//   - an element that hides its overflow (overflow hidden or clip, or
//     text-overflow ellipsis) whose text is wider than it (scrollWidth >
//     clientWidth);
//   - every line of every text node (a Range's client rects): past its
//     block ancestor's box, cut off by an ancestor that hides overflow, or
//     past the viewport's edges, unless it is in a box meant to scroll
//     sideways (.scroll, .chart);
//   - every SVG text of an inline chart: outside its chart, or drawn
//     smaller than 11 px;
//   - every history chart (an <img>): not at its native size, or its
//     smallest text drawn smaller than 11 px;
//   - a box meant to scroll sideways that holds anything but a
//     leaderboard (.scroll) or a chart (.chart);
//   - every leaderboard: its first four columns not model, grade, stars
//     and energy, or any of them past the visible part of its box.
const fitScript = `(async () => {
	const vw = document.documentElement.clientWidth, problems = [];
	const scrollers = ".scroll, .chart";
	const describe = el => {
		let s = el.tagName.toLowerCase();
		const c = el.getAttribute("class");
		if (c) s += "." + c.trim().split(/\s+/).join(".");
		return s;
	};
	const where = el => {
		const parts = [];
		for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) parts.unshift(describe(e));
		return parts.join(" > ");
	};
	const snippet = s => s.replace(/\s+/g, " ").trim().slice(0, 48);
	const px = v => Math.round(v);
	let elements = 0, textLines = 0, svgTexts = 0;
	if (document.documentElement.scrollWidth > vw) {
		problems.push("the page is " + document.documentElement.scrollWidth + " px wide in a " + vw + " px viewport");
	}

	for (const el of document.body.querySelectorAll("*")) {
		if (el.closest("svg")) continue; // SVG text is measured below
		const cs = getComputedStyle(el);
		if (cs.display === "none") continue;
		elements++;
		const clips = cs.overflowX === "hidden" || cs.overflowX === "clip" || cs.textOverflow === "ellipsis";
		if (clips && el.textContent.trim() && el.scrollWidth > el.clientWidth + 1) {
			problems.push(where(el) + " clips its text \"" + snippet(el.textContent) + "\": " + el.scrollWidth + " px in " + el.clientWidth);
		}
	}

	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		if (!n.textContent.trim()) continue;
		const p = n.parentElement;
		if (!p || p.closest("svg, script, style, noscript") || !p.getClientRects().length) continue;
		let block = p;
		while (block.parentElement && getComputedStyle(block).display === "inline") block = block.parentElement;
		const b = block.getBoundingClientRect();
		const scrolled = p.closest(scrollers);
		const range = document.createRange();
		range.selectNodeContents(n);
		for (const r of range.getClientRects()) {
			if (!r.width) continue;
			textLines++;
			const what = "\"" + snippet(n.textContent) + "\" in " + where(p);
			if (r.left < b.left - 1 || r.right > b.right + 1) {
				problems.push(what + " overflows its box: text " + px(r.left) + "–" + px(r.right) + ", box " + px(b.left) + "–" + px(b.right));
			}
			for (let a = p.parentElement; a && a !== document.body; a = a.parentElement) {
				const ox = getComputedStyle(a).overflowX;
				if (ox === "visible") continue;
				if (a.matches(scrollers)) break; // its content is reached by scrolling it
				const ar = a.getBoundingClientRect();
				if (r.left < ar.left - 1 || r.right > ar.right + 1) {
					problems.push(what + " is cut off by " + where(a) + " (overflow-x " + ox + ")");
				}
			}
			if (!scrolled && (r.left < -1 || r.right > vw + 1)) {
				problems.push(what + " runs past the viewport: " + px(r.left) + "–" + px(r.right) + " of " + vw);
			}
		}
	}

	for (const t of document.querySelectorAll("svg text")) {
		svgTexts++;
		const svg = t.ownerSVGElement, sr = svg.getBoundingClientRect(), r = t.getBoundingClientRect();
		const what = "chart text \"" + snippet(t.textContent) + "\"";
		if (r.left < sr.left - 1 || r.right > sr.right + 1 || r.top < sr.top - 1 || r.bottom > sr.bottom + 1) {
			problems.push(what + " runs out of its chart");
		}
		const size = parseFloat(getComputedStyle(t).fontSize) * sr.width / svg.viewBox.baseVal.width;
		if (size < 11) problems.push(what + " is drawn at " + size.toFixed(1) + " px");
		if (!svg.closest(scrollers) && (r.left < -1 || r.right > vw + 1)) problems.push(what + " runs past the viewport");
	}

	const charts = [];
	for (const img of document.querySelectorAll("img.history")) {
		const src = await (await fetch(img.src)).text();
		const sizes = [...src.matchAll(/font-size(?:="|:\s*)([\d.]+)/g)].map(m => +m[1]);
		const shown = img.getBoundingClientRect().width, scale = shown / img.naturalWidth;
		const smallest = Math.min(...sizes) * scale;
		charts.push({natural: img.naturalWidth, shown: shown, smallest: smallest});
		if (!sizes.length || smallest < 11) problems.push("history chart text drawn at " + smallest.toFixed(1) + " px");
		if (Math.abs(shown - img.naturalWidth) > 0.5) problems.push("history chart shown " + shown + " px wide, natively " + img.naturalWidth);
	}

	// Only leaderboards scroll sideways in a box of their own, and only
	// charts in theirs: any other text must fit where it is.
	for (const box of document.querySelectorAll(".scroll")) {
		if (!box.querySelector(":scope > table.board")) problems.push(where(box) + " scrolls sideways, and holds no leaderboard");
	}
	for (const box of document.querySelectorAll(".chart")) {
		if ([...box.children].some(c => !c.matches("svg, img"))) problems.push(where(box) + " scrolls sideways, and holds more than a chart");
	}

	let boards = 0;
	for (const table of document.querySelectorAll("table.board")) {
		boards++;
		const heads = [...table.tHead.rows[0].cells].map(c => c.textContent.trim().toLowerCase());
		const first = heads.slice(0, 4);
		if (first[0] !== "model" || first[1] !== "grade" || first[2] !== "stars" || !first[3].startsWith("energy")) {
			problems.push("a leaderboard's first columns are " + JSON.stringify(first));
		}
		const box = table.closest(".scroll").getBoundingClientRect(), right = Math.min(box.right, vw);
		for (const row of [...table.tBodies[0].rows].slice(0, 5)) {
			for (let i = 0; i < 4; i++) {
				const c = row.cells[i].getBoundingClientRect();
				if (c.right > right + 1) problems.push("leaderboard column " + heads[i] + " ends at " + px(c.right) + " px, past the visible " + px(right));
			}
		}
	}
	return {viewport: vw, problems: problems.slice(0, 25), count: problems.length, elements, textLines, svgTexts, charts, boards};
})()`

// fit is what fitScript found on one page at one width.
type fit struct {
	Viewport                                     float64
	Problems                                     []string
	Count, Elements, TextLines, SVGTexts, Boards int
	Charts                                       []struct{ Natural, Shown, Smallest float64 }
}

// TestPagesFitInABrowser loads the front page, task pages, model pages,
// search and error pages in headless Chromium at 1280 and 390 px and
// fails on any text that is clipped or overflows (see fitScript), any
// chart text drawn below 11 px, and a leaderboard that does not show
// model, grade, stars and energy first. Screenshots go to
// testdata/artifacts/fit-*.png for a person to look at.
func TestPagesFitInABrowser(t *testing.T) {
	ctx := browser(t, 1280, 1000, 180*time.Second)
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	servertest.CreateRelease(t, conn, srv.AdminToken, "aies-2025-02")
	// A corrected rating, whose page strikes the declared figure through,
	// and a per-token one, whose pages show two units.
	acme, surveyor := servertest.PublisherToken(t, srv, "acme"), servertest.SurveyorToken(t, srv)
	if _, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/cheat", 0.7)}); err != nil {
		t.Fatal(err)
	}
	for _, wh := range []float64{0.98, 0.981, 0.982, 0.983} {
		if _, err := rs.VerifyResult(servertest.WithToken(surveyor), &energylabelv1.VerifyResultRequest{Result: servertest.Classification("acme/cheat", wh)}); err != nil {
			t.Fatal(err)
		}
	}
	chat := &energylabelv1.BenchmarkResult{
		Model: "acme/a-rather-long-vision-chat-model-name-Instruct-2026", Task: "image-text-to-text", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
		Queries: 1000, GpuEnergyWh: 0.2, DurationSeconds: 0.2 * 3600 / 300, Output: &energylabelv1.Output{Tokens: 200_000},
	}
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: chat}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.HTTPAddr

	pages := []string{
		"/", "/tasks/text-generation", "/tasks/image-text-to-text",
		"/models/openai-community/gpt2", "/models/acme/cheat", "/models/acme/a-rather-long-vision-chat-model-name-Instruct-2026",
		"/search?q=llama", "/search?q=acme",
		"/tasks/text-gen", "/models/nosuch/model", "/no/such/page",
	}
	dir := artifactDir(t)
	var checked, elements, lines, svgTexts, boards, charts int
	for _, width := range []int64{1280, 390} {
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		for _, page := range pages {
			var got fit
			var shot []byte
			if err := chromedp.Run(ctx,
				chromedp.Navigate(base+page),
				chromedp.WaitReady("body", chromedp.ByQuery),
				chromedp.Poll(`Array.from(document.images).every(i => i.complete)`, nil, chromedp.WithPollingTimeout(10*time.Second)),
				chromedp.Evaluate(fitScript, &got, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
				chromedp.FullScreenshot(&shot, 100),
			); err != nil {
				t.Fatalf("%s at %d px: %v", page, width, err)
			}
			if got.Viewport != float64(width) {
				t.Errorf("%s: a viewport of %v px, want %d", page, got.Viewport, width)
			}
			if got.Count > 0 {
				t.Errorf("%s at %d px: %d things do not fit:\n\t%s", page, width, got.Count, strings.Join(got.Problems, "\n\t"))
			}
			if strings.HasPrefix(page, "/models/") && page != "/models/nosuch/model" && len(got.Charts) == 0 {
				t.Errorf("%s at %d px shows no history chart", page, width)
			}
			if strings.HasPrefix(page, "/tasks/") && page != "/tasks/text-gen" && got.Boards == 0 {
				t.Errorf("%s at %d px shows no leaderboard", page, width)
			}
			checked++
			t.Logf("%s at %d px: %d elements, %d lines of text, %d chart texts", page, width, got.Elements, got.TextLines, got.SVGTexts)
			elements += got.Elements
			lines += got.TextLines
			svgTexts += got.SVGTexts
			boards += got.Boards
			charts += len(got.Charts)
			name := fmt.Sprintf("fit-%d%s.png", width, strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(strings.TrimSuffix(page, "/")))
			if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d pages × 2 widths = %d page views: %d elements, %d lines of text, %d chart texts, %d leaderboards and %d history charts measured; screenshots in %s",
		len(pages), checked, elements, lines, svgTexts, boards, charts, dir)
}
