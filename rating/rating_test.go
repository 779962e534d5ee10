package rating

import (
	"errors"
	"math"
	"testing"
)

func validResult() Result {
	return Result{
		Model: "acme/tiny-clf", Task: "text-classification", Accelerator: "H100", GPUCount: 1,
		Queries: 1000, GPUEnergyWh: 0.21, DurationSeconds: 41.5,
	}
}

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Result)
		field string
	}{
		{"negative energy is refused", func(r *Result) { r.GPUEnergyWh = -1 }, "gpu_energy_wh"},
		{"NaN energy is refused", func(r *Result) { r.GPUEnergyWh = math.NaN() }, "gpu_energy_wh"},
		{"infinite energy is refused", func(r *Result) { r.GPUEnergyWh = math.Inf(1) }, "gpu_energy_wh"},
		{"zero queries are refused", func(r *Result) { r.Queries = 0 }, "queries"},
		{"more failed than run is refused", func(r *Result) { r.FailedQueries = 1001 }, "failed_queries"},
		{"unknown task is refused", func(r *Result) { r.Task = "juggling" }, "task"},
		{"path traversal model is refused", func(r *Result) { r.Model = "../etc" }, "model"},
		{"model without owner is refused", func(r *Result) { r.Model = "gpt2" }, "model"},
		{"model with markup is refused", func(r *Result) { r.Model = "a/<script>" }, "model"},
		{"over-long model is refused", func(r *Result) { r.Model = "a/" + string(make([]byte, 97)) }, "model"},
		{"negative tokens are refused", func(r *Result) { r.Output.Tokens = -5 }, "output.tokens"},
		{"a non-positive run is refused", func(r *Result) { r.RunEnergiesWh = []float64{0.2, 0} }, "run_energies_wh[1]"},
		{"300 kWh in a second on one H100 is refused", func(r *Result) { r.GPUEnergyWh, r.DurationSeconds = 300000, 1 }, "gpu_energy_wh"},
		{"size class on a task without classes is refused", func(r *Result) { r.SizeClass = "A" }, "size_class"},
		{"text generation needs a size class or parameters", func(r *Result) { r.Task = "text-generation" }, "size_class"},
		{"missing accelerator is refused", func(r *Result) { r.Accelerator = " " }, "hardware.accelerator"},
		{"a control byte in the accelerator is refused", func(r *Result) { r.Accelerator = "H100\x1fB200" }, "hardware.accelerator"},
		{"a control byte in the dataset is refused", func(r *Result) { r.Dataset = "ml.energy/x\x00y" }, "dataset"},
		{"tokens that contradict throughput are refused", func(r *Result) {
			r.Output.Tokens, r.ThroughputTokensPerSecond = 10000, 1000 // 41.5 s × 1000 tok/s ≠ 10000
		}, "throughput_tokens_per_second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validResult()
			tt.edit(&r)
			err := r.Validate()
			var inv *InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want an *InvalidError", err)
			}
			for _, v := range inv.Violations {
				if v.Field == tt.field {
					return
				}
			}
			t.Errorf("violations %+v do not name %q", inv.Violations, tt.field)
		})
	}
}

func TestValidateAcceptsPlausibleResults(t *testing.T) {
	r := validResult()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	// 700 W × 1.1 on each of 8 H100s is the most a run may draw.
	r.GPUCount, r.DurationSeconds, r.GPUEnergyWh = 8, 3600, 8*770
	if err := r.Validate(); err != nil {
		t.Errorf("power exactly at the limit: %v", err)
	}
	r.Accelerator = "Apple M1 Pro" // not in the power table: accepted, own cohort
	if err := r.Validate(); err != nil {
		t.Errorf("unknown accelerator: %v", err)
	}
}

func TestNormalise(t *testing.T) {
	r := Result{
		Model: "acme/llm", Task: "text_generation", Accelerator: "NVIDIA H100 SXM", GPUCount: 1,
		Queries: 1000, FailedQueries: 0, GPUEnergyWh: 50, DurationSeconds: 600,
		Output: Output{Tokens: 200000}, ParamsBillions: 8,
	}
	m, err := Normalise(&r)
	if err != nil {
		t.Fatal(err)
	}
	want := Cohort{Task: "text-generation", Dataset: "AIEnergyScore/text_generation", SizeClass: "A", Hardware: "H100", Basis: OutputToken}
	if m.Cohort != want {
		t.Errorf("cohort = %+v, want %+v", m.Cohort, want)
	}
	if m.WhPer1kQueries != 50 || m.EnergyPerUnit != 50*3600/200000.0 || !m.PowerChecked {
		t.Errorf("measure = %+v", m)
	}

	r.Output.Tokens = 0 // no output size: the basis falls back to the query
	m, _ = Normalise(&r)
	if m.Cohort.Basis != Query || m.EnergyPerUnit != 50 {
		t.Errorf("without tokens: %+v", m)
	}

	img := Result{Model: "acme/diffuser", Task: "image_generation", Accelerator: "B200", Queries: 10, GPUEnergyWh: 1,
		Output: Output{Images: 10, ImageWidth: 1000, ImageHeight: 1000}}
	m, err = Normalise(&img)
	if err != nil || m.Cohort.Basis != OutputMegapixel || m.EnergyPerUnit != 360 {
		t.Errorf("image: %+v %v", m, err)
	}
}

func TestStars(t *testing.T) {
	tests := []struct {
		x, lo, hi float64
		want      int
	}{
		{1, 1, 1, 5}, {1, 1, 2, 5}, {2, 1, 2, 1}, {2, 0, 10, 4}, {1.9999999, 0, 10, 5},
		{4, 0, 10, 3}, {6, 0, 10, 2}, {8, 0, 10, 1}, {7.99, 0, 10, 2}, {10, 0, 10, 1},
	}
	for _, tt := range tests {
		if got := Stars(tt.x, tt.lo, tt.hi); got != tt.want {
			t.Errorf("Stars(%v, %v, %v) = %d, want %d", tt.x, tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestGradeBoundsTakeTheBetterClass(t *testing.T) {
	tests := []struct {
		eei  float64
		want Grade
	}{
		{0, 'A'}, {1.0 / 16, 'A'}, {math.Nextafter(1.0/16, 1), 'B'}, {0.125, 'B'}, {0.25, 'C'},
		{0.5, 'D'}, {1, 'E'}, {1.5, 'F'}, {2, 'F'}, {2.0001, 'G'}, {180, 'G'},
	}
	for _, tt := range tests {
		if got := GradeOf(tt.eei); got != tt.want {
			t.Errorf("GradeOf(%v) = %s, want %s", tt.eei, got, tt.want)
		}
	}
}

func TestCohortWithoutReferenceGetsNoGradeAndSaysWhy(t *testing.T) {
	s := GradeScheme{Version: "grade/test", References: map[Cohort]float64{}}
	g := s.Grade(Measure{EnergyPerUnit: 1})
	if g.Grade != 0 || g.Note == "" {
		t.Errorf("got %+v, want no grade with a note", g)
	}
}

func TestLookupTaskAcceptsAliases(t *testing.T) {
	for alias, id := range map[string]string{"asr": "automatic-speech-recognition", "image_generation": "text-to-image", "Text-Generation": "text-generation"} {
		if task, ok := LookupTask(alias); !ok || task.ID != id {
			t.Errorf("LookupTask(%q) = %q, %v; want %q", alias, task.ID, ok, id)
		}
	}
}
