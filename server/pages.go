package server

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/energylabel/energylabel/internal/wire"
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
	Ratings []ratingView
	More    bool
	// Chart is the cohort's strip chart, inline SVG.
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
		rv.Declared = label.FormatEnergy(v.GetDeclaredWhPer_1KQueries(), "Wh")
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

type taskLink struct {
	ID, Alias, Unit string
	Ratings         int
}

type modelView struct {
	Rating   ratingView
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
			tb.Ratings = append(tb.Ratings, viewOf(p))
			if tb.Ranked == "" && p.GetRelease() != "" && p.GetReleaseCohortSize() > 0 {
				tb.Ranked = fmt.Sprintf("among the %d reference models of release %s", p.GetReleaseCohortSize(), p.GetRelease())
			}
			chart.Reference = p.GetReference()
			chart.Points = append(chart.Points, label.StripPoint{Model: p.Model, Href: "/models/" + p.Model, X: p.EnergyPerUnit, Grade: p.GetGrade()})
		}
		// Best first by the figures the ratings show: a corrected one
		// takes the place of its determined figure, not its declared one.
		slices.SortStableFunc(tb.Ratings, func(a, b ratingView) int { return cmp.Compare(a.EnergyPerUnit, b.EnergyPerUnit) })
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
		views = append(views, modelView{Rating: viewOf(p), Query: "?" + q, Markdown: label.Markdown(h.s.baseURL, p.Model, q),
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
