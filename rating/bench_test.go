package rating_test

import (
	"strings"
	"testing"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
)

// benchResults are a query-basis and a per-token result, as submitted.
var benchResults = []struct {
	name string
	r    rating.Result
}{
	{"query", rating.Result{
		Model: "acme/tiny-clf", Task: "text-classification", Accelerator: "H100", GPUCount: 1,
		Queries: 1000, GPUEnergyWh: 0.21, DurationSeconds: 41.5, RunEnergiesWh: []float64{0.211, 0.209},
	}},
	{"per-token", rating.Result{
		Model: "acme/chat-8b", Task: "text-generation", Dataset: "ml.energy/lm-arena-chat", Accelerator: "NVIDIA H100 SXM",
		GPUCount: 1, Queries: 1000, GPUEnergyWh: 30, DurationSeconds: 600, ParamsBillions: 8,
		Output: rating.Output{Tokens: 800000}, ThroughputTokensPerSecond: 1333,
	}},
}

func BenchmarkNormalise(b *testing.B) {
	for _, tc := range benchResults {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rating.Normalise(&tc.r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMeasureOf(b *testing.B) {
	for _, tc := range benchResults {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rating.MeasureOf(&tc.r)
			}
		})
	}
}

func BenchmarkGrade(b *testing.B) {
	scheme, err := calibration.Grade2025_1()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range benchResults {
		m, err := rating.Normalise(&tc.r)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if scheme.Grade(m).Grade == 0 {
					b.Fatal("no grade")
				}
			}
		})
	}
}

func BenchmarkStars(b *testing.B) {
	x := 0.5
	for b.Loop() {
		rating.Stars(x, 0.01, 42)
	}
}

// BenchmarkUnknownAccelerator compares the two ways a 128-character
// unknown name is looked up: Resolve, which suggests the closest known
// names for a person's error message, and Family, which badges and
// filters use and which suggests nothing.
func BenchmarkUnknownAccelerator(b *testing.B) {
	reg := rating.BuiltinAccelerators()
	name := strings.Repeat("Zq9-", 32)
	b.Run("resolve-suggesting", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := reg.Resolve(name); err == nil {
				b.Fatal("resolved")
			}
		}
	})
	b.Run("family", func(b *testing.B) {
		for b.Loop() {
			if reg.Family(name) != "" {
				b.Fatal("resolved")
			}
		}
	})
}
