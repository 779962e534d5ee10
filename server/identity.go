package server

import (
	"math"

	"github.com/energylabel/energylabel/rating"
)

// ParamsTolerance is how far a later result's parameter count may be from
// the count a model's first accepted result fixed.
const ParamsTolerance = 0.01

// checkIdentity refuses a publisher's result that gives its model another
// size than it has: a model's parameter count is fixed by its first
// accepted result (within 1 %), so that the same measurement cannot be
// graded F as 7 B and A as 70 B. Surveyors and the admin are not held to
// it.
func (s *Server) checkIdentity(r *rating.Result, src rating.Source) error {
	if src != rating.Publisher || r.ParamsBillions <= 0 {
		return nil
	}
	for _, cur := range s.index.ModelRatings(r.Model) {
		if p := cur.ParamsBillions; p > 0 {
			if math.Abs(r.ParamsBillions-p) > ParamsTolerance*p {
				return rating.Invalid("parameters_billions", "%v B, but %s has %v B (result %d): a model's parameter count is fixed by its first result",
					r.ParamsBillions, rating.Quote(r.Model), p, cur.ID)
			}
			return nil
		}
	}
	return nil
}
