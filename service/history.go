package service

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// History page sizes.
const (
	defaultHistoryPage = 100
	maxHistoryPage     = 1000
)

// History returns a page of a model's accepted results, oldest first,
// with the verifications of those results, and the token of the next page
// ("" on the last).
func (s *Service) History(ctx context.Context, model, task, hardware, dataset string, size int, pageToken string) ([]HistoryItem, string, error) {
	if err := rating.ValidateModel(model); err != nil {
		return nil, "", err
	}
	q := storage.HistoryQuery{Model: model, Dataset: dataset, Limit: defaultHistoryPage}
	if task != "" {
		t, ok := rating.LookupTask(task)
		if !ok {
			return nil, "", rating.UnknownTask("task", task)
		}
		q.Task = t.ID
	}
	if hardware != "" {
		if q.Hardware = s.Registry().Accelerators.Family(hardware); q.Hardware == "" {
			return nil, "", rating.Invalid("hardware", "unknown accelerator %s (see ListAccelerators)", rating.Quote(hardware))
		}
	}
	if len(dataset) > rating.MaxDatasetName {
		return nil, "", rating.Invalid("dataset", "at most %d bytes, got %d", rating.MaxDatasetName, len(dataset))
	}
	switch {
	case size < 0 || size > maxHistoryPage:
		return nil, "", rating.Invalid("page_size", "0 to %d, got %d", maxHistoryPage, size)
	case size > 0:
		q.Limit = size
	}
	if pageToken != "" {
		id, err := strconv.ParseUint(strings.TrimPrefix(pageToken, "h"), 10, 64)
		if err != nil || !strings.HasPrefix(pageToken, "h") {
			return nil, "", rating.Invalid("page_token", "not a token this server gave: %s", rating.Quote(pageToken))
		}
		q.After = id
	}
	want := q.Limit
	q.Limit++ // one more says whether there is a next page
	entries, err := s.backend.History(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(entries) > want {
		entries = entries[:want]
		next = "h" + strconv.FormatUint(entries[want-1].ID, 10)
	}
	return s.historyWith(model, q, entries, next == ""), next, nil
}

// historyWith merges a model's verifications into a page of its results:
// each verification of a result on the page (on the last page, of any
// later result too), in time order, so that history says who checked
// what and when.
func (s *Service) historyWith(model string, q storage.HistoryQuery, entries []storage.HistoryEntry, last bool) []HistoryItem {
	items := make([]HistoryItem, 0, len(entries))
	for i := range entries {
		items = append(items, HistoryItem{Result: &entries[i]})
	}
	vs := s.index.Verifications(model)
	if len(vs) == 0 {
		return items
	}
	hi := uint64(0)
	if len(entries) > 0 {
		hi = entries[len(entries)-1].ID
	}
	for i := range vs {
		v := &vs[i]
		if v.ResultID <= q.After || (!last && v.ResultID > hi) || !q.Matches(v.Cohort) {
			continue
		}
		items = append(items, HistoryItem{Verification: v})
	}
	slices.SortStableFunc(items, func(a, b HistoryItem) int { return a.at().Compare(b.at()) })
	return items
}

// HistoryItem is one entry of a history page: a result or a verification.
type HistoryItem struct {
	Result       *storage.HistoryEntry
	Verification *storage.Verification
}

func (h HistoryItem) at() time.Time {
	if h.Result != nil {
		return h.Result.ReceivedAt
	}
	return h.Verification.At
}
