// Package synth generates synthetic benchmark results shaped like real
// registries, for benchmarks and load tests: energies are log-normal within
// each cohort, centred on the cohort's grade/2025.1 reference and spread as
// the bundled AI Energy Score and ML.ENERGY data are.
//
// The shape: 20 cohorts (12 AIES query-basis cohorts on H100 and 8
// ML.ENERGY per-unit cohorts on H100 and B200), weighted towards text
// generation as real leaderboards are. Results come from series, one per
// model and cohort; a series submits 1 + Geometric(1/ResultsPerSeries)
// results (mean ResultsPerSeries, 5 by default), slowly improving over
// time, and every model runs in one cohort or, one time in five, in two. The
// stream interleaves series: the first results of every series, then the
// second ones, and so on, in a shuffled order each round, as resubmissions
// arrive over time in a live registry.
//
// Everything is a pure function of the Config, so two processes that share
// a Config agree on every result and every model name.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/energylabel/energylabel/rating"
)

// Cohort is one cohort the generator fills.
type Cohort struct {
	Task, Dataset, SizeClass, Accelerator string
	// Basis is rating.Query when results report no output sizes.
	Basis rating.Unit
	// Median is the median x (the cohort's grade/2025.1 reference) and
	// Sigma the standard deviation of ln x in the bundled data, rounded.
	Median, Sigma float64
	// Weight is the cohort's share of series.
	Weight float64
}

// Cohorts are the 20 cohorts, with medians from grade/2025.1 and spreads
// measured on the bundled AIES 2025-02 and ML.ENERGY v3 data.
var Cohorts = []Cohort{
	{Task: "text-generation", SizeClass: "A", Accelerator: "H100", Basis: rating.Query, Median: 9.39, Sigma: 0.8, Weight: 14},
	{Task: "text-generation", SizeClass: "B", Accelerator: "H100", Basis: rating.Query, Median: 56.1, Sigma: 1.0, Weight: 6},
	{Task: "text-generation", SizeClass: "C", Accelerator: "H100", Basis: rating.Query, Median: 1722, Sigma: 0.5, Weight: 3},
	{Task: "text-classification", Accelerator: "H100", Basis: rating.Query, Median: 0.80, Sigma: 1.7, Weight: 6},
	{Task: "sentence-similarity", Accelerator: "H100", Basis: rating.Query, Median: 0.59, Sigma: 1.1, Weight: 5},
	{Task: "automatic-speech-recognition", Accelerator: "H100", Basis: rating.Query, Median: 16.5, Sigma: 1.5, Weight: 4},
	{Task: "image-classification", Accelerator: "H100", Basis: rating.Query, Median: 0.81, Sigma: 0.6, Weight: 4},
	{Task: "question-answering", Accelerator: "H100", Basis: rating.Query, Median: 0.99, Sigma: 1.5, Weight: 3},
	{Task: "summarization", Accelerator: "H100", Basis: rating.Query, Median: 3.52, Sigma: 1.1, Weight: 3},
	{Task: "object-detection", Accelerator: "H100", Basis: rating.Query, Median: 2.91, Sigma: 0.6, Weight: 2},
	{Task: "image-to-text", Accelerator: "H100", Basis: rating.Query, Median: 102, Sigma: 0.5, Weight: 2},
	{Task: "text-to-image", Accelerator: "H100", Basis: rating.Query, Median: 354, Sigma: 0.8, Weight: 4},
	{Task: "text-generation", Dataset: "ml.energy/lm-arena-chat", SizeClass: "A", Accelerator: "H100", Basis: rating.OutputToken, Median: 0.134, Sigma: 0.5, Weight: 12},
	{Task: "text-generation", Dataset: "ml.energy/lm-arena-chat", SizeClass: "B", Accelerator: "H100", Basis: rating.OutputToken, Median: 0.228, Sigma: 0.6, Weight: 6},
	{Task: "text-generation", Dataset: "ml.energy/lm-arena-chat", SizeClass: "C", Accelerator: "H100", Basis: rating.OutputToken, Median: 0.484, Sigma: 0.7, Weight: 4},
	{Task: "text-generation", Dataset: "ml.energy/lm-arena-chat", SizeClass: "A", Accelerator: "B200", Basis: rating.OutputToken, Median: 0.0751, Sigma: 0.5, Weight: 5},
	{Task: "reasoning", Dataset: "ml.energy/gpqa", SizeClass: "A", Accelerator: "H100", Basis: rating.OutputToken, Median: 0.173, Sigma: 0.5, Weight: 4},
	{Task: "image-text-to-text", Accelerator: "H100", Basis: rating.OutputToken, Median: 0.351, Sigma: 1.0, Weight: 4},
	{Task: "text-to-image", Dataset: "ml.energy/text-to-image", Accelerator: "H100", Basis: rating.OutputMegapixel, Median: 1488, Sigma: 1.1, Weight: 3},
	{Task: "text-to-video", Accelerator: "H100", Basis: rating.OutputMegapixelFrame, Median: 3964, Sigma: 0.8, Weight: 1},
}

// Config shapes a generated registry. The zero value of each field but
// Results takes its default.
type Config struct {
	// Results is how many results the stream holds.
	Results int
	// ResultsPerSeries is the mean number of results of one model in one
	// cohort; 0 means 5.
	ResultsPerSeries float64
	// Seed picks the registry; two equal Configs give equal streams.
	Seed uint64
}

// Series is one model's results in one cohort.
type Series struct {
	Model  string
	Cohort int // index into Cohorts
	// Results is how many results the series submits.
	Results int
}

// Task is the series' task id.
func (s Series) Task() string { return Cohorts[s.Cohort].Task }

// Registry is a generated registry: its series and the order in which their
// results arrive.
type Registry struct {
	cfg    Config
	series []Series
	base   []float64 // per series: ln x of its first result
	rounds int
}

// New lays a registry out. It keeps a few bytes per series, not per result.
func New(cfg Config) *Registry {
	if cfg.ResultsPerSeries <= 0 {
		cfg.ResultsPerSeries = 5
	}
	g := &Registry{cfg: cfg}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	var total float64
	for _, c := range Cohorts {
		total += c.Weight
	}
	pick := func() int {
		w := rng.Float64() * total
		for i, c := range Cohorts {
			if w -= c.Weight; w < 0 {
				return i
			}
		}
		return len(Cohorts) - 1
	}
	// 1 + Geometric(p) has mean 1/p.
	p := 1 / cfg.ResultsPerSeries
	count := func() int {
		n := 1
		for rng.Float64() > p && n < 255 {
			n++
		}
		return n
	}
	left := cfg.Results
	for m := 0; left > 0; m++ {
		model := modelName(rng, m)
		cohorts := []int{pick()}
		if rng.IntN(5) == 0 {
			if second := pick(); second != cohorts[0] {
				cohorts = append(cohorts, second)
			}
		}
		for _, c := range cohorts {
			if left == 0 {
				break
			}
			n := min(count(), left)
			left -= n
			g.series = append(g.series, Series{Model: model, Cohort: c, Results: n})
			g.base = append(g.base, math.Log(Cohorts[c].Median)+Cohorts[c].Sigma*rng.NormFloat64())
			g.rounds = max(g.rounds, n)
		}
	}
	return g
}

var families = []string{"llama", "qwen", "mistral", "gemma", "phi", "bert", "whisper", "vit", "t5", "sd", "flux", "deepseek", "olmo", "granite", "smol"}

// modelName gives models owners of very different sizes, as on the Hub: a
// few labs publish many models and most publish a handful.
func modelName(rng *rand.Rand, m int) string {
	owner := int(math.Exp(rng.Float64() * math.Log(20000)))
	return fmt.Sprintf("lab-%d/%s-ft-%06d", owner, families[rng.IntN(len(families))], m)
}

// Series lists every series, in the order New laid them out.
func (g *Registry) Series() []Series { return g.series }

// Len is the number of results in the stream.
func (g *Registry) Len() int { return g.cfg.Results }

// Each calls fn with every result of the stream, in arrival order, until fn
// returns false. The result is fn's to keep.
func (g *Registry) Each(fn func(rating.Result) bool) {
	n := len(g.series)
	for round := range g.rounds {
		// An affine permutation of the series shuffles each round without
		// keeping one.
		stride, offset := coprimeStride(n, round), (round*7919)%max(1, n)
		for k := range n {
			i := (k*stride + offset) % n
			if g.series[i].Results > round {
				if !fn(g.Result(i, round)) {
					return
				}
			}
		}
	}
}

func coprimeStride(n, round int) int {
	s := 1 + (round*104729+7)%max(1, n)
	for gcd(s, n) != 1 {
		s++
	}
	return s
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// paramsBillions are the parameter counts drawn for each size class.
var paramsBillions = map[string][2]float64{"A": {0.5, 20}, "B": {21, 66}, "C": {70, 400}}

// boardWatts is the board power of the cohorts' accelerators.
var boardWatts = map[string]float64{"H100": 700, "B200": 1000}

// epoch is when the synthetic registry's first results were measured;
// resubmissions follow a week apart, the 100th and later in its last week,
// so that no date is in the future (the server refuses those).
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Result is the k-th result of series i: the series' energy, a little
// better with each resubmission, with a measurement noise of a few percent.
func (g *Registry) Result(i, k int) rating.Result {
	s := g.series[i]
	c := Cohorts[s.Cohort]
	rng := rand.New(rand.NewPCG(g.cfg.Seed^uint64(i)*0x9e3779b97f4a7c15, uint64(k)))
	x := math.Exp(g.base[i] - 0.03*float64(k) + 0.05*rng.NormFloat64())

	r := rating.Result{
		Model: s.Model, Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass,
		Accelerator: c.Accelerator, GPUCount: 1, Queries: 1000, FailedQueries: int64(rng.IntN(3)),
		Precision: "bfloat16", BatchSize: 1, ToolName: "optimum-benchmark", ToolVersion: "0.4.0",
		MeasuredAt: epoch.Add(time.Duration(min(k, 100)*7+rng.IntN(7)) * 24 * time.Hour),
	}
	if c.SizeClass != "" {
		b := paramsBillions[c.SizeClass]
		lo, hi := b[0], b[1]
		r.ParamsBillions = math.Round((lo+rng.Float64()*(hi-lo))*10) / 10
		if c.SizeClass == "C" {
			r.GPUCount = 8
		}
	} else {
		r.ParamsBillions = math.Round(rng.Float64()*3000) / 1000
	}
	ok := float64(r.Queries - r.FailedQueries)
	switch c.Basis {
	case rating.Query:
		r.GPUEnergyWh = x * ok / 1000
	case rating.OutputToken:
		r.Output.Tokens = int64(ok * (200 + float64(rng.IntN(800))))
		r.GPUEnergyWh = x * float64(r.Output.Tokens) / 3600
	case rating.OutputMegapixel:
		r.Output.Images, r.Output.ImageWidth, r.Output.ImageHeight = int64(ok), 1024, 1024
		r.GPUEnergyWh = x * ok * 1024 * 1024 / 1e6 / 3600
	case rating.OutputMegapixelFrame:
		r.Output.VideoFrames, r.Output.VideoWidth, r.Output.VideoHeight = int64(ok)*81, 832, 480
		r.GPUEnergyWh = x * float64(r.Output.VideoFrames) * 832 * 480 / 1e6 / 3600
	}
	// Average power 30–80% of the board's, so that the power check passes,
	// and at most half the service's ceiling of queries per second: the far
	// left tail of the distribution, faster than that, is not physical and
	// is drawn at the ceiling's energy instead.
	watts := boardWatts[c.Accelerator] * float64(r.GPUCount) * (0.3 + 0.5*rng.Float64())
	r.DurationSeconds = r.GPUEnergyWh * 3600 / watts
	if minSeconds := float64(r.Queries) / (rating.MaxQueriesPerSecond / 2) / float64(r.GPUCount); r.DurationSeconds < minSeconds {
		scale := minSeconds / r.DurationSeconds
		r.DurationSeconds, r.GPUEnergyWh = minSeconds, r.GPUEnergyWh*scale
	}
	for range 3 {
		r.RunEnergiesWh = append(r.RunEnergiesWh, r.GPUEnergyWh*(1+0.02*rng.NormFloat64()))
	}
	return r
}
