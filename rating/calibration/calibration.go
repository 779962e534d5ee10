// Package calibration holds the reference data bundled into energylabel, the
// committed grade scheme versions (data/schemes), and the code that derived
// grade/2025.1's references from the data; a test derives them again and
// must find the committed values.
package calibration

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/aienergyscore"
	"github.com/energylabel/energylabel/rating/formats/mlenergy"
)

// GradeVersion is the built-in grade scheme version.
const GradeVersion = "grade/2025.1"

//go:embed data
var data embed.FS

// AIES202502 is the AI Energy Score leaderboard of February 2025, one
// <task>.csv per task. Its provenance is in data/PROVENANCE.md.
func AIES202502() fs.FS {
	sub, err := fs.Sub(data, "data/aienergyscore-2025-02")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// MLEnergyV3 is the ML.ENERGY leaderboard v3 data: index.json and
// tasks/<task>.json. Its provenance is in data/PROVENANCE.md.
func MLEnergyV3() fs.FS {
	sub, err := fs.Sub(data, "data/mlenergy-v3")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Derivation2025_1 says how grade/2025.1 was derived, in its scheme file.
const Derivation2025_1 = "median x per cohort, one value per model, of AIES 2025-02 (query basis, H100) and ML.ENERGY v3 (per unit, H100 and B200) as bundled in rating/calibration/data"

// Derive2025_1 derives grade/2025.1: for each cohort of the bundled data, the
// reference is the median x, one value per model (its last result, as the
// service keeps), and the mean of the two middle values for an even count.
// AIES 2025-02 gives the query-basis cohorts on H100; ML.ENERGY v3, as
// package mlenergy selects each model's configuration, gives the per-unit
// cohorts of its workloads on H100 and B200. The two share no cohort, since
// their datasets differ.
func Derive2025_1() (*rating.GradeScheme, error) {
	aies, err := aienergyscore.ParseDir(AIES202502())
	if err != nil {
		return nil, fmt.Errorf("bundled AIES 2025-02: %w", err)
	}
	refs, err := Medians(aies)
	if err != nil {
		return nil, fmt.Errorf("bundled AIES 2025-02: %w", err)
	}
	mle, err := mlenergy.ParseDir(MLEnergyV3())
	if err != nil {
		return nil, fmt.Errorf("bundled ML.ENERGY v3: %w", err)
	}
	perUnit, err := Medians(mle)
	if err != nil {
		return nil, fmt.Errorf("bundled ML.ENERGY v3: %w", err)
	}
	for c, ref := range perUnit {
		if _, dup := refs[c]; dup {
			return nil, fmt.Errorf("bundled ML.ENERGY v3: cohort %+v is also calibrated by AIES 2025-02", c)
		}
		refs[c] = ref
	}
	return &rating.GradeScheme{Version: GradeVersion, References: refs, Tolerance: VerificationTolerance}, nil
}

// VerificationTolerance is grade/2025.1's market surveillance tolerance:
// 10 % on the energy per unit, one-sided, as EU energy labels verify a
// declared energy consumption.
const VerificationTolerance = 0.10

// Medians returns each cohort's median x over the latest result per model.
func Medians(results []rating.Result) (map[rating.Cohort]float64, error) {
	type key struct {
		cohort rating.Cohort
		model  string
	}
	latest := map[key]float64{}
	for i := range results {
		m, err := rating.Normalise(&results[i])
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", results[i].Model, err)
		}
		latest[key{m.Cohort, results[i].Model}] = m.X()
	}
	byCohort := map[rating.Cohort][]float64{}
	for k, x := range latest {
		byCohort[k.cohort] = append(byCohort[k.cohort], x)
	}
	refs := make(map[rating.Cohort]float64, len(byCohort))
	for c, xs := range byCohort {
		refs[c] = median(xs)
	}
	return refs, nil
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
