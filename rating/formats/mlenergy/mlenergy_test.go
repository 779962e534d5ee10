package mlenergy_test

import (
	"encoding/json"
	"flag"
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/rating/formats/internal/golden"
	"github.com/energylabel/energylabel/rating/formats/mlenergy"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The tests read the copy bundled in package calibration (provenance in
// rating/calibration/data/PROVENANCE.md) rather than keep a second one.
func taskFile(t testing.TB, task string) []byte {
	t.Helper()
	data, err := fs.ReadFile(calibration.MLEnergyV3(), "tasks/"+task+".json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var taskNames = []string{"gpqa", "image-chat", "lm-arena-chat", "sourcegraph-fim", "text-to-image", "text-to-video", "video-chat"}

// lowest picks, independently of the parser, each model and GPU's lowest
// energy per unit and the average power of that configuration.
func lowest(t *testing.T, task string) map[[2]string][2]float64 {
	var f struct {
		Configurations []map[string]any `json:"configurations"`
	}
	if err := json.Unmarshal(taskFile(t, task), &f); err != nil {
		t.Fatal(err)
	}
	out := map[[2]string][2]float64{}
	for _, c := range f.Configurations {
		n := func(k string) float64 { return c[k].(float64) }
		var x float64
		switch {
		case c["energy_per_token_joules"] != nil:
			x = n("energy_per_token_joules")
		case c["energy_per_image_joules"] != nil:
			x = n("energy_per_image_joules") / (n("image_width") * n("image_height") / 1e6)
		default:
			x = n("energy_per_video_joules") / (n("num_frames") * n("video_width") * n("video_height") / 1e6)
		}
		k := [2]string{c["model_id"].(string), c["gpu_model"].(string)}
		if b, ok := out[k]; !ok || x < b[0] {
			out[k] = [2]float64{x, n("avg_power_watts")}
		}
	}
	return out
}

func TestParseDir(t *testing.T) {
	rs, err := mlenergy.ParseDir(calibration.MLEnergyV3())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 113 {
		t.Errorf("%d results, want 113", len(rs))
	}
	want := map[string]map[[2]string][2]float64{}
	perTask := map[string]int{}
	for _, task := range taskNames {
		want["ml.energy/"+task] = lowest(t, task)
	}
	for i := range rs {
		r := &rs[i]
		perTask[r.Dataset]++
		m, err := rating.Normalise(r)
		if err != nil {
			t.Errorf("%s %s on %s: %v", r.Dataset, r.Model, r.Accelerator, err)
			continue
		}
		w, ok := want[r.Dataset][[2]string{r.Model, r.Accelerator}]
		if !ok {
			t.Errorf("%s %s on %s: not in the data", r.Dataset, r.Model, r.Accelerator)
			continue
		}
		if math.Abs(m.EnergyPerUnit-w[0]) > 1e-12*w[0] {
			t.Errorf("%s %s on %s: %v %s, want the lowest, %v", r.Dataset, r.Model, r.Accelerator, m.EnergyPerUnit, m.Cohort.Basis.Symbol(), w[0])
		}
		if watts := r.GPUEnergyWh * 3600 / r.DurationSeconds; math.Abs(watts-w[1]) > 1e-9*w[1] {
			t.Errorf("%s %s on %s: average power %v W, want %v", r.Dataset, r.Model, r.Accelerator, watts, w[1])
		}
		if !m.PowerChecked() || m.Cohort.Basis == rating.Query || r.Queries != mlenergy.Requests {
			t.Errorf("%s %s: measure %+v", r.Dataset, r.Model, m)
		}
		if !r.MeasuredAt.Equal(time.Date(2026, 2, 16, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s %s: measured at %v", r.Dataset, r.Model, r.MeasuredAt)
		}
	}
	wantPerTask := map[string]int{"ml.energy/gpqa": 22, "ml.energy/image-chat": 19, "ml.energy/lm-arena-chat": 32,
		"ml.energy/sourcegraph-fim": 4, "ml.energy/text-to-image": 14, "ml.energy/text-to-video": 10, "ml.energy/video-chat": 12}
	for d, n := range wantPerTask {
		if perTask[d] != n {
			t.Errorf("%s: %d results, want %d (one per model and GPU)", d, perTask[d], n)
		}
	}
	golden.Check(t, "testdata/mlenergy-v3.golden.json", rs, *update)
}

func TestTasks(t *testing.T) {
	for ml, want := range map[string]string{"lm-arena-chat": "text-generation", "sourcegraph-fim": "text-generation", "gpqa": "reasoning",
		"image-chat": "image-text-to-text", "video-chat": "video-text-to-text", "text-to-image": "text-to-image", "text-to-video": "text-to-video"} {
		if got, ok := mlenergy.Task(ml); !ok || got != want {
			t.Errorf("Task(%q) = %q, want %q", ml, got, want)
		}
	}
}

func TestMalformed(t *testing.T) {
	data := string(taskFile(t, "sourcegraph-fim"))
	replace := func(old, new string) string {
		if !strings.Contains(data, old) {
			t.Fatalf("file lacks %q", old)
		}
		return strings.Replace(data, old, new, 1)
	}
	for _, tc := range []struct {
		name, data, want string
	}{
		{"truncated JSON names the line", data[:len(data)/3], "t.json: line 404, column 17: not valid JSON: unexpected end of JSON input"},
		{"non-numeric energy names the field", replace(`"energy_per_token_joules": 0.8442158286231319`, `"energy_per_token_joules": "0.84"`),
			"t.json: configurations.energy_per_token_joules (line 11): want a number, got string"},
		{"missing energy names the configuration", replace(`"energy_per_token_joules": 0.8442158286231319,`, ``), "t.json: configurations[0].energy_per_token_joules: missing"},
		{"zero power", replace(`"avg_power_watts": 700.7637874423326`, `"avg_power_watts": 0`), "t.json: configurations[0].avg_power_watts: 0 is not positive"},
		{"no GPUs", replace(`"num_gpus": 1`, `"num_gpus": 0`), "t.json: configurations[0].num_gpus: 0 is not between 1 and 65536"},
		{"unknown task", replace(`"task": "sourcegraph-fim"`, `"task": "juggling"`), `t.json: task: "juggling" is not an ML.ENERGY v3 task`},
		{"no configurations", `{"task": "gpqa"}`, "t.json: configurations: missing or empty"},
		{"empty configurations", `{"task": "gpqa", "configurations": []}`, "t.json: configurations: missing or empty"},
		{"null configuration", `{"task": "gpqa", "configurations": [null]}`, "t.json: configurations[0]: null"},
		{"power above the board's", strings.Replace(string(few(t, "sourcegraph-fim", 1)), `"avg_power_watts":700.7637874423326`, `"avg_power_watts":7000.7637874423326`, 1),
			"t.json: configurations[0] (Qwen/Qwen3-Coder-30B-A3B-Instruct on B200): invalid result: gpu_energy_wh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := mlenergy.ParseTask("t.json", []byte(tc.data))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to begin %q", err, tc.want)
			}
			if rs != nil {
				t.Errorf("results with an error: %v", rs)
			}
		})
	}
}

// few keeps the first n configurations of a task file, for a small seed.
func few(t testing.TB, task string, n int) []byte {
	var f map[string]any
	if err := json.Unmarshal(taskFile(t, task), &f); err != nil {
		t.Fatal(err)
	}
	cs := f["configurations"].([]any)
	f["configurations"] = cs[:min(n, len(cs))]
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzMLEnergyTask(f *testing.F) {
	for _, task := range taskNames {
		f.Add(few(f, task, 3))
	}
	f.Add(taskFile(f, "sourcegraph-fim"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := mlenergy.ParseTask("f.json", data)
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
