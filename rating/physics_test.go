package rating_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/rating/formats/mlenergy"
)

func publisherRun(model string, params float64, accel string, gpus int, tokens int64, wh, seconds float64) *rating.Result {
	return &rating.Result{Model: model, Task: "text-generation", Accelerator: accel, GPUCount: gpus, Queries: 1000,
		GPUEnergyWh: wh, DurationSeconds: seconds, ParamsBillions: params, Output: rating.Output{Tokens: tokens}}
}

func violations(err error) map[string]string {
	out := map[string]string{}
	if inv, ok := err.(*rating.InvalidError); ok {
		for _, v := range inv.Violations {
			out[v.Field] = v.Description
		}
	}
	return out
}

// The attack of issue 16: a 70 B model on one H100 PCIe claiming 0.0005 Wh
// for 100,000 tokens in 0.1 s, 900× below what the card can compute.
func TestTheImpossible70BIsRefused(t *testing.T) {
	reg := rating.Builtin()
	_, err := reg.Normalise(publisherRun("evil/llama-70b", 70, "H100 PCIe", 1, 100_000, 0.0005, 0.1), rating.Publisher)
	vs := violations(err)
	if want := "0.0005 Wh is below the physical floor of 0.45 Wh for 100,000 tokens of a 70 B model on 1 × H100 PCIe at 8-bit"; vs["gpu_energy_wh"] != want {
		t.Errorf("gpu_energy_wh: %q\nwant %q", vs["gpu_energy_wh"], want)
	}
	if !strings.Contains(vs["duration_seconds"], "below the physical floor of 4.6 s") {
		t.Errorf("duration_seconds: %q", vs["duration_seconds"])
	}
	// The same claim, imported from a published leaderboard, is not refused
	// by the floors, but says how far below them it is.
	m, err := reg.Normalise(publisherRun("pub/llama-70b", 70, "H100 PCIe", 1, 100_000, 0.0005, 0), rating.Published)
	if err != nil || !(m.FloorRatio > 0 && m.FloorRatio < 0.01) {
		t.Errorf("published: floor ratio %v, %v", m.FloorRatio, err)
	}
}

func TestWeightsMustFitAndDatesMustBeReal(t *testing.T) {
	reg := rating.Builtin()
	_, err := reg.Normalise(publisherRun("evil/llama-405b", 405, "H100", 1, 100_000, 500, 600), rating.Publisher)
	if d := violations(err)["parameters_billions"]; !strings.Contains(d, "202.5 GB, more than the 94 GB of 1 × H100") {
		t.Errorf("405 B on one card: %q (%v)", d, err)
	}
	_, err = reg.Normalise(publisherRun("evil/llama-405b", 405, "H100 SXM", 1, 100_000, 100, 600), rating.Publisher)
	if d := violations(err)["parameters_billions"]; !strings.Contains(d, "202.5 GB, more than the 80 GB of 1 × H100 SXM") {
		t.Errorf("405 B on one H100 SXM: %q (%v)", d, err)
	}
	r := publisherRun("acme/llama-405b", 405, "H100", 8, 100_000, 500, 600)
	r.Precision = "fp8"
	if _, err := reg.Normalise(r, rating.Publisher); err != nil {
		t.Errorf("405 B in fp8 on 8 × H100: %v", err)
	}
	reg.Now = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for _, when := range []time.Time{time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2014, 12, 31, 0, 0, 0, 0, time.UTC)} {
		r := publisherRun("acme/m", 7, "H100", 1, 100_000, 50, 600)
		r.MeasuredAt = when
		if _, ok := violations(func() error { _, err := reg.Normalise(r, rating.Publisher); return err }())["measured_at"]; !ok {
			t.Errorf("measured at %s was accepted", when)
		}
	}
	noTokens := publisherRun("acme/m", 7, "H100", 1, 0, 50, 600)
	if _, ok := violations(func() error { _, err := reg.Normalise(noTokens, rating.Publisher); return err }())["output.tokens"]; !ok {
		t.Error("a publisher's text generation result without output tokens was accepted")
	}
}

// Mixture-of-experts models do the work of their active parameters.
func TestActiveParametersSetTheComputeFloor(t *testing.T) {
	reg := rating.Builtin()
	dense, err := reg.Normalise(publisherRun("acme/moe", 117, "H100", 1, 1_000_000, 20, 600), rating.Publisher)
	if err != nil {
		t.Fatal(err)
	}
	r := publisherRun("acme/moe", 117, "H100", 1, 1_000_000, 20, 600)
	r.ActiveParamsBillions = 5.1
	moe, err := reg.Normalise(r, rating.Publisher)
	if err != nil {
		t.Fatal(err)
	}
	if ratio := moe.FloorRatio / dense.FloorRatio; math.Abs(ratio-117/5.1) > 1e-9 {
		t.Errorf("floor ratios %v and %v", moe.FloorRatio, dense.FloorRatio)
	}
	r.ActiveParamsBillions = 200
	if _, ok := violations(func() error { _, err := reg.Normalise(r, rating.Publisher); return err }())["active_parameters_billions"]; !ok {
		t.Error("more active than total parameters was accepted")
	}
}

// Every ML.ENERGY v3 LLM configuration with a parameter count, submitted
// as a publisher would, passes both floors; the test logs the smallest
// margins.
func TestEveryMLEnergyConfigurationPassesTheFloors(t *testing.T) {
	fsys := calibration.MLEnergyV3()
	names, err := fs.Glob(fsys, "tasks/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("%v %v", names, err)
	}
	type config struct {
		Model     string   `json:"model_id"`
		GPU       string   `json:"gpu_model"`
		GPUs      int      `json:"num_gpus"`
		Total     *float64 `json:"total_params_billions"`
		Active    float64  `json:"activated_params_billions"`
		Precision string   `json:"weight_precision"`
		OutLen    *float64 `json:"avg_output_len"`
		JPerToken *float64 `json:"energy_per_token_joules"`
		Watts     float64  `json:"avg_power_watts"`
	}
	reg := rating.Builtin()
	n := 0
	minEnergy, minTime := math.Inf(1), math.Inf(1)
	var atEnergy, atTime string
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Task           string   `json:"task"`
			Configurations []config `json:"configurations"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		task, ok := mlenergy.Task(f.Task)
		if tk, _ := rating.LookupTask(task); !ok || !tk.TokenUnit() {
			continue
		}
		for _, c := range f.Configurations {
			if c.Total == nil || *c.Total <= 0 || c.OutLen == nil || c.JPerToken == nil || c.Watts <= 0 {
				continue
			}
			tokens := int64(math.Round(*c.OutLen * 1000))
			joules := *c.JPerToken * float64(tokens)
			r := &rating.Result{Model: c.Model, Task: task, Dataset: mlenergy.DatasetPrefix + f.Task, Accelerator: c.GPU, GPUCount: c.GPUs,
				Queries: 1000, GPUEnergyWh: joules / 3600, DurationSeconds: joules / c.Watts, ParamsBillions: *c.Total,
				Precision: c.Precision, Output: rating.Output{Tokens: tokens}}
			if c.Active > 0 && c.Active < *c.Total {
				r.ActiveParamsBillions = c.Active
			}
			m, err := reg.Normalise(r, rating.Publisher)
			if err != nil {
				t.Errorf("%s on %d × %s (%s): %v", c.Model, c.GPUs, c.GPU, f.Task, err)
				continue
			}
			n++
			if m.FloorRatio < minEnergy {
				minEnergy, atEnergy = m.FloorRatio, fmt.Sprintf("%s on %d × %s, %s", c.Model, c.GPUs, c.GPU, f.Task)
			}
			active := r.ParamsBillions
			if r.ActiveParamsBillions > 0 {
				active = r.ActiveParamsBillions
			}
			v, _, _ := reg.Accelerators.Resolve(c.GPU)
			floorS := 2 * active * 1e9 * float64(tokens) / (float64(c.GPUs) * v.PeakTFLOPSFastest * 1e12) / rating.FloorSafety
			if ratio := r.DurationSeconds / floorS; ratio < minTime {
				minTime, atTime = ratio, fmt.Sprintf("%s on %d × %s, %s", c.Model, c.GPUs, c.GPU, f.Task)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d configurations checked", n)
	}
	t.Logf("%d ML.ENERGY v3 configurations pass; smallest margins: energy %.1f× the floor (%s), time %.1f× (%s)", n, minEnergy, atEnergy, minTime, atTime)
}

// A bare family name takes, for each floor, the family's most lenient
// variant: the best joules per FLOP (H100 PCIe), the highest peak (H100
// SXM) and the largest memory (H100 NVL).
func TestABareFamilyNameTakesItsMostLenientVariant(t *testing.T) {
	reg := rating.Builtin()
	ratio := func(accel string) float64 {
		t.Helper()
		m, err := reg.Normalise(publisherRun("acme/m", 70, accel, 1, 100_000, 50, 600), rating.Publisher)
		if err != nil {
			t.Fatalf("%s: %v", accel, err)
		}
		return m.FloorRatio
	}
	sxm, pcie := ratio("H100 SXM"), ratio("H100 PCIe")
	for _, bare := range []string{"H100", "1 x H100", "h100"} {
		if got := ratio(bare); math.Abs(got-pcie) > 1e-9*pcie {
			t.Errorf("%s: floor ratio %v, want the PCIe's %v (SXM %v)", bare, got, pcie, sxm)
		}
	}
	if want := (700.0 / 1979) / (350.0 / 1513); math.Abs(pcie/sxm-want) > 1e-9 {
		t.Errorf("SXM %v, PCIe %v: want a ratio of %v", sxm, pcie, want)
	}
	// 100,000 tokens of a 70 B model take at least 4.63 s at the PCIe's
	// 1,513 TFLOP/s and 3.54 s at the SXM's 1,979: 4 s is refused only on
	// the PCIe.
	fast := func(accel string) error {
		_, err := reg.Normalise(publisherRun("acme/m", 70, accel, 1, 100_000, 0.7, 4), rating.Publisher)
		return err
	}
	if _, ok := violations(fast("H100 PCIe"))["duration_seconds"]; !ok {
		t.Error("4 s on an H100 PCIe was accepted")
	}
	if err := fast("H100"); err != nil {
		t.Errorf("4 s on a bare H100: %v", err)
	}
	// 170 B at 4-bit (none declared) is 85 GB: it fits in an H100 NVL's
	// 94 GB, so in a bare H100, but not in an H100 SXM's 80 GB.
	big := func(accel string) error {
		_, err := reg.Normalise(publisherRun("acme/big", 170, accel, 1, 100_000, 100, 600), rating.Publisher)
		return err
	}
	if err := big("H100"); err != nil {
		t.Errorf("85 GB of weights on a bare H100: %v", err)
	}
	if _, ok := violations(big("H100 SXM"))["parameters_billions"]; !ok {
		t.Error("85 GB of weights on an 80 GB H100 SXM were accepted")
	}
}

// A variant without a published peak or memory, or one of a family that has
// such a variant, gets no floor and says so.
func TestNoFloorWithoutDatasheetFigures(t *testing.T) {
	reg := rating.Builtin()
	r := publisherRun("acme/m", 7, "A10G", 1, 100_000, 0.0005, 600)
	r.GPUEnergyWh = 300 * 600 / 3600.0 * 0.5
	m, err := reg.Normalise(r, rating.Publisher)
	if err != nil {
		t.Fatal(err)
	}
	if m.FloorRatio != 0 || !strings.HasPrefix(rating.PhysicsNote(m), "physics not checked") {
		t.Errorf("A10G: floor ratio %v, note %q", m.FloorRatio, rating.PhysicsNote(m))
	}
	h, err := reg.Normalise(publisherRun("acme/m", 7, "H100", 1, 100_000, 50, 600), rating.Publisher)
	if err != nil || h.FloorRatio <= 0 || rating.PhysicsNote(h) != "" {
		t.Errorf("H100: floor ratio %v, note %q, %v", h.FloorRatio, rating.PhysicsNote(h), err)
	}
}

func TestAcceleratorDatasheetFiguresAreChecked(t *testing.T) {
	base := rating.Accelerator{Name: "X1 PCIe", Family: "X1", BoardWatts: 300}
	for _, tc := range []struct {
		field string
		edit  func(*rating.Accelerator)
	}{
		{"peak_tflops", func(a *rating.Accelerator) { a.PeakTFLOPSFastest = math.NaN() }},
		{"peak_tflops", func(a *rating.Accelerator) { a.PeakTFLOPSFastest = math.Inf(1) }},
		{"peak_tflops", func(a *rating.Accelerator) { a.PeakTFLOPSFastest = -1 }},
		{"peak_tflops", func(a *rating.Accelerator) { a.PeakTFLOPSFastest = rating.MaxPeakTFLOPS + 1 }},
		{"peak_tflops", func(a *rating.Accelerator) { a.PeakTFLOPS16, a.PeakTFLOPSFastest = 500, 250 }},
		{"peak_tflops_16bit", func(a *rating.Accelerator) { a.PeakTFLOPS16 = -1 }},
		{"memory_gb", func(a *rating.Accelerator) { a.MemoryGB = -80 }},
		{"memory_gb", func(a *rating.Accelerator) { a.MemoryGB = rating.MaxMemoryGB * 2 }},
		{"fastest_precision", func(a *rating.Accelerator) { a.FastestPrecision = "fp8\n" }},
		{"fastest_precision", func(a *rating.Accelerator) { a.FastestPrecision = strings.Repeat("x", 17) }},
	} {
		a := base
		tc.edit(&a)
		_, err := rating.BuiltinAccelerators().With(a)
		if _, ok := violations(err)[tc.field]; !ok {
			t.Errorf("%+v: want a violation of %s, got %v", a, tc.field, err)
		}
	}
	a := base
	a.PeakTFLOPS16, a.PeakTFLOPSFastest, a.FastestPrecision, a.MemoryGB = 400, 800, "fp8", 96
	reg, err := rating.BuiltinAccelerators().With(a)
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := reg.Resolve("X1 PCIe"); err != nil || v.PeakTFLOPSFastest != 800 || v.MemoryGB != 96 {
		t.Errorf("resolved %+v, %v", v, err)
	}
	for _, v := range rating.BuiltinAccelerators().All() {
		if (v.PeakTFLOPSFastest > 0) != (v.MemoryGB > 0) || (v.PeakTFLOPSFastest > 0) != (v.FastestPrecision != "") {
			t.Errorf("%s: peak %v, precision %q, memory %v: give all or none", v.Name, v.PeakTFLOPSFastest, v.FastestPrecision, v.MemoryGB)
		}
	}
}

func TestBytesPerParameter(t *testing.T) {
	for p, want := range map[string]float64{
		"fp32": 4, "FLOAT32": 4, "bf16": 2, "BF16": 2, "bfloat16": 2, "fp16": 2, "float16": 2, "Float-16": 2,
		"fp8": 1, "FP8": 1, "int8": 1, "float8_e4m3fn": 1, "fp8-e4m3": 1, "w8a8": 1,
		"int4": 0.5, "nf4": 0.5, "mxfp4": 0.5, "AWQ": 0.5, "gptq": 0.5, "fp4": 0.5, "": 0.5, "mystery": 0.5,
	} {
		if got := rating.BytesPerParameter(p); got != want {
			t.Errorf("%q: %v bytes, want %v", p, got, want)
		}
	}
}

// Surveyors' measurements are held to the floors as publishers' are; the
// client's own check refuses dates in the future by its clock.
func TestSurveyorsAndTheClientCheckTheFloorsAndDates(t *testing.T) {
	reg := rating.Builtin()
	_, err := reg.Normalise(publisherRun("evil/llama-70b", 70, "H100 PCIe", 1, 100_000, 0.0005, 0.1), rating.Surveyor)
	if _, ok := violations(err)["gpu_energy_wh"]; !ok {
		t.Errorf("surveyor: %v", err)
	}
	r := publisherRun("acme/m", 7, "H100", 1, 100_000, 50, 600)
	r.MeasuredAt = time.Now().Add(72 * time.Hour)
	if _, ok := violations(r.Validate())["measured_at"]; !ok {
		t.Errorf("a measurement three days ahead passed the client's check")
	}
	r.MeasuredAt = time.Now().Add(12 * time.Hour)
	if err := r.Validate(); err != nil {
		t.Errorf("half a day ahead (clock skew): %v", err)
	}
}

// Figures in refusals are plain numbers, never exponents.
func TestFloorRefusalsWritePlainNumbers(t *testing.T) {
	r := publisherRun("evil/llama-405b", 405, "H100", 8, 100_000_000, 12, 600)
	r.Precision = "fp8"
	_, err := rating.Builtin().Normalise(r, rating.Publisher)
	want := "12 Wh is below the physical floor of 2600 Wh for 100,000,000 tokens of a 405 B model on 8 × H100 at 8-bit"
	if d := violations(err)["gpu_energy_wh"]; d != want {
		t.Errorf("gpu_energy_wh: %q\nwant %q", d, want)
	}
}
