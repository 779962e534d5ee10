// Package aiebench reads the results JSON of neuralwatt's
// ai_energy_benchmarks, which AI Energy Score's batch runner drives: a run's
// summary and the GPU energy CodeCarbon measured for it, into one result.
//
// The file gives the queries, the failures, the duration, the output tokens
// and the energy, and usually the model and dataset (config.model,
// config.dataset). The task and hardware come from the submitter's flags,
// and so does the date (-measured-at): the file records no time.
//
// Counts and duration are the file's: queries are summary.total_prompts,
// output tokens summary.total_completion_tokens, and the duration
// summary.total_duration_seconds (a duration of 0 is taken as unstated,
// with a warning). -queries, -tokens and -duration are needed only where
// the file lacks the field, and one that contradicts the file by more than
// 1 % is refused (see package meta).
//
// The tool's throughput_tokens_per_second is total_tokens over the
// duration, prompt tokens included. That is not an output throughput, and
// would fail the consistency check of J/token against power/throughput, so
// it is then left out, with a warning.
package aiebench

import (
	"fmt"
	"strings"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/internal/decode"
	"github.com/energylabel/energylabel/rating/formats/meta"
)

// ToolName names the tool on every result.
const ToolName = "ai_energy_benchmarks"

type file struct {
	Config *struct {
		Model   *string `json:"model"`
		Dataset *string `json:"dataset"`
	} `json:"config"`
	Summary *struct {
		TotalPrompts          *int64   `json:"total_prompts"`
		SuccessfulPrompts     *int64   `json:"successful_prompts"`
		FailedPrompts         *int64   `json:"failed_prompts"`
		TotalDurationSeconds  *float64 `json:"total_duration_seconds"`
		TotalTokens           *int64   `json:"total_tokens"`
		TotalCompletionTokens *int64   `json:"total_completion_tokens"`
		Throughput            *float64 `json:"throughput_tokens_per_second"`
	} `json:"summary"`
	Energy *struct {
		GPUEnergyWh *float64 `json:"gpu_energy_wh"`
		Error       *string  `json:"error"`
	} `json:"energy"`
}

// Parse reads an ai_energy_benchmarks results file called name. m supplies
// the task and hardware, and may replace the file's model and dataset.
func Parse(name string, data []byte, m meta.Meta) ([]rating.Result, []meta.Warning, error) {
	var f file
	if err := decode.JSON(data, &f); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	fail := func(format string, args ...any) ([]rating.Result, []meta.Warning, error) {
		return nil, nil, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
	var ws []meta.Warning
	s, e := f.Summary, f.Energy
	switch {
	case s == nil:
		return fail("summary: missing")
	case e == nil:
		return fail("energy: missing")
	case e.Error != nil && strings.TrimSpace(*e.Error) != "":
		return fail("energy.error: the energy was not measured: %s", *e.Error)
	case e.GPUEnergyWh == nil:
		return fail("energy.gpu_energy_wh: missing")
	case !(*e.GPUEnergyWh > 0):
		return fail("energy.gpu_energy_wh: %v Wh is not positive", *e.GPUEnergyWh)
	case s.TotalPrompts == nil:
		return fail("summary.total_prompts: missing")
	case *s.TotalPrompts < 1:
		return fail("summary.total_prompts: %d, want at least 1", *s.TotalPrompts)
	case s.FailedPrompts == nil:
		return fail("summary.failed_prompts: missing")
	case *s.FailedPrompts < 0 || *s.FailedPrompts >= *s.TotalPrompts:
		return fail("summary.failed_prompts: %d of %d prompts failed", *s.FailedPrompts, *s.TotalPrompts)
	case s.SuccessfulPrompts != nil && *s.SuccessfulPrompts != *s.TotalPrompts-*s.FailedPrompts:
		return fail("summary.successful_prompts: %d, but total_prompts %d less failed_prompts %d is %d",
			*s.SuccessfulPrompts, *s.TotalPrompts, *s.FailedPrompts, *s.TotalPrompts-*s.FailedPrompts)
	case s.TotalDurationSeconds != nil && *s.TotalDurationSeconds < 0:
		return fail("summary.total_duration_seconds: %v is negative", *s.TotalDurationSeconds)
	case s.TotalCompletionTokens != nil && *s.TotalCompletionTokens < 0:
		return fail("summary.total_completion_tokens: %d is negative", *s.TotalCompletionTokens)
	}
	r := rating.Result{
		Queries:       *s.TotalPrompts,
		FailedQueries: *s.FailedPrompts,
		GPUEnergyWh:   *e.GPUEnergyWh,
		ToolName:      ToolName,
	}
	stated := meta.Stated{Queries: "summary.total_prompts"}
	if s.TotalDurationSeconds != nil {
		if *s.TotalDurationSeconds > 0 {
			r.DurationSeconds, stated.Duration = *s.TotalDurationSeconds, "summary.total_duration_seconds"
		} else {
			ws = append(ws, meta.Warning{File: name, Where: "summary.total_duration_seconds",
				Message: "0 s is no duration: taken as unstated"})
		}
	}
	if s.TotalCompletionTokens != nil {
		r.Output.Tokens, stated.Tokens = *s.TotalCompletionTokens, "summary.total_completion_tokens"
	}
	var fileModel, fileDataset string
	if f.Config != nil && f.Config.Model != nil {
		fileModel = *f.Config.Model
	}
	if f.Config != nil && f.Config.Dataset != nil {
		fileDataset = *f.Config.Dataset
	}
	r.Model = meta.Name(name, "config.model", "-model", fileModel, m.Model, &ws)
	r.Dataset = meta.Name(name, "config.dataset", "-dataset", fileDataset, m.Dataset, &ws)
	if err := m.Apply(name, &r, stated, &ws); err != nil {
		return nil, nil, err
	}
	// Whether the throughput counts prompt tokens is judged on the output
	// tokens and duration as the file and flags give them together.
	if s.Throughput != nil {
		total := int64(0)
		if s.TotalTokens != nil {
			total = *s.TotalTokens
		}
		if decode.CountsPromptTokens(*s.Throughput, total, r.Output.Tokens, r.DurationSeconds) {
			ws = append(ws, meta.Warning{File: name, Where: "summary.throughput_tokens_per_second", Message: fmt.Sprintf(
				"%v is total_tokens / total_duration_seconds, prompt tokens included, not an output throughput: not used", *s.Throughput)})
		} else {
			r.ThroughputTokensPerSecond = *s.Throughput
		}
	}
	if err := r.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return []rating.Result{r}, ws, nil
}
