// Package aiesbatch reads master_results.csv, the table AI Energy Score's
// batch runner appends a row to for every model it runs: one result per
// row that succeeded.
//
// Rules where the table leaves room:
//   - task: the runner's short names text_gen and image_gen stand for the
//     AIES tasks text_generation and image_generation; others are looked up
//     as task ids or AIES aliases. A text generation row whose
//     reasoning_state starts with "On" is a reasoning result.
//   - size class: model_class, required for tasks graded by size class and
//     refused for the others.
//   - a row with an error_message is skipped with a warning.
//   - wh_per_1000_queries must agree with gpu_energy_wh / successful_prompts
//     × 1000 within 1%, beyond the rounding of both to four decimals.
//   - throughput_tokens_per_second counts prompt tokens when it equals
//     total_tokens / total_duration_seconds; it is then left out, with a
//     warning (see package aiebench).
//   - timestamp is local time without a zone, as Python's isoformat writes
//     it; it is read as UTC, and is when the row's run was measured.
//     -measured-at fills it in for rows without one; a row whose timestamp
//     is more than a day from -measured-at is refused (see package meta).
//
// Counts and duration are each row's own: queries are total_prompts,
// output tokens total_completion_tokens, and the duration
// total_duration_seconds. A table holds many runs, so -queries, -tokens
// and -duration, which would give one figure for all of them, are refused.
//
// The rows name neither hardware nor GPU count: -hardware and -gpus give
// them for every row.
package aiesbatch

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/internal/decode"
	"github.com/energylabel/energylabel/rating/formats/meta"
)

// ToolName names the tool on every result.
const ToolName = "AI Energy Score batch runner"

// columns are the columns a table must have.
var columns = []string{
	"model_name", "model_class", "task", "total_prompts", "successful_prompts",
	"failed_prompts", "total_duration_seconds", "total_completion_tokens",
	"throughput_tokens_per_second", "gpu_energy_wh", "wh_per_1000_queries",
	"error_message",
}

var shortTasks = map[string]string{"text_gen": "text_generation", "image_gen": "image_generation"}

// Parse reads a master_results.csv called name. Every row names its model,
// task and size class; m gives the hardware, GPU count and dataset. On an
// error there are no results, but there may be warnings about rows skipped
// before it.
func Parse(name string, data []byte, m meta.Meta) ([]rating.Result, []meta.Warning, error) {
	switch {
	case m.Model != "":
		return nil, nil, fmt.Errorf("%s: -model does not apply: every row names its model", name)
	case m.Task != "":
		return nil, nil, fmt.Errorf("%s: -task does not apply: every row names its task", name)
	case m.Queries != 0:
		return nil, nil, fmt.Errorf("%s: -queries does not apply: every row gives its total_prompts", name)
	case m.Tokens != 0:
		return nil, nil, fmt.Errorf("%s: -tokens does not apply: every row gives its total_completion_tokens", name)
	case m.DurationSeconds != 0:
		return nil, nil, fmt.Errorf("%s: -duration does not apply: every row gives its total_duration_seconds", name)
	case m.SizeClass != "" || m.Params != 0:
		return nil, nil, fmt.Errorf("%s: -size-class and -params do not apply: every row gives its model_class", name)
	case strings.TrimSpace(m.Hardware) == "":
		return nil, nil, meta.Missing(name, "hardware")
	case m.GPUs < 0:
		return nil, nil, fmt.Errorf("%s: -gpus %d: must not be negative", name, m.GPUs)
	}
	t, err := decode.NewTable(data, columns...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []rating.Result
	var ws []meta.Warning
	type seen struct {
		lines  []int
		states []string
	}
	dup := map[[2]string]*seen{}
	for {
		row, err := t.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		where := fmt.Sprintf("line %d", row.Line)
		if msg := row.String("error_message"); msg != "" {
			ws = append(ws, meta.Warning{File: name, Where: where,
				Message: fmt.Sprintf("%s skipped: the run failed: %s", row.String("model_name"), msg)})
			continue
		}
		r, w, err := parseRow(row, m)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		if w != "" {
			ws = append(ws, meta.Warning{File: name, Where: where, Message: w})
		}
		if err := m.ApplyDate(name, where+": timestamp", &r, &ws); err != nil {
			return nil, nil, err
		}
		if err := r.Validate(); err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", name, where, err)
		}
		k := [2]string{r.Model, r.Task}
		if dup[k] == nil {
			dup[k] = &seen{}
		}
		dup[k].lines = append(dup[k].lines, row.Line)
		dup[k].states = append(dup[k].states, row.String("reasoning_state"))
		out = append(out, r)
	}
	var keys [][2]string
	for k, s := range dup {
		if len(s.lines) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return dup[keys[i]].lines[0] < dup[keys[j]].lines[0] })
	for _, k := range keys {
		s := dup[k]
		ws = append(ws, meta.Warning{File: name, Where: "lines " + decode.JoinInts(s.lines), Message: fmt.Sprintf(
			"%s has %d %s results (reasoning_state %s); the service rates the one submitted last",
			k[0], len(s.lines), k[1], strings.Join(s.states, ", "))})
	}
	if len(out) == 0 {
		return nil, ws, fmt.Errorf("%s: no successful rows (%d skipped)", name, len(ws))
	}
	return out, ws, nil
}

func parseRow(row decode.Row, m meta.Meta) (rating.Result, string, error) {
	fail := func(format string, args ...any) (rating.Result, string, error) {
		return rating.Result{}, "", fmt.Errorf("line %d: %s", row.Line, fmt.Sprintf(format, args...))
	}
	taskName := row.String("task")
	if long, ok := shortTasks[strings.ToLower(taskName)]; ok {
		taskName = long
	}
	task, ok := rating.LookupTask(taskName)
	if !ok {
		return fail("task: %q is not a task energylabel knows", row.String("task"))
	}
	if task.ID == "text-generation" && strings.HasPrefix(strings.ToLower(row.String("reasoning_state")), "on") {
		task, _ = rating.LookupTask("reasoning")
	}
	r := rating.Result{
		Model:       row.String("model_name"),
		Task:        task.ID,
		Dataset:     m.Dataset,
		Accelerator: strings.TrimSpace(m.Hardware),
		GPUCount:    m.GPUs,
		ToolName:    ToolName,
	}
	class := row.String("model_class")
	switch {
	case task.SizeClasses && class == "":
		return fail("model_class: empty, but %s is graded by size class (A, B or C)", task.ID)
	case !task.SizeClasses && class != "":
		return fail("model_class: %q, but %s has no size classes", class, task.ID)
	}
	r.SizeClass = class

	var err error
	ints := []struct {
		col string
		v   *int64
	}{
		{"total_prompts", &r.Queries}, {"failed_prompts", &r.FailedQueries},
		{"total_completion_tokens", &r.Output.Tokens},
	}
	for _, f := range ints {
		if *f.v, err = row.Int(f.col); err != nil {
			return rating.Result{}, "", err
		}
	}
	successful, err := row.Int("successful_prompts")
	if err != nil {
		return rating.Result{}, "", err
	}
	if successful != r.Queries-r.FailedQueries {
		return fail("successful_prompts: %d, but total_prompts %d less failed_prompts %d is %d",
			successful, r.Queries, r.FailedQueries, r.Queries-r.FailedQueries)
	}
	floats := []struct {
		col string
		v   *float64
	}{
		{"gpu_energy_wh", &r.GPUEnergyWh}, {"total_duration_seconds", &r.DurationSeconds},
		{"throughput_tokens_per_second", &r.ThroughputTokensPerSecond},
	}
	for _, f := range floats {
		if *f.v, err = row.Float(f.col); err != nil {
			return rating.Result{}, "", err
		}
	}
	perK, err := row.Float("wh_per_1000_queries")
	if err != nil {
		return rating.Result{}, "", err
	}
	if !(r.GPUEnergyWh > 0) {
		return fail("gpu_energy_wh: %v Wh is not positive", r.GPUEnergyWh)
	}
	if successful < 1 {
		return fail("successful_prompts: %d, want at least 1", successful)
	}
	want := r.GPUEnergyWh / float64(successful) * 1000
	if allow := 0.01*want + 0.00005*1000/float64(successful) + 0.00005; math.Abs(perK-want) > allow {
		return fail("wh_per_1000_queries: %v, but gpu_energy_wh %v over %d successful prompts is %.6g Wh per 1,000",
			perK, r.GPUEnergyWh, successful, want)
	}
	var warning string
	if row.Has("total_tokens") && r.ThroughputTokensPerSecond != 0 {
		total, err := row.Int("total_tokens")
		if err != nil {
			return rating.Result{}, "", err
		}
		if decode.CountsPromptTokens(r.ThroughputTokensPerSecond, total, r.Output.Tokens, r.DurationSeconds) {
			warning = fmt.Sprintf("throughput_tokens_per_second %v is total_tokens / total_duration_seconds, prompt tokens included, not an output throughput: not used",
				r.ThroughputTokensPerSecond)
			r.ThroughputTokensPerSecond = 0
		}
	}
	if ts := row.String("timestamp"); ts != "" {
		at, err := decode.Time(ts)
		if err != nil {
			return fail("timestamp: %q is not an ISO 8601 time", ts)
		}
		r.MeasuredAt = at
	}
	return r, warning, nil
}
