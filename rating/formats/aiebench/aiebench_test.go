package aiebench

import (
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

const sample = "testdata/benchmark_results.json"

var flags = meta.Meta{Task: "text-generation", Hardware: "H100", GPUs: 1, Params: 21}

func readSample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSample(t *testing.T) {
	rs, ws, err := Parse("benchmark_results.json", readSample(t), flags)
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Model != "openai/gpt-oss-20b" || r.Queries != 1000 || r.FailedQueries != 2 || r.Output.Tokens != 598842 ||
		r.GPUEnergyWh != 204.8746918466356 || r.DurationSeconds != 1843.2731628417969 || r.Dataset != "AIEnergyScore/text_generation" {
		t.Errorf("fields not read from the file: %+v", r)
	}
	if r.ThroughputTokensPerSecond != 0 {
		t.Errorf("a throughput that counts prompt tokens was used: %v", r.ThroughputTokensPerSecond)
	}
	if len(ws) != 1 || !strings.Contains(ws[0].String(), "summary.throughput_tokens_per_second: 406.9277495710912 is total_tokens") {
		t.Errorf("warnings %v, want one about the throughput", ws)
	}
	m, err := rating.Normalise(&r)
	if err != nil {
		t.Fatal(err)
	}
	// The AIES text generation dataset is graded per query: the file's
	// output tokens are kept as information, not made the basis.
	if m.Cohort.SizeClass != "B" || m.Cohort.Basis != rating.Query || m.Cohort.Dataset != "AIEnergyScore/text_generation" {
		t.Errorf("cohort %+v, want class B per query on the AIES dataset", m.Cohort)
	}
	if want := r.GPUEnergyWh / 998 * 1000; math.Abs(m.WhPer1kQueries-want) > 1e-12*want || m.EnergyPerUnit != m.WhPer1kQueries {
		t.Errorf("Wh per 1,000 queries %v, energy per unit %v; want both %v", m.WhPer1kQueries, m.EnergyPerUnit, want)
	}
	var text []string
	for _, w := range ws {
		text = append(text, w.String())
	}
	golden.Check(t, "testdata/benchmark_results.golden.json", struct {
		Results  []rating.Result
		Warnings []string
	}{rs, text}, *update)
}

func TestFlags(t *testing.T) {
	data := readSample(t)
	m := flags
	m.Model, m.Dataset = "acme/gpt-oss-20b-q4", "acme/prompts"
	rs, ws, err := Parse("r.json", data, m)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Model != "acme/gpt-oss-20b-q4" || rs[0].Dataset != "acme/prompts" {
		t.Errorf("flags did not replace the file's names: %+v", rs[0])
	}
	all := ""
	for _, w := range ws {
		all += w.String() + "\n"
	}
	for _, must := range []string{`r.json: config.model: the file says "openai/gpt-oss-20b"; -model "acme/gpt-oss-20b-q4" is used instead`, `config.dataset`} {
		if !strings.Contains(all, must) {
			t.Errorf("warnings do not say %q:\n%s", must, all)
		}
	}

	for _, tc := range []struct {
		name string
		meta meta.Meta
		want string
	}{
		{"task is needed", meta.Meta{Hardware: "H100", Params: 21}, "r.json: task unknown: pass -task"},
		{"hardware is needed", meta.Meta{Task: "text-generation", Params: 21}, "r.json: hardware unknown: pass -hardware"},
		{"size is needed for text generation", meta.Meta{Task: "text-generation", Hardware: "H100"}, "r.json: size class unknown: pass -size-class A|B|C or -params BILLIONS"},
		{"queries must agree", meta.Meta{Task: "text-generation", Hardware: "H100", Params: 21, Queries: 500}, "r.json: -queries 500 contradicts the file's 1000 queries (summary.total_prompts)"},
		{"queries over 1 % away", meta.Meta{Task: "text-generation", Hardware: "H100", Params: 21, Queries: 1011}, "r.json: -queries 1011 contradicts the file's 1000 queries (summary.total_prompts)"},
		{"tokens must agree", meta.Meta{Task: "text-generation", Hardware: "H100", Params: 21, Tokens: 750079}, "r.json: -tokens 750079 contradicts the file's 598842 output tokens (summary.total_completion_tokens)"},
		{"duration must agree", meta.Meta{Task: "text-generation", Hardware: "H100", Params: 21, DurationSeconds: 1200}, "r.json: -duration 1200 contradicts the file's 1843.2731628417969 s (summary.total_duration_seconds)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, _, err := Parse("r.json", data, tc.meta)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || rs != nil {
				t.Fatalf("error %v, results %v; want an error beginning %q", err, rs, tc.want)
			}
		})
	}
}

// TestCountsFromFile proves that the file's counts and duration are used,
// that flags within 1 % of them are accepted with a warning, and that flags
// fill only what the file lacks.
func TestCountsFromFile(t *testing.T) {
	data := string(readSample(t))
	m := flags
	m.Queries, m.Tokens, m.DurationSeconds = 1005, 598000, 1850
	rs, ws, err := Parse("r.json", []byte(data), m)
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[0]; r.Queries != 1000 || r.Output.Tokens != 598842 || r.DurationSeconds != 1843.2731628417969 {
		t.Errorf("the file's figures were not kept: %+v", r)
	}
	all := ""
	for _, w := range ws {
		all += w.String() + "\n"
	}
	for _, must := range []string{
		"r.json: -queries 1005 is within 1 % of the file's 1000 queries (summary.total_prompts): the file's figure is used",
		"r.json: -tokens 598000 is within 1 % of the file's 598842 output tokens (summary.total_completion_tokens)",
		"r.json: -duration 1850 is within 1 % of the file's 1843.2731628417969 s (summary.total_duration_seconds)",
	} {
		if !strings.Contains(all, must) {
			t.Errorf("warnings do not say %q:\n%s", must, all)
		}
	}

	// Without the duration and completion tokens, the flags give them.
	silent := strings.Replace(strings.Replace(data, `"total_duration_seconds": 1843.2731628417969,`, ``, 1),
		`"total_completion_tokens": 598842,`, ``, 1)
	m = flags
	m.Tokens, m.DurationSeconds = 598842, 1843
	rs, _, err = Parse("r.json", []byte(silent), m)
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[0]; r.Output.Tokens != 598842 || r.DurationSeconds != 1843 {
		t.Errorf("flags did not fill what the file lacks: %+v", r)
	}
	// A duration of 0 is no duration: -duration gives it, with a warning.
	zero := strings.Replace(data, `"total_duration_seconds": 1843.2731628417969`, `"total_duration_seconds": 0`, 1)
	rs, ws, err = Parse("r.json", []byte(zero), m)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].DurationSeconds != 1843 || len(ws) == 0 || ws[0].String() != "r.json: summary.total_duration_seconds: 0 s is no duration: taken as unstated" {
		t.Errorf("duration %v, warnings %v", rs[0].DurationSeconds, ws)
	}
}

func TestMalformed(t *testing.T) {
	data := string(readSample(t))
	without := func(field string) string {
		i := strings.Index(data, `"`+field+`"`)
		j := i + strings.Index(data[i:], "\n")
		return data[:i] + `"x_` + data[i+1:j] + data[j:]
	}
	replace := func(old, new string) string {
		if !strings.Contains(data, old) {
			t.Fatalf("sample lacks %q", old)
		}
		return strings.Replace(data, old, new, 1)
	}
	for _, tc := range []struct {
		name, data, want string
	}{
		{"truncated JSON names the line", data[:900], "r.json: line 28, column 41: not valid JSON: unexpected end of JSON input"},
		{"non-numeric energy names the field", replace(`"gpu_energy_wh": 204.8746918466356`, `"gpu_energy_wh": "204.87 Wh"`), "r.json: energy.gpu_energy_wh (line 27): want a number, got string"},
		{"missing energy", without("gpu_energy_wh"), "r.json: energy.gpu_energy_wh: missing"},
		{"zero energy", replace(`"gpu_energy_wh": 204.8746918466356`, `"gpu_energy_wh": 0`), "r.json: energy.gpu_energy_wh: 0 Wh is not positive"},
		{"energy the tracker did not measure", replace(`"region": null`, `"region": null, "error": "Tracker not started or codecarbon not installed"`), "r.json: energy.error: the energy was not measured: Tracker not started"},
		{"fractional prompts", replace(`"total_prompts": 1000`, `"total_prompts": 1000.5`), "r.json: summary.total_prompts (line 10): want an integer in range, got number 1000.5"},
		{"counts that do not add up", replace(`"successful_prompts": 998`, `"successful_prompts": 997`), "r.json: summary.successful_prompts: 997, but total_prompts 1000 less failed_prompts 2 is 998"},
		{"every prompt failed", replace(`"failed_prompts": 2`, `"failed_prompts": 1000`), "r.json: summary.failed_prompts: 1000 of 1000 prompts failed"},
		{"no summary", without("summary"), "r.json: summary: missing"},
		{"a physically impossible power", replace(`"total_duration_seconds": 1843.2731628417969`, `"total_duration_seconds": 184.32731628417969`), "r.json: invalid result: gpu_energy_wh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, _, err := Parse("r.json", []byte(tc.data), flags)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to begin %q", err, tc.want)
			}
			if rs != nil {
				t.Errorf("results with an error: %v", rs)
			}
		})
	}
}

func FuzzAIEBench(f *testing.F) {
	f.Add(readSample(f))
	f.Add([]byte(`{"summary": {"total_prompts": 2, "failed_prompts": 0, "total_completion_tokens": 10, "throughput_tokens_per_second": 5, "total_duration_seconds": 2}, "energy": {"gpu_energy_wh": 0.01}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, _, err := Parse("f.json", data, meta.Meta{Model: "a/b", Task: "text-generation", Hardware: "H100", SizeClass: "A"})
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
	})
}
