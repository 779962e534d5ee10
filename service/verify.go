package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// verifyTries bounds how often Verify starts again when another surveyor's
// measurement of the same result was stored between its read and its write.
const verifyTries = 3

// Verified is what a surveyor's measurement found.
type Verified struct {
	// Measure is the measurement's own.
	Measure rating.Measure
	// Within says whether it alone is within the tolerance of the
	// declared figure it was compared with.
	Within bool
	// Rated is the model's rating in the cohort now.
	Rated index.Rated
}

// Verify compares a surveyor's measurement of a model with the model's
// current declared result in the same cohort, under the current scheme's
// tolerance, and records it with the surveillance state it leaves (see
// rating.Survey.Measured). A model with no declared result there is
// NotFound; a corrected one is FailedPrecondition until its publisher
// declares a new result.
func (s *Service) Verify(ctx context.Context, r *rating.Result, a storage.Audit) (Verified, error) {
	m, err := s.Registry().Normalise(r, rating.Surveyor)
	if err != nil {
		return Verified{}, err
	}
	if a.ReceivedAt.IsZero() {
		a.ReceivedAt = s.now()
	}
	tol := s.current.Tolerance
	for try := 1; ; try++ {
		cur, ok := s.index.Rating(r.Model, m.Cohort)
		switch {
		case !ok || cur.Survey.Status == rating.StatusPublished:
			return Verified{}, fmt.Errorf("model %s has no declared result to verify in the cohort %s: %w",
				rating.Quote(r.Model), cohortName(m.Cohort), storage.ErrNotFound)
		case cur.Survey.Status == rating.StatusCorrected:
			return Verified{}, fmt.Errorf("%w: result %d of model %s is corrected already; its publisher's next result can be verified",
				errFailedPrecondition, cur.ID, rating.Quote(r.Model))
		}
		v := &storage.Verification{
			Model: r.Model, Cohort: m.Cohort, ResultID: cur.ID, TokenID: a.TokenID, At: storage.CanonicalTime(a.ReceivedAt),
			X: m.X(), WhPer1k: m.WhPer1kQueries,
			Declared:    storage.Reference{ResultID: cur.ID, X: cur.Measure.X(), WhPer1k: cur.Measure.WhPer1kQueries},
			Survey:      cur.Survey.Measured(cur.Measure.X(), m.X(), m.WhPer1kQueries, tol),
			Measurement: r, Audit: a,
		}
		rev, err := s.backend.AddVerification(ctx, v)
		if errors.Is(err, storage.ErrExists) && try < verifyTries {
			// Another surveyor's measurement of the same state landed
			// first: wait for it, and measure against the state it left.
			if rev, rerr := s.backend.Revision(ctx); rerr == nil {
				_ = s.index.WaitFor(ctx, rev)
			}
			continue
		}
		if err != nil {
			return Verified{}, err
		}
		if err := s.caughtUp(ctx, rev, "the verification"); err != nil {
			return Verified{}, err
		}
		now, _ := s.index.Rating(r.Model, m.Cohort)
		s.log.Info("verification", "model", r.Model, "result_id", cur.ID, "token_id", a.TokenID, "status", v.Survey.Status.String())
		return Verified{Measure: m, Within: rating.Within(cur.Measure.X(), m.X(), tol), Rated: now}, nil
	}
}

// cohortName spells a cohort for a message.
func cohortName(c rating.Cohort) string {
	parts := []string{c.Task, c.Dataset}
	if c.SizeClass != "" {
		parts = append(parts, "size class "+c.SizeClass)
	}
	return fmt.Sprintf("(%s, on %s)", strings.Join(parts, ", "), c.Hardware)
}
