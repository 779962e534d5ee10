package synth

import (
	"math"
	"slices"
	"testing"

	"github.com/energylabel/energylabel/rating"
)

func TestEveryResultIsValidAndLandsInItsCohort(t *testing.T) {
	g := New(Config{Results: 5000, Seed: 1})
	n := 0
	seen := map[rating.Cohort]bool{}
	g.Each(func(r rating.Result) bool {
		m, err := rating.Normalise(&r)
		if err != nil {
			t.Fatalf("result %d (%s): %v", n, r.Model, err)
		}
		if !hasSeries(g, r.Model, m.Cohort) {
			t.Fatalf("%s: no series in cohort %+v", r.Model, m.Cohort)
		}
		seen[m.Cohort] = true
		n++
		return true
	})
	if n != 5000 {
		t.Errorf("%d results, want 5000", n)
	}
	if len(seen) != len(Cohorts) {
		t.Errorf("%d cohorts filled, want %d", len(seen), len(Cohorts))
	}
}

func hasSeries(g *Registry, model string, c rating.Cohort) bool {
	for _, s := range g.Series() {
		sc := Cohorts[s.Cohort]
		if s.Model == model && sc.Task == c.Task && sc.Basis == c.Basis && sc.SizeClass == c.SizeClass && rating.BuiltinAccelerators().Family(sc.Accelerator) == c.Hardware {
			return true
		}
	}
	return false
}

func TestTheStreamIsAPureFunctionOfTheConfig(t *testing.T) {
	collect := func() []rating.Result {
		var out []rating.Result
		New(Config{Results: 300, Seed: 7}).Each(func(r rating.Result) bool { out = append(out, r); return true })
		return out
	}
	a, b := collect(), collect()
	if !slices.EqualFunc(a, b, func(x, y rating.Result) bool {
		return x.Model == y.Model && x.GPUEnergyWh == y.GPUEnergyWh && x.MeasuredAt.Equal(y.MeasuredAt)
	}) {
		t.Error("two registries with one Config differ")
	}
}

func TestShape(t *testing.T) {
	g := New(Config{Results: 100000, Seed: 3})
	series := g.Series()
	perSeries := float64(g.Len()) / float64(len(series))
	if perSeries < 4.5 || perSeries > 5.5 {
		t.Errorf("%.2f results per series, want about 5", perSeries)
	}
	models := map[string]bool{}
	several := 0
	for _, s := range series {
		models[s.Model] = true
		if s.Results > 1 {
			several++
		}
	}
	if f := float64(several) / float64(len(series)); f < 0.7 {
		t.Errorf("%.0f%% of series resubmit, want most", 100*f)
	}
	// ln x within a cohort spreads by about the cohort's sigma.
	var xs []float64
	g.Each(func(r rating.Result) bool {
		m := rating.MeasureOf(&r)
		if m.Cohort.Task == "text-classification" {
			xs = append(xs, math.Log(m.X()))
		}
		return true
	})
	mean, sd := meanSD(xs)
	if math.Abs(mean-math.Log(0.80)) > 0.2 || math.Abs(sd-1.7) > 0.2 {
		t.Errorf("text-classification ln x: mean %.2f sd %.2f, want about %.2f and 1.7", mean, sd, math.Log(0.80))
	}
	t.Logf("%d results, %d series, %d models", g.Len(), len(series), len(models))
}

func meanSD(xs []float64) (float64, float64) {
	var m, s float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(xs)-1))
}

func BenchmarkEach(b *testing.B) {
	g := New(Config{Results: b.N, Seed: 1})
	b.ResetTimer()
	g.Each(func(rating.Result) bool { return true })
}

// TestEveryResultPassesTheChecks holds the synthetic registry to the
// service's plausibility rules, tails included, so that a bulk load of a
// million results is never refused halfway.
func TestEveryResultPassesTheChecks(t *testing.T) {
	n := 0
	New(Config{Results: 200000, Seed: 1}).Each(func(r rating.Result) bool {
		if _, err := rating.Normalise(&r); err != nil {
			t.Fatalf("result %d (%s): %v", n, r.Model, err)
		}
		n++
		return true
	})
}
