package formats

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
)

// files are the test files of the parsers, each with its format.
var files = []struct {
	path string
	want Format
}{
	{"optimum/testdata/benchmark_report.json", Optimum},
	{"aiebench/testdata/benchmark_results.json", AIEBench},
	{"aiesbatch/testdata/master_results.csv", AIESBatch},
	{"codecarbon/testdata/emissions_31_july_summarization.csv", CodeCarbon},
	{"codecarbon/testdata/emissions_6_aug_result_dashboard.csv", CodeCarbon},
	{"codecarbon/testdata/emissions_31_july_summarization_h100_300w.csv", CodeCarbon},
}

const native = `{"model": "acme/tiny-clf", "task": "text-classification",
 "hardware": {"accelerator": "H100", "count": 1}, "queries": 1000, "gpu_energy_wh": 0.21}`

func read(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDetect(t *testing.T) {
	for _, f := range files {
		got, err := Detect(f.path, read(t, f.path))
		if err != nil || got != f.want {
			t.Errorf("%s: %v, %v; want %v", f.path, got, err, f.want)
		}
	}
	mle, err := fs.ReadFile(calibration.MLEnergyV3(), "tasks/gpqa.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data string
		want       Format
	}{
		{"native", native, Native},
		{"native with only energy", `{"gpu_energy_wh": 1}`, Native},
		{"ML.ENERGY task", string(mle), MLEnergyTask},
		{"BOM and space before a CSV", "\ufeff  run_id,gpu_energy\n", CodeCarbon},
	} {
		if got, err := Detect("x", []byte(tc.data)); err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestDetectRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", " \n", "x.json: empty file"},
		{"truncated JSON names the line", "{\n\"prefill\": {", "x.json: line 2, column 13: not valid JSON"},
		{"JSON of no known format", `{"hello": 1}`, "x.json: a JSON object that is no result format"},
		{"a JSON array", `[{"model": "a/b"}]`, "x.json: a JSON array"},
		{"CSV of no known format", "a,b,c\n1,2,3\n", "x.json: line 1: a CSV header that is no result format"},
	} {
		f, err := Detect("x.json", []byte(tc.data))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || f != Unknown {
			t.Errorf("%s: %v, %v; want an error beginning %q", tc.name, f, err, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	m := Meta{Model: "acme/m", Task: "summarization", Queries: 1000, Hardware: "H100"}
	for _, tc := range []struct {
		path string
		meta Meta
	}{
		{"optimum/testdata/benchmark_report.json", m},
		{"aiebench/testdata/benchmark_results.json", Meta{Task: "text-generation", Hardware: "H100", SizeClass: "B"}},
		{"aiesbatch/testdata/master_results.csv", Meta{Hardware: "H100"}},
		{"codecarbon/testdata/emissions_31_july_summarization_h100_300w.csv", m},
	} {
		data := read(t, tc.path)
		f, err := Detect(tc.path, data)
		if err != nil {
			t.Fatal(err)
		}
		rs, _, err := Parse(tc.path, data, f, tc.meta)
		if err != nil || len(rs) == 0 {
			t.Errorf("%s: %d results, %v", tc.path, len(rs), err)
		}
	}
	// A real log whose GPU idled while the model ran on the CPU: its energy
	// is not the model's, and validation refuses it.
	cpuRun := "codecarbon/testdata/emissions_6_aug_result_dashboard.csv"
	own := Meta{Model: "acme/m", Task: "summarization", Queries: 1000}
	if rs, _, err := Parse(cpuRun, read(t, cpuRun), CodeCarbon, own); !errors.Is(err, rating.ErrInvalid) || rs != nil {
		t.Errorf("%s: %d results, %v; want it refused as invalid", cpuRun, len(rs), err)
	}
	_, _, err := Parse("b.json", read(t, "optimum/testdata/benchmark_report.json"), Optimum, Meta{Task: "summarization", Queries: 1000, Hardware: "H100"})
	if !errors.Is(err, ErrMissing) || err.Error() != "b.json: model unknown: pass -model owner/name" {
		t.Errorf("error %v, want the model asked for", err)
	}
	if _, _, err := Parse("n.json", []byte(native), Native, m); err == nil {
		t.Error("formats.Parse read a native file")
	}
}

func TestParseFormat(t *testing.T) {
	for f := Native; f <= MLEnergyTask; f++ {
		if got, err := ParseFormat(f.String()); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f.String(), got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat accepted xml")
	}
}

// FuzzDetect feeds whatever Detect recognises to Parse, as the CLI does.
func FuzzDetect(f *testing.F) {
	for _, file := range files {
		f.Add(read(f, file.path))
	}
	f.Add([]byte(native))
	m := Meta{Model: "acme/m", Task: "text-generation", Queries: 1000, Hardware: "H100", SizeClass: "A"}
	f.Fuzz(func(t *testing.T, data []byte) {
		format, err := Detect("f", data)
		if err != nil {
			if format != Unknown {
				t.Fatalf("format %v with an error", format)
			}
			return
		}
		rs, _, err := Parse("f", data, format, m)
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
