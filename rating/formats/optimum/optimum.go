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
// The report names neither model, task, queries nor hardware: those come
// from the submitter's flags.
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
	Unit *string  `json:"unit"`
	GPU  *float64 `json:"gpu"`
}

type phase struct {
	Energy   *energy   `json:"energy"`
	Measures []*energy `json:"measures"`
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

// wh converts e's GPU energy to Wh. path names e in errors.
func wh(e *energy, path string) (float64, error) {
	if e.Unit == nil {
		return 0, fmt.Errorf("%s.unit: missing", path)
	}
	per, ok := whPer[strings.ToLower(strings.TrimSpace(*e.Unit))]
	if !ok {
		return 0, fmt.Errorf("%s.unit: %q is not an energy unit energylabel knows (kWh, Wh, mWh, J, kJ, MJ)", path, *e.Unit)
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
// task, queries and hardware, which the report does not name.
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
	if err := m.Apply(name, &r, meta.Stated{}, &ws); err != nil {
		return nil, nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return []rating.Result{r}, ws, nil
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
