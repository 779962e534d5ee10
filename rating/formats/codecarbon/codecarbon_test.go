package codecarbon

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/internal/golden"
	"github.com/energylabel/energylabel/rating/formats/meta"
)

var update = flag.Bool("update", false, "rewrite golden files")

// logs are real CodeCarbon logs of a model that ran on an Apple M1 Pro's
// CPU: their GPU energy is not the model's.
var logs = []string{"emissions_31_july_summarization", "emissions_6_aug_result_dashboard"}

// The logs derived from the July log for an H100 (see testdata/README.md):
// the GPU at 300 W throughout, and at 1,800 W, which no H100 can draw.
const (
	h100Log       = "emissions_31_july_summarization_h100_300w"
	h100TooHotLog = "emissions_31_july_summarization_h100_1800w"
)

var flags = meta.Meta{Model: "facebook/bart-large-cnn", Task: "summarization", Queries: 6}

func read(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// julySeconds is the sum of the July log's duration column, in seconds.
const julySeconds = 5.857582708995324 + 6.1114461249962915 + 4.8746473750215955 +
	6.092157458013389 + 4.690090958989458 + 4.795747375028441

// TestRealLogs proves that the parser reads the real logs right: readLog
// is Parse before rating's validation, which refuses them (see
// TestRealLogsAreRefused).
func TestRealLogs(t *testing.T) {
	// Independently summed from the files' gpu_energy column, in Wh.
	wantWh := map[string]float64{
		"emissions_31_july_summarization": 1000 * (4.5954200495770144e-08 + 5.9393292878237854e-08 + 2.7801943194450973e-08 +
			1.3147811364785109e-08 + 2.3561474999846215e-08 + 0.0),
		"emissions_6_aug_result_dashboard": 1000 * 9.46290771011263e-10,
	}
	// The sum of the files' duration column, in seconds.
	wantSeconds := map[string]float64{
		"emissions_31_july_summarization":  julySeconds,
		"emissions_6_aug_result_dashboard": 3.5177150829695165,
	}
	for _, name := range logs {
		t.Run(name, func(t *testing.T) {
			r, ws, err := readLog(name+".csv", read(t, name), flags)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.GPUEnergyWh-wantWh[name]) > 1e-12*wantWh[name] {
				t.Errorf("GPUEnergyWh = %v, want %v", r.GPUEnergyWh, wantWh[name])
			}
			if r.DurationSeconds != wantSeconds[name] {
				t.Errorf("DurationSeconds = %v, want %v", r.DurationSeconds, wantSeconds[name])
			}
			if r.Queries != flags.Queries || r.Output.Tokens != 0 {
				t.Errorf("the log states no counts, yet queries %d and tokens %d are not the flags'", r.Queries, r.Output.Tokens)
			}
			if r.Accelerator != "Apple M1 Pro" || r.GPUCount != 1 || r.ToolVersion != "3.0.4" {
				t.Errorf("hardware or tool not read: %+v", r)
			}
			if a, _, err := rating.BuiltinAccelerators().Resolve(r.Accelerator); err != nil || a.Family != "Apple M1 Pro" {
				t.Errorf("gpu_model %q resolves to %+v, %v; want the Apple M1 Pro", r.Accelerator, a, err)
			}
			var text []string
			for _, w := range ws {
				text = append(text, w.String())
			}
			golden.Check(t, "testdata/"+name+".golden.json", struct {
				Results  []rating.Result
				Warnings []string
			}{[]rating.Result{r}, text}, *update)
		})
	}
}

// TestRealLogsAreRefused proves that Parse refuses the real logs, whose
// GPU averaged far under the Apple M1 Pro's floor (1 % of 96 W) because the
// model ran on the CPU, with an error naming gpu_energy_wh and the floor.
func TestRealLogsAreRefused(t *testing.T) {
	m1, _, err := rating.BuiltinAccelerators().Resolve("Apple M1 Pro")
	if err != nil || m1.Floor() != 0.96 {
		t.Fatalf("Apple M1 Pro: floor %v, %v; want 0.96 W", m1.Floor(), err)
	}
	for name, want := range map[string]string{
		logs[0]: "emissions_31_july_summarization.csv: invalid result: gpu_energy_wh: 0.0001699 Wh in 32.42 s is 0.01886 W per Apple M1 Pro, below its floor of 0.96 W",
		logs[1]: "emissions_6_aug_result_dashboard.csv: invalid result: gpu_energy_wh: 9.463e-07 Wh in 3.518 s is 0.0009684 W per Apple M1 Pro, below its floor of 0.96 W",
	} {
		rs, ws, err := Parse(name+".csv", read(t, name), flags)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want it to begin %q", name, err, want)
		}
		if rs != nil || ws != nil {
			t.Errorf("%s: results %v, warnings %v with an error", name, rs, ws)
		}
		var inv *rating.InvalidError
		if !errors.As(err, &inv) || len(inv.Violations) != 1 || inv.Violations[0].Field != "gpu_energy_wh" {
			t.Errorf("%s: %#v, want one violation of gpu_energy_wh", name, err)
		}
	}
}

// TestH100Log proves that a log of an H100 at a plausible power is
// accepted into the H100 cohort, with the GPU count CodeCarbon's
// "1 x NVIDIA H100 80GB HBM3" states, and power-checked.
func TestH100Log(t *testing.T) {
	rs, ws, err := Parse(h100Log+".csv", read(t, h100Log), flags)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || len(ws) != 0 {
		t.Fatalf("results %v, warnings %v; want one result and no warnings", rs, ws)
	}
	r := rs[0]
	if want := 300 * julySeconds / 3600; math.Abs(r.GPUEnergyWh-want) > 1e-9*want || r.DurationSeconds != julySeconds {
		t.Errorf("%v Wh in %v s, want %v Wh in %v s", r.GPUEnergyWh, r.DurationSeconds, want, julySeconds)
	}
	if r.Accelerator != "NVIDIA H100 80GB HBM3" || r.GPUCount != 1 {
		t.Errorf("hardware %q × %d, want NVIDIA H100 80GB HBM3 × 1", r.Accelerator, r.GPUCount)
	}
	m, err := rating.Builtin().Normalise(&r, rating.Publisher)
	if err != nil {
		t.Fatal(err)
	}
	if m.Cohort.Hardware != "H100" || r.GPUCount != 1 || !m.PowerChecked() {
		t.Errorf("cohort %+v, %d GPUs, power checked %v; want the H100 cohort, 1 GPU, checked", m.Cohort, r.GPUCount, m.PowerChecked())
	}
}

// TestH100At1800WattsIsRefused is issue 9's CodeCarbon log of one H100
// SXM (700 W board power) averaging 1,800 W.
func TestH100At1800WattsIsRefused(t *testing.T) {
	rs, _, err := Parse(h100TooHotLog+".csv", read(t, h100TooHotLog), flags)
	want := h100TooHotLog + ".csv: invalid result: gpu_energy_wh: 16.21 Wh in 32.42 s is 1800 W per H100 SXM, above 110% of its 700 W board power"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	var inv *rating.InvalidError
	if !errors.As(err, &inv) || len(inv.Violations) != 1 || inv.Violations[0].Field != "gpu_energy_wh" {
		t.Errorf("%#v, want one violation of gpu_energy_wh", err)
	}
	if rs != nil {
		t.Errorf("results with an error: %v", rs)
	}
}

// TestDerivedLogs proves that the H100 logs are the July log with only
// what testdata/README.md says changed: gpu_model, and gpu_power with the
// energies and emissions that follow from it.
func TestDerivedLogs(t *testing.T) {
	parse := func(name string) [][]string {
		rows, err := csv.NewReader(bytes.NewReader(read(t, name))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	july := parse(logs[0])
	col := map[string]int{}
	for i, c := range july[0] {
		col[c] = i
	}
	num := func(row []string, c string) float64 {
		v, err := strconv.ParseFloat(row[col[c]], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	changed := map[string]bool{"gpu_model": true, "gpu_power": true, "gpu_energy": true,
		"energy_consumed": true, "emissions": true, "emissions_rate": true}
	for name, watts := range map[string]float64{h100Log: 300, h100TooHotLog: 1800} {
		derived := parse(name)
		if len(derived) != len(july) {
			t.Fatalf("%s: %d rows, the July log %d", name, len(derived), len(july))
		}
		for i := 1; i < len(july); i++ {
			was, row := july[i], derived[i]
			for c, j := range col {
				if !changed[c] && row[j] != was[j] {
					t.Errorf("%s: line %d: %s %q, the July log's %q", name, i+1, c, row[j], was[j])
				}
			}
			near := func(c string, want float64) {
				if got := num(row, c); math.Abs(got-want) > 1e-12*want {
					t.Errorf("%s: line %d: %s %v, want %v", name, i+1, c, got, want)
				}
			}
			gpu := watts * num(row, "duration") / 3.6e6
			total := num(row, "cpu_energy") + gpu + num(row, "ram_energy")
			emissions := num(was, "emissions") * total / num(was, "energy_consumed")
			near("gpu_power", watts)
			near("gpu_energy", gpu)
			near("energy_consumed", total)
			near("emissions", emissions)
			near("emissions_rate", emissions/num(row, "duration"))
			if row[col["gpu_model"]] != "1 x NVIDIA H100 80GB HBM3" {
				t.Errorf("%s: line %d: gpu_model %q", name, i+1, row[col["gpu_model"]])
			}
		}
	}
}

func TestZeroGPURowWarns(t *testing.T) {
	_, ws, err := readLog("e.csv", read(t, logs[0]), flags)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].String() != "e.csv: line 7: gpu_energy is 0 kWh (gpu_power 0.0 W): CodeCarbon measured the GPU idle; it counts 0" {
		t.Errorf("warnings %v", ws)
	}
}

func TestMalformed(t *testing.T) {
	july := string(read(t, logs[0]))
	header, rest, _ := strings.Cut(july, "\n")
	rows := strings.Split(strings.TrimSpace(rest), "\n")
	zeroGPU := header + "\n" + rows[5] + "\n"
	replace := func(old, new string) string {
		if !strings.Contains(july, old) {
			t.Fatalf("log lacks %q", old)
		}
		return strings.Replace(july, old, new, 1)
	}
	for _, tc := range []struct {
		name, data string
		meta       meta.Meta
		want       string
	}{
		{"missing column", strings.Replace(july, ",gpu_energy,", ",gpu_nrg,", 1), flags, `e.csv: line 1: missing column "gpu_energy"`},
		{"non-numeric energy names the line", replace("4.5954200495770144e-08", "n/a"), flags, `e.csv: line 2: gpu_energy: "n/a" is not a number`},
		{"negative energy", replace("4.5954200495770144e-08", "-4.5954200495770144e-08"), flags, "e.csv: line 2: gpu_energy: -4.5954200495770144e-08 kWh is negative"},
		{"no GPU energy at all is not replaced by energy_consumed", zeroGPU, flags, "e.csv: gpu_energy sums to 0 kWh over 1 runs: CodeCarbon measured no GPU energy"},
		{"two experiments", replace("45bb-9766-cc326314d9f1,4.690090958989458", "45bb-9766-cc326314d9f2,4.690090958989458"), flags, `e.csv: line 6: experiment_id "5b0fa12a-3dd7-45bb-9766-cc326314d9f2", but line 2 has`},
		{"two machines", replace("1,Apple M1 Pro,,,16.0,machine,N,1.0\n2025-07-31T15:34:42", "2,Apple M1 Pro,,,16.0,machine,N,1.0\n2025-07-31T15:34:42"), flags, `e.csv: line 4: gpu_model "Apple M1 Pro" × 2, but line 2 has`},
		{"short row", header + "\n1,2,3\n", flags, "e.csv: record on line 2: wrong number of fields"},
		{"header only", header + "\n", flags, "e.csv: no rows"},
		{"model is needed", july, meta.Meta{Task: "summarization", Queries: 6}, "e.csv: model unknown: pass -model owner/name"},
		{"queries are needed", july, meta.Meta{Model: "a/b", Task: "summarization"}, "e.csv: queries unknown: pass -queries N"},
		{"GPU count must agree", july, meta.Meta{Model: "a/b", Task: "summarization", Queries: 6, GPUs: 2}, "e.csv: line 2: gpu_count is 1 but -gpus says 2"},
		{"duration must agree", july, meta.Meta{Model: "a/b", Task: "summarization", Queries: 6, DurationSeconds: 60}, "e.csv: -duration 60 contradicts the file's 32.4216720010445 s (duration, summed over 6 runs)"},
		{"duration of one run must agree", string(read(t, logs[1])), meta.Meta{Model: "a/b", Task: "summarization", Queries: 6, DurationSeconds: 3.6}, "e.csv: -duration 3.6 contradicts the file's 3.5177150829695165 s (duration)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, _, err := Parse("e.csv", []byte(tc.data), tc.meta)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to begin %q", err, tc.want)
			}
			if rs != nil {
				t.Errorf("results with an error: %v", rs)
			}
		})
	}
}

// TestFlagsWhereTheLogIsSilent proves that -tokens gives what CodeCarbon
// does not count, and that a -duration within 1 % of the log's is accepted
// and the log's figure kept.
func TestFlagsWhereTheLogIsSilent(t *testing.T) {
	m := flags
	m.Tokens, m.DurationSeconds = 1200, 32.5
	rs, ws, err := Parse("e.csv", read(t, h100Log), m)
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[0]; r.Output.Tokens != 1200 || r.DurationSeconds != 32.4216720010445 {
		t.Errorf("tokens %d, duration %v", r.Output.Tokens, r.DurationSeconds)
	}
	if len(ws) != 1 || ws[0].String() != "e.csv: -duration 32.5 is within 1 % of the file's 32.4216720010445 s (duration, summed over 6 runs): the file's figure is used" {
		t.Errorf("warnings %v", ws)
	}
}

// TestCumulativeRows proves that rows of one run_id, which CodeCarbon writes
// cumulatively when it flushes, count once.
func TestCumulativeRows(t *testing.T) {
	csv := "run_id,duration,gpu_energy,gpu_count,gpu_model\n" +
		"r1,10,0.001,1,1 x NVIDIA H100 80GB HBM3\n" +
		"r1,20,0.002,1,1 x NVIDIA H100 80GB HBM3\n" +
		"r2,5,0.0005,1,1 x NVIDIA H100 80GB HBM3\n"
	rs, ws, err := Parse("e.csv", []byte(csv), flags)
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if math.Abs(r.GPUEnergyWh-2.5) > 1e-12 || r.DurationSeconds != 25 || r.Accelerator != "NVIDIA H100 80GB HBM3" {
		t.Errorf("got %v Wh in %v s on %q, want 2.5 Wh in 25 s on the GPU less its count", r.GPUEnergyWh, r.DurationSeconds, r.Accelerator)
	}
	if len(ws) != 1 || !strings.Contains(ws[0].String(), "e.csv: line 3: run_id r1 also on lines 2") {
		t.Errorf("warnings %v", ws)
	}
	m := flags
	m.Hardware = "H100"
	rs, ws, err = Parse("e.csv", []byte(csv), m)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Accelerator != "H100" || len(ws) != 2 || !strings.Contains(ws[1].String(), `-hardware "H100" is used instead`) {
		t.Errorf("-hardware: %q, warnings %v", rs[0].Accelerator, ws)
	}
}

func FuzzCodeCarbon(f *testing.F) {
	for _, name := range append(logs, h100Log, h100TooHotLog) {
		f.Add(read(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, _, err := Parse("f.csv", data, flags)
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
