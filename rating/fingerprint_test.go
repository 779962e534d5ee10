package rating_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats"
)

// optimumRun is the AIES optimum-benchmark report in testdata, read as a
// publisher sends it.
func optimumRun(t *testing.T, data []byte, model string) rating.Result {
	t.Helper()
	rs, _, err := formats.Parse("benchmark_report.json", data, formats.Optimum, formats.Meta{
		Model: model, Task: "text-generation", Hardware: "NVIDIA H100 80GB HBM3", GPUs: 1, Params: 7, DurationSeconds: 1200})
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

func TestFingerprintIsTheMeasurementNotItsName(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("formats", "optimum", "testdata", "benchmark_report.json"))
	if err != nil {
		t.Fatal(err)
	}
	reg := rating.Builtin()
	orig := optimumRun(t, data, "acme/m")
	fp := reg.Fingerprint(&orig)
	if len(fp) != 64 {
		t.Fatalf("fingerprint %q is not hex SHA-256", fp)
	}

	same := map[string]func(r *rating.Result){
		"another model":        func(r *rating.Result) { r.Model = "evil/twin" },
		"another task":         func(r *rating.Result) { r.Task = "reasoning" },
		"another tool":         func(r *rating.Result) { r.ToolName, r.ToolVersion = "hand-made", "9" },
		"another parameter":    func(r *rating.Result) { r.ParamsBillions = 70 },
		"the variant spelt so": func(r *rating.Result) { r.Accelerator = "h100  sxm" },
		"energy past 4 digits": func(r *rating.Result) { r.GPUEnergyWh *= 1 + 1e-5 },
		"runs in another order": func(r *rating.Result) {
			r.RunEnergiesWh = append([]float64(nil), r.RunEnergiesWh...)
			r.RunEnergiesWh[0], r.RunEnergiesWh[1] = r.RunEnergiesWh[1], r.RunEnergiesWh[0]
		},
	}
	for name, change := range same {
		r := orig
		change(&r)
		if got := reg.Fingerprint(&r); got != fp {
			t.Errorf("%s: fingerprint changed", name)
		}
	}
	// The trailing-space twin of issue 16: one more byte in the file.
	twin := optimumRun(t, append(append([]byte(nil), data...), ' '), "evil/twin")
	if reg.Fingerprint(&twin) != fp {
		t.Errorf("the trailing-space twin has another fingerprint")
	}

	differ := map[string]func(r *rating.Result){
		"energy at the 4th digit": func(r *rating.Result) { r.GPUEnergyWh *= 1.001 },
		"duration":                func(r *rating.Result) { r.DurationSeconds++ },
		"queries":                 func(r *rating.Result) { r.Queries = 2000 },
		"failed queries":          func(r *rating.Result) { r.FailedQueries = 10 },
		"output tokens":           func(r *rating.Result) { r.Output.Tokens *= 2 },
		"images":                  func(r *rating.Result) { r.Output.Images = 1 },
		"audio":                   func(r *rating.Result) { r.Output.AudioSeconds = 1 },
		"a run's energy":          func(r *rating.Result) { r.RunEnergiesWh = append([]float64{1}, r.RunEnergiesWh[1:]...) },
		"one run fewer":           func(r *rating.Result) { r.RunEnergiesWh = r.RunEnergiesWh[1:] },
		"another variant":         func(r *rating.Result) { r.Accelerator = "H100 PCIe" },
		"more accelerators":       func(r *rating.Result) { r.GPUCount = 2 },
	}
	for name, change := range differ {
		r := orig
		change(&r)
		if reg.Fingerprint(&r) == fp {
			t.Errorf("%s: the same fingerprint", name)
		}
	}
}

func TestFingerprintResolvesTheAccelerator(t *testing.T) {
	reg := rating.Builtin()
	r := rating.Result{Accelerator: "NVIDIA H100 80GB HBM3", GPUCount: 2, Queries: 1000, GPUEnergyWh: 0.9, DurationSeconds: 41.5}
	cc := r
	cc.Accelerator, cc.GPUCount = "2 x NVIDIA H100 80GB HBM3", 0
	if reg.Fingerprint(&r) != reg.Fingerprint(&cc) {
		t.Errorf("CodeCarbon's name for the same two cards gives another fingerprint")
	}
	v, _, err := reg.Accelerators.Resolve(r.Accelerator)
	if err != nil {
		t.Fatal(err)
	}
	bare := r
	bare.Accelerator = v.Name
	if rating.Fingerprint(&bare) != reg.Fingerprint(&r) {
		t.Errorf("Registry.Fingerprint is not Fingerprint of the resolved variant %q", v.Name)
	}
}
