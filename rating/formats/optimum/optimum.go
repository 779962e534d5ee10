// Package optimum reads the benchmark_report.json that optimum-benchmark
// writes, as AI Energy Score v1 runs it, into one result.
//
// How the report is read (from the AIES report in testdata):
//   - each phase's energy is the mean of its measures (prefill: the mean of
//     its ten measures is its energy, 0.0720086 kWh), so one measure is one
//     run of that phase over the whole dataset, and energy is per run of
//     the dataset, not per query;
//   - the i-th measures of prefill and decode belong to the same run i:
//     decode is measured as generate minus prefill, which is why decode[4]
//     is exactly −prefill[4] (generate measured 0) and decode[6] holds a
//     whole generate where prefill[6] is 0;
//   - a phase without measures (preprocess) ran once, before the runs.
//
// So the result's GPU energy is the sum of the GPU energy of preprocess,
// prefill and decode, as AIES scores a report, and run i's energy is the sum
// of the phases' i-th measures plus the energy of the phases that ran once.
// A run with a measure that is not positive is dropped, with a warning.
//
// The report does state its counts, through the efficiency fields, which
// optimum-benchmark computes as volume / energy.total of the phase:
//   - queries = preprocess efficiency.value (samples per energy unit) ×
//     preprocess energy.total, which is the number of dataset samples;
//   - output tokens = decode efficiency.value (tokens per energy unit) ×
//     decode energy.total, plus one first token per query, which prefill
//     produces: the tool counts decode as max_new_tokens − 1 per sample.
//     The tool's count is nominal: batch size × beams × (max_new_tokens −
//     1) per sample, whether or not a sample stopped early. It is the
//     output when every sample generates max_new_tokens, as AIES forces
//     with min_new_tokens, at batch size 1 with one beam; the report
//     records none of these settings.
//
// For the AIES report in testdata that is 1,000 queries and 9,000 + 1,000 =
// 10,000 output tokens. Prefill's efficiency is not used: it gives 361,763
// tokens there, about 362 a sample, input rather than output.
//
// Units: the efficiency unit is "<samples|tokens>/<energy unit>", and the
// energy unit is that of the phase's energy; both are converted (kWh, Wh,
// mWh, J, kJ, MJ, in any case). Any other efficiency unit, or a decode
// efficiency in samples, is refused naming the field.
//
// Rounding: the product is rounded to the nearest whole number only when
// it lies within 1e-6 of it (relative, or absolute below 1); otherwise the
// report's efficiency and energy do not agree, and the report is refused
// with an error giving both fields and the product, since there is no
// count to trust. A real report is within about 1e-15. A product of 2^53
// or more is refused as out of range, and a preprocess count below 1 too.
// Where a phase has no efficiency, or its energy.total is not positive (the
// tool then writes an efficiency of 0, with a warning here), the report is
// silent on that count.
//
// A count the report states is the result's: -queries and -tokens are
// needed only where it is silent, and one that contradicts the report by
// more than 1 % is refused, naming both figures (see package meta). Where
// only decode is stated, the first tokens are counted from -queries.
//
// The report records no duration (latency and throughput are null in
// energy reports): -duration gives it. It names neither model, task nor
// hardware, nor when it ran: those come from the submitter's flags too
// (-measured-at for the date).
package optimum

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/internal/decode"
	"github.com/energylabel/energylabel/rating/formats/meta"
)

// ToolName names the tool on every result.
const ToolName = "optimum-benchmark"

// phases are the phases whose GPU energy counts, as AIES scores a report.
var phases = [...]string{"preprocess", "prefill", "decode"}

type energy struct {
	Unit  *string  `json:"unit"`
	GPU   *float64 `json:"gpu"`
	Total *float64 `json:"total"`
}

type efficiency struct {
	Unit  *string  `json:"unit"`
	Value *float64 `json:"value"`
}

type phase struct {
	Energy     *energy     `json:"energy"`
	Efficiency *efficiency `json:"efficiency"`
	Measures   []*energy   `json:"measures"`
}

type report struct {
	Preprocess *phase `json:"preprocess"`
	Prefill    *phase `json:"prefill"`
	Decode     *phase `json:"decode"`
}

func (r *report) phase(name string) *phase {
	switch name {
	case "preprocess":
		return r.Preprocess
	case "prefill":
		return r.Prefill
	}
	return r.Decode
}

// whPer converts an energy unit to Wh. Units are matched without regard to
// case, as AIES's own summariser does; unlike it, an unknown unit is refused
// rather than taken as kWh.
var whPer = map[string]float64{
	"kwh": 1000, "wh": 1, "mwh": 1e-3,
	"j": 1.0 / 3600, "joule": 1.0 / 3600, "joules": 1.0 / 3600,
	"kj": 1000.0 / 3600, "mj": 1e6 / 3600,
}

// whPerUnit is how many Wh one of unit is, or an error naming path.
func whPerUnit(unit *string, path string) (float64, error) {
	if unit == nil {
		return 0, fmt.Errorf("%s.unit: missing", path)
	}
	per, ok := whPer[strings.ToLower(strings.TrimSpace(*unit))]
	if !ok {
		return 0, fmt.Errorf("%s.unit: %q is not an energy unit energylabel knows (kWh, Wh, mWh, J, kJ, MJ)", path, *unit)
	}
	return per, nil
}

// wh converts e's GPU energy to Wh. path names e in errors.
func wh(e *energy, path string) (float64, error) {
	per, err := whPerUnit(e.Unit, path)
	if err != nil {
		return 0, err
	}
	if e.GPU == nil {
		return 0, fmt.Errorf("%s.gpu: missing", path)
	}
	v := *e.GPU * per
	if math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s.gpu: %v %s is out of range", path, *e.GPU, *e.Unit)
	}
	return v, nil
}

// Parse reads a benchmark_report.json called name. m supplies the model,
// task, hardware and duration, which the report does not name, and the
// counts where the report does not state them.
func Parse(name string, data []byte, m meta.Meta) ([]rating.Result, []meta.Warning, error) {
	var rep report
	if err := decode.JSON(data, &rep); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	var ws []meta.Warning
	warn := func(where, format string, args ...any) {
		ws = append(ws, meta.Warning{File: name, Where: where, Message: fmt.Sprintf(format, args...)})
	}
	ws = append(ws, ignoredPhases(name, data)...)

	total, once := 0.0, 0.0
	counted := 0
	var measured []string // phases with per-run measures
	for _, ph := range phases {
		p := rep.phase(ph)
		if p == nil || p.Energy == nil {
			warn(ph, "no energy reported; it counts 0 Wh")
			continue
		}
		v, err := wh(p.Energy, ph+".energy")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		if v < 0 {
			return nil, nil, fmt.Errorf("%s: %s.energy.gpu: %v %s is negative", name, ph, *p.Energy.GPU, *p.Energy.Unit)
		}
		total += v
		counted++
		if p.Measures == nil {
			once += v
		} else {
			measured = append(measured, ph)
		}
	}
	if counted == 0 {
		return nil, nil, fmt.Errorf("%s: no GPU energy in preprocess, prefill or decode", name)
	}
	if !(total > 0) {
		return nil, nil, fmt.Errorf("%s: GPU energy of preprocess, prefill and decode sums to %v Wh", name, total)
	}

	runs, err := runEnergies(name, &rep, measured, once, warn)
	if err != nil {
		return nil, nil, err
	}
	r := rating.Result{
		GPUEnergyWh:   total,
		RunEnergiesWh: runs,
		ToolName:      ToolName,
	}
	var stated meta.Stated
	samples, ok, err := count(rep.Preprocess, "preprocess", "samples", warn)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if ok {
		if samples < 1 {
			return nil, nil, fmt.Errorf("%s: preprocess: efficiency × energy gives %d samples, want at least 1", name, samples)
		}
		r.Queries, stated.Queries = samples, queriesHow
	}
	decoded, ok, err := count(rep.Decode, "decode", "tokens", warn)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if ok {
		// One first token per query comes from prefill. Where the report
		// does not state the queries, -queries gives them; without it,
		// Apply asks for it before the tokens matter.
		queries := r.Queries
		if queries == 0 {
			queries = m.Queries
		}
		r.Output.Tokens, stated.Tokens = decoded+max(queries, 0), tokensHow
	}
	if err := m.Apply(name, &r, stated, &ws); err != nil {
		return nil, nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return []rating.Result{r}, ws, nil
}

// How the report states its counts, as errors about a contradicting flag
// quote it.
const (
	queriesHow = "preprocess efficiency × energy"
	tokensHow  = "decode efficiency × energy, plus one first token per query"
)

// countTolerance is how far from a whole number, relative to it (or
// absolutely, below 1), efficiency × energy may come out and still be read
// as a count. optimum-benchmark writes efficiency as volume / energy.total
// with both as full float64, so a real report is within about 1e-15.
const countTolerance = 1e-6

// maxCount bounds a count read from efficiency × energy: above 2^53 a
// float64 no longer holds every whole number.
const maxCount = 1 << 53

// count reads how many things (samples, tokens) the phase ph processed, from
// its efficiency (things per energy unit) × its energy.total, the inverse of
// how optimum-benchmark computes efficiency. ok is false when the report
// does not say: the phase or its efficiency is absent, or its energy.total
// is not positive, where the tool writes an efficiency of 0.
func count(p *phase, ph, thing string, warn func(string, string, ...any)) (n int64, ok bool, err error) {
	if p == nil || p.Efficiency == nil {
		return 0, false, nil
	}
	eff := p.Efficiency
	path := ph + ".efficiency"
	if eff.Unit == nil {
		return 0, false, fmt.Errorf("%s.unit: missing", path)
	}
	if eff.Value == nil {
		return 0, false, fmt.Errorf("%s.value: missing", path)
	}
	num, den, _ := strings.Cut(*eff.Unit, "/")
	perEff, known := whPer[strings.ToLower(strings.TrimSpace(den))]
	if strings.ToLower(strings.TrimSpace(num)) != thing || !known {
		return 0, false, fmt.Errorf("%s.unit: %q is not a unit energylabel knows here: want %s per energy unit (%s/kWh, %s/Wh, %s/J, ...)",
			path, *eff.Unit, thing, thing, thing, thing)
	}
	value := *eff.Value
	if !(value >= 0) || math.IsInf(value, 0) {
		return 0, false, fmt.Errorf("%s.value: %v %s is not a non-negative number", path, value, *eff.Unit)
	}
	if p.Energy == nil {
		return 0, false, fmt.Errorf("%s.energy: missing, though %s.efficiency is per its total", ph, ph)
	}
	perEnergy, err := whPerUnit(p.Energy.Unit, ph+".energy")
	if err != nil {
		return 0, false, err
	}
	if p.Energy.Total == nil {
		return 0, false, fmt.Errorf("%s.energy.total: missing, though %s.efficiency is per it", ph, ph)
	}
	total := *p.Energy.Total
	if !(total > 0) || math.IsInf(total, 0) {
		warn(path, "energy.total is %v %s, so the efficiency cannot state the %s: they are taken as unstated", total, *p.Energy.Unit, thing)
		return 0, false, nil
	}
	x := value * total * perEnergy / perEff
	if !(x < maxCount) {
		return 0, false, fmt.Errorf("%s: %v %s × energy.total %v %s is %v %s, out of range",
			path, value, *eff.Unit, total, *p.Energy.Unit, x, thing)
	}
	whole := math.Round(x)
	if math.Abs(x-whole) > countTolerance*max(whole, 1) {
		return 0, false, fmt.Errorf("%s: %v %s × energy.total %v %s is %.10g %s, not a whole number: the report's efficiency and energy do not agree",
			path, value, *eff.Unit, total, *p.Energy.Unit, x, thing)
	}
	return int64(whole), true, nil
}

// runEnergies adds up each run's measures over the measured phases, and
// drops every run with a measure that is not positive.
func runEnergies(name string, rep *report, measured []string, once float64, warn func(string, string, ...any)) ([]float64, error) {
	if len(measured) == 0 {
		return nil, nil
	}
	n := len(rep.phase(measured[0]).Measures)
	for _, ph := range measured[1:] {
		if k := len(rep.phase(ph).Measures); k != n {
			return nil, fmt.Errorf("%s: %s has %d measures and %s has %d: runs cannot be matched",
				name, measured[0], n, ph, k)
		}
	}
	var runs []float64
	dropped := 0
	for i := range n {
		sum, bad := once, false
		for _, ph := range measured {
			path := fmt.Sprintf("%s.measures[%d]", ph, i)
			e := rep.phase(ph).Measures[i]
			if e == nil {
				return nil, fmt.Errorf("%s: %s: null", name, path)
			}
			v, err := wh(e, path)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if !(v > 0) {
				warn(path+".gpu", "%v %s is not positive: run %d dropped", *e.GPU, *e.Unit, i)
				bad = true
			}
			sum += v
		}
		if bad {
			dropped++
			continue
		}
		runs = append(runs, sum)
	}
	if dropped > 0 {
		mean := "none is left"
		if len(runs) > 0 {
			sum := 0.0
			for _, v := range runs {
				sum += v
			}
			mean = fmt.Sprintf("the runs kept average %.6g Wh", sum/float64(len(runs)))
		}
		warn("", "%d of %d runs dropped; gpu_energy_wh is still the sum of the phases' reported energies, which optimum-benchmark averages over all runs, dropped ones included (%s)",
			dropped, n, mean)
	}
	return runs, nil
}

// ignoredPhases warns about phases outside phases that report GPU energy,
// such as load_model or forward: AIES does not count them, and neither does
// energylabel. per_token is a ratio, not a phase, and is skipped silently.
func ignoredPhases(name string, data []byte) []meta.Warning {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil
	}
	var keys []string
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ws []meta.Warning
	for _, k := range keys {
		if k == "per_token" || k == "preprocess" || k == "prefill" || k == "decode" {
			continue
		}
		var p phase
		if json.Unmarshal(top[k], &p) != nil || p.Energy == nil || p.Energy.GPU == nil || *p.Energy.GPU == 0 {
			continue
		}
		unit := ""
		if p.Energy.Unit != nil {
			unit = " " + *p.Energy.Unit
		}
		ws = append(ws, meta.Warning{File: name, Where: k, Message: fmt.Sprintf(
			"GPU energy %v%s not counted: only preprocess, prefill and decode count, as AIES scores a report", *p.Energy.GPU, unit)})
	}
	return ws
}
