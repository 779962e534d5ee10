package rating

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/energylabel/energylabel/errdefs"
)

// ErrInvalid is matched by every validation error.
var ErrInvalid = errdefs.New(errdefs.Invalid, "invalid")

// Violation is one thing wrong with one field.
type Violation struct {
	// Field is the field's API path, e.g. "hardware.accelerator".
	Field       string
	Description string
}

// InvalidError lists every violation found in a request: a result, an
// accelerator, or one field of a read.
type InvalidError struct {
	// Subject is what was validated as a whole ("result",
	// "accelerator"), or "" when one field of a request was wrong.
	Subject    string
	Violations []Violation
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Description
	}
	if e.Subject == "" {
		return strings.Join(parts, "; ")
	}
	return "invalid " + e.Subject + ": " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Kind makes it an errdefs.Invalid error.
func (e *InvalidError) Kind() errdefs.Kind { return errdefs.Invalid }

// Invalid returns an *InvalidError for one field of a request.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Violations: []Violation{{field, fmt.Sprintf(format, args...)}}}
}

// UnknownTask is the error of a task name that names no task, as field.
func UnknownTask(field, name string) error {
	return Invalid(field, "unknown task %s (see ListTasks)", Quote(name))
}

// The limits of a result's fields. Each is documented in the README's
// "What is checked" section; change both together.
const (
	maxModelPart = 96
	maxNameLen   = 128
	// MaxToolField bounds tool.name and tool.version.
	MaxToolField = 128
	// MaxPrecision bounds precision, e.g. "bfloat16".
	MaxPrecision = 32
	// MaxRuns bounds run_energies_wh.
	MaxRuns = 1000
	// MaxViolations bounds the violations one error lists.
	MaxViolations = 20
	// MaxGPUs bounds hardware.count.
	MaxGPUs = 1024
	// MaxQueries bounds queries: a trillion.
	MaxQueries = 1_000_000_000_000
	// MaxDurationSeconds bounds duration_seconds: a year.
	MaxDurationSeconds = 365 * 24 * 3600
	// MaxParamsBillions bounds parameters_billions: 10,000 B.
	MaxParamsBillions = 10_000
	// MaxBatchSize bounds batch_size.
	MaxBatchSize = 1 << 20
	// MaxImageSide bounds image and video widths and heights, in pixels.
	MaxImageSide = 1 << 16
)

// Ceilings on output per successful query, which hold whether or not a
// duration was given.
const (
	MaxTokensPerQuery     = 1_000_000
	MaxMegapixelsPerQuery = 10_000
	MaxMPFramesPerQuery   = 1_000_000
)

// Ceilings on output per second per accelerator. The fastest ML.ENERGY v3
// configuration reaches 22,203 output tokens/s and 2.45 megapixels/s per
// GPU, and this project's H100 classified 345 queries/s at batch size 1;
// each ceiling sits one to three orders of magnitude above what is seen.
const (
	MaxQueriesPerSecond    = 100_000
	MaxTokensPerSecond     = 1_000_000
	MaxMegapixelsPerSecond = 1_000
	MaxMPFramesPerSecond   = 1_000
)

const (
	// maxQuotedPrefix is how much of a bad value an error quotes.
	maxQuotedPrefix = 40
	hexSHA256Len    = 64
	payloadField    = "payload_sha256"
)

// quote quotes at most a short prefix of s, and says how long s was, so
// that an error or log line stays short whatever a request holds.
func quote(s string) string {
	if len(s) <= maxQuotedPrefix {
		return strconv.Quote(s)
	}
	cut := maxQuotedPrefix
	for cut > 0 && s[cut]&0xc0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(s[:cut]), len(s))
}

// Quote is quote for the packages around the domain: a short, escaped
// prefix of a value that came from outside.
func Quote(s string) string { return quote(s) }

// ValidateModel checks a model id: "owner/name", each side 1 to 96 of
// letters, digits, '-', '_' and '.', and neither side "." or "..".
func ValidateModel(model string) error {
	if d := modelProblem(model); d != "" {
		return Invalid("model", "%s", d)
	}
	return nil
}

func modelProblem(model string) string {
	if len(model) > 2*maxModelPart+1 {
		return fmt.Sprintf("%s is longer than owner/name may be (%d bytes)", quote(model), 2*maxModelPart+1)
	}
	owner, name, ok := strings.Cut(model, "/")
	if !ok || strings.Contains(name, "/") {
		return fmt.Sprintf("%s is not of the form owner/name", quote(model))
	}
	for _, part := range []string{owner, name} {
		switch {
		case part == "":
			return fmt.Sprintf("%s has an empty owner or name", quote(model))
		case len(part) > maxModelPart:
			return fmt.Sprintf("%s: each side may have at most %d characters", quote(model), maxModelPart)
		case part == "." || part == "..":
			return fmt.Sprintf("%s: %q is not a valid owner or name", quote(model), part)
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return fmt.Sprintf("%s: character %q is not allowed (letters, digits, '-', '_', '.')", quote(model), c)
			}
		}
	}
	return ""
}

// ValidatePayloadHash checks a payload hash: empty, or 64 hex digits.
func ValidatePayloadHash(h string) error {
	if h == "" {
		return nil
	}
	if len(h) != hexSHA256Len || strings.Trim(strings.ToLower(h), "0123456789abcdef") != "" {
		return Invalid(payloadField, "want the SHA-256 of the file as 64 hex digits, got %s", quote(h))
	}
	return nil
}

// Validate checks what can be checked of a result without the server's
// registries or the submitter's standing, as a client does before sending:
// every field's range, and the physics where the built-in registry knows the
// accelerator. The server's check is Registry.Normalise.
func (r *Result) Validate() error {
	reg := Builtin()
	reg.Now = time.Now()
	c := checker{r: r, reg: reg, src: Published, lenient: true}
	c.check()
	return c.err()
}

// checker collects the violations of one result.
type checker struct {
	r   *Result
	reg Registry
	src Source
	// lenient skips what needs the server's registries: an accelerator or
	// dataset the built-in registry lacks is not refused.
	lenient bool
	vs      []Violation

	task    Task
	taskOK  bool
	accel   Accelerator
	accelOK bool
	dataset Dataset
	dsOK    bool
	// gpus is the accelerator count: as given, or as the name states it.
	gpus   int
	checks Checks
	// floorRatio is the energy over its physical floor; 0 when none applied.
	floorRatio float64
}

func (c *checker) bad(field, format string, args ...any) {
	c.vs = append(c.vs, Violation{field, fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.vs) == 0 {
		return nil
	}
	if len(c.vs) > MaxViolations {
		n := len(c.vs)
		c.vs = append(c.vs[:MaxViolations-1], Violation{"result", fmt.Sprintf("and %d more violations", n-MaxViolations+1)})
	}
	return &InvalidError{Subject: "result", Violations: c.vs}
}

func (c *checker) check() {
	r := c.r
	if d := modelProblem(r.Model); d != "" {
		c.bad("model", "%s", d)
	}
	c.task, c.taskOK = LookupTask(r.Task)
	if !c.taskOK {
		c.vs = append(c.vs, UnknownTask("task", r.Task).(*InvalidError).Violations...)
	}
	c.checkHardware()
	c.checkCounts()
	c.checkText()
	if c.taskOK {
		c.checkDataset()
		c.checkSizeClass()
		c.checkOutputSizes()
	}
	c.checkDates()
	c.checkMeasurement()
	if len(c.vs) == 0 {
		c.checkFloors()
	}
	if len(c.vs) == 0 {
		c.checkPhysics()
	}
}

func (c *checker) checkHardware() {
	r := c.r
	c.gpus = r.GPUCount
	a, stated, err := c.reg.Accelerators.Resolve(r.Accelerator)
	switch {
	case err == nil:
		c.accel, c.accelOK = a, true
	case c.lenient && acceleratorNameProblem(r.Accelerator) == "":
		// a name the server's registry may know
	default:
		c.vs = append(c.vs, err.(*InvalidError).Violations...)
	}
	switch {
	case r.GPUCount < 0 || r.GPUCount > MaxGPUs:
		c.bad("hardware.count", "must be 1 to %d, got %d", MaxGPUs, r.GPUCount)
	case r.GPUCount == 0 && stated > 0:
		c.gpus = stated // the name states it, as CodeCarbon writes "2 x H100"
	case r.GPUCount == 0 && c.src == Publisher:
		c.bad("hardware.count", "required: how many accelerators ran the benchmark (1 to %d)", MaxGPUs)
	case stated > 0 && r.GPUCount != stated:
		c.bad("hardware.count", "%d contradicts the accelerator name, which says %d", r.GPUCount, stated)
	}
}

func (c *checker) checkCounts() {
	r := c.r
	switch {
	case r.Queries < 1 || r.Queries > MaxQueries:
		c.bad("queries", "must be 1 to %d, got %d", int64(MaxQueries), r.Queries)
	case r.FailedQueries < 0:
		c.bad("failed_queries", "must not be negative, got %d", r.FailedQueries)
	case r.FailedQueries >= r.Queries:
		c.bad("failed_queries", "%d failed of %d queries leaves none successful", r.FailedQueries, r.Queries)
	}
	if !positive(r.GPUEnergyWh) {
		c.bad("gpu_energy_wh", "must be a positive number, got %v", r.GPUEnergyWh)
	}
	switch {
	case !nonNegative(r.DurationSeconds) || r.DurationSeconds > MaxDurationSeconds:
		c.bad("duration_seconds", "must be a number of seconds in (0, %d], got %v", MaxDurationSeconds, r.DurationSeconds)
	case r.DurationSeconds == 0 && c.src == Publisher:
		c.bad("duration_seconds", "required: the wall-clock duration of the measured run, so that its power can be checked")
	}
	if !nonNegative(r.ThroughputTokensPerSecond) {
		c.bad("throughput_tokens_per_second", "must be a non-negative number, got %v", r.ThroughputTokensPerSecond)
	}
	if !nonNegative(r.ParamsBillions) || r.ParamsBillions > MaxParamsBillions {
		c.bad("parameters_billions", "must be in (0, %d], got %v", MaxParamsBillions, r.ParamsBillions)
	}
	switch a := r.ActiveParamsBillions; {
	case !nonNegative(a):
		c.bad("active_parameters_billions", "must be a non-negative number, got %v", a)
	case a > 0 && r.ParamsBillions > 0 && a > r.ParamsBillions:
		c.bad("active_parameters_billions", "%v is more than parameters_billions %v: a model activates at most all of its parameters", a, r.ParamsBillions)
	case a > 0 && r.ParamsBillions == 0:
		c.bad("active_parameters_billions", "needs parameters_billions, the model's total")
	}
	if r.BatchSize < 0 || r.BatchSize > MaxBatchSize {
		c.bad("batch_size", "must be 0 to %d, got %d", MaxBatchSize, r.BatchSize)
	}
	if len(r.RunEnergiesWh) > MaxRuns {
		c.bad("run_energies_wh", "at most %d runs, got %d", MaxRuns, len(r.RunEnergiesWh))
	} else {
		for i, e := range r.RunEnergiesWh {
			if !positive(e) {
				c.bad("run_energies_wh", "every run's energy must be positive, got %v for run %d", e, i)
				break // one is enough: a list of bad runs must not make a long error
			}
		}
	}
	c.checkOutput()
}

func (c *checker) checkOutput() {
	o := c.r.Output
	for _, f := range []struct {
		name string
		v    int64
		max  int64
	}{
		{"output.tokens", o.Tokens, math.MaxInt64}, {"output.images", o.Images, math.MaxInt64},
		{"output.image_width", int64(o.ImageWidth), MaxImageSide}, {"output.image_height", int64(o.ImageHeight), MaxImageSide},
		{"output.video_frames", o.VideoFrames, math.MaxInt64},
		{"output.video_width", int64(o.VideoWidth), MaxImageSide}, {"output.video_height", int64(o.VideoHeight), MaxImageSide},
	} {
		if f.v < 0 || f.v > f.max {
			c.bad(f.name, "must be 0 to %d, got %d", f.max, f.v)
		}
	}
	if !nonNegative(o.AudioSeconds) {
		c.bad("output.audio_seconds", "must be a non-negative number, got %v", o.AudioSeconds)
	}
}

// checkText bounds the free-text fields, which labels, pages and logs show.
func (c *checker) checkText() {
	r := c.r
	for _, f := range []struct {
		field, value string
		max          int
	}{
		{"tool.name", r.ToolName, MaxToolField}, {"tool.version", r.ToolVersion, MaxToolField},
		{"precision", r.Precision, MaxPrecision},
	} {
		switch {
		case len(f.value) > f.max:
			c.bad(f.field, "at most %d bytes, got %d", f.max, len(f.value))
		case !errdefs.PrintableASCII(f.value):
			c.bad(f.field, "%s: only printable ASCII is accepted", quote(f.value))
		}
	}
}

func (c *checker) checkDataset() {
	d, err := c.reg.Datasets.Resolve(c.task, c.r.Dataset)
	switch {
	case err == nil:
		c.dataset, c.dsOK = d, true
	case c.lenient && datasetNameProblem(c.r.Dataset) == "":
		// a dataset the server's registry may know
	default:
		c.vs = append(c.vs, err.(*InvalidError).Violations...)
	}
}

// checkSizeClass derives the size class from the parameter count: a
// declared class that disagrees is refused. Only a published leaderboard
// row may give a class without a count, and keeps it.
func (c *checker) checkSizeClass() {
	r, task := c.r, c.task
	switch {
	case !task.SizeClasses && r.SizeClass != "":
		c.bad("size_class", "task %s has no size classes; leave it empty", task.ID)
	case !task.SizeClasses:
	case r.SizeClass != "" && r.SizeClass != "A" && r.SizeClass != "B" && r.SizeClass != "C":
		c.bad("size_class", "must be A, B or C, got %s", quote(r.SizeClass))
	case r.ParamsBillions > 0 && r.SizeClass != "" && SizeClass(r.ParamsBillions) != r.SizeClass:
		c.bad("size_class", "%s disagrees with parameters_billions %v, which is class %s (A ≤ 20 B < B ≤ 66 B < C)",
			r.SizeClass, r.ParamsBillions, SizeClass(r.ParamsBillions))
	case r.ParamsBillions > 0:
	case c.src == Publisher:
		c.bad("parameters_billions", "required for task %s: the size class is derived from it (A ≤ 20 B < B ≤ 66 B < C)", task.ID)
	case r.SizeClass == "":
		c.bad("size_class", "task %s is graded by size class: give parameters_billions (or, for a published row, size_class)", task.ID)
	}
}

// checkOutputSizes refuses half-reported sizes, output beyond the
// per-query ceilings, and a per-unit dataset without its output size.
func (c *checker) checkOutputSizes() {
	o, n := c.r.Output, float64(c.r.Queries-c.r.FailedQueries)
	if n < 1 {
		return
	}
	switch c.task.Unit {
	case OutputMegapixel:
		if o.Images > 0 && (o.ImageWidth == 0 || o.ImageHeight == 0) {
			c.bad("output.image_width", "image_width and image_height are needed with output.images")
		}
	case OutputMegapixelFrame:
		if o.VideoFrames > 0 && (o.VideoWidth == 0 || o.VideoHeight == 0) {
			c.bad("output.video_width", "video_width and video_height are needed with output.video_frames")
		}
	}
	if float64(o.Tokens)/n > MaxTokensPerQuery {
		c.bad("output.tokens", "%d tokens over %v queries is above %d per query", o.Tokens, n, MaxTokensPerQuery)
	}
	if mp := megapixels(o); mp/n > MaxMegapixelsPerQuery {
		c.bad("output.images", "%.4g megapixels over %v queries is above %d per query", mp, n, MaxMegapixelsPerQuery)
	}
	if mpf := megapixelFrames(o); mpf/n > MaxMPFramesPerQuery {
		c.bad("output.video_frames", "%.4g megapixel-frames over %v queries is above %d per query", mpf, n, MaxMPFramesPerQuery)
	}
	if c.task.TokenUnit() && c.src != Published && o.Tokens <= 0 {
		c.bad("output.tokens", "required for task %s on every dataset: the physical floors are checked per token", c.task.ID)
	} else if c.dsOK && c.dataset.Basis != Query && units(c.task.Unit, o) <= 0 {
		c.bad(outputField(c.task.Unit), "dataset %s is graded per %s: the output size is required", c.dataset.Name, c.task.Unit)
	}
}

func outputField(u Unit) string {
	switch u {
	case OutputMegapixel:
		return "output.images"
	case OutputMegapixelFrame:
		return "output.video_frames"
	}
	return "output.tokens"
}

// checkPhysics checks a result with a duration: the average power per
// accelerator lies between the variant's floor and 1.1 × its board power,
// each output rate per accelerator is under its ceiling, and token
// throughput agrees with the energy per token.
func (c *checker) checkPhysics() {
	r := c.r
	if r.DurationSeconds <= 0 {
		return
	}
	gpus := float64(max(1, c.gpus))
	watts := r.GPUEnergyWh * 3600 / r.DurationSeconds / gpus
	if c.accelOK {
		a := c.accel
		switch {
		case watts > PowerLimitFactor*a.BoardWatts:
			c.bad("gpu_energy_wh", "%.4g Wh in %.4g s is %.4g W per %s, above %.0f%% of its %.0f W board power",
				r.GPUEnergyWh, r.DurationSeconds, watts, a.Name, PowerLimitFactor*100, a.BoardWatts)
		case watts < a.Floor():
			c.bad("gpu_energy_wh", "%.4g Wh in %.4g s is %.4g W per %s, below its floor of %.4g W (an idle GPU draws more): the GPU did not run the workload",
				r.GPUEnergyWh, r.DurationSeconds, watts, a.Name, a.Floor())
		default:
			c.checks |= CheckPower
		}
	}
	o := r.Output
	for _, f := range []struct {
		field, what string
		v, max      float64
	}{
		{"queries", "queries", float64(r.Queries), MaxQueriesPerSecond},
		{"output.tokens", "output tokens", tokensWithoutFloor(o.Tokens, c.floorRatio), MaxTokensPerSecond},
		{"output.images", "output megapixels", megapixels(o), MaxMegapixelsPerSecond},
		{"output.video_frames", "output megapixel-frames", megapixelFrames(o), MaxMPFramesPerSecond},
	} {
		if rate := f.v / r.DurationSeconds / gpus; rate > f.max {
			c.bad(f.field, "%.4g %s per second per accelerator is above the ceiling of %.0f", rate, f.what, f.max)
		}
	}
	if len(c.vs) == 0 {
		c.checks |= CheckRate
	}
	if o.Tokens > 0 && r.ThroughputTokensPerSecond > 0 {
		jPerToken := r.GPUEnergyWh * 3600 / float64(o.Tokens)
		want := r.GPUEnergyWh * 3600 / r.DurationSeconds / r.ThroughputTokensPerSecond
		if math.Abs(jPerToken-want) > ConsistencyTolerance*want {
			c.bad("throughput_tokens_per_second", "energy per token %.4g J differs from power/throughput %.4g J by more than %.0f%%",
				jPerToken, want, ConsistencyTolerance*100)
		} else {
			c.checks |= CheckThroughput
		}
	}
}

// tokensWithoutFloor is the tokens the flat rate ceiling checks: none where
// the compute floor on time, which knows the model's size, checked them.
func tokensWithoutFloor(tokens int64, floorRatio float64) float64 {
	if floorRatio > 0 {
		return 0
	}
	return float64(tokens)
}

// ConsistencyTolerance is the relative difference allowed between J/token
// from the totals and power divided by throughput.
const ConsistencyTolerance = 0.10

func megapixels(o Output) float64 {
	return float64(o.Images) * float64(o.ImageWidth) * float64(o.ImageHeight) / 1e6
}

func megapixelFrames(o Output) float64 {
	return float64(o.VideoFrames) * float64(o.VideoWidth) * float64(o.VideoHeight) / 1e6
}

func positive(v float64) bool    { return v > 0 && !math.IsInf(v, 1) }
func nonNegative(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }
