// Package server is energylabeld's edge: the gRPC services, their
// interceptors, and the HTTP surface, over a Store and the rating domain.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/store"
)

// Store is what the server needs of storage. The bbolt store implements it;
// a distributed one would implement the same.
type Store interface {
	Submit(ctx context.Context, r *rating.Result, m rating.Measure, a store.Audit) (store.Entry, error)
	// ModelRatings returns a new slice of a model's current ratings, one per
	// cohort, in cohort order.
	ModelRatings(model string) []store.Rated
	// ModelRating returns the one of them that a choice shows, and how
	// many the choice matches, without allocating: every badge asks.
	ModelRating(model string, c store.Choice) (store.Rated, int)
	Cohorts(keep func(rating.Cohort) bool) []rating.Cohort
	ListCohort(c rating.Cohort, after *store.Cursor, limit int) []store.Rated
	CreateToken(namespaces []string, expires time.Time) (store.Token, string, error)
	RevokeToken(id string) error
	Tokens() []store.Token
	Authenticate(secret string) (store.Token, error)
	// The registries operators extend, and the star releases.
	AddAccelerator(rating.Accelerator) error
	AddDataset(rating.Dataset) error
	Registered() ([]rating.Accelerator, []rating.Dataset, error)
	CreateRelease(*rating.Release) error
	Releases() ([]*rating.Release, error)
	// CohortBounds and EachLatest are what a release is made from.
	CohortBounds() map[rating.Cohort]rating.Bounds
	EachLatest(func(*store.Entry))
}

// Config holds what a Server is built from.
type Config struct {
	Store Store
	// Schemes are the published grade scheme versions; the last is current.
	Schemes []*rating.GradeScheme
	// AdminToken, when set, opens the admin API and acts as a "*" publisher.
	AdminToken string
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// BaseURL is the public HTTP address that labels link to.
	BaseURL string
	// SubmitLimit is each publisher token's submission rate; the admin
	// token, which bulk imports use, is exempt.
	SubmitLimit RateLimit
	// Limits bound streams and connections; the zero value takes the
	// defaults.
	Limits Limits
}

// Server rates results. Its methods are the domain operations behind both
// the gRPC and the HTTP surfaces.
type Server struct {
	store   Store
	schemes map[string]*rating.GradeScheme
	current *rating.GradeScheme
	admin   adminSecret
	log     *slog.Logger
	now     func() time.Time
	baseURL string
	limiter *submitLimiter
	limits  Limits
	metrics *metrics
	reg     registries
	// The HTTP surface's caches of rendered images.
	images    *imageCache
	responses *responseCache // nil when the store has no Version
}

// New builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || len(cfg.Schemes) == 0 {
		return nil, fmt.Errorf("server: a store and at least one grade scheme are needed")
	}
	s := &Server{
		store:   cfg.Store,
		schemes: map[string]*rating.GradeScheme{},
		current: cfg.Schemes[len(cfg.Schemes)-1],
		admin:   newAdminSecret(cfg.AdminToken),
		log:     cfg.Logger,
		now:     cfg.Now,
		baseURL: cfg.BaseURL,
		limiter: newSubmitLimiter(cfg.SubmitLimit),
		limits:  cfg.Limits.withDefaults(),
		images:  newImageCache(imageCacheBudget),
	}
	if err := s.reg.load(cfg.Store); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.responses = newResponseCache(cfg.Store, responseCacheBudget)
	s.metrics = newMetrics(s)
	for _, sc := range cfg.Schemes {
		s.schemes[sc.Version] = sc
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Submit validates, normalises and stores one result, as src vouches for it.
func (s *Server) Submit(ctx context.Context, r *rating.Result, src rating.Source, a store.Audit) (store.Entry, error) {
	if err := rating.ValidatePayloadHash(a.PayloadSHA256); err != nil {
		return store.Entry{}, err
	}
	m, err := s.Registry().Normalise(r, src)
	if err != nil {
		return store.Entry{}, err
	}
	if a.ReceivedAt.IsZero() {
		a.ReceivedAt = s.now()
	}
	return s.store.Submit(ctx, r, m, a)
}

// Scheme returns a published grade scheme version; "" is the current one.
func (s *Server) Scheme(version string) (*rating.GradeScheme, error) {
	if version == "" {
		return s.current, nil
	}
	if sc, ok := s.schemes[version]; ok {
		return sc, nil
	}
	return nil, rating.Invalid("scheme", "unknown grade scheme %q (current is %s)", version, s.current.Version)
}

// ModelRatings returns a model's current ratings, for one task or all.
func (s *Server) ModelRatings(model, task string) ([]store.Rated, error) {
	if err := rating.ValidateModel(model); err != nil {
		return nil, err
	}
	all := s.store.ModelRatings(model)
	if task == "" {
		return all, nil
	}
	t, ok := rating.LookupTask(task)
	if !ok {
		return nil, rating.Invalid("task", "unknown task %q", task)
	}
	out := all[:0] // all is ours: filter it in place
	for _, r := range all {
		if r.Measure.Cohort.Task == t.ID {
			out = append(out, r)
		}
	}
	return out, nil
}
