package rating

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is matched by every validation error.
var ErrInvalid = errors.New("invalid")

// Violation is one thing wrong with one field.
type Violation struct {
	// Field is the field's API path, e.g. "hardware.accelerator".
	Field       string
	Description string
}

// InvalidError lists every violation found in a result.
type InvalidError struct {
	Violations []Violation
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return "invalid result: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns an *InvalidError for one field.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Violations: []Violation{{field, fmt.Sprintf(format, args...)}}}
}

const maxModelPart = 96

// ValidateModel checks a model id: "owner/name", each side 1 to 96 of
// letters, digits, '-', '_' and '.', and neither side "." or "..".
func ValidateModel(model string) error {
	if d := modelProblem(model); d != "" {
		return Invalid("model", "%s", d)
	}
	return nil
}

func modelProblem(model string) string {
	owner, name, ok := strings.Cut(model, "/")
	if !ok || strings.Contains(name, "/") {
		return fmt.Sprintf("%q is not of the form owner/name", model)
	}
	for _, part := range []string{owner, name} {
		switch {
		case part == "":
			return fmt.Sprintf("%q has an empty owner or name", model)
		case len(part) > maxModelPart:
			return fmt.Sprintf("%q: each side may have at most %d characters", model, maxModelPart)
		case part == "." || part == "..":
			return fmt.Sprintf("%q: %q is not a valid owner or name", model, part)
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return fmt.Sprintf("%q: character %q is not allowed (letters, digits, '-', '_', '.')", model, c)
			}
		}
	}
	return ""
}

// Validate checks a result for everything that can be wrong with it on its
// own, including the physical power limit, and reports every violation.
func (r *Result) Validate() error {
	var vs []Violation
	bad := func(field, format string, args ...any) {
		vs = append(vs, Violation{field, fmt.Sprintf(format, args...)})
	}
	if d := modelProblem(r.Model); d != "" {
		bad("model", "%s", d)
	}
	task, taskOK := LookupTask(r.Task)
	if !taskOK {
		bad("task", "unknown task %q (see ListTasks)", r.Task)
	}
	if strings.TrimSpace(r.Accelerator) == "" {
		bad("hardware.accelerator", "required, e.g. \"H100\"")
	}
	// Names that make up a cohort are shown on labels and pages and are
	// part of storage keys: printable text of a sensible length only.
	for _, f := range []struct{ field, value string }{{"hardware.accelerator", r.Accelerator}, {"dataset", r.Dataset}} {
		if d := nameProblem(f.value); d != "" {
			bad(f.field, "%s", d)
		}
	}
	if r.GPUCount < 0 {
		bad("hardware.count", "must not be negative, got %d", r.GPUCount)
	}
	if r.Queries < 1 {
		bad("queries", "must be at least 1, got %d", r.Queries)
	}
	if r.FailedQueries < 0 {
		bad("failed_queries", "must not be negative, got %d", r.FailedQueries)
	} else if r.FailedQueries >= r.Queries && r.Queries >= 1 {
		bad("failed_queries", "%d failed of %d queries leaves none successful", r.FailedQueries, r.Queries)
	}
	if !positive(r.GPUEnergyWh) {
		bad("gpu_energy_wh", "must be a positive number, got %v", r.GPUEnergyWh)
	}
	if !nonNegative(r.DurationSeconds) {
		bad("duration_seconds", "must be a non-negative number, got %v", r.DurationSeconds)
	}
	if !nonNegative(r.ThroughputTokensPerSecond) {
		bad("throughput_tokens_per_second", "must be a non-negative number, got %v", r.ThroughputTokensPerSecond)
	}
	if !nonNegative(r.ParamsBillions) {
		bad("parameters_billions", "must be a non-negative number, got %v", r.ParamsBillions)
	}
	if r.BatchSize < 0 {
		bad("batch_size", "must not be negative, got %d", r.BatchSize)
	}
	for i, e := range r.RunEnergiesWh {
		if !positive(e) {
			bad(fmt.Sprintf("run_energies_wh[%d]", i), "every run's energy must be positive, got %v", e)
		}
	}
	r.validateOutput(bad)
	if taskOK {
		r.validateSizeClass(task, bad)
		r.validateOutputSizes(task, bad)
	}
	if len(vs) == 0 {
		r.validatePhysics(bad)
	}
	if len(vs) > 0 {
		return &InvalidError{Violations: vs}
	}
	return nil
}

func (r *Result) validateOutput(bad func(string, string, ...any)) {
	o := r.Output
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"output.tokens", o.Tokens}, {"output.images", o.Images},
		{"output.image_width", int64(o.ImageWidth)}, {"output.image_height", int64(o.ImageHeight)},
		{"output.video_frames", o.VideoFrames},
		{"output.video_width", int64(o.VideoWidth)}, {"output.video_height", int64(o.VideoHeight)},
	} {
		if f.v < 0 {
			bad(f.name, "must not be negative, got %d", f.v)
		}
	}
	if !nonNegative(o.AudioSeconds) {
		bad("output.audio_seconds", "must be a non-negative number, got %v", o.AudioSeconds)
	}
}

func (r *Result) validateSizeClass(task Task, bad func(string, string, ...any)) {
	switch {
	case !task.SizeClasses && r.SizeClass != "":
		bad("size_class", "task %s has no size classes; leave it empty", task.ID)
	case task.SizeClasses && r.SizeClass == "" && r.ParamsBillions <= 0:
		bad("size_class", "task %s is graded by size class: give size_class (A, B or C) or parameters_billions", task.ID)
	case task.SizeClasses && r.SizeClass != "" && r.SizeClass != "A" && r.SizeClass != "B" && r.SizeClass != "C":
		bad("size_class", "must be A, B or C, got %q", r.SizeClass)
	}
}

// validateOutputSizes refuses half-reported sizes, which would otherwise
// silently fall back to the query basis.
func (r *Result) validateOutputSizes(task Task, bad func(string, string, ...any)) {
	o := r.Output
	switch task.Unit {
	case OutputMegapixel:
		if o.Images > 0 && (o.ImageWidth == 0 || o.ImageHeight == 0) {
			bad("output.image_width", "image_width and image_height are needed with output.images")
		}
	case OutputMegapixelFrame:
		if o.VideoFrames > 0 && (o.VideoWidth == 0 || o.VideoHeight == 0) {
			bad("output.video_width", "video_width and video_height are needed with output.video_frames")
		}
	}
}

// validatePhysics checks the average power per accelerator against its board
// power, and the token throughput against the energy per token.
func (r *Result) validatePhysics(bad func(string, string, ...any)) {
	if r.DurationSeconds <= 0 {
		return
	}
	watts := r.GPUEnergyWh * 3600 / r.DurationSeconds / float64(max(1, r.GPUCount))
	if a, ok := LookupAccelerator(r.Accelerator); ok && watts > PowerLimitFactor*a.MaxWatts {
		bad("gpu_energy_wh", "%.4g Wh in %.4g s is %.4g W per %s, above %.0f%% of its %.0f W board power",
			r.GPUEnergyWh, r.DurationSeconds, watts, a.Name, PowerLimitFactor*100, a.MaxWatts)
	}
	if r.Output.Tokens > 0 && r.ThroughputTokensPerSecond > 0 {
		jPerToken := r.GPUEnergyWh * 3600 / float64(r.Output.Tokens)
		want := r.GPUEnergyWh * 3600 / r.DurationSeconds / r.ThroughputTokensPerSecond
		if math.Abs(jPerToken-want) > ConsistencyTolerance*want {
			bad("throughput_tokens_per_second", "energy per token %.4g J differs from power/throughput %.4g J by more than %.0f%%",
				jPerToken, want, ConsistencyTolerance*100)
		}
	}
}

// ConsistencyTolerance is the relative difference allowed between J/token
// from the totals and power divided by throughput.
const ConsistencyTolerance = 0.10

// maxNameLen bounds dataset and accelerator names.
const maxNameLen = 128

func nameProblem(s string) string {
	if len(s) > maxNameLen {
		return fmt.Sprintf("at most %d characters, got %d", maxNameLen, len(s))
	}
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return fmt.Sprintf("%q holds a control character", s)
		}
	}
	return ""
}

func positive(v float64) bool    { return v > 0 && !math.IsInf(v, 1) }
func nonNegative(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }
