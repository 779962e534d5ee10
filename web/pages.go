package web

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/internal/wire"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
)

// The pages' bounds: each page lists at most so many things and links
// the rest, so that no page grows with the registry. The largest is a
// task page of five full cohorts: about 225 KB with model ids of ordinary
// length, 395 KB with every id at the longest the validator allows (193
// bytes). pages_test.go builds such registries and holds every page to
// 250 KB and 400 KB.
const (
	// taskCohortRows are the rows of each cohort's table on its task's
	// page: the best, then a link to the cohort's own pages. The AI
	// Energy Score leaderboard's largest cohort, 32 models, shows whole.
	taskCohortRows = 50
	// taskPageCohorts are the cohorts of one task page, in cohort order;
	// /tasks/{task}?page=N shows the next ones.
	taskPageCohorts = 5
	// cohortPageRows are the rows of a page of one cohort's list,
	// /tasks/{task}?cohort=<anchor>&page=N.
	cohortPageRows = 100
	// modelPageCohorts are the ratings, one per cohort, of a page of a
	// model's, /models/{owner}/{name}?page=N.
	modelPageCohorts = 20
	// maxPageDigits bounds page=: nine digits, more pages than any list
	// has.
	maxPageDigits = 9
	// maxCohortParam bounds cohort=, a cohort's anchor: a dataset name,
	// an accelerator family and a size class, each far shorter.
	maxCohortParam = 512
)

type cohortTable struct {
	Task, Dataset, SizeClass, Hardware, Basis, Unit string
	// ID is the table's anchor, which model pages link to.
	ID string
	// PerUnit is set when the cohort is graded per output unit, so that
	// its energy per unit is a figure of its own.
	PerUnit bool
	Ratings []ratingView
	// Total is how many models the cohort has; More, when the table
	// shows only the best of them, the address of the cohort's own
	// pages.
	Total int
	More  string
	// Chart is the strip chart of the table's rows, inline SVG.
	Chart template.HTML
	// Ranked says among which references the ranks are places.
	Ranked string
}

// ratingView is a rating with what pages say of it in words: who vouches
// for its figures, the declared figures a correction struck through, how
// far above the physical floor it is, and its place in the release.
type ratingView struct {
	*energylabelv1.Rating
	// Status is the label's status line, "verified 2026-12-05"; Kind the
	// status as the API spells it, for its style.
	Status, Kind string
	// Declared and DeclaredPerUnit are a corrected rating's declared
	// figures, which the page strikes through beside the determined ones;
	// DeclaredGrade their grade.
	Declared, DeclaredPerUnit, DeclaredGrade string
	// Floor is "27× the physical minimum", or why the floors were not
	// checked; "" when neither is known.
	Floor string
	// Place is "would rank 3 of 13 in aies-2025-02", or why there is none.
	Place string
	// Rank is the place alone, as a leaderboard's column gives it.
	Rank string
}

// viewOf says a rating in words.
func viewOf(p *energylabelv1.Rating) ratingView {
	v := p.GetVerification()
	rv := ratingView{Rating: p, Status: label.StatusText(wire.LabelRating(p, "")), Kind: v.GetStatus(), Place: placeOf(p), Rank: rankOf(p)}
	if v.GetStatus() == label.StatusCorrected {
		rv.Declared = label.FormatEnergy(v.GetDeclaredWhPer_1KQueries(), perQueryUnit)
		rv.DeclaredPerUnit = label.FormatEnergy(v.GetDeclaredEnergyPerUnit(), p.GetUnit())
		rv.DeclaredGrade = v.GetDeclaredGrade()
	}
	switch {
	case p.FloorRatio != nil && p.GetFloorRatio() > 0:
		rv.Floor = label.FormatRatio(p.GetFloorRatio()) + " the physical minimum"
	case p.GetPhysicsNote() != "":
		rv.Floor = p.GetPhysicsNote()
	}
	return rv
}

// placeOf says where a rating's figure would rank among its cohort's
// reference models in the current release: "would rank 3 of 13 in
// aies-2025-02".
func placeOf(p *energylabelv1.Rating) string {
	rank, of, rel := p.GetRank(), p.GetReleaseCohortSize(), p.GetRelease()
	switch {
	case rel == "":
		return "not ranked: no star release yet"
	case rank == 0 || of == 0:
		return "not ranked: release " + rel + " has no reference models in this cohort"
	case rank > of:
		return fmt.Sprintf("would rank after all %d reference models in %s", of, rel)
	}
	return fmt.Sprintf("would rank %d of %d in %s", rank, of, rel)
}

// rankOf is a rating's place in the release, for a leaderboard's column:
// "3", "after 13", or "–".
func rankOf(p *energylabelv1.Rating) string {
	rank, of := p.GetRank(), p.GetReleaseCohortSize()
	switch {
	case rank == 0 || of == 0:
		return "–"
	case rank > of:
		return fmt.Sprintf("after %d", of)
	}
	return strconv.Itoa(int(rank))
}

// taskLink is a task as the front page and the unknown task's page list
// it: its id and AIES alias, how many ratings it has, and the units its
// registered datasets rate it in.
type taskLink struct {
	ID, Alias string
	Ratings   int
	Units     []taskUnit
}

// taskUnit is a unit a task's ratings are in, and the registered datasets
// that rate in it: "Wh/1k queries" for AIEnergyScore/text_generation,
// "J/token" for ml.energy/lm-arena-chat and ml.energy/sourcegraph-fim.
type taskUnit struct {
	Unit     string
	Datasets []string
}

// perQueryUnit is the unit of a rating's Wh per 1,000 queries, in full,
// as rating/label writes it.
var perQueryUnit = rating.Query.Symbol()

// taskUnits are the units each task is rated in, by its registered
// datasets' bases, in the order of the registry; a task no dataset rates
// is listed in its own functional unit.
func taskUnits(ds *rating.Datasets) map[string][]taskUnit {
	out := map[string][]taskUnit{}
	for _, d := range ds.All() {
		units := out[d.Task]
		unit := d.Basis.Symbol()
		i := slices.IndexFunc(units, func(u taskUnit) bool { return u.Unit == unit })
		if i < 0 {
			units, i = append(units, taskUnit{Unit: unit}), len(units)
		}
		units[i].Datasets = append(units[i].Datasets, d.Name)
		out[d.Task] = units
	}
	for _, t := range rating.Tasks() {
		if len(out[t.ID]) == 0 {
			out[t.ID] = []taskUnit{{Unit: t.Unit.Symbol()}}
		}
	}
	return out
}

// taskLinks are every task with its ratings and units, in the order of
// rating.Tasks.
func (h *HTTP) taskLinks() []taskLink {
	units := taskUnits(h.s.Registry().Datasets)
	var tasks []taskLink
	for _, t := range rating.Tasks() {
		n := 0
		for _, c := range h.s.Index().Cohorts(func(c rating.Cohort) bool { return c.Task == t.ID }) {
			_, size := h.s.Index().ListCohortAt(c, 0, 0)
			n += size
		}
		tasks = append(tasks, taskLink{ID: t.ID, Alias: t.AIESAlias, Ratings: n, Units: units[t.ID]})
	}
	return tasks
}

type modelView struct {
	Rating ratingView
	Query  string // ?task=…&hardware=…&dataset=…, for image links
	// Markdown is the model card snippet of the server's badge;
	// ShieldsMarkdown the same badge drawn by shields.io from the
	// endpoint JSON.
	Markdown, ShieldsMarkdown string
	// Leaderboard is the address of the rating's cohort table.
	Leaderboard string
}

// page renders a page template: its status and body, or a 500 when the
// template fails. Nothing is loaded from other hosts.
func (h *HTTP) page(status int, name string, data any) (int, []byte) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		return http.StatusInternalServerError, []byte(html.EscapeString(errdefs.Clip(err.Error(), errdefs.MaxMessageBytes)))
	}
	return status, buf.Bytes()
}

// writePage answers with a rendered page.
func writePage(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; img-src 'self'")
	w.WriteHeader(status)
	w.Write(body)
}

// render answers with a page template, uncached: for pages that cost
// nothing to make, such as errors.
func (h *HTTP) render(w http.ResponseWriter, status int, name string, data any) {
	status, body := h.page(status, name, data)
	writePage(w, status, body)
}

// problemView is what an error page shows: what went wrong, and the ways
// back: the links given, the tasks when a task was not found, and always
// the front page.
type problemView struct {
	Title, Message string
	Links          []pageLink
	// Tasks, when set, are every task, for a visitor who named none of
	// them.
	Tasks []taskLink
}

// pageLink is a link a problem page offers.
type pageLink struct{ Href, Text string }

// problemPage renders the page of a failed page request: its status is
// the one err's kind maps to (errdefs, the one mapping of kinds to
// statuses); title, "" for the status's name, heads it. An internal error
// is logged and said in general words.
func (h *HTTP) problemPage(err error, title string, links ...pageLink) (int, []byte) {
	status := errdefs.KindOf(err).HTTPStatus()
	msg := errdefs.Clip(err.Error(), errdefs.MaxMessageBytes)
	if status == http.StatusInternalServerError {
		h.s.Logger().Error("page", "error", msg)
		msg = errdefs.InternalMessage
	}
	if title == "" {
		title = http.StatusText(status)
	}
	return h.page(status, "problem.html", problemView{Title: title, Message: msg, Links: links})
}

// problem answers a page request that failed with a styled page saying
// why, with the status its kind maps to, and a way back.
func (h *HTTP) problem(w http.ResponseWriter, err error, links ...pageLink) {
	status, body := h.problemPage(err, "", links...)
	writePage(w, status, body)
}

// notFoundPattern is the route of every path no other route serves.
const notFoundPattern = "/"

// notFound answers a path the site has no page at: a styled 404 that
// links back to the front page and to search. A method other than GET on
// a path that has a page is a 405 that says which methods it takes.
func (h *HTTP) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		probe := &http.Request{Method: http.MethodGet, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := h.mux.Handler(probe); pattern != notFoundPattern && pattern != "" {
			w.Header().Set("Allow", "GET, HEAD")
			h.render(w, http.StatusMethodNotAllowed, "problem.html", problemView{Title: http.StatusText(http.StatusMethodNotAllowed),
				Message: "This address has a page to read with GET, and takes no " + rating.Quote(errdefs.Clip(r.Method, 16)) + "."})
			return
		}
	}
	h.problem(w, errdefs.New(errdefs.NotFound, "There is no page at "+rating.Quote(errdefs.Clip(r.URL.Path, 96))+"."),
		pageLink{Href: "/search", Text: "Search models by id"})
}

// unknownTask answers a task page whose task is none of the tasks: a 404
// that lists them, the closest first.
func (h *HTTP) unknownTask(w http.ResponseWriter, name string) {
	msg := "There is no task " + rating.Quote(errdefs.Clip(name, 64)) + "."
	var links []pageLink
	for _, t := range closestTasks(name) {
		links = append(links, pageLink{Href: taskURL(t.ID, 1), Text: "Did you mean " + t.ID + "?"})
	}
	h.render(w, errdefs.NotFound.HTTPStatus(), "problem.html", problemView{Title: "No such task", Message: msg + " These are the tasks models are rated for:",
		Links: links, Tasks: h.taskList()})
}

// closestTasks are the tasks whose id or AIES alias begins with name or
// contains it, at most three: "text-gen" is text-generation.
func closestTasks(name string) []rating.Task {
	name = strings.ToLower(strings.TrimSpace(name))
	if len(name) < 3 {
		return nil
	}
	var out []rating.Task
	for _, t := range rating.Tasks() {
		if len(out) < 3 && (strings.Contains(t.ID, name) || t.AIESAlias != "" && strings.Contains(t.AIESAlias, name)) {
			out = append(out, t)
		}
	}
	return out
}

// taskList is every task and the units it is rated in, without counting
// its ratings: what an error page can afford to list.
func (h *HTTP) taskList() []taskLink {
	units := taskUnits(h.s.Registry().Datasets)
	var tasks []taskLink
	for _, t := range rating.Tasks() {
		tasks = append(tasks, taskLink{ID: t.ID, Alias: t.AIESAlias, Ratings: -1, Units: units[t.ID]})
	}
	return tasks
}

// servePage answers with the page at key from the page cache, built once
// per revision of the index (see pageCache); a caller past its read
// budget gets a styled 429 that says when to retry.
func (h *HTTP) servePage(w http.ResponseWriter, r *http.Request, key string, build pageBuilder) {
	status, body, err := h.site.cache.get(h.admit(r), key, build)
	if busy, ok := errors.AsType[limits.RetryLater](err); ok {
		w.Header().Set("Retry-After", limits.RetryAfter(busy.RetryDelay()))
		status, body = h.problemPage(errdefs.New(errdefs.Exhausted, busy.Error()+"; try again in "+limits.RetryAfter(busy.RetryDelay())+" s"), "Too many requests")
	}
	writePage(w, status, body)
}

// pastTheEnd is the 404 of a page number past a list's last page: it says
// how many pages there are and links the first and the last.
func (h *HTTP) pastTheEnd(title, noun string, pg pager) (int, []byte) {
	msg := fmt.Sprintf("There is no page %d of %s: the last is page %d.", pg.Page, noun, pg.Pages)
	if pg.Total == 0 {
		msg = fmt.Sprintf("There is no page %d of %s: there are none.", pg.Page, noun)
	}
	links := []pageLink{{Href: pg.url(1), Text: "First page"}}
	if pg.Pages > 1 {
		links = append(links, pageLink{Href: pg.url(pg.Pages), Text: fmt.Sprintf("Last page (%d)", pg.Pages)})
	}
	return h.problemPage(errdefs.New(errdefs.NotFound, msg), title, links...)
}

// pager says where a page is in a paginated list, and links the pages
// around it. Links are "" where there is no such page.
type pager struct {
	// Label names the list to assistive technology: "Pages of cohorts".
	Label string
	// Noun is what the list holds, plural: "models".
	Noun string
	// Page is this page's number, from 1, of Pages; Per is how many
	// items a full page holds.
	Page, Pages, Per int
	// From and To are the numbers, from 1, of the first and last items
	// of this page, of Total.
	From, To, Total         int
	First, Prev, Next, Last string
	url                     func(page int) string
}

// newPager places page, of per items a page, in a list of total items;
// url is the address of a page of the list. An empty list has one page,
// which is empty.
func newPager(label, noun string, page, per, total int, url func(int) string) pager {
	pg := pager{Label: label, Noun: noun, Page: page, Per: per, Total: total, Pages: max(1, (total+per-1)/per), url: url}
	if page > pg.Pages {
		return pg
	}
	pg.From, pg.To = min((page-1)*per+1, total), min(page*per, total)
	if page > 1 {
		pg.First, pg.Prev = url(1), url(page-1)
	}
	if page < pg.Pages {
		pg.Next, pg.Last = url(page+1), url(pg.Pages)
	}
	return pg
}

// offset is the index of the page's first item.
func (pg pager) offset() int { return (pg.Page - 1) * pg.Per }

// pageParams parses a page's query: each of the named parameters at most
// once. Other parameters are ignored (a link's tracking tag changes
// nothing, and is not part of the page's cache key); a query that does
// not parse, or names a parameter twice, is refused.
func pageParams(rawQuery string, names ...string) (map[string]string, error) {
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return map[string]string{}, rating.Invalid("query", "malformed: %v", err)
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		switch vs := vals[n]; len(vs) {
		case 0:
		case 1:
			out[n] = vs[0]
		default:
			return out, rating.Invalid(n, "given %d times; give it once", len(vs))
		}
	}
	return out, nil
}

// pageNumber reads page=: a whole number from 1, of at most maxPageDigits
// digits; "" (no page=) is the first page.
func pageNumber(v string) (int, error) {
	if v == "" {
		return 1, nil
	}
	bad := len(v) > maxPageDigits
	for _, c := range []byte(v) {
		bad = bad || c < '0' || c > '9'
	}
	if n, err := strconv.Atoi(v); !bad && err == nil && n >= 1 {
		return n, nil
	}
	return 0, rating.Invalid("page", "a whole number from 1 to %s, got %s", strings.Repeat("9", maxPageDigits), rating.Quote(errdefs.Clip(v, 32)))
}

// pagedParams reads a paginated page's query: the parameters named, and
// its page number (page=, 1 when absent).
func pagedParams(raw string, names ...string) (map[string]string, int, error) {
	params, err := pageParams(raw, append(names, "page")...)
	if err != nil {
		return nil, 0, err
	}
	page, err := pageNumber(params["page"])
	return params, page, err
}

func (h *HTTP) indexPage(w http.ResponseWriter, r *http.Request) {
	h.servePage(w, r, "/", h.buildIndexPage)
}

func (h *HTTP) buildIndexPage() (int, []byte) {
	return h.page(http.StatusOK, "index.html", map[string]any{"Tasks": h.taskLinks(), "Scheme": h.s.CurrentScheme().Version, "Release": releaseName(h.s.Release())})
}

// releaseName is a release's name, "" for none.
func releaseName(rel *rating.Release) string {
	if rel == nil {
		return ""
	}
	return rel.Name
}

// taskPage answers /tasks/{task}: its cohorts, taskPageCohorts a page
// (page=N), each with its best taskCohortRows models and a link to the
// rest; or, with cohort=<anchor>, the pages of one cohort, cohortPageRows
// models a page. A page past the last is a 404 that links back to the
// first and the last. Each page is built once per revision of the index
// (see pageCache).
func (h *HTTP) taskPage(w http.ResponseWriter, r *http.Request) {
	t, ok := rating.LookupTask(r.PathValue("task"))
	if !ok {
		h.unknownTask(w, r.PathValue("task"))
		return
	}
	params, page, err := pagedParams(r.URL.RawQuery, "cohort")
	if err != nil {
		h.problem(w, err)
		return
	}
	anchor, one := params["cohort"]
	switch {
	case one && anchor == "":
		err = rating.Invalid("cohort", "empty: give the anchor of one of the task's cohorts, as its “all models” link does")
	case len(anchor) > maxCohortParam:
		err = rating.Invalid("cohort", "%d bytes, more than any cohort's anchor (at most %d)", len(anchor), maxCohortParam)
	}
	if err != nil {
		h.problem(w, err)
		return
	}
	if one {
		h.servePage(w, r, cohortURL(t.ID, anchor, page), func() (int, []byte) { return h.buildCohortPage(t, anchor, page) })
		return
	}
	h.servePage(w, r, taskURL(t.ID, page), func() (int, []byte) { return h.buildTaskPage(t, page) })
}

// taskCohorts are a task's cohorts, in the order its pages list them.
func (h *HTTP) taskCohorts(task string) []rating.Cohort {
	return h.s.Index().Cohorts(func(c rating.Cohort) bool { return c.Task == task })
}

func (h *HTTP) buildTaskPage(t rating.Task, page int) (int, []byte) {
	cohorts := h.taskCohorts(t.ID)
	pg := newPager("Pages of cohorts", "cohorts", page, taskPageCohorts, len(cohorts), func(n int) string { return taskURL(t.ID, n) })
	if page > pg.Pages {
		return h.pastTheEnd(t.ID, "cohorts", pg)
	}
	tables := make([]cohortTable, 0, taskPageCohorts)
	for _, c := range cohorts[pg.offset():pg.To] {
		rated, total := h.s.Index().ListCohortAt(c, 0, taskCohortRows)
		tb := h.cohortTable(c, rated)
		if tb.Total = total; total > len(rated) {
			tb.More = cohortURL(t.ID, tb.ID, 1)
		}
		tables = append(tables, tb)
	}
	return h.page(http.StatusOK, "task.html", map[string]any{"Title": t.ID, "Task": t, "Cohorts": tables, "Scheme": h.s.CurrentScheme().Version,
		"Pager": pg, "PerCohort": cohortPageRows})
}

// buildCohortPage renders a page of one cohort of a task, the one whose
// anchor is given. Two cohorts of a task whose names differ only where an
// anchor has "_" share an anchor; the first in cohort order answers.
func (h *HTTP) buildCohortPage(t rating.Task, anchor string, page int) (int, []byte) {
	cohorts := h.taskCohorts(t.ID)
	at := slices.IndexFunc(cohorts, func(c rating.Cohort) bool { return cohortAnchor(c.Dataset, c.Hardware, c.SizeClass) == anchor })
	if at < 0 {
		return h.problemPage(errdefs.New(errdefs.NotFound, "Task "+t.ID+" has no cohort "+rating.Quote(errdefs.Clip(anchor, errdefs.MaxMessageBytes))+"."),
			t.ID, pageLink{Href: taskURL(t.ID, 1), Text: "Every cohort of " + t.ID})
	}
	c := cohorts[at]
	_, total := h.s.Index().ListCohortAt(c, 0, 0)
	pg := newPager("Pages of this cohort", "models", page, cohortPageRows, total, func(n int) string { return cohortURL(t.ID, anchor, n) })
	if page > pg.Pages {
		return h.pastTheEnd(t.ID+" · "+anchor, "models of this cohort", pg)
	}
	rated, total := h.s.Index().ListCohortAt(c, pg.offset(), cohortPageRows)
	if total != pg.Total { // the cohort grew between the two reads: place the page again
		pg = newPager(pg.Label, pg.Noun, page, cohortPageRows, total, pg.url)
	}
	tb := h.cohortTable(c, rated)
	tb.Total = total
	back := cohortLink(t.ID, at, tb.ID)
	return h.page(http.StatusOK, "task.html", map[string]any{"Title": t.ID + " · " + anchor, "Task": t, "Cohorts": []cohortTable{tb},
		"Scheme": h.s.CurrentScheme().Version, "Pager": pg, "Single": true, "Back": back})
}

// cohortTable is the table of a cohort's rows: rated, best first.
func (h *HTTP) cohortTable(c rating.Cohort, rated []index.Rated) cohortTable {
	tb := cohortTable{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware, Basis: c.Basis.String(), Unit: c.Basis.Symbol(),
		ID: cohortAnchor(c.Dataset, c.Hardware, c.SizeClass), PerUnit: c.Basis != rating.Query}
	chart := label.StripChart{Unit: tb.Unit}
	tb.Ratings = make([]ratingView, 0, len(rated))
	for i := range rated {
		p := wire.Rating(&rated[i], h.s.CurrentScheme(), h.s.Release())
		tb.Ratings = append(tb.Ratings, viewOf(p))
		if tb.Ranked == "" && p.GetRelease() != "" && p.GetReleaseCohortSize() > 0 {
			tb.Ranked = fmt.Sprintf("among the %d reference models of release %s", p.GetReleaseCohortSize(), p.GetRelease())
		}
		chart.Reference = p.GetReference()
		chart.Points = append(chart.Points, label.StripPoint{Model: p.Model, Href: "/models/" + p.Model, X: p.EnergyPerUnit, Grade: p.GetGrade()})
	}
	// Best first by the figures the ratings show, as the index orders
	// them: a corrected one takes the place of its determined figure, not
	// its declared one.
	slices.SortStableFunc(tb.Ratings, func(a, b ratingView) int { return cmp.Compare(a.EnergyPerUnit, b.EnergyPerUnit) })
	// The chart holds only shapes, links to this server and text that
	// it escapes itself.
	tb.Chart = template.HTML(chart.SVG())
	return tb
}

// taskURL is the address of a page of a task's cohorts; the first page
// has no page=.
func taskURL(task string, page int) string {
	u := "/tasks/" + task
	if page > 1 {
		u += "?page=" + strconv.Itoa(page)
	}
	return u
}

// cohortURL is the address of a page of one cohort of a task.
func cohortURL(task, anchor string, page int) string {
	u := "/tasks/" + task + "?cohort=" + url.QueryEscape(anchor)
	if page > 1 {
		u += "&page=" + strconv.Itoa(page)
	}
	return u
}

// cohortLink is the address of a cohort's table on its task's pages: the
// page that holds the at-th of the task's cohorts, and the table's anchor.
func cohortLink(task string, at int, anchor string) string {
	return taskURL(task, at/taskPageCohorts+1) + "#" + anchor
}

// modelPage answers /models/{owner}/{name}: the model's ratings, one card
// per cohort in cohort order, modelPageCohorts a page (page=N). A page
// past the last is a 404 that links back to the first and the last; a
// model with no rating is a 404 that says so. Each page is built once per
// revision of the index (see pageCache).
func (h *HTTP) modelPage(w http.ResponseWriter, r *http.Request) {
	model := r.PathValue("owner") + "/" + r.PathValue("name")
	if err := rating.ValidateModel(model); err != nil {
		h.problem(w, err)
		return
	}
	_, page, err := pagedParams(r.URL.RawQuery)
	if err != nil {
		h.problem(w, err)
		return
	}
	h.servePage(w, r, modelURL(model, page), func() (int, []byte) { return h.buildModelPage(model, page) })
}

func (h *HTTP) buildModelPage(model string, page int) (int, []byte) {
	_, total := h.s.Index().ModelRatingsAt(model, 0, 0)
	pg := newPager("Pages of this model's ratings", "ratings", page, modelPageCohorts, total, func(n int) string { return modelURL(model, n) })
	if page > pg.Pages {
		return h.pastTheEnd(model, "ratings of "+model, pg)
	}
	rated, total := h.s.Index().ModelRatingsAt(model, pg.offset(), modelPageCohorts)
	if total != pg.Total {
		pg = newPager(pg.Label, pg.Noun, page, modelPageCohorts, total, pg.url)
	}
	// Each card links its cohort's table, on the page of its task that
	// holds it.
	places := map[rating.Cohort]int{}
	for i := range rated {
		if c := rated[i].Measure.Cohort; places[c] == 0 {
			for j, tc := range h.taskCohorts(c.Task) {
				places[tc] = j + 1
			}
		}
	}
	views := make([]modelView, 0, len(rated))
	for i := range rated {
		p := wire.Rating(&rated[i], h.s.CurrentScheme(), h.s.Release())
		// Each card shows its own cohort's images, whatever the model's
		// other cohorts of the task.
		q := cardQuery(p)
		views = append(views, modelView{Rating: viewOf(p), Query: "?" + q, Markdown: label.Markdown(h.s.BaseURL(), p.Model, q),
			ShieldsMarkdown: label.ShieldsMarkdown(h.s.BaseURL(), p.Model, q),
			Leaderboard:     cohortLink(p.Task, places[rated[i].Measure.Cohort]-1, cohortAnchor(p.Dataset, p.Hardware, p.SizeClass))})
	}
	status := http.StatusOK
	if len(views) == 0 {
		status = http.StatusNotFound
	}
	owner, _, _ := strings.Cut(model, "/")
	return h.page(status, "model.html", map[string]any{"Model": model, "Owner": owner, "Ratings": views, "Pager": pg})
}

// modelURL is the address of a page of a model's ratings.
func modelURL(model string, page int) string {
	u := "/models/" + model
	if page > 1 {
		u += "?page=" + strconv.Itoa(page)
	}
	return u
}

// cardQuery is the query of a card's images, naming its cohort: task,
// hardware and dataset. A "/" stays as it is, as a query may have it, so
// that the cache lookup of a badge from a model card unescapes nothing.
func cardQuery(p *energylabelv1.Rating) string {
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/") }
	return "task=" + esc(p.GetTask()) + "&hardware=" + esc(p.GetHardware()) + "&dataset=" + esc(p.GetDataset())
}

// cohortAnchor is the id of a cohort's table on its task's page:
// "AIEnergyScore/text_generation/H100/A". Within a task the dataset, the
// hardware and the size class tell cohorts apart (a dataset has one basis).
func cohortAnchor(dataset, hardware, sizeClass string) string {
	id := dataset + "/" + hardware
	if sizeClass != "" {
		id += "/" + sizeClass
	}
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '#' || r == '%' || r == '"' {
			return '_'
		}
		return r
	}, id)
}

// sizeClassNote says what a size class means, as the label says it
// (label.SizeClassText, after the letter): "≤ 20 billion parameters".
func sizeClassNote(class string) string {
	_, note, ok := strings.Cut(label.SizeClassText(class), " · ")
	if !ok {
		return ""
	}
	return note
}
