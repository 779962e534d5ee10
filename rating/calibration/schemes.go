package calibration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/energylabel/energylabel/rating"
)

// SchemeFile is a grade scheme version as committed under data/schemes:
// its references, fixed for as long as the version exists. Publishing a
// new version (a "rescale") is one more file.
type SchemeFile struct {
	Version string `json:"version"`
	// DerivedFrom says how the references were made.
	DerivedFrom string `json:"derived_from"`
	// VerificationTolerance is market surveillance's one-sided tolerance
	// on the energy per unit: a surveyor's determined value at most this
	// fraction worse than the declared one is within it.
	VerificationTolerance float64     `json:"verification_tolerance"`
	References            []Reference `json:"references"`
}

// Reference is one cohort's reference x.
type Reference struct {
	Task      string  `json:"task"`
	Dataset   string  `json:"dataset"`
	SizeClass string  `json:"size_class,omitempty"`
	Hardware  string  `json:"hardware"`
	Basis     string  `json:"basis"`
	X         float64 `json:"x"`
}

// Schemes returns every committed grade scheme version, oldest first; the
// last is current.
func Schemes() ([]*rating.GradeScheme, error) {
	names, err := fs.Glob(data, "data/schemes/*.json")
	if err != nil {
		return nil, err
	}
	var out []*rating.GradeScheme
	for _, name := range names {
		b, err := fs.ReadFile(data, name)
		if err != nil {
			return nil, err
		}
		s, err := ParseScheme(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no grade scheme under data/schemes")
	}
	slices.SortFunc(out, func(a, b *rating.GradeScheme) int { return strings.Compare(a.Version, b.Version) })
	return out, nil
}

// Grade2025_1 is the committed grade/2025.1.
func Grade2025_1() (*rating.GradeScheme, error) {
	all, err := Schemes()
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if s.Version == GradeVersion {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%s is not committed under data/schemes", GradeVersion)
}

// ParseScheme reads a scheme file, refusing unknown fields, duplicate
// cohorts and references that are not finite positive numbers.
func ParseScheme(b []byte) (*rating.GradeScheme, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var f SchemeFile
	if err := d.Decode(&f); err != nil {
		return nil, err
	}
	if f.Version == "" {
		return nil, fmt.Errorf("version: missing")
	}
	if !(f.VerificationTolerance > 0 && f.VerificationTolerance < 1) {
		return nil, fmt.Errorf("verification_tolerance: want a fraction in (0, 1), got %v", f.VerificationTolerance)
	}
	s := &rating.GradeScheme{Version: f.Version, Tolerance: f.VerificationTolerance,
		References: make(map[rating.Cohort]float64, len(f.References))}
	for i, r := range f.References {
		basis, ok := rating.ParseUnit(r.Basis)
		if !ok {
			return nil, fmt.Errorf("references[%d]: unknown basis %q", i, r.Basis)
		}
		if !(r.X > 0) || r.X > 1e300 {
			return nil, fmt.Errorf("references[%d]: x %v is not a finite positive number", i, r.X)
		}
		c := rating.Cohort{Task: r.Task, Dataset: r.Dataset, SizeClass: r.SizeClass, Hardware: r.Hardware, Basis: basis}
		if _, dup := s.References[c]; dup {
			return nil, fmt.Errorf("references[%d]: cohort %+v is listed twice", i, c)
		}
		s.References[c] = r.X
	}
	return s, nil
}

// MarshalScheme writes a scheme as a scheme file, cohorts in a stable
// order, with every float64 in its shortest form that reads back exactly.
func MarshalScheme(s *rating.GradeScheme, derivedFrom string) ([]byte, error) {
	f := SchemeFile{Version: s.Version, DerivedFrom: derivedFrom, VerificationTolerance: s.Tolerance}
	for c, x := range s.References {
		f.References = append(f.References, Reference{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass,
			Hardware: c.Hardware, Basis: c.Basis.String(), X: x})
	}
	slices.SortFunc(f.References, func(a, b Reference) int {
		return strings.Compare(
			strings.Join([]string{a.Task, a.Dataset, a.SizeClass, a.Hardware, a.Basis}, "\x00"),
			strings.Join([]string{b.Task, b.Dataset, b.SizeClass, b.Hardware, b.Basis}, "\x00"))
	})
	b, err := json.MarshalIndent(f, "", "  ")
	return append(b, '\n'), err
}
