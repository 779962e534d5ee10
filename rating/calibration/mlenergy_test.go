package calibration

import (
	"math"
	"testing"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/aienergyscore"
	"github.com/energylabel/energylabel/rating/formats/mlenergy"
)

func mlCohort(task, mlTask, class, hw string) rating.Cohort {
	t, _ := rating.LookupTask(task)
	return rating.Cohort{Task: t.ID, Dataset: mlenergy.DatasetPrefix + mlTask, SizeClass: class, Hardware: hw, Basis: t.Unit}
}

// TestGrade2025_1PerUnitReferences pins references derived from ML.ENERGY
// v3. The values were computed apart from this code, with a Python one-off
// over the published task files: per model and GPU the configuration with
// the lowest energy per unit, then the median per cohort.
func TestGrade2025_1PerUnitReferences(t *testing.T) {
	scheme, err := Grade2025_1()
	if err != nil {
		t.Fatal(err)
	}
	pins := map[rating.Cohort]float64{
		// J/token. 6 models: the mean of the middle two.
		mlCohort("text-generation", "lm-arena-chat", "A", "H100"):   0.13356217170721862,
		mlCohort("text-generation", "lm-arena-chat", "C", "B200"):   0.5006937029286922, // 7 models
		mlCohort("text-generation", "sourcegraph-fim", "C", "B200"): 2.5176178832056175,
		mlCohort("reasoning", "gpqa", "C", "H100"):                  1.3846291846315368,
		mlCohort("image-text-to-text", "image-chat", "", "H100"):    0.35143196951424455,
		mlCohort("video-text-to-text", "video-chat", "", "B200"):    0.3388851850463114,
		// J/megapixel and J/megapixel-frame.
		mlCohort("text-to-image", "text-to-image", "", "H100"): 1488.143503650008,
		mlCohort("text-to-video", "text-to-video", "", "B200"): 3655.204057474206,
	}
	for c, want := range pins {
		got, ok := scheme.References[c]
		if !ok || math.Abs(got-want) > 1e-9*want {
			t.Errorf("reference for %s %s %s %s = %v, want %v", c.Task, c.Dataset, c.SizeClass, c.Hardware, got, want)
		}
	}
	perUnit := 0
	for c := range scheme.References {
		if c.Basis != rating.Query {
			perUnit++
		}
	}
	if perUnit != 23 {
		t.Errorf("%d per-unit cohorts, want 23", perUnit)
	}
}

// TestLMArenaH100ClassA grades the ML.ENERGY selection as the service does:
// the cohort has 6 models, and each rating's x over its EEI is the median.
func TestLMArenaH100ClassA(t *testing.T) {
	scheme, err := Grade2025_1()
	if err != nil {
		t.Fatal(err)
	}
	results, err := mlenergy.ParseDir(MLEnergyV3())
	if err != nil {
		t.Fatal(err)
	}
	cohort := mlCohort("text-generation", "lm-arena-chat", "A", "H100")
	const median = 0.13356217170721862
	models := map[string]bool{}
	for i := range results {
		m, err := rating.Normalise(&results[i])
		if err != nil {
			t.Fatal(err)
		}
		if m.Cohort != cohort {
			continue
		}
		models[results[i].Model] = true
		g := scheme.Grade(m)
		if g.Grade == 0 {
			t.Errorf("%s: no grade: %s", results[i].Model, g.Note)
			continue
		}
		if ref := m.EnergyPerUnit / g.EEI; math.Abs(ref-median) > 1e-9*median {
			t.Errorf("%s: energy_per_unit / eei = %v, want the median %v", results[i].Model, ref, median)
		}
	}
	if len(models) != 6 {
		t.Errorf("%d models in the cohort, want 6", len(models))
	}
}

// TestAIESReferencesUnchanged checks that adding ML.ENERGY left every
// query-basis reference as AIES 2025-02 alone gives it.
func TestAIESReferencesUnchanged(t *testing.T) {
	scheme, err := Grade2025_1()
	if err != nil {
		t.Fatal(err)
	}
	aies, err := aiesOnly()
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range aies {
		if got := scheme.References[c]; got != want {
			t.Errorf("%+v: %v, want %v", c, got, want)
		}
	}
	for c := range scheme.References {
		if _, ok := aies[c]; c.Basis == rating.Query && !ok {
			t.Errorf("%+v: a query-basis cohort AIES does not calibrate", c)
		}
	}
}

func aiesOnly() (map[rating.Cohort]float64, error) {
	results, err := aienergyscore.ParseDir(AIES202502())
	if err != nil {
		return nil, err
	}
	return Medians(results)
}
