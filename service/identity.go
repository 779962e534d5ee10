package service

import (
	"context"
	"fmt"
	"math"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
)

// ParamsTolerance is how far a later result's parameter count may be from
// the count a model's first accepted result fixed.
const ParamsTolerance = 0.01

// checkIdentity refuses a publisher's result that gives its model another
// size than it has: a model's parameter count is fixed by its first
// accepted result (within 1 %), so that the same measurement cannot be
// graded F as 7 B and A as 70 B. Surveyors and the admin are not held to
// it. The read model keeps each cohort's current result only, so "first"
// is the earliest of those.
func (s *Service) checkIdentity(r *rating.Result, src rating.Source) error {
	if src != rating.Publisher || r.ParamsBillions <= 0 {
		return nil
	}
	// The earliest of the model's current publisher results that gives a
	// count, or of its imported ones when it has none: an admin's import
	// of another count does not move what its publisher declared.
	var first *index.Rated
	all := s.index.ModelRatings(r.Model)
	earlier := func(a, b *index.Rated) bool {
		if pa, pb := a.Source == rating.Publisher, b.Source == rating.Publisher; pa != pb {
			return pa
		}
		return a.ID < b.ID
	}
	for i := range all {
		if all[i].ParamsBillions > 0 && (first == nil || earlier(&all[i], first)) {
			first = &all[i]
		}
	}
	if first == nil {
		return nil
	}
	if p := first.ParamsBillions; math.Abs(r.ParamsBillions-p) > ParamsTolerance*p {
		return rating.Invalid("parameters_billions", "%v B, but %s has %v B (result %d): a model's parameter count is fixed by its first result",
			r.ParamsBillions, rating.Quote(r.Model), p, first.ID)
	}
	return nil
}

// fingerprint is the claim a publisher's measurement makes: its figures,
// on the accelerator variant its name resolves to. One fingerprint labels
// one model. Admin imports of published leaderboards and surveyors'
// measurements claim nothing.
func (s *Service) fingerprint(r *rating.Result, src rating.Source) string {
	if src != rating.Publisher {
		return ""
	}
	return s.Registry().Fingerprint(r)
}

// AlreadyStored answers a publisher's measurement that is already stored
// for its model as result id, which the backend said instead of storing it
// again: the model's current rating in that measurement's cohort, once
// this server's read model has caught up with the backend. None when the
// model has no rating there any more.
func (s *Service) AlreadyStored(ctx context.Context, r *rating.Result, id uint64) ([]index.Rated, error) {
	rev, err := s.backend.Revision(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.caughtUp(ctx, rev, fmt.Sprintf("result %d", id)); err != nil {
		return nil, err
	}
	for _, cur := range s.index.ModelRatings(r.Model) {
		if cur.ID == id {
			return []index.Rated{cur}, nil
		}
	}
	// A later result of the model superseded the stored one: the current
	// rating is that result's, in the cohort the measurement is in.
	again := *r
	m, err := s.Registry().Normalise(&again, rating.Publisher)
	if err != nil {
		return nil, nil
	}
	if cur, ok := s.index.Rating(r.Model, m.Cohort); ok {
		return []index.Rated{cur}, nil
	}
	return nil, nil
}
