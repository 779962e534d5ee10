// Package mlenergy reads the ML.ENERGY leaderboard v3 data (index.json and
// tasks/<task>.json) into results, one per model, task and GPU model: the
// configuration with the lowest energy per functional unit, as ML.ENERGY
// ranks a model.
//
// Each pick is expressed as a run of 1,000 requests whose output totals and
// energy reproduce the configuration's joules per unit exactly, and whose
// duration is the energy over the configuration's average power (summed
// over its GPUs), so that the power check sees the measured power.
package mlenergy

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/internal/decode"
)

// ToolName and ToolVersion name the source on every result.
const (
	ToolName    = "ML.ENERGY leaderboard"
	ToolVersion = "v3"
)

// Requests is the number of requests each pick is expressed as.
const Requests = 1000

// DatasetPrefix begins the dataset of every result: ml.energy/<task>.
const DatasetPrefix = "ml.energy/"

type kind int

const (
	llm kind = iota
	image
	video
)

// tasks maps each ML.ENERGY task to the energylabel task it is graded as,
// and to how its output is measured.
var tasks = map[string]struct {
	task string
	kind kind
}{
	"lm-arena-chat":   {"text-generation", llm},
	"sourcegraph-fim": {"text-generation", llm},
	"gpqa":            {"reasoning", llm},
	"image-chat":      {"image-text-to-text", llm},
	"video-chat":      {"video-text-to-text", llm},
	"text-to-image":   {"text-to-image", image},
	"text-to-video":   {"text-to-video", video},
}

// Task returns the energylabel task an ML.ENERGY task is graded as.
func Task(mlenergyTask string) (string, bool) {
	t, ok := tasks[mlenergyTask]
	return t.task, ok
}

type configuration struct {
	ModelID       *string  `json:"model_id"`
	GPUModel      *string  `json:"gpu_model"`
	NumGPUs       *int     `json:"num_gpus"`
	AvgPowerWatts *float64 `json:"avg_power_watts"`
	TotalParams   *float64 `json:"total_params_billions"`
	// ActiveParams is what a mixture-of-experts model activates per token.
	ActiveParams    *float64 `json:"activated_params_billions"`
	WeightPrecision string   `json:"weight_precision"`

	MaxNumSeqs     int      `json:"max_num_seqs"`
	AvgOutputLen   *float64 `json:"avg_output_len"`
	EnergyPerToken *float64 `json:"energy_per_token_joules"`
	Throughput     *float64 `json:"output_throughput_tokens_per_sec"`

	BatchSize      int      `json:"batch_size"`
	EnergyPerImage *float64 `json:"energy_per_image_joules"`
	ImageWidth     *int     `json:"image_width"`
	ImageHeight    *int     `json:"image_height"`

	EnergyPerVideo *float64 `json:"energy_per_video_joules"`
	NumFrames      *int     `json:"num_frames"`
	VideoWidth     *int     `json:"video_width"`
	VideoHeight    *int     `json:"video_height"`
}

type taskFile struct {
	Task           *string          `json:"task"`
	Configurations []*configuration `json:"configurations"`
}

// Limits beyond which a configuration is refused as implausible, so that
// output totals stay exact in an int64 and a float64.
const (
	maxOutputLen = 1e9
	maxSide      = 1 << 16
	maxFrames    = 1 << 20
)

// pick is a checked configuration and its energy per functional unit.
type pick struct {
	index   int
	c       *configuration
	perUnit float64
}

// ParseTask reads one tasks/<task>.json called name.
func ParseTask(name string, data []byte) ([]rating.Result, error) {
	var f taskFile
	if err := decode.JSON(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if f.Task == nil {
		return nil, fmt.Errorf("%s: task: missing", name)
	}
	spec, ok := tasks[*f.Task]
	if !ok {
		return nil, fmt.Errorf("%s: task: %q is not an ML.ENERGY v3 task energylabel knows", name, *f.Task)
	}
	if len(f.Configurations) == 0 {
		return nil, fmt.Errorf("%s: configurations: missing or empty", name)
	}
	type key struct{ model, gpu string }
	best := map[key]pick{}
	var order []key
	for i, c := range f.Configurations {
		where := fmt.Sprintf("configurations[%d]", i)
		if c == nil {
			return nil, fmt.Errorf("%s: %s: null", name, where)
		}
		perUnit, err := check(c, spec.kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %s.%w", name, where, err)
		}
		k := key{*c.ModelID, *c.GPUModel}
		if b, ok := best[k]; !ok {
			order = append(order, k)
			best[k] = pick{i, c, perUnit}
		} else if perUnit < b.perUnit {
			best[k] = pick{i, c, perUnit}
		}
	}
	slices.SortFunc(order, func(a, b key) int {
		return cmp.Or(strings.Compare(a.model, b.model), strings.Compare(a.gpu, b.gpu))
	})
	out := make([]rating.Result, 0, len(order))
	for _, k := range order {
		p := best[k]
		r := result(*f.Task, spec.task, spec.kind, p.c)
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("%s: configurations[%d] (%s on %s): %w", name, p.index, k.model, k.gpu, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// check verifies what a configuration of a kind needs, and returns its
// energy per functional unit. Its errors begin with the field name.
func check(c *configuration, k kind) (float64, error) {
	positive := func(field string, v *float64) error {
		switch {
		case v == nil:
			return fmt.Errorf("%s: missing", field)
		case !(*v > 0):
			return fmt.Errorf("%s: %v is not positive", field, *v)
		}
		return nil
	}
	count := func(field string, v *int, limit int) error {
		switch {
		case v == nil:
			return fmt.Errorf("%s: missing", field)
		case *v < 1 || *v > limit:
			return fmt.Errorf("%s: %d is not between 1 and %d", field, *v, limit)
		}
		return nil
	}
	switch {
	case c.ModelID == nil || strings.TrimSpace(*c.ModelID) == "":
		return 0, fmt.Errorf("model_id: missing")
	case c.GPUModel == nil || strings.TrimSpace(*c.GPUModel) == "":
		return 0, fmt.Errorf("gpu_model: missing")
	case c.TotalParams == nil:
		return 0, fmt.Errorf("total_params_billions: missing")
	case !(*c.TotalParams >= 0):
		return 0, fmt.Errorf("total_params_billions: %v is negative", *c.TotalParams)
	}
	if err := count("num_gpus", c.NumGPUs, 1<<16); err != nil {
		return 0, err
	}
	if err := positive("avg_power_watts", c.AvgPowerWatts); err != nil {
		return 0, err
	}
	var errs []error
	switch k {
	case llm:
		errs = []error{positive("avg_output_len", c.AvgOutputLen), positive("energy_per_token_joules", c.EnergyPerToken),
			positive("output_throughput_tokens_per_sec", c.Throughput)}
	case image:
		errs = []error{positive("energy_per_image_joules", c.EnergyPerImage),
			count("image_width", c.ImageWidth, maxSide), count("image_height", c.ImageHeight, maxSide)}
	case video:
		errs = []error{positive("energy_per_video_joules", c.EnergyPerVideo), count("num_frames", c.NumFrames, maxFrames),
			count("video_width", c.VideoWidth, maxSide), count("video_height", c.VideoHeight, maxSide)}
	}
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	var perUnit float64
	switch k {
	case llm:
		if *c.AvgOutputLen > maxOutputLen {
			return 0, fmt.Errorf("avg_output_len: %v is implausible", *c.AvgOutputLen)
		}
		if math.Round(*c.AvgOutputLen*Requests) < 1 {
			return 0, fmt.Errorf("avg_output_len: %v gives no tokens over %d requests", *c.AvgOutputLen, Requests)
		}
		perUnit = *c.EnergyPerToken
	case image:
		perUnit = *c.EnergyPerImage / (float64(*c.ImageWidth) * float64(*c.ImageHeight) / 1e6)
	case video:
		perUnit = *c.EnergyPerVideo / (float64(*c.NumFrames) * float64(*c.VideoWidth) * float64(*c.VideoHeight) / 1e6)
	}
	if math.IsInf(perUnit, 0) {
		return 0, fmt.Errorf("energy per unit is out of range")
	}
	return perUnit, nil
}

// result expresses a checked configuration as a run of Requests requests.
func result(mlTask, task string, k kind, c *configuration) rating.Result {
	r := rating.Result{
		Model:          *c.ModelID,
		Task:           task,
		Dataset:        DatasetPrefix + mlTask,
		Accelerator:    *c.GPUModel,
		GPUCount:       *c.NumGPUs,
		Queries:        Requests,
		ParamsBillions: *c.TotalParams,
		Precision:      c.WeightPrecision,
		ToolName:       ToolName,
		ToolVersion:    ToolVersion,
	}
	if t, _ := rating.LookupTask(task); t.SizeClasses {
		r.SizeClass = rating.SizeClass(r.ParamsBillions)
	}
	if a := c.ActiveParams; a != nil && *a > 0 && *a < r.ParamsBillions {
		r.ActiveParamsBillions = *a
	}
	var joules float64
	switch k {
	case llm:
		r.Output.Tokens = int64(math.Round(*c.AvgOutputLen * Requests))
		joules = *c.EnergyPerToken * float64(r.Output.Tokens)
		r.ThroughputTokensPerSecond = *c.Throughput
		r.BatchSize = c.MaxNumSeqs
	case image:
		r.Output.Images = Requests
		r.Output.ImageWidth, r.Output.ImageHeight = *c.ImageWidth, *c.ImageHeight
		joules = *c.EnergyPerImage * Requests
		r.BatchSize = c.BatchSize
	case video:
		r.Output.VideoFrames = int64(*c.NumFrames) * Requests
		r.Output.VideoWidth, r.Output.VideoHeight = *c.VideoWidth, *c.VideoHeight
		joules = *c.EnergyPerVideo * Requests
		r.BatchSize = c.BatchSize
	}
	r.GPUEnergyWh = joules / 3600
	r.DurationSeconds = joules / *c.AvgPowerWatts
	return r
}

type index struct {
	LastUpdated *string  `json:"last_updated"`
	Tasks       []string `json:"tasks"`
}

// ParseDir reads a leaderboard data directory: index.json, and
// tasks/<task>.json for every task it lists, in its order. Every result is
// dated by the index's last_updated.
func ParseDir(fsys fs.FS) ([]rating.Result, error) {
	data, err := fs.ReadFile(fsys, "index.json")
	if err != nil {
		return nil, err
	}
	var idx index
	if err := decode.JSON(data, &idx); err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	if len(idx.Tasks) == 0 {
		return nil, fmt.Errorf("index.json: tasks: missing or empty")
	}
	var updated time.Time
	if idx.LastUpdated != nil {
		if updated, err = time.Parse(time.DateOnly, *idx.LastUpdated); err != nil {
			return nil, fmt.Errorf("index.json: last_updated: %q is not a date (YYYY-MM-DD)", *idx.LastUpdated)
		}
	}
	var out []rating.Result
	seen := map[string]bool{}
	for i, task := range idx.Tasks {
		if seen[task] {
			return nil, fmt.Errorf("index.json: tasks[%d]: %q is listed twice", i, task)
		}
		seen[task] = true
		if _, ok := tasks[task]; !ok || path.Base(task) != task {
			return nil, fmt.Errorf("index.json: tasks[%d]: %q is not an ML.ENERGY v3 task energylabel knows", i, task)
		}
		name := "tasks/" + task + ".json"
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		rs, err := ParseTask(name, data)
		if err != nil {
			return nil, err
		}
		if got := taskName(data); got != task {
			return nil, fmt.Errorf("%s: task: %q, but index.json lists it as %q", name, got, task)
		}
		for j := range rs {
			rs[j].MeasuredAt = updated
		}
		out = append(out, rs...)
	}
	return out, nil
}

func taskName(data []byte) string {
	var f struct {
		Task string `json:"task"`
	}
	_ = json.Unmarshal(data, &f)
	return f.Task
}
