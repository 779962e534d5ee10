package server

import (
	"bytes"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
)

// leaderboardLimit caps a cohort's table on a page; the API pages further.
const leaderboardLimit = 500

type cohortTable struct {
	Task, Dataset, SizeClass, Hardware, Basis, Unit string
	// ID is the table's anchor, which model pages link to.
	ID string
	// PerUnit is set when the cohort is graded per output unit, so that
	// its energy per unit is a figure of its own.
	PerUnit bool
	Ratings []*energylabelv1.Rating
	More    bool
	// Chart is the cohort's strip chart, inline SVG.
	Chart template.HTML
}

type taskLink struct {
	ID, Alias, Unit string
	Ratings         int
}

type modelView struct {
	Rating   *energylabelv1.Rating
	Query    string // ?task=…&hardware=…&dataset=…, for image links
	Markdown string
	// Leaderboard is the address of the rating's cohort table.
	Leaderboard string
}

// render executes a page template; nothing is loaded from other hosts.
func (h *HTTP) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		httpError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; img-src 'self'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (h *HTTP) indexPage(w http.ResponseWriter, _ *http.Request) {
	var tasks []taskLink
	for _, t := range rating.Tasks() {
		n := 0
		for _, c := range h.s.index.Cohorts(func(c rating.Cohort) bool { return c.Task == t.ID }) {
			if top := h.s.index.ListCohort(c, nil, 1); len(top) > 0 {
				n += top[0].CohortSize
			}
		}
		tasks = append(tasks, taskLink{ID: t.ID, Alias: t.AIESAlias, Unit: t.Unit.Symbol(), Ratings: n})
	}
	h.render(w, http.StatusOK, "index.html", map[string]any{"Tasks": tasks, "Scheme": h.s.current.Version})
}

func (h *HTTP) taskPage(w http.ResponseWriter, r *http.Request) {
	t, ok := rating.LookupTask(r.PathValue("task"))
	if !ok {
		http.Error(w, html.EscapeString(clip("unknown task "+r.PathValue("task"), maxMessageBytes)), http.StatusNotFound)
		return
	}
	var tables []cohortTable
	for _, c := range h.s.index.Cohorts(func(c rating.Cohort) bool { return c.Task == t.ID }) {
		rated := h.s.index.ListCohort(c, nil, leaderboardLimit+1)
		tb := cohortTable{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware, Basis: c.Basis.String(), Unit: c.Basis.Symbol(),
			ID: cohortAnchor(c.Dataset, c.Hardware, c.SizeClass), PerUnit: c.Basis != rating.Query}
		if len(rated) > leaderboardLimit {
			rated, tb.More = rated[:leaderboardLimit], true
		}
		chart := label.StripChart{Unit: tb.Unit}
		for i := range rated {
			p := h.s.ratingProto(&rated[i], h.s.current)
			tb.Ratings = append(tb.Ratings, p)
			chart.Reference = p.GetReference()
			chart.Points = append(chart.Points, label.StripPoint{Model: p.Model, Href: "/models/" + p.Model, X: p.EnergyPerUnit, Grade: p.GetGrade()})
		}
		// The chart holds only shapes, links to this server and text that
		// it escapes itself.
		tb.Chart = template.HTML(chart.SVG())
		tables = append(tables, tb)
	}
	h.render(w, http.StatusOK, "task.html", map[string]any{"Task": t, "Cohorts": tables, "Scheme": h.s.current.Version})
}

func (h *HTTP) modelPage(w http.ResponseWriter, r *http.Request) {
	model := r.PathValue("owner") + "/" + r.PathValue("name")
	rated, err := h.s.ModelRatings(model, "")
	if err != nil {
		http.Error(w, html.EscapeString(clip(err.Error(), maxMessageBytes)), http.StatusNotFound)
		return
	}
	var views []modelView
	for i := range rated {
		p := h.s.ratingProto(&rated[i], h.s.current)
		// Each card shows its own cohort's images, whatever the model's
		// other cohorts of the task.
		q := cardQuery(p)
		views = append(views, modelView{Rating: p, Query: "?" + q, Markdown: label.Markdown(h.s.baseURL, p.Model, q),
			Leaderboard: "/tasks/" + p.Task + "#" + cohortAnchor(p.Dataset, p.Hardware, p.SizeClass)})
	}
	status := http.StatusOK
	if len(views) == 0 {
		status = http.StatusNotFound
	}
	h.render(w, status, "model.html", map[string]any{"Model": model, "Ratings": views})
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

// sizeClassNote says what a size class means, as rating.SizeClass draws
// the lines: A ≤ 20 B parameters < B ≤ 66 B < C.
func sizeClassNote(class string) string {
	switch class {
	case "A":
		return "up to 20 B parameters"
	case "B":
		return "over 20 B, up to 66 B parameters"
	case "C":
		return "over 66 B parameters"
	}
	return ""
}

// shortUnit is a unit as a table cell has room for: "Wh/1k" of "Wh/1k
// queries"; a caption or column head gives the whole unit.
func shortUnit(unit string) string {
	return strings.TrimSuffix(unit, " queries")
}
