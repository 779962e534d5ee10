package server

import (
	"bytes"
	"html"
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
	Ratings                                         []*energylabelv1.Rating
	More                                            bool
}

type taskLink struct {
	ID, Alias, Unit string
	Ratings         int
}

type modelView struct {
	Rating   *energylabelv1.Rating
	Query    string // ?task=…&hardware=…&dataset=…, for image links
	Markdown string
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
		tb := cohortTable{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware, Basis: c.Basis.String(), Unit: c.Basis.Symbol()}
		if len(rated) > leaderboardLimit {
			rated, tb.More = rated[:leaderboardLimit], true
		}
		for i := range rated {
			tb.Ratings = append(tb.Ratings, h.s.ratingProto(&rated[i], h.s.current))
		}
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
		views = append(views, modelView{Rating: p, Query: "?" + q, Markdown: label.Markdown(h.s.baseURL, p.Model, q)})
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
