package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// RatingQuery asks for a model's ratings: on the task, hardware and
// dataset given (each optional), or the one a badge of the model shows.
type RatingQuery struct {
	Model, Task, Hardware, Dataset string
	// Scheme is the grade scheme version to grade under; "" is the
	// current one.
	Scheme   string
	ForBadge bool
}

// Explained are ratings with what explains them: the grade scheme they
// are graded under and the release their stars come from.
type Explained struct {
	Ratings []index.Rated
	Scheme  *rating.GradeScheme
	Release *rating.Release
}

// GetRating answers a RatingQuery: NotFound when the model has no rating
// that matches it.
func (s *Service) GetRating(q RatingQuery) (Explained, error) {
	scheme, err := s.Scheme(q.Scheme)
	if err != nil {
		return Explained{}, err
	}
	rated, err := s.chosenRatings(q)
	if err != nil {
		return Explained{}, err
	}
	if len(rated) == 0 {
		return Explained{}, fmt.Errorf("model %q has no rating%s: %w", q.Model, q.narrowedTo(), storage.ErrNotFound)
	}
	return Explained{Ratings: rated, Scheme: scheme, Release: s.Release()}, nil
}

// chosenRatings are the ratings a query asks for.
func (s *Service) chosenRatings(q RatingQuery) ([]index.Rated, error) {
	if err := rating.ValidateModel(q.Model); err != nil {
		return nil, err
	}
	c, err := ChoiceOf(s.Registry().Accelerators, q.Task, q.Hardware, q.Dataset)
	if err != nil {
		return nil, err
	}
	if q.ForBadge {
		r, ok, err := s.ChosenRating(q.Model, c)
		if !ok || err != nil {
			return nil, err
		}
		return []index.Rated{r}, nil
	}
	all := s.index.ModelRatings(q.Model)
	out := all[:0] // all is ours: filter it in place
	for _, r := range all {
		if c.Matches(r.Measure.Cohort) {
			out = append(out, r)
		}
	}
	return out, nil
}

// narrowedTo says what a query narrowed its ratings to, for a message.
func (q RatingQuery) narrowedTo() string {
	var parts []string
	for _, p := range [][2]string{{"task", q.Task}, {"hardware", q.Hardware}, {"dataset", q.Dataset}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " for " + strings.Join(parts, ", ")
}

// ListQuery asks for a page of ratings of the cohorts of a task.
type ListQuery struct {
	Task, Dataset, SizeClass, Hardware string
	PageToken                          string
	PageSize                           int
}

// ListRatings is a page of the ratings of the cohorts q selects, best
// first, under the current scheme.
func (s *Service) ListRatings(q ListQuery) (Page, error) {
	f, err := parseFilter(s.Registry(), q.Task, q.Dataset, q.SizeClass, q.Hardware)
	if err != nil {
		return Page{}, err
	}
	return s.List(f, q.PageToken, q.PageSize)
}

// WatchQuery asks for the results stored from a revision on, of one
// model, task or namespace (each optional).
type WatchQuery struct {
	Model, Task, Namespace string
	// From is the revision to replay from; 0 is now, with no replay.
	From int64
}

// WatchFilter is a checked WatchQuery: what a watch's events must match.
type WatchFilter struct {
	model, task, namespace string
	// From is the revision the watch starts after.
	From int64
}

// Matches reports whether a result's entry is one the watch asked for.
func (f WatchFilter) Matches(c *storage.Current) bool {
	if f.model != "" && c.Model != f.model || f.task != "" && c.Measure.Cohort.Task != f.task {
		return false
	}
	owner, _, _ := strings.Cut(c.Model, "/")
	return f.namespace == "" || owner == f.namespace
}

// CheckWatch checks a WatchQuery, and fixes its start: "now" becomes the
// read model's revision.
func (s *Service) CheckWatch(q WatchQuery) (WatchFilter, error) {
	f := WatchFilter{model: q.Model, namespace: q.Namespace, From: q.From}
	if f.model != "" {
		if err := rating.ValidateModel(f.model); err != nil {
			return f, err
		}
	}
	if f.namespace != "" && rating.ValidateModel(f.namespace+"/x") != nil {
		return f, rating.Invalid("namespace", "%s is not a model owner", rating.Quote(f.namespace))
	}
	if q.Task != "" {
		t, ok := rating.LookupTask(q.Task)
		if !ok {
			return f, rating.UnknownTask("task", q.Task)
		}
		f.task = t.ID
	}
	switch {
	case f.From < 0:
		return f, rating.Invalid("start_revision", "must not be negative, got %d", f.From)
	case f.From == 0:
		f.From = s.index.Revision()
	}
	return f, nil
}

// Watch follows the backend's changes after f.From, pre-filtered by model
// and namespace (Matches does the rest), until ctx ends.
func (s *Service) Watch(ctx context.Context, f WatchFilter) <-chan storage.WatchResponse {
	return s.backend.Watch(ctx, f.From, storage.WatchFilter{Model: f.model, Owner: f.namespace})
}

// AsAccepted is an accepted result as its label said then, placed in its
// cohort as the read model has it now: what a watcher sees of it.
func (s *Service) AsAccepted(h *storage.HistoryEntry) index.Rated { return s.rated(h.Current) }

// Revision is the read model's revision: the backend's last applied.
func (s *Service) Revision() int64 { return s.index.Revision() }

// SchemeVersions are the published grade schemes' versions, oldest first.
func (s *Service) SchemeVersions() []string {
	out := make([]string, len(s.schemeList))
	for i, sc := range s.schemeList {
		out[i] = sc.Version
	}
	return out
}

// Stars is a rated entry's stars under the current release, 0 for none.
func (s *Service) Stars(r *index.Rated) int { return s.Release().Stars(r.Shown()).Stars }
