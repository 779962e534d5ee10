// Package service is energylabel's application service: submitting,
// verifying, rating, registries, releases, imports and quotas over a
// storage backend and the read model that follows it, for the surfaces
// (package grpcapi, package web) to decode, call and encode.
package service

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/energylabel/energylabel/auth"
	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/limits"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Config holds what a Server is built from.
type Config struct {
	// Backend keeps everything; the server reads from its own index, which
	// follows the backend's events.
	Backend storage.Backend
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
	SubmitLimit limits.RateLimit
	// StaleAfter is how long the backend may go without confirming the
	// index current before the server reports itself not ready; 0 means
	// DefaultStaleAfter.
	StaleAfter time.Duration
	// Quotas bound what each namespace's publishers store a day; the
	// admin token is exempt. The zero value takes DefaultQuota for all.
	Quotas *Quotas
}

// DefaultStaleAfter is ten of the backend's progress intervals.
const DefaultStaleAfter = 10 * storage.ProgressInterval

// Service rates results. Its methods are the operations behind both the
// gRPC and the HTTP surfaces.
type Service struct {
	backend storage.Backend
	index   *index.Index
	tokens  *auth.Tokens
	follow  follower
	schemes map[string]*rating.GradeScheme
	// schemeList are the schemes in version order; the last is current.
	schemeList []*rating.GradeScheme
	current    *rating.GradeScheme
	admin      adminSecret
	log        *slog.Logger
	now        func() time.Time
	baseURL    string
	limiter    *submitLimiter
	// quotas and usage bound what each namespace stores a day.
	quotas  Quotas
	usage   usage
	metrics *metrics
	reg     registries
	// staleAfter is Config.StaleAfter.
	staleAfter time.Duration
}

// New builds a Service: it loads the backend's snapshot into its index and
// follows the backend's events until Close.
func New(cfg Config) (*Service, error) {
	if cfg.Backend == nil || len(cfg.Schemes) == 0 {
		return nil, fmt.Errorf("service: a backend and at least one grade scheme are needed")
	}
	s := &Service{
		backend: cfg.Backend,
		index:   index.New(),
		tokens:  auth.New(),
		schemes: map[string]*rating.GradeScheme{},
		current: cfg.Schemes[len(cfg.Schemes)-1],
		admin:   newAdminSecret(cfg.AdminToken),
		log:     cfg.Logger,
		now:     cfg.Now,
		baseURL: cfg.BaseURL,
		limiter: newSubmitLimiter(cfg.SubmitLimit),

		staleAfter: cmp.Or(cfg.StaleAfter, DefaultStaleAfter),
	}
	for _, sc := range cfg.Schemes {
		s.schemes[sc.Version] = sc
	}
	s.schemeList = slices.Clone(cfg.Schemes)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.quotas = Quotas{Default: DefaultQuota}
	if cfg.Quotas != nil {
		s.quotas = *cfg.Quotas
	}
	s.metrics = newMetrics(s)
	if err := s.startFollowing(); err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return s, nil
}

// Close stops following the backend; the caller closes the backend after.
func (s *Service) Close() { s.follow.stop() }

// Submit validates, normalises and stores one result, as src vouches for
// it, and returns its rating once the index has it, so that a reader on
// this server sees it at once. The rating is the submitted result's own,
// whatever else commits at the same time.
func (s *Service) Submit(ctx context.Context, r *rating.Result, src rating.Source, a storage.Audit) (index.Rated, error) {
	acc, err := s.accept(r, src, a)
	if err != nil {
		return index.Rated{}, err
	}
	if src == rating.Publisher {
		owner, _, _ := strings.Cut(r.Model, "/")
		if err := s.usage.check(s.quotas.of(owner), owner, 1, s.now()); err != nil {
			return index.Rated{}, err
		}
	}
	id, rev, err := s.backend.Append(ctx, []storage.Accepted{acc})
	if err != nil {
		return index.Rated{}, err
	}
	if err := s.caughtUp(ctx, rev, fmt.Sprintf("result %d", id)); err != nil {
		return index.Rated{}, err
	}
	return s.ratedAs(id, &acc), nil
}

// ratedAs is the rating of a result just stored as id: the index's, unless
// another result of the model in the cohort committed after it.
func (s *Service) ratedAs(id uint64, acc *storage.Accepted) index.Rated {
	if r, ok := s.index.Rating(acc.Result.Model, acc.Measure.Cohort); ok && r.ID == id {
		return r
	}
	return s.rated(storage.CurrentOf(id, acc))
}

// rated is an entry that is not, or no longer, the index's current one, as
// its source vouches for it, placed in the current release.
func (s *Service) rated(e storage.Current) index.Rated {
	r := index.Rated{Entry: e, Survey: rating.Survey{Status: rating.StatusDeclared}}
	if e.Source == rating.Published {
		r.Survey.Status = rating.StatusPublished
	}
	r.Rank, r.RankOf = s.index.Place(e.Measure.Cohort, e.Measure.X())
	return r
}

// carried is the reference a publisher's new result in a cohort carries
// forward: the model's latest reference result there, so that declaring a
// new figure takes no reference out of the next release.
func (s *Service) carried(model string, c rating.Cohort) storage.Reference {
	if cur, ok := s.index.Rating(model, c); ok {
		if ref, ok := cur.Reference(); ok {
			return ref
		}
	}
	return storage.Reference{}
}

// accept validates and normalises a result, and records what its label
// says at acceptance: the grade under the current scheme, the stars of the
// current release.
func (s *Service) accept(r *rating.Result, src rating.Source, a storage.Audit) (storage.Accepted, error) {
	if err := rating.ValidatePayloadHash(a.PayloadSHA256); err != nil {
		return storage.Accepted{}, err
	}
	m, err := s.Registry().Normalise(r, src)
	if err != nil {
		return storage.Accepted{}, err
	}
	if err := s.checkIdentity(r, src); err != nil {
		return storage.Accepted{}, err
	}
	a.Fingerprint = s.fingerprint(r, src)
	if a.ReceivedAt.IsZero() {
		a.ReceivedAt = s.now()
	}
	g := s.current.Grade(m)
	st := s.Release().Stars(m)
	acc := storage.Accepted{Result: r, Measure: m, Audit: a, Source: src, Label: storage.Label{
		Grade: g.Grade.String(), EEI: g.EEI, Scheme: s.current.Version, Stars: st.Stars, Release: st.Release}}
	if src == rating.Publisher {
		acc.Carried = s.carried(r.Model, m.Cohort)
	}
	return acc, nil
}

// Scheme returns a published grade scheme version; "" is the current one.
func (s *Service) Scheme(version string) (*rating.GradeScheme, error) {
	if version == "" {
		return s.current, nil
	}
	if sc, ok := s.schemes[version]; ok {
		return sc, nil
	}
	return nil, rating.Invalid("scheme", "unknown grade scheme %q (current is %s)", version, s.current.Version)
}

// Logger is the service's log, for the surfaces that serve it.
func (s *Service) Logger() *slog.Logger { return s.log }
