package rating

import "fmt"

// Status says who vouches for a rating's figures, and what market
// surveillance found, as EU energy labelling verifies a declared value.
type Status uint8

// The statuses. Published and Declared come from who submitted a result;
// the others from surveyors' measurements.
const (
	StatusDeclared Status = iota
	StatusPublished
	StatusVerified
	StatusUnderReview
	StatusCorrected
)

var statusNames = [...]string{"declared", "published", "verified", "under_review", "corrected"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", s)
}

// ParseStatus reads a status as String spells it.
func ParseStatus(s string) (Status, bool) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), true
		}
	}
	return 0, false
}

// IsReference reports whether a result of this status counts in a release.
func (s Status) IsReference() bool {
	return s == StatusPublished || s == StatusVerified || s == StatusCorrected
}

// FollowUps is how many further surveyor measurements decide a result
// under review: their mean is compared with the declared value.
const FollowUps = 3

// Survey is the state of market surveillance of one declared result.
type Survey struct {
	Status Status
	// Measurements counts the surveyor measurements taken into account.
	Measurements int
	// FollowUps, SumX and SumWh accumulate the measurements made after
	// the result went under review.
	FollowUps   int
	SumX, SumWh float64
	// DeterminedX and DeterminedWh are the determined figures: the
	// measurement that put the result under review, then the mean of the
	// follow-ups once they decided.
	DeterminedX, DeterminedWh float64
}

// Within reports whether a determined x is within a one-sided tolerance
// of a declared x: at most tol worse (higher), or any amount better.
func Within(declared, determined, tol float64) bool {
	return determined <= declared*(1+tol)
}

// Measured is the survey after a surveyor measured x (and wh per 1,000
// queries) of a result declared at declared, under tolerance tol, following
// the EU verification procedure: the first determined value within the
// tolerance verifies the declared one; outside it, the result is under
// review until FollowUps more measurements, whose mean verifies or
// corrects it. A verified result measured outside the tolerance again goes
// under review. A corrected one stays corrected: a new declared result is
// what can be verified again.
func (s Survey) Measured(declared, x, wh, tol float64) Survey {
	s.Measurements++
	switch s.Status {
	case StatusUnderReview:
		s.FollowUps++
		s.SumX += x
		s.SumWh += wh
		if s.FollowUps < FollowUps {
			return s
		}
		meanX, meanWh := s.SumX/float64(s.FollowUps), s.SumWh/float64(s.FollowUps)
		s.DeterminedX, s.DeterminedWh = meanX, meanWh
		if Within(declared, meanX, tol) {
			s.Status = StatusVerified
		} else {
			s.Status = StatusCorrected
		}
	case StatusCorrected:
	default:
		if Within(declared, x, tol) {
			s.Status = StatusVerified
			s.DeterminedX, s.DeterminedWh = x, wh
		} else {
			s.Status = StatusUnderReview
			s.DeterminedX, s.DeterminedWh = x, wh
			s.FollowUps, s.SumX, s.SumWh = 0, 0, 0
		}
	}
	return s
}
