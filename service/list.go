package service

import (
	"encoding/base64"
	"encoding/json"
	"slices"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
)

// Page sizes of ListRatings.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// Filter selects cohorts; empty fields match every value.
type Filter struct {
	Task      string
	Dataset   string
	SizeClass string
	Hardware  string
}

func (f Filter) keep(c rating.Cohort) bool {
	return c.Task == f.Task &&
		(f.Dataset == "" || c.Dataset == f.Dataset) &&
		(f.SizeClass == "" || c.SizeClass == f.SizeClass) &&
		(f.Hardware == "" || c.Hardware == f.Hardware)
}

// parseFilter checks a cohort filter. The task is required; an empty
// dataset means the task's default one.
func parseFilter(reg rating.Registry, task, dataset, sizeClass, hardware string) (Filter, error) {
	if task == "" {
		return Filter{}, rating.Invalid("task", "required (see ListTasks)")
	}
	t, ok := rating.LookupTask(task)
	if !ok {
		return Filter{}, rating.UnknownTask("task", task)
	}
	if sizeClass != "" && !slices.Contains([]string{"A", "B", "C"}, sizeClass) {
		return Filter{}, rating.Invalid("size_class", "must be A, B or C, got %q", sizeClass)
	}
	f := Filter{Task: t.ID, Dataset: dataset, SizeClass: sizeClass}
	if f.Dataset == "" {
		f.Dataset = t.DefaultDataset
	}
	if hardware != "" {
		// A filter may name a family the registry lacks: it then matches
		// nothing, rather than failing.
		if f.Hardware = reg.Accelerators.Family(hardware); f.Hardware == "" {
			f.Hardware = hardware
		}
	}
	return f, nil
}

// Page is one page of ratings, cohort by cohort, best first.
type Page struct {
	Ratings []index.Rated
	// Next continues the listing; empty on the last page.
	Next string
}

// pageToken is where a page ended: a cohort and a cursor in it.
type pageToken struct {
	Cohort rating.Cohort `json:"c"`
	// Start means the page begins at the top of Cohort.
	Start bool    `json:"s,omitempty"`
	X     float64 `json:"x,omitempty"`
	Model string  `json:"m,omitempty"`
}

// List returns a page of the cohorts matching f.
func (s *Service) List(f Filter, token string, size int) (Page, error) {
	if size <= 0 {
		size = defaultPageSize
	}
	size = min(size, maxPageSize)
	cohorts := s.index.Cohorts(f.keep)
	var after *index.Cursor
	if token != "" {
		var pt pageToken
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err == nil {
			err = json.Unmarshal(raw, &pt)
		}
		i := slices.Index(cohorts, pt.Cohort)
		if err != nil || i < 0 || !f.keep(pt.Cohort) {
			return Page{}, rating.Invalid("page_token", "not a token from this listing")
		}
		cohorts = cohorts[i:]
		if !pt.Start {
			after = &index.Cursor{X: pt.X, Model: pt.Model}
		}
	}
	var page Page
	for _, c := range cohorts {
		// Ask for one more than fits, to know whether a next page exists.
		got := s.index.ListCohort(c, after, size-len(page.Ratings)+1)
		after = nil
		if fits := size - len(page.Ratings); len(got) > fits {
			next := pageToken{Cohort: c, Start: true}
			if fits > 0 {
				last := got[fits-1]
				next = pageToken{Cohort: c, X: last.Shown().X(), Model: last.Model}
			}
			page.Ratings = append(page.Ratings, got[:fits]...)
			raw, _ := json.Marshal(next)
			page.Next = base64.RawURLEncoding.EncodeToString(raw)
			return page, nil
		}
		page.Ratings = append(page.Ratings, got...)
	}
	return page, nil
}
