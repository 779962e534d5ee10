package service

import (
	"context"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// What the web (package web) reads of the service, besides the methods
// every surface shares.

// Index is the read model.
func (s *Service) Index() *index.Index { return s.index }

// CurrentScheme is the grade scheme ratings are graded under now.
func (s *Service) CurrentScheme() *rating.GradeScheme { return s.current }

// BaseURL is the public HTTP address that labels and pages link to.
func (s *Service) BaseURL() string { return s.baseURL }

// RecentHistory is a model's newest results in a cohort, oldest first,
// for a chart.
func (s *Service) RecentHistory(ctx context.Context, model string, c rating.Cohort, limit int) ([]storage.HistoryEntry, error) {
	return s.backend.History(ctx, storage.HistoryQuery{Model: model, Task: c.Task, Dataset: c.Dataset, Hardware: c.Hardware, Limit: limit, Newest: true})
}
