package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// maxPageBytes is what pages.go promises of every page when every model id
// is as long as the validator allows; ordinaryPageBytes when ids are of
// ordinary length.
const (
	maxPageBytes      = 400 << 10
	ordinaryPageBytes = 250 << 10
)

// rateable are the cohorts a model may be rated in without reporting
// output sizes: every task's AI Energy Score workload, graded per query,
// on one variant of every accelerator family the built-in registry knows.
// Tasks with size classes put a model in the class of its parameter count.
type rateable struct {
	task, accelerator string
	sized             bool
}

func rateableCohorts() []rateable {
	var accels []string
	seen := map[string]bool{}
	for _, a := range rating.BuiltinAccelerators().All() {
		if !seen[a.Family] {
			seen[a.Family] = true
			accels = append(accels, a.Name)
		}
	}
	var out []rateable
	for _, t := range rating.Tasks() {
		if t.AIESAlias == "" {
			continue
		}
		for _, a := range accels {
			out = append(out, rateable{task: t.ID, accelerator: a, sized: t.SizeClasses})
		}
	}
	return out
}

// classParams are parameter counts in size classes A, B and C.
var classParams = []float64{7, 30, 120}

// spreadResults are the results of one publisher's models, each rated in
// every rateable cohort: model i in size class i%3 where the task has
// classes.
func spreadResults(t testing.TB, id func(i int) string, models int) []rating.Result {
	var out []rating.Result
	for i := range models {
		for j, c := range rateableCohorts() {
			r := rating.Result{Model: id(i), Task: c.task, Accelerator: c.accelerator, GPUCount: 1, Queries: 1000,
				GPUEnergyWh: 0.1 * float64(1+i) * float64(1+j%7), ParamsBillions: classParams[i%3]}
			out = append(out, r)
		}
	}
	return checked(t, out)
}

// crowdResults are the results of n models in one cohort,
// text-classification on H100, the first wide of them also in every other
// rateable cohort of text-classification: a task whose every cohort fills
// its table.
func crowdResults(t testing.TB, id func(i int) string, n, wide int) []rating.Result {
	var out []rating.Result
	for i := range n {
		wh := 0.05 + 0.001*float64(i%97) + 0.0001*float64(i)
		out = append(out, rating.Result{Model: id(i), Task: "text-classification", Accelerator: "H100", GPUCount: 1, Queries: 1000, GPUEnergyWh: wh})
		if i >= wide {
			continue
		}
		for _, c := range rateableCohorts() {
			if c.task == "text-classification" && c.accelerator != "H100" {
				out = append(out, rating.Result{Model: id(i), Task: c.task, Accelerator: c.accelerator, GPUCount: 1, Queries: 1000, GPUEnergyWh: wh})
			}
		}
	}
	return checked(t, out)
}

// checked fails the test if a result would be refused, naming why.
func checked(t testing.TB, rs []rating.Result) []rating.Result {
	t.Helper()
	for i := range rs {
		if _, err := rating.Normalise(&rs[i]); err != nil {
			t.Fatalf("%s in %s on %s: %v", rs[i].Model, rs[i].Task, rs[i].Accelerator, err)
		}
	}
	return rs
}

// longID is a model id as long as the validator allows: owner and name of
// 96 bytes each, starting with the words given.
func longID(owner, name string) string {
	pad := func(s string) string {
		for len(s) < 96 {
			s += "-0123456789"
		}
		return s[:96]
	}
	return pad(owner) + "/" + pad(name)
}

// importResults stores results as an admin's import does.
func importResults(t *testing.T, srv *servertest.Server, results []rating.Result) {
	t.Helper()
	stream, err := energylabelv1.NewAdminServiceClient(servertest.Dial(t, srv.Addr)).ImportResults(servertest.WithToken(srv.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	for len(results) > 0 {
		req := &energylabelv1.ImportResultsRequest{}
		for _, r := range results[:min(500, len(results))] {
			req.Results = append(req.Results, wire.BenchmarkResult(&r))
		}
		results = results[len(req.Results):]
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
}

// pageCrawler fetches pages over HTTP, checking that each is HTML, of the
// status expected and within the byte bound.
type pageCrawler struct {
	t       *testing.T
	base    string
	bound   int
	largest int
	at      string // the largest page's address
	fetched int
}

func (c *pageCrawler) get(path string, status int) string {
	c.t.Helper()
	resp, body := servertest.HTTPGet(c.t, c.base+path)
	c.fetched++
	if resp.StatusCode != status {
		c.t.Fatalf("%s: %d, want %d\n%.2000s", path, resp.StatusCode, status, mainOf(string(body)))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		c.t.Errorf("%s: Content-Type %s", path, ct)
	}
	if len(body) > c.largest {
		c.largest, c.at = len(body), path
	}
	if len(body) > c.bound {
		c.t.Errorf("%s is %d bytes, more than the %d pages may have", path, len(body), c.bound)
	}
	return string(body)
}

var (
	nextLink    = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	prevLink    = regexp.MustCompile(`<a href="([^"]+)" rel="prev">`)
	sectionID   = regexp.MustCompile(`<section id="([^"]+)">`)
	rowModel    = regexp.MustCompile(`<td><a href="/models/([^"]+)">`)
	allOfCohort = regexp.MustCompile(`<p class="more">[^<]*<a href="([^"]+)">All (\d+) models of this cohort</a>`)
	resultModel = regexp.MustCompile(`<li><a href="/models/([^"]+)">`)
	moreRatings = regexp.MustCompile(`>(\d+) more ratings? of `)
	cardBoard   = regexp.MustCompile(`<a href="(/tasks/[^"]+)">(?:would rank|not ranked)`)
)

// follow fetches start and every page its next links lead to, and returns
// them in order. Each page but the first links back to the one before, and
// the last links to no next page.
func (c *pageCrawler) follow(start string) []string {
	c.t.Helper()
	var pages []string
	prev := ""
	for path := start; path != ""; {
		body := c.get(path, http.StatusOK)
		if m := prevLink.FindStringSubmatch(body); (m == nil) != (prev == "") || m != nil && html.UnescapeString(m[1]) != prev {
			c.t.Errorf("%s links back to %v, want %q", path, m, prev)
		}
		pages = append(pages, body)
		if len(pages) > 1000 {
			c.t.Fatalf("more than 1,000 pages from %s", start)
		}
		prev, path = path, ""
		if m := nextLink.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	return pages
}

// sections splits a task page into its cohorts' sections, by anchor.
func sections(body string) (anchors []string, parts []string) {
	locs := sectionID.FindAllStringSubmatchIndex(body, -1)
	for i, l := range locs {
		end := len(body)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		anchors = append(anchors, html.UnescapeString(body[l[2]:l[3]]))
		parts = append(parts, body[l[0]:end])
	}
	return anchors, parts
}

func submatches(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// TestPagesStayBoundedAndReachEveryRow loads one publisher's models rated
// in every cohort a result can name (some hundreds), and a crowd of models
// in one cohort, some of them in every cohort of the task too, all with
// ids as long as ids may be. Every page stays within the bound,
// and following the pages' next and "all models" links reaches every
// rating of every task, every model a search finds and every rating of a
// model, each exactly once.
func TestPagesStayBoundedAndReachEveryRow(t *testing.T) {
	t.Run("ids at the longest", func(t *testing.T) { testPagesReachEveryRow(t, longID, maxPageBytes) })
	// As synth names them: "lab-123/llama-ft-004567".
	ordinary := func(owner, name string) string { return "lab-" + owner + "/llama-ft-" + name }
	t.Run("ordinary ids", func(t *testing.T) { testPagesReachEveryRow(t, ordinary, ordinaryPageBytes) })
}

func testPagesReachEveryRow(t *testing.T, modelID func(owner, name string) string, bound int) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	const spread, crowd = 6, 730
	spreadID := func(i int) string { return modelID("everywhere", fmt.Sprintf("model-%02d", i)) }
	crowdID := func(i int) string { return modelID("crowd", fmt.Sprintf("m%04d", i)) }
	importResults(t, srv, spreadResults(t, spreadID, spread))
	importResults(t, srv, crowdResults(t, crowdID, crowd, 60))
	c := &pageCrawler{t: t, base: "http://" + srv.HTTPAddr, bound: bound}

	t.Run("task pages", func(t *testing.T) {
		c.t = t
		for _, task := range rating.Tasks() {
			want := map[string]int{} // anchor/model → 0, as the API lists them
			for _, r := range servertest.ListAll(t, rs, &energylabelv1.ListRatingsRequest{Task: task.ID, PageSize: 1000}) {
				want[anchorOf(r)+" "+r.Model] = 0
			}
			seen := map[string]int{}
			cohorts := map[string]bool{}
			for _, body := range c.follow("/tasks/" + task.ID) {
				anchors, parts := sections(body)
				for i, a := range anchors {
					if cohorts[a] {
						t.Errorf("%s: cohort %s on two pages", task.ID, a)
					}
					cohorts[a] = true
					rows := submatches(rowModel, parts[i])
					if len(rows) > 50 {
						t.Errorf("%s: cohort %s shows %d rows", task.ID, a, len(rows))
					}
					m := allOfCohort.FindStringSubmatch(parts[i])
					if m != nil {
						all := c.follow(html.UnescapeString(m[1]))
						first := submatches(rowModel, all[0])
						if len(first) < len(rows) || !slices.Equal(first[:len(rows)], rows) {
							t.Errorf("%s: the cohort's first page does not begin with the rows its task page shows", a)
						}
						rows = nil
						for _, p := range all {
							rows = append(rows, submatches(rowModel, p)...)
						}
						if n, _ := strconv.Atoi(m[2]); n != len(rows) {
							t.Errorf("%s: %d rows over its pages, the link says %d", a, len(rows), n)
						}
					}
					for _, model := range rows {
						seen[a+" "+model]++
					}
				}
			}
			wrong := 0
			for k, n := range seen {
				if _, ok := want[k]; (!ok || n != 1) && wrong < 5 {
					wrong++
					t.Errorf("%s: %s listed %d times, rated %v", task.ID, k, n, ok)
				}
			}
			if len(seen) != len(want) {
				t.Errorf("%s: the pages list %d ratings, the API %d", task.ID, len(seen), len(want))
			}
		}
	})

	t.Run("search", func(t *testing.T) {
		c.t = t
		var found []string
		for _, body := range c.follow("/search?q=CROWD") {
			found = append(found, submatches(resultModel, body)...)
		}
		want := make([]string, crowd)
		for i := range want {
			want[i] = crowdID(i)
		}
		if !slices.Equal(found, want) {
			t.Errorf("searching crowd over its pages found %d models, want the %d of the crowd each once, in order", len(found), crowd)
		}
		// Each model lists its first ratings and counts the rest.
		pages := c.follow("/search?q=everywhere")
		if len(pages) != 1 {
			t.Fatalf("%d pages for %d models", len(pages), spread)
		}
		items := strings.Split(pages[0], "<li>")[1:]
		if len(items) != spread {
			t.Fatalf("%d results, want %d", len(items), spread)
		}
		for i, item := range items {
			resp, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: spreadID(i)})
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(item, `<div class="rating">`)
			more := 0
			if m := moreRatings.FindStringSubmatch(item); m != nil {
				more, _ = strconv.Atoi(m[1])
			}
			if lines > 5 || lines+more != len(resp.Ratings) {
				t.Errorf("result %d lists %d ratings and %d more, of %d", i, lines, more, len(resp.Ratings))
			}
		}
	})

	t.Run("model pages", func(t *testing.T) {
		c.t = t
		for i := range spread {
			model := spreadID(i)
			resp, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: model})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, r := range resp.Ratings {
				want[r.Task+"#"+anchorOf(r)] = true
			}
			seen := map[string]bool{}
			boards := map[string]bool{}
			for _, body := range c.follow("/models/" + model) {
				if n := strings.Count(body, `<section class="card">`); n > 20 {
					t.Errorf("a page of %s has %d cards", model, n)
				}
				for _, link := range submatches(cardBoard, body) {
					path, anchor, _ := strings.Cut(link, "#")
					task, _, _ := strings.Cut(strings.TrimPrefix(path, "/tasks/"), "?")
					if k := task + "#" + anchor; seen[k] || !want[k] {
						t.Errorf("%s: card of %s twice, or not a rating of the model", model, k)
					} else {
						seen[k] = true
					}
					boards[link] = true
				}
			}
			if len(seen) != len(want) {
				t.Errorf("%s: %d ratings over its pages, %d rated", model, len(seen), len(want))
			}
			if i > 0 {
				continue
			}
			// Each card links the task page that holds its cohort's table.
			for link := range boards {
				path, anchor, _ := strings.Cut(link, "#")
				if a, _ := sections(c.get(path, http.StatusOK)); !slices.Contains(a, anchor) {
					t.Errorf("a card links %s, which has no table #%s", path, anchor)
				}
			}
		}
	})
	t.Logf("%d cohorts; %d pages fetched, the largest %d bytes: %s", len(rateableCohorts()), c.fetched, c.largest, c.at)
}

// mainOf is what a page says, without its head.
func mainOf(body string) string {
	if _, m, ok := strings.Cut(body, "<main>"); ok {
		return m
	}
	return body
}

// anchorOf is a rating's cohort's anchor on its task's page: "_" for a
// space, the only character of the cohorts here that an anchor replaces.
func anchorOf(r *energylabelv1.Rating) string {
	a := r.Dataset + "/" + r.Hardware
	if r.SizeClass != "" {
		a += "/" + r.SizeClass
	}
	return strings.ReplaceAll(a, " ", "_")
}

// TestPageParametersAreChecked: a malformed page number or cohort is a 400
// that says what is wrong, a page past the end a 404 that links back, and
// parameters the pages do not read change nothing.
func TestPageParametersAreChecked(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	servertest.ImportAIES(t, rs, srv.AdminToken)
	c := &pageCrawler{t: t, base: "http://" + srv.HTTPAddr, bound: ordinaryPageBytes}
	for path, want := range map[string]string{
		"/tasks/asr?page=abc":                           "page: a whole number from 1",
		"/tasks/asr?page=0":                             "page: a whole number from 1",
		"/tasks/asr?page=-1":                            "page: a whole number from 1",
		"/tasks/asr?page=1e3":                           "page: a whole number from 1",
		"/tasks/asr?page=99999999999999999999":          "page: a whole number from 1",
		"/tasks/asr?page=1&page=2":                      "page: given 2 times",
		"/tasks/asr?cohort=":                            "cohort: empty",
		"/tasks/asr?cohort=" + strings.Repeat("a", 600): "more than any cohort",
		"/tasks/asr?page=%zz":                           "query: malformed",
		"/models/openai/whisper-large-v3?page=x":        "page: a whole number from 1",
		"/search?q=whisper&page=0":                      "page: a whole number from 1",
		"/search?q=whisper&page=%3Cb%3E":                "got &#34;&lt;b&gt;&#34;",
		"/search?q=a&q=b":                               "q: given 2 times",
	} {
		if body := c.get(path, http.StatusBadRequest); !strings.Contains(body, want) {
			t.Errorf("%s: the 400 does not say %q:\n%s", path, want, mainOf(body))
		}
	}
	for path, want := range map[string]string{
		"/tasks/asr?page=2": `<a href="/tasks/automatic-speech-recognition">First page</a>`,
		"/tasks/asr?cohort=AIEnergyScore/asr/H100&page=2":             `<a href="/tasks/automatic-speech-recognition?cohort=AIEnergyScore%2Fasr%2FH100">First page</a>`,
		"/tasks/asr?cohort=AIEnergyScore/asr/T4":                      "has no cohort",
		"/models/openai/whisper-large-v3?page=2":                      `<a href="/models/openai/whisper-large-v3">First page</a>`,
		"/search?q=whisper&page=2":                                    `<a href="/search?q=whisper">First page</a>`,
		"/tasks/automatic-speech-recognition?cohort=nothing&page=100": "has no cohort",
	} {
		if body := c.get(path, http.StatusNotFound); !strings.Contains(body, want) {
			t.Errorf("%s: the 404 lacks %s:\n%s", path, want, mainOf(body))
		}
	}
	// The cohort's own page, under any task alias, with a tracking tag.
	one := c.get("/tasks/asr?cohort=AIEnergyScore%2Fasr%2FH100&utm_source=x", http.StatusOK)
	board := c.get("/tasks/asr", http.StatusOK)
	if rows, want := submatches(rowModel, one), submatches(rowModel, board); len(rows) == 0 || !slices.Equal(rows, want) {
		t.Errorf("the cohort's page lists %d models, its task's page %d", len(rows), len(want))
	}
	if !strings.Contains(one, `<a href="/tasks/automatic-speech-recognition#AIEnergyScore/asr/H100">Every cohort of automatic-speech-recognition</a>`) {
		t.Error("the cohort's page does not link back to its task's")
	}
	if a, b := c.get("/tasks/asr?utm_source=x", 200), c.get("/tasks/automatic-speech-recognition?page=1", 200); a != b {
		t.Error("the same page differs by task alias, page=1 or a parameter it does not read")
	}
}

// TestPagesFollowTheIndex: a cached page answers until the index moves,
// and the next request after a write shows the write.
func TestPagesFollowTheIndex(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	c := &pageCrawler{t: t, base: "http://" + srv.HTTPAddr, bound: ordinaryPageBytes}
	paths := []string{"/", "/tasks/text-classification", "/tasks/text-classification?cohort=AIEnergyScore%2Ftext_classification%2FH100", "/search?q=acme", "/models/acme/fresh"}
	before := map[string]string{}
	for _, p := range paths[:4] {
		before[p] = c.get(p, http.StatusOK)
		if again := c.get(p, http.StatusOK); again != before[p] {
			t.Errorf("%s changed with no write", p)
		}
	}
	c.get("/models/acme/fresh", http.StatusNotFound)
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/fresh", 0.5)}); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if body := c.get(p, http.StatusOK); !strings.Contains(body, "acme/fresh") && p != "/" || body == before[p] {
			t.Errorf("%s does not show the new rating", p)
		}
	}
	// A release moves stars, and every page with them.
	servertest.CreateRelease(t, conn, srv.AdminToken, "r1")
	if body := c.get("/tasks/text-classification", http.StatusOK); !strings.Contains(body, "stars of release r1") {
		t.Error("the task page does not show the new release's stars")
	}
}
