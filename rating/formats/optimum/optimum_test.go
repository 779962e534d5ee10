package optimum

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/internal/golden"
	"github.com/energylabel/energylabel/rating/formats/meta"
)

var update = flag.Bool("update", false, "rewrite golden files")

const reportFile = "testdata/benchmark_report.json"

// aies is what a submitter of an AIES report passes: no -queries, since the
// report states them.
var aies = meta.Meta{Model: "acme/tiny-llm", Task: "text_generation", Hardware: "H100", GPUs: 1, SizeClass: "B"}

func readReport(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestAIESReport(t *testing.T) {
	data := readReport(t)
	rs, ws, err := Parse("benchmark_report.json", data, aies)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("%d results, want 1", len(rs))
	}
	r := rs[0]

	// Independently of the parser: 1000 × the sum of the phases' gpu kWh.
	var rep map[string]struct {
		Energy *struct{ GPU float64 } `json:"energy"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	want := 1000 * (rep["preprocess"].Energy.GPU + rep["prefill"].Energy.GPU + rep["decode"].Energy.GPU)
	if math.Abs(r.GPUEnergyWh-want) > 1e-12*want {
		t.Errorf("GPUEnergyWh = %v, want %v", r.GPUEnergyWh, want)
	}
	if r.Model != "acme/tiny-llm" || r.Task != "text-generation" || r.Accelerator != "H100" || r.ToolName != "optimum-benchmark" {
		t.Errorf("metadata not taken from Meta: %+v", r)
	}
	if r.Queries != 1000 || r.Output.Tokens != 10000 || r.DurationSeconds != 0 {
		t.Errorf("queries %d, output tokens %d, duration %v; want the report's 1000 and 9000 + 1000, and none",
			r.Queries, r.Output.Tokens, r.DurationSeconds)
	}
	if len(r.RunEnergiesWh) != 8 {
		t.Errorf("%d runs, want 8 of 10 (runs 4 and 6 dropped)", len(r.RunEnergiesWh))
	}
	for i, e := range r.RunEnergiesWh {
		if !(e > 0) {
			t.Errorf("run energy %d = %v reached the result", i, e)
		}
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}

	var text []string
	for _, w := range ws {
		text = append(text, w.String())
	}
	all := strings.Join(text, "\n")
	for _, must := range []string{
		"decode.measures[4].gpu: -0.08018026219971397 kWh is not positive: run 4 dropped",
		"prefill.measures[6].gpu: 0 kWh is not positive: run 6 dropped",
		"benchmark_report.json: ",
	} {
		if !strings.Contains(all, must) {
			t.Errorf("warnings do not say %q:\n%s", must, all)
		}
	}
	golden.Check(t, "testdata/benchmark_report.golden.json", struct {
		Results  []rating.Result
		Warnings []string
	}{rs, text}, *update)
}

// TestMetaNeeded proves that each field the report lacks is asked for by
// its flag.
func TestMetaNeeded(t *testing.T) {
	data := readReport(t)
	for _, tc := range []struct {
		name string
		drop func(*meta.Meta)
		want string
	}{
		{"model", func(m *meta.Meta) { m.Model = "" }, "benchmark_report.json: model unknown: pass -model owner/name"},
		{"task", func(m *meta.Meta) { m.Task = "" }, "benchmark_report.json: task unknown: pass -task"},
		{"hardware", func(m *meta.Meta) { m.Hardware = "" }, "benchmark_report.json: hardware unknown: pass -hardware"},
		{"size class", func(m *meta.Meta) { m.SizeClass = "" }, "benchmark_report.json: size class unknown: pass -size-class A|B|C or -params BILLIONS"},
		{"unknown task", func(m *meta.Meta) { m.Task = "juggling" }, `benchmark_report.json: -task "juggling": unknown task`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := aies
			tc.drop(&m)
			rs, _, err := Parse("benchmark_report.json", data, m)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to begin %q", err, tc.want)
			}
			if rs != nil {
				t.Errorf("results with an error: %v", rs)
			}
		})
	}
}

// TestCounts proves that the report's own counts are used: independently
// of the parser, efficiency × energy of preprocess is the samples and of
// decode the tokens after the first; that flags within 1 % are accepted
// and further ones refused; and that -duration gives the duration, which
// the report does not record.
func TestCounts(t *testing.T) {
	data := readReport(t)
	var rep map[string]*struct {
		Energy     struct{ Total float64 }
		Efficiency struct {
			Unit  string
			Value float64
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	samples := rep["preprocess"].Efficiency.Value * rep["preprocess"].Energy.Total
	decoded := rep["decode"].Efficiency.Value * rep["decode"].Energy.Total
	if rep["preprocess"].Efficiency.Unit != "samples/kWh" || rep["decode"].Efficiency.Unit != "tokens/kWh" ||
		math.Abs(samples-1000) > 1e-9 || math.Abs(decoded-9000) > 1e-9 {
		t.Fatalf("the report says %v %s and %v %s", samples, rep["preprocess"].Efficiency.Unit, decoded, rep["decode"].Efficiency.Unit)
	}

	for _, tc := range []struct {
		name    string
		change  func(*meta.Meta)
		want    string // the error's start; empty for none
		warning string
	}{
		{"no flags", func(*meta.Meta) {}, "", ""},
		{"flags that agree", func(m *meta.Meta) { m.Queries, m.Tokens = 1000, 10000 }, "", ""},
		{"queries within 1 %", func(m *meta.Meta) { m.Queries = 1010 }, "",
			"benchmark_report.json: -queries 1010 is within 1 % of the file's 1000 queries (preprocess efficiency × energy): the file's figure is used"},
		{"tokens within 1 %", func(m *meta.Meta) { m.Tokens = 9900 }, "",
			"benchmark_report.json: -tokens 9900 is within 1 % of the file's 10000 output tokens (decode efficiency × energy, plus one first token per query): the file's figure is used"},
		{"a thousand times the queries", func(m *meta.Meta) { m.Queries = 1000000 },
			"benchmark_report.json: -queries 1000000 contradicts the file's 1000 queries (preprocess efficiency × energy)", ""},
		{"queries just over 1 %", func(m *meta.Meta) { m.Queries = 989 },
			"benchmark_report.json: -queries 989 contradicts the file's 1000 queries (preprocess efficiency × energy)", ""},
		{"tokens without the first ones", func(m *meta.Meta) { m.Tokens = 9000 },
			"benchmark_report.json: -tokens 9000 contradicts the file's 10000 output tokens (decode efficiency × energy, plus one first token per query)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := aies
			tc.change(&m)
			m.DurationSeconds = 1200
			rs, ws, err := Parse("benchmark_report.json", data, m)
			if tc.want != "" {
				if err == nil || err.Error() != tc.want || rs != nil {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := rs[0]; r.Queries != 1000 || r.Output.Tokens != 10000 || r.DurationSeconds != 1200 {
				t.Errorf("queries %d, tokens %d, duration %v; want 1000, 10000 and -duration's 1200", r.Queries, r.Output.Tokens, r.DurationSeconds)
			}
			found := tc.warning == ""
			for _, w := range ws {
				found = found || w.String() == tc.warning
				if tc.warning == "" && strings.Contains(w.String(), "within 1 %") {
					t.Errorf("warning %q", w)
				}
			}
			if !found {
				t.Errorf("no warning %q in %v", tc.warning, ws)
			}
		})
	}
}

// TestCountsMalformed covers the efficiency fields: units converted or
// refused, products that are no count, and reports silent on a count.
func TestCountsMalformed(t *testing.T) {
	data := string(readReport(t))
	const (
		preUnit = `"unit": "samples/kWh",
      "value": 5590009.884553215`
		decUnit = `"unit": "tokens/kWh",
      "value": 135769.2955968601`
		preTotal = `"total": 0.0001788905602409191`
		decTotal = `"total": 0.06628892018946397
    },
    "efficiency"`
	)
	replace := func(old, new string) string {
		t.Helper()
		if strings.Count(data, old) != 1 {
			t.Fatalf("report holds %q %d times", old, strings.Count(data, old))
		}
		return strings.Replace(data, old, new, 1)
	}
	withQueries := aies
	withQueries.Queries = 1000
	for _, tc := range []struct {
		name, data      string
		meta            meta.Meta
		queries, tokens int64
	}{
		{"samples per Wh", replace(preUnit, `"unit": "samples/Wh", "value": 5590.009884553215`), aies, 1000, 10000},
		{"units in any case", replace(preUnit, `"unit": "Samples / KWH", "value": 5590009.884553215`), aies, 1000, 10000},
		{"tokens per joule", replace(decUnit, `"unit": "tokens/J", "value": 0.03771369322135003`), aies, 1000, 10000},
		{"no preprocess efficiency: -queries gives the first tokens", replace(preUnit, `"unit": null, "value": null, "x": 0`), withQueries, 1000, 10000},
		{"preprocess energy total 0: unstated", replace(preTotal, `"total": 0`), withQueries, 1000, 10000},
		{"no decode efficiency: no tokens", replace(decUnit, `"unit": null, "value": null, "x": 0`), aies, 1000, 0},
		{"one token per sample", replace(decUnit, `"unit": "tokens/kWh", "value": 0`), aies, 1000, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			if strings.Contains(tc.name, "no preprocess") || strings.Contains(tc.name, "no decode") {
				// An efficiency object with neither field stands for one
				// that is null, as the tool writes for a phase it did not
				// measure.
				data = strings.Replace(data, `"efficiency": {
      "unit": null, "value": null, "x": 0
    }`, `"efficiency": null`, 1)
			}
			rs, _, err := Parse("r.json", []byte(data), tc.meta)
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Queries != tc.queries || rs[0].Output.Tokens != tc.tokens {
				t.Errorf("queries %d, tokens %d; want %d, %d", rs[0].Queries, rs[0].Output.Tokens, tc.queries, tc.tokens)
			}
		})
	}

	for _, tc := range []struct {
		name, data, want string
	}{
		{"unknown energy in the efficiency unit", replace(preUnit, `"unit": "samples/BTU", "value": 1`),
			`r.json: preprocess.efficiency.unit: "samples/BTU" is not a unit energylabel knows here: want samples per energy unit (samples/kWh, samples/Wh, samples/J, ...)`},
		{"unknown thing in the efficiency unit", replace(preUnit, `"unit": "widgets/kWh", "value": 1`),
			`r.json: preprocess.efficiency.unit: "widgets/kWh" is not a unit energylabel knows here: want samples per energy unit`},
		{"an efficiency unit that is no ratio", replace(preUnit, `"unit": "kWh", "value": 1`),
			`r.json: preprocess.efficiency.unit: "kWh" is not a unit energylabel knows here`},
		{"decode in samples", replace(decUnit, `"unit": "samples/kWh", "value": 1`),
			`r.json: decode.efficiency.unit: "samples/kWh" is not a unit energylabel knows here: want tokens per energy unit`},
		{"preprocess in tokens", replace(preUnit, `"unit": "tokens/kWh", "value": 1`),
			`r.json: preprocess.efficiency.unit: "tokens/kWh" is not a unit energylabel knows here: want samples per energy unit`},
		{"missing efficiency unit", replace(preUnit, `"value": 5590009.884553215`), "r.json: preprocess.efficiency.unit: missing"},
		{"missing efficiency value", replace(preUnit, `"unit": "samples/kWh"`), "r.json: preprocess.efficiency.value: missing"},
		{"negative efficiency", replace(decUnit, `"unit": "tokens/kWh", "value": -135769.2955968601`),
			"r.json: decode.efficiency.value: -135769.2955968601 tokens/kWh is not a non-negative number"},
		{"samples that are no whole number", replace(preUnit, `"unit": "samples/kWh", "value": 5592500`),
			"r.json: preprocess.efficiency: 5.5925e+06 samples/kWh × energy.total 0.0001788905602409191 kWh is 1000.445458 samples, not a whole number: the report's efficiency and energy do not agree"},
		{"tokens that are no whole number", replace(decUnit, `"unit": "tokens/kWh", "value": 135770`),
			"r.json: decode.efficiency: 135770 tokens/kWh × energy.total 0.06628892018946397 kWh is 9000.046694 tokens, not a whole number"},
		{"no samples", replace(preUnit, `"unit": "samples/kWh", "value": 0`), "r.json: preprocess: efficiency × energy gives 0 samples, want at least 1"},
		{"samples out of range", replace(preUnit, `"unit": "samples/kWh", "value": 1e300`),
			"r.json: preprocess.efficiency: 1e+300 samples/kWh × energy.total 0.0001788905602409191 kWh is 1.788905602409191e+296 samples, out of range"},
		{"missing energy total", replace(decTotal, `"x": 0
    },
    "efficiency"`), "r.json: decode.energy.total: missing, though decode.efficiency is per it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, _, err := Parse("r.json", []byte(tc.data), aies)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to begin %q", err, tc.want)
			}
			if rs != nil {
				t.Errorf("results with an error: %v", rs)
			}
		})
	}

	// A report silent on the queries needs -queries.
	silent := replace(preTotal, `"total": 0`)
	_, ws, err := Parse("r.json", []byte(silent), aies)
	if err == nil || err.Error() != "r.json: queries unknown: pass -queries N" {
		t.Errorf("error %v, want -queries asked for", err)
	}
	_, ws, err = Parse("r.json", []byte(silent), withQueries)
	if err != nil || !strings.Contains(fmt.Sprint(ws), "r.json: preprocess.efficiency: energy.total is 0 kWh, so the efficiency cannot state the samples: they are taken as unstated") {
		t.Errorf("error %v, warnings %v", err, ws)
	}
}

func TestMalformed(t *testing.T) {
	data := string(readReport(t))
	for _, tc := range []struct {
		name, data, want string
	}{
		{"truncated JSON names the line", data[:len(data)/2], "report.json: line 102, column 26: not valid JSON: unexpected end of JSON input"},
		{"wrong unit is refused", strings.Replace(data, `"unit": "kWh",
      "cpu": 0.004241178676407777`, `"unit": "BTU",
      "cpu": 0.004241178676407777`, 1), `report.json: prefill.energy.unit: "BTU" is not an energy unit`},
		{"non-numeric energy names the field", strings.Replace(data, `"gpu": 0.0720086028290584`, `"gpu": "lots"`, 1), "report.json: prefill.energy.gpu (line 10): want a number, got string"},
		{"negative phase energy", strings.Replace(data, `"gpu": 0.0720086028290584`, `"gpu": -0.07`, 1), "report.json: prefill.energy.gpu: -0.07 kWh is negative"},
		{"missing gpu energy", strings.Replace(data, `"gpu": 0.0720086028290584,`, ``, 1), "report.json: prefill.energy.gpu: missing"},
		{"missing measure unit", strings.Replace(data, `"unit": "kWh",
        "cpu": 0.00472465879751389`, `"cpu": 0.00472465879751389`, 1), "report.json: prefill.measures[0].unit: missing"},
		{"no phases at all", `{"per_token": null}`, "report.json: no GPU energy in preprocess, prefill or decode"},
		{"a JSON array", `[1, 2]`, "report.json: top level (line 1): want an object, got array"},
		{"empty file", ``, "report.json: line 1, column 1: not valid JSON"},
		{"runs that cannot be matched", strings.Replace(data, `{
        "unit": "kWh",
        "cpu": 0.004715609719118052,
        "ram": 8.744444116247656e-05,
        "gpu": 0.07998742815655802,
        "total": 0.0847904823168385
      }`, `{"unit": "kWh", "gpu": 0.08}, {"unit": "kWh", "gpu": 0.08}`, 1), "report.json: prefill has 11 measures and decode has 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, _, err := Parse("report.json", []byte(tc.data), aies)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to begin %q", err, tc.want)
			}
			if rs != nil {
				t.Errorf("results with an error: %v", rs)
			}
		})
	}
}

func TestUnits(t *testing.T) {
	report := func(unit string, gpu float64) string {
		b, _ := json.Marshal(map[string]any{"prefill": map[string]any{"energy": map[string]any{"unit": unit, "gpu": gpu}}})
		return string(b)
	}
	for _, tc := range []struct {
		unit string
		gpu  float64
		wh   float64
	}{{"kWh", 0.5, 500}, {"Wh", 2, 2}, {"J", 7200, 2}, {"kj", 36, 10}} {
		m := aies
		m.Queries = 1000
		rs, _, err := Parse("r.json", []byte(report(tc.unit, tc.gpu)), m)
		if err != nil {
			t.Fatalf("%s: %v", tc.unit, err)
		}
		if math.Abs(rs[0].GPUEnergyWh-tc.wh) > 1e-12 {
			t.Errorf("%v %s = %v Wh, want %v", tc.gpu, tc.unit, rs[0].GPUEnergyWh, tc.wh)
		}
	}
}

func FuzzOptimum(f *testing.F) {
	f.Add(readReport(f))
	f.Add([]byte(`{"prefill": {"energy": {"unit": "Wh", "gpu": 1}, "measures": [{"unit": "J", "gpu": 3600}]}}`))
	// With -queries, a report that does not state them still parses; one
	// that does must agree.
	m := aies
	m.Queries = 1000
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, ws, err := Parse("f.json", data, m)
		if err != nil {
			if rs != nil {
				t.Fatalf("results with an error: %v", err)
			}
			return
		}
		for i := range rs {
			if err := rs[i].Validate(); err != nil {
				t.Fatalf("result %d fails validation: %v", i, err)
			}
		}
		for _, w := range ws {
			if w.File != "f.json" {
				t.Fatalf("warning does not name the file: %v", w)
			}
		}
	})
}
