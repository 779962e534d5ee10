package server

import (
	"context"
	"net/http"
	"time"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// What the web (package web) reads of the application service, besides
// the methods every surface shares.

// Index is the read model.
func (s *Server) Index() *index.Index { return s.index }

// CurrentScheme is the grade scheme ratings are graded under now.
func (s *Server) CurrentScheme() *rating.GradeScheme { return s.current }

// BaseURL is the public HTTP address that labels and pages link to.
func (s *Server) BaseURL() string { return s.baseURL }

// StalenessHeader is the value of the StalenessHeader of a read now.
func (s *Server) StalenessHeader() []string { return s.staleness().http }

// ClientAddr is the address per-client limits count an HTTP request as.
func (s *Server) ClientAddr(r *http.Request) string {
	return s.limits.clientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}

// SpendReads takes n costly reads from a client address's budget, or
// says, with a RetryLater error, when to try again.
func (s *Server) SpendReads(addr string, n int) error { return s.reads.takeN(addr, n, time.Now()) }

// TakeRenderSlot holds one of the server's PNG render slots until release
// is called, or says, with a RetryLater error, that none came free.
func (s *Server) TakeRenderSlot(ctx context.Context) (release func(), err error) {
	return s.renders.take(ctx)
}

// RecentHistory is a model's newest results in a cohort, oldest first,
// for a chart.
func (s *Server) RecentHistory(ctx context.Context, model string, c rating.Cohort, limit int) ([]storage.HistoryEntry, error) {
	return s.backend.History(ctx, storage.HistoryQuery{Model: model, Task: c.Task, Dataset: c.Dataset, Hardware: c.Hardware, Limit: limit, Newest: true})
}

// RetryLater is an error that says when to try again: a client past its
// budget, or a server without a free render slot.
type RetryLater interface {
	error
	RetryDelay() time.Duration
}

// RetryAfter is a Retry-After header's value: whole seconds, at least 1.
func RetryAfter(d time.Duration) string { return retrySeconds(d) }

// PNGRenderCost is what drawing a PNG label costs in reads (readBudget).
const PNGRenderCost = pngRenderCost

// StalenessHTTPHeader is StalenessHeader in canonical HTTP form.
const StalenessHTTPHeader = httpStalenessHeader
