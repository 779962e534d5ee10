package rating

import "math"

// StarsScheme names the AI Energy Score compatible star rule.
const StarsScheme = "stars/aies"

// Stars rates x among a cohort whose metric spans [lo, hi], the AIES way:
// five equal-width bins, lowest energy best. A cohort of one, or one whose
// bounds coincide, gives 5. Nothing is rounded before binning.
func Stars(x, lo, hi float64) int {
	if !(hi > lo) {
		return 5
	}
	p := (x - lo) / (hi - lo)
	return 5 - min(4, max(0, int(math.Floor(5*p))))
}

// Grade is an appliance-style energy class, 'A' (best) to 'G'.
type Grade byte

// String returns the letter, or "" for no grade.
func (g Grade) String() string {
	if g == 0 {
		return ""
	}
	return string(rune(g))
}

// gradeBounds are the upper EEI bounds of A to F; G is everything above.
// Each class uses at most half the energy of the next.
var gradeBounds = [...]float64{1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 1, 2}

// GradeOf classes an energy efficiency index. A value on a bound takes the
// better class.
func GradeOf(eei float64) Grade {
	for i, b := range gradeBounds {
		if eei <= b {
			return Grade('A' + i)
		}
	}
	return 'G'
}

// GradeScheme is a named, versioned, immutable set of references: the x of
// an average model in each cohort.
type GradeScheme struct {
	Version    string
	References map[Cohort]float64
	// Tolerance is the verification tolerance of market surveillance: a
	// surveyor's determined x at most this fraction worse than the
	// declared x is within it.
	Tolerance float64
}

// ClassBounds are the upper x of classes A to F for a cohort whose
// reference is ref; G is everything above the last.
func ClassBounds(ref float64) [6]float64 {
	var out [6]float64
	for i, b := range gradeBounds {
		out[i] = b * ref
	}
	return out
}

// Graded is the grade of one measure under a scheme.
type Graded struct {
	Grade Grade
	EEI   float64
	// Reference is the cohort's reference x; 0 when it has none.
	Reference float64
	// Note says why there is no grade, when there is none.
	Note string
}

// Grade grades a measure against the scheme's reference for its cohort.
func (s *GradeScheme) Grade(m Measure) Graded {
	ref, ok := s.References[m.Cohort]
	if !ok || !(ref > 0) {
		return Graded{Note: "no reference for this cohort in " + s.Version}
	}
	eei := m.X() / ref
	return Graded{Grade: GradeOf(eei), EEI: eei, Reference: ref}
}
