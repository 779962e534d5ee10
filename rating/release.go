package rating

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// MinReleaseModels is how many models a cohort needs in a release for its
// stars to mean anything: a cohort of one or two would give ★★★★★ for
// merely being there.
const MinReleaseModels = 3

// Bounds are a cohort's star bounds in a release: its lowest and highest x
// over the latest reference result of each model, and how many reference
// models there were.
type Bounds struct {
	Lo, Hi float64
	Models int
	// References are the reference models' x in ascending order, for
	// ranks: every one up to MaxRankedReferences, evenly spaced quantiles
	// above. Empty in releases made before ranks came from releases.
	References []float64
}

// Release is a named, immutable snapshot of every cohort's star bounds, as
// AIES publishes leaderboard versions. Stars are always stars of a
// release, so that no submission moves anyone else's.
type Release struct {
	Name      string
	CreatedAt time.Time
	Cohorts   map[Cohort]Bounds
}

// MaxReleaseName bounds a release name.
const MaxReleaseName = 64

// ValidateReleaseName checks a release name: 1 to 64 letters, digits,
// '-', '_' and '.'.
func ValidateReleaseName(name string) error {
	if name == "" || len(name) > MaxReleaseName {
		return Invalid("name", "a release name has 1 to %d characters, got %d", MaxReleaseName, len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return Invalid("name", "%s: character %q is not allowed (letters, digits, '-', '_', '.')", quote(name), c)
		}
	}
	return nil
}

// Starred is a measure's stars under a release, or why it has none.
type Starred struct {
	// Stars is 1 to 5, or 0 when there are none.
	Stars int
	// Release names the release the stars come from.
	Release string
	// Note says why there are no stars, when there are none.
	Note string
}

// Stars rates a measure against the release's frozen bounds for its
// cohort, with the AIES rule clamped to 1–5. A nil release, a cohort
// missing from it, or one with fewer than MinReleaseModels models gives no
// stars and says why.
func (rel *Release) Stars(m Measure) Starred {
	if rel == nil {
		return Starred{Note: "no star release has been made yet"}
	}
	b, ok := rel.Cohorts[m.Cohort]
	switch {
	case !ok:
		return Starred{Release: rel.Name, Note: fmt.Sprintf("this cohort is not in release %s", rel.Name)}
	case b.Models < MinReleaseModels:
		return Starred{Release: rel.Name, Note: fmt.Sprintf("this cohort had %d model(s) in release %s; stars need at least %d", b.Models, rel.Name, MinReleaseModels)}
	}
	return Starred{Stars: Stars(m.X(), b.Lo, b.Hi), Release: rel.Name}
}

// MaxRankedReferences bounds the x a release keeps per cohort for ranks:
// up to it every reference model's, exact; above it evenly spaced
// quantiles, from which a rank is estimated to within the cohort's size
// over the bound.
const MaxRankedReferences = 128

// BoundsOf are the bounds of a cohort whose reference models have xs;
// it sorts xs in place.
func BoundsOf(xs []float64) Bounds {
	slices.Sort(xs)
	b := Bounds{Lo: xs[0], Hi: xs[len(xs)-1], Models: len(xs)}
	if len(xs) <= MaxRankedReferences {
		b.References = slices.Clone(xs)
		return b
	}
	b.References = make([]float64, MaxRankedReferences)
	for i := range b.References {
		b.References[i] = xs[i*(len(xs)-1)/(MaxRankedReferences-1)]
	}
	return b
}

// Rank is the place x would take among the cohort's reference models in
// the release, 1 being the least energy, and how many there were; 0, 0
// when the release has no ranks for the cohort (it is not in it, or the
// release was made before releases kept them).
func (rel *Release) Rank(c Cohort, x float64) (rank, of int) {
	if rel == nil {
		return 0, 0
	}
	b, ok := rel.Cohorts[c]
	if !ok || len(b.References) == 0 {
		return 0, 0
	}
	below, _ := slices.BinarySearch(b.References, x)
	if len(b.References) == b.Models {
		return below + 1, b.Models
	}
	return 1 + int(math.Round(float64(below)/float64(len(b.References))*float64(b.Models))), b.Models
}
