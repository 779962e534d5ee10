package optimum

import (
	"encoding/json"
	"flag"
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

var aies = meta.Meta{Model: "acme/tiny-llm", Task: "text_generation", Queries: 1000, Hardware: "H100", GPUs: 1, SizeClass: "B"}

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
	if r.Model != "acme/tiny-llm" || r.Task != "text-generation" || r.Queries != 1000 || r.Accelerator != "H100" || r.ToolName != "optimum-benchmark" {
		t.Errorf("metadata not taken from Meta: %+v", r)
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
		{"queries", func(m *meta.Meta) { m.Queries = 0 }, "benchmark_report.json: queries unknown: pass -queries N"},
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
		rs, _, err := Parse("r.json", []byte(report(tc.unit, tc.gpu)), aies)
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
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, ws, err := Parse("f.json", data, aies)
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
