package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
)

// TestPaginatedPagesInABrowser loads pages that span several pages in
// headless Chromium, wide and on a phone: the pager names its links in
// words, and nothing is wider than the screen.
func TestPaginatedPagesInABrowser(t *testing.T) {
	ctx := browser(t, 1100, 1400, 120*time.Second)
	srv := servertest.Start(t)
	ordinary := func(i int) string { return fmt.Sprintf("lab-crowd/llama-ft-%04d", i) }
	importResults(t, srv, crowdResults(t, ordinary, 130, 60))
	importResults(t, srv, spreadResults(t, func(i int) string { return fmt.Sprintf("lab-everywhere/model-%02d", i) }, 2))
	base := "http://" + srv.HTTPAddr

	dir := artifactDir(t)
	pages := []string{"/tasks/text-classification", "/tasks/text-classification?page=2",
		"/tasks/text-classification?cohort=AIEnergyScore%2Ftext_classification%2FH100&page=2",
		"/search?q=crowd&page=2", "/models/lab-everywhere/model-00?page=2"}
	for _, width := range []int64{1100, 390} {
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 844)); err != nil {
			t.Fatal(err)
		}
		for _, page := range pages {
			var got struct {
				Viewport, Page float64
				Wide, Links    []string
			}
			var shot []byte
			if err := chromedp.Run(ctx,
				chromedp.Navigate(base+page),
				chromedp.WaitVisible("nav.pager", chromedp.ByQuery),
				chromedp.Evaluate(`(() => {
					const vw = document.documentElement.clientWidth, wide = [];
					for (const el of document.body.querySelectorAll("*")) {
						if (el.parentElement.closest(".scroll, .chart")) continue;
						const r = el.getBoundingClientRect();
						if ((r.width || r.height) && (r.right > vw + 0.5 || r.left < -0.5)) {
							wide.push(el.tagName + "." + (el.getAttribute("class") || ""));
						}
					}
					const links = Array.from(document.querySelectorAll("nav.pager a")).map(a => a.innerText.trim());
					return {viewport: vw, page: document.documentElement.scrollWidth, wide: wide.slice(0, 10), links};
				})()`, &got),
				chromedp.FullScreenshot(&shot, 100),
			); err != nil {
				t.Fatalf("%s: %v", page, err)
			}
			if got.Page > got.Viewport || len(got.Wide) > 0 {
				t.Errorf("%s at %d px: the page is %v wide in a viewport of %v; wider than the screen: %q", page, width, got.Page, got.Viewport, got.Wide)
			}
			for _, l := range got.Links {
				if !strings.Contains(l, "page") {
					t.Errorf("%s: a pager link reads %q, not a page", page, l)
				}
			}
			if len(got.Links) < 2 {
				t.Errorf("%s: the pager has links %q, want a previous and a next page at least", page, got.Links)
			}
			name := fmt.Sprintf("paged-%d%s.png", width, strings.NewReplacer("/", "-", "?", "-", "=", "-", "&", "-", "%", "-").Replace(page))
			if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
