package rating

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func validResult() Result {
	return Result{
		Model: "acme/tiny-clf", Task: "text-classification", Accelerator: "H100", GPUCount: 1,
		Queries: 1000, GPUEnergyWh: 0.9, DurationSeconds: 41.5,
	}
}

// publish normalises r as a publisher's submission against the built-in
// registry.
func publish(r *Result) (Measure, error) { return Builtin().Normalise(r, Publisher) }

func TestPublisherResultsAreRefusedNamingTheField(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Result)
		field string
	}{
		{"negative energy is refused", func(r *Result) { r.GPUEnergyWh = -1 }, "gpu_energy_wh"},
		{"NaN energy is refused", func(r *Result) { r.GPUEnergyWh = math.NaN() }, "gpu_energy_wh"},
		{"infinite energy is refused", func(r *Result) { r.GPUEnergyWh = math.Inf(1) }, "gpu_energy_wh"},
		{"1e308 Wh is refused", func(r *Result) { r.GPUEnergyWh, r.Queries = 1e308, 1 }, "gpu_energy_wh"},
		{"zero queries are refused", func(r *Result) { r.Queries = 0 }, "queries"},
		{"the largest int64 of queries is refused", func(r *Result) { r.Queries = math.MaxInt64 }, "queries"},
		{"a trillion queries in 41.5 s are refused", func(r *Result) { r.Queries = 1e12 }, "queries"},
		{"more failed than run is refused", func(r *Result) { r.FailedQueries = 1001 }, "failed_queries"},
		{"unknown task is refused", func(r *Result) { r.Task = "juggling" }, "task"},
		{"path traversal model is refused", func(r *Result) { r.Model = "../etc" }, "model"},
		{"model without owner is refused", func(r *Result) { r.Model = "gpt2" }, "model"},
		{"model with markup is refused", func(r *Result) { r.Model = "a/<script>" }, "model"},
		{"over-long model is refused", func(r *Result) { r.Model = "a/" + string(make([]byte, 97)) }, "model"},
		{"negative tokens are refused", func(r *Result) { r.Output.Tokens = -5 }, "output.tokens"},
		{"9e18 tokens are refused", func(r *Result) { r.Output.Tokens = 9e18 }, "output.tokens"},
		{"a non-positive run is refused", func(r *Result) { r.RunEnergiesWh = []float64{0.2, 0} }, "run_energies_wh"},
		{"too many runs are refused", func(r *Result) { r.RunEnergiesWh = make([]float64, MaxRuns+1) }, "run_energies_wh"},
		{"300 kWh in a second on one H100 is refused", func(r *Result) { r.GPUEnergyWh, r.DurationSeconds = 300000, 1 }, "gpu_energy_wh"},
		{"3000 Wh in 10 s on an NVML-named H100 is refused", func(r *Result) {
			r.Accelerator, r.GPUEnergyWh, r.DurationSeconds = "NVIDIA H100 80GB HBM3", 3000, 10
		}, "gpu_energy_wh"},
		{"an average below the idle floor is refused", func(r *Result) { r.GPUEnergyWh = 0.001 }, "gpu_energy_wh"},
		{"a result without a duration is refused", func(r *Result) { r.DurationSeconds = 0 }, "duration_seconds"},
		{"a result without a GPU count is refused", func(r *Result) { r.GPUCount = 0 }, "hardware.count"},
		{"2048 GPUs are refused", func(r *Result) { r.GPUCount = 2048 }, "hardware.count"},
		{"a count that contradicts the name is refused", func(r *Result) { r.Accelerator, r.GPUCount = "2 x NVIDIA H100 80GB HBM3", 4 }, "hardware.count"},
		{"1e300 billion parameters are refused", func(r *Result) { r.ParamsBillions = 1e300 }, "parameters_billions"},
		{"size class on a task without classes is refused", func(r *Result) { r.SizeClass = "A" }, "size_class"},
		{"text generation needs the parameter count", func(r *Result) { r.Task = "text-generation" }, "parameters_billions"},
		{"a declared class that contradicts the parameters is refused", func(r *Result) {
			r.Task, r.ParamsBillions, r.SizeClass = "text-generation", 7, "C"
		}, "size_class"},
		{"missing accelerator is refused", func(r *Result) { r.Accelerator = " " }, "hardware.accelerator"},
		{"an unknown accelerator is refused", func(r *Result) { r.Accelerator = "Quantum9000" }, "hardware.accelerator"},
		{"a Cyrillic look-alike is refused", func(r *Result) { r.Accelerator = "\u041d100" }, "hardware.accelerator"},
		{"a zero-width space is refused", func(r *Result) { r.Accelerator = "H100\u200b" }, "hardware.accelerator"},
		{"full-width digits are refused", func(r *Result) { r.Accelerator = "H\uff11\uff10\uff10" }, "hardware.accelerator"},
		{"a control byte in the accelerator is refused", func(r *Result) { r.Accelerator = "H100\x1fB200" }, "hardware.accelerator"},
		{"a control byte in the dataset is refused", func(r *Result) { r.Dataset = "ml.energy/x\x00y" }, "dataset"},
		{"an unregistered dataset is refused", func(r *Result) { r.Dataset = "AIEnergyScore/a" }, "dataset"},
		{"another task's dataset is refused", func(r *Result) { r.Dataset = "AIEnergyScore/asr" }, "dataset"},
		{"a 1 MB tool name is refused", func(r *Result) { r.ToolName = strings.Repeat("x", 1<<20) }, "tool.name"},
		{"an escape sequence in the tool version is refused", func(r *Result) { r.ToolVersion = "\x1b[31m1.0" }, "tool.version"},
		{"a long precision is refused", func(r *Result) { r.Precision = strings.Repeat("f", 33) }, "precision"},
		{"tokens that contradict throughput are refused", func(r *Result) {
			r.Output.Tokens, r.ThroughputTokensPerSecond = 10000, 1000 // 41.5 s × 1000 tok/s ≠ 10000
		}, "throughput_tokens_per_second"},
		{"a per-token dataset without tokens is refused", func(r *Result) {
			r.Task, r.Dataset, r.ParamsBillions = "text-generation", "ml.energy/lm-arena-chat", 7
		}, "output.tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validResult()
			tt.edit(&r)
			_, err := publish(&r)
			var inv *InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Normalise() = %v, want an *InvalidError", err)
			}
			if len(err.Error()) > 1024 {
				t.Errorf("error is %d bytes long", len(err.Error()))
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

func TestPlausibleResultsAreAccepted(t *testing.T) {
	r := validResult()
	m, err := publish(&r)
	if err != nil {
		t.Fatal(err)
	}
	if m.Checks != CheckPower|CheckRate {
		t.Errorf("checks = %v, want power and output_rate", m.Checks.Names())
	}
	// 700 W × 1.1 on each of 8 H100s is the most a run may draw.
	r.GPUCount, r.DurationSeconds, r.GPUEnergyWh = 8, 3600, 8*770
	if _, err := publish(&r); err != nil {
		t.Errorf("power exactly at the limit: %v", err)
	}
	// A published leaderboard row may lack a duration, a count and a
	// parameter count: it is not power-checked, and says so.
	pub := Result{Model: "acme/llm", Task: "text_generation", Accelerator: "H100", Queries: 1000, GPUEnergyWh: 50, SizeClass: "C"}
	m, err = Builtin().Normalise(&pub, Published)
	if err != nil {
		t.Fatal(err)
	}
	if m.PowerChecked() || m.Checks != 0 || m.Cohort.SizeClass != "C" {
		t.Errorf("published row: %+v", m)
	}
}

func TestRealAcceleratorNamesReachTheirCohort(t *testing.T) {
	reg := BuiltinAccelerators()
	for name, want := range map[string]struct {
		variant string
		count   int
	}{
		"NVIDIA H100 80GB HBM3":     {"H100 SXM", 0}, // NVML, nvidia-smi
		"1 x NVIDIA H100 80GB HBM3": {"H100 SXM", 1}, // CodeCarbon
		"8 x NVIDIA H100 80GB HBM3": {"H100 SXM", 8},
		"H100":                      {"H100 SXM", 0}, // leaderboards
		"h100-sxm":                  {"H100 SXM", 0},
		"NVIDIA H100 PCIe":          {"H100 PCIe", 0},
		"NVIDIA H100 NVL":           {"H100 NVL", 0},
		"NVIDIA H200":               {"H200 SXM", 0}, // NVML on this project's H200
		"NVIDIA H200 NVL":           {"H200 NVL", 0},
		"B200":                      {"B200", 0},
		"NVIDIA A100-SXM4-80GB":     {"A100 SXM 80GB", 0},
		"NVIDIA A100-SXM4-40GB":     {"A100 SXM 40GB", 0},
		"NVIDIA A100 80GB PCIe":     {"A100 PCIe 80GB", 0},
		"NVIDIA A100-PCIE-40GB":     {"A100 PCIe 40GB", 0},
		"NVIDIA L40S":               {"L40S", 0},
		"NVIDIA L4":                 {"L4", 0},
		"NVIDIA A10G":               {"A10G", 0},
		"Tesla T4":                  {"T4", 0},
		"NVIDIA GeForce RTX 4090":   {"RTX 4090", 0},
		"AMD Instinct MI300X":       {"MI300X", 0},
		"Apple M1 Pro":              {"Apple M1 Pro", 0},
		"1 x Apple M1 Pro":          {"Apple M1 Pro", 1},
	} {
		a, n, err := reg.Resolve(name)
		if err != nil || a.Name != want.variant || n != want.count {
			t.Errorf("Resolve(%q) = %s, %d, %v; want %s, %d", name, a.Name, n, err, want.variant, want.count)
		}
	}
	for _, a := range reg.All() {
		if a.Source == "" || !(a.BoardWatts > 0) {
			t.Errorf("%s: board power %v W has no source", a.Name, a.BoardWatts)
		}
	}
}

func TestUnknownAcceleratorNamesTheClosest(t *testing.T) {
	_, _, err := BuiltinAccelerators().Resolve("H1000 SXM")
	if err == nil || !strings.Contains(err.Error(), "H100 SXM") {
		t.Errorf("Resolve(H1000 SXM) = %v, want the closest names, H100 SXM among them", err)
	}
}

func TestOperatorsExtendTheAcceleratorRegistry(t *testing.T) {
	base := BuiltinAccelerators()
	ext, err := base.With(Accelerator{Name: "Gaudi 3", Family: "Gaudi 3", BoardWatts: 900, Aliases: []string{"Intel Gaudi 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if a, _, err := ext.Resolve("intel gaudi-3"); err != nil || a.Family != "Gaudi 3" {
		t.Errorf("Resolve after With = %+v, %v", a, err)
	}
	if _, _, err := base.Resolve("Gaudi 3"); err == nil {
		t.Error("With changed the registry it was called on")
	}
	if _, err := base.With(Accelerator{Name: "H100 Fake", Family: "H100", BoardWatts: 5000, Aliases: []string{"NVIDIA H100 80GB HBM3"}}); err == nil {
		t.Error("a variant that takes an existing name was accepted")
	}
	if _, err := base.With(Accelerator{Name: "Н100", Family: "X", BoardWatts: 5}); err == nil {
		t.Error("a non-ASCII name was accepted")
	}
}

func TestDatasetsDecideTheBasis(t *testing.T) {
	r := Result{Model: "acme/llm", Task: "text-generation", Accelerator: "H100", GPUCount: 1,
		Queries: 1000, GPUEnergyWh: 50, DurationSeconds: 600, Output: Output{Tokens: 200000}, ParamsBillions: 8}
	m, err := publish(&r)
	if err != nil {
		t.Fatal(err)
	}
	want := Cohort{Task: "text-generation", Dataset: "AIEnergyScore/text_generation", SizeClass: "A", Hardware: "H100", Basis: Query}
	if m.Cohort != want || m.EnergyPerUnit != 50 {
		t.Errorf("AIES dataset: %+v, want cohort %+v on the query basis", m, want)
	}
	r.Dataset = "ml.energy/lm-arena-chat"
	m, err = publish(&r)
	if err != nil || m.Cohort.Basis != OutputToken || m.EnergyPerUnit != 50*3600/200000.0 {
		t.Errorf("ML.ENERGY dataset: %+v %v", m, err)
	}
	ds, err := BuiltinDatasets().With(Dataset{Name: "acme/chat-eval", Task: "text-generation", Basis: OutputToken})
	if err != nil {
		t.Fatal(err)
	}
	r.Dataset = "acme/chat-eval"
	m, err = Registry{Accelerators: BuiltinAccelerators(), Datasets: ds}.Normalise(&r, Publisher)
	if err != nil || m.Cohort.Dataset != "acme/chat-eval" || m.Cohort.Basis != OutputToken {
		t.Errorf("registered dataset: %+v %v", m, err)
	}
	if _, err := BuiltinDatasets().With(Dataset{Name: "x/y", Task: "text-classification", Basis: OutputToken}); err == nil {
		t.Error("a per-token dataset for a per-query task was accepted")
	}

	img := Result{Model: "acme/diffuser", Task: "image_generation", Dataset: "ml.energy/text-to-image", Accelerator: "B200", GPUCount: 1,
		Queries: 10, GPUEnergyWh: 1, DurationSeconds: 10, Output: Output{Images: 10, ImageWidth: 1000, ImageHeight: 1000}}
	m, err = publish(&img)
	if err != nil || m.Cohort.Basis != OutputMegapixel || m.EnergyPerUnit != 360 {
		t.Errorf("image: %+v %v", m, err)
	}
}

func TestReleaseStars(t *testing.T) {
	c := Cohort{Task: "text-classification", Dataset: "AIEnergyScore/text_classification", Hardware: "H100"}
	rel := &Release{Name: "r1", Cohorts: map[Cohort]Bounds{c: {Lo: 1, Hi: 11, Models: 3}}}
	for _, tt := range []struct {
		x    float64
		want int
	}{{0.1, 5}, {1, 5}, {3, 4}, {11, 1}, {50, 1}} {
		if got := rel.Stars(Measure{Cohort: c, EnergyPerUnit: tt.x}); got.Stars != tt.want || got.Release != "r1" {
			t.Errorf("x = %v: %+v, want %d stars of r1", tt.x, got, tt.want)
		}
	}
	other := c
	other.Hardware = "B200"
	if got := rel.Stars(Measure{Cohort: other, EnergyPerUnit: 1}); got.Stars != 0 || got.Note == "" {
		t.Errorf("missing cohort: %+v", got)
	}
	rel.Cohorts[c] = Bounds{Lo: 1, Hi: 1, Models: 1}
	if got := rel.Stars(Measure{Cohort: c, EnergyPerUnit: 1}); got.Stars != 0 || !strings.Contains(got.Note, "1 model") {
		t.Errorf("cohort of one: %+v", got)
	}
	if got := (*Release)(nil).Stars(Measure{Cohort: c, EnergyPerUnit: 1}); got.Stars != 0 || got.Note == "" {
		t.Errorf("no release: %+v", got)
	}
}

func TestQuoteIsShort(t *testing.T) {
	if q := Quote(strings.Repeat("\x01", 1<<20)); len(q) > 300 || !strings.Contains(q, "1048576 bytes") {
		t.Errorf("Quote of 1 MB = %d bytes: %.100s", len(q), q)
	}
	if err := ValidateModel("a/" + strings.Repeat("\x01", 1<<20)); len(err.Error()) > 300 {
		t.Errorf("model error is %d bytes", len(err.Error()))
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
