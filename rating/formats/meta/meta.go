// Package meta is what a result file may leave out and its submitter gives
// with flags, and the warnings parsers give about what they left out.
//
// Counts and duration: a flag is needed only where the file is silent.
// Where the file states the queries, the output tokens or the duration
// (each parser's package comment says which it states, and how), the
// file's figure is used. A flag that contradicts it by more than Tolerance
// (1 %) of the file's figure is refused, with an error naming both figures
// and where the file's comes from:
//
//	benchmark_report.json: -queries 1000000 contradicts the file's 1000 queries (preprocess efficiency × energy)
//
// A flag within 1 % is accepted, the file's figure is still used, and a
// warning says so when the two differ at all. The file's figure is the
// one 1 % is taken of, so a file that states 0 output tokens is
// contradicted by any other -tokens.
//
// The measurement's date works the same way (ApplyDate): -measured-at
// (RFC 3339, or a day as YYYY-MM-DD, read as UTC) fills it in where the
// file records none, and where it records one the file's is used. Tools
// write local time without a zone, which is read as UTC, so a flag within
// a day of the file's time agrees with it; one further away is refused,
// naming both:
//
//	emissions.csv: -measured-at 2024-03-01 contradicts the file's 2024-07-31T11:30:03Z (timestamp)
package meta

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/energylabel/energylabel/rating"
)

// Meta is the metadata the CLI takes from flags. A zero field is not given.
type Meta struct {
	Model   string // -model
	Task    string // -task
	Dataset string // -dataset
	Queries int64  // -queries
	// Tokens is the output tokens over all successful queries (-tokens).
	Tokens int64
	// DurationSeconds is the wall time of the measured run (-duration).
	DurationSeconds float64
	// Hardware is the accelerator model, e.g. "H100" (-hardware).
	Hardware string
	GPUs     int     // -gpus
	Params   float64 // -params, in billions
	// ActiveParams is what a mixture-of-experts model activates per token
	// (-active-params, in billions); zero means all parameters.
	ActiveParams float64
	// SizeClass is A, B or C (-size-class).
	SizeClass string
	// MeasuredAt is when the run was measured (-measured-at); Day is set
	// when the flag gave a day, not a time (see ParseMeasuredAt).
	MeasuredAt time.Time
	Day        bool
}

// ParseMeasuredAt reads -measured-at: an RFC 3339 time, or a day as
// YYYY-MM-DD, which is its midnight UTC and sets day.
func ParseMeasuredAt(s string) (t time.Time, day bool, err error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%s is neither a day (YYYY-MM-DD) nor an RFC 3339 time (2026-11-20T10:00:00Z)", rating.Quote(s))
}

// Flags names the flag that supplies each field, for error messages.
var flags = map[string]string{
	"model":      "-model owner/name",
	"task":       "-task TASK (see `energylabel tasks`)",
	"dataset":    "-dataset NAME",
	"queries":    "-queries N",
	"hardware":   "-hardware ACCELERATOR, e.g. -hardware H100",
	"gpus":       "-gpus N",
	"size class": "-size-class A|B|C or -params BILLIONS",
	"duration":   "-duration SECONDS",
}

// ErrMissing is matched by every error about metadata that neither the file
// nor the flags give.
var ErrMissing = errors.New("missing metadata")

// MissingError says which flags supply what a file lacks. Apply reports
// everything a file lacks at once.
type MissingError struct {
	File string
	// What are the missing fields, e.g. "model", "task", in the order of
	// the flags' descriptions in the usage.
	What []string
	// Unstated are what may be needed as well, and neither the file nor
	// the flags give: "size class" when the task is missing, since the
	// tasks with size classes need it; "gpus" and "duration", which the
	// server requires of publishers only. They are not missing for every
	// file or submitter; a client that names the missing flags names
	// these with them.
	Unstated []string
}

func (e *MissingError) Error() string {
	fs := make([]string, len(e.What))
	for i, w := range e.What {
		fs[i] = flags[w]
	}
	return fmt.Sprintf("%s: %s unknown: pass %s", e.File, list(e.What), strings.Join(fs, "; "))
}

// list is "a", "a and b", "a, b and c".
func list(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// Is makes errors.Is(err, ErrMissing) true.
func (e *MissingError) Is(target error) bool { return target == ErrMissing }

// Missing returns the error for a field that neither file nor flags give.
func Missing(file, what string) error { return &MissingError{File: file, What: []string{what}} }

// Warning is something a parser dropped or did not use, and why.
type Warning struct {
	File string
	// Where is the line ("line 7") or field path ("decode.measures[4].gpu").
	Where   string
	Message string
}

func (w Warning) String() string {
	if w.Where == "" {
		return w.File + ": " + w.Message
	}
	return w.File + ": " + w.Where + ": " + w.Message
}

// LookupTask resolves -task, or says it is needed.
func (m Meta) LookupTask(file string) (rating.Task, error) {
	if strings.TrimSpace(m.Task) == "" {
		return rating.Task{}, Missing(file, "task")
	}
	t, ok := rating.LookupTask(m.Task)
	if !ok {
		return rating.Task{}, fmt.Errorf("%s: -task %q: unknown task (see `energylabel tasks`)", file, m.Task)
	}
	return t, nil
}

// Tolerance is how far, as a fraction of the file's figure, a flag may
// differ from a count or duration the file states and still be accepted.
const Tolerance = 0.01

// Stated says which counts a file states, each in the words an error
// quotes for where the figure comes from, e.g. "preprocess efficiency ×
// energy" or "summary.total_prompts". Empty means the file is silent,
// except that a result's non-zero Queries, Output.Tokens or
// DurationSeconds is always taken as stated by the file.
type Stated struct {
	Queries  string
	Tokens   string
	Duration string
	// MeasuredAt says where a result's non-zero MeasuredAt comes from in
	// the file, e.g. "timestamp"; "" is "the file's time".
	MeasuredAt string
}

// Apply fills what only the submitter knows into a result of a single-run
// file: model, task, dataset, queries, output tokens, duration, hardware,
// size and the measurement's date. The file's parser has set what the file says, and stated says
// how it says its counts. Apply never overwrites what the file says: a
// name the file gives is kept, and a count or duration flag is checked
// against the file's figure (see the package comment). Warnings about
// flags within Tolerance of the file's figure go to ws, when it is not nil.
//
// What neither the file nor the flags give is reported at once, in one
// *MissingError; a flag with a bad value is reported first, on its own.
func (m Meta) Apply(file string, r *rating.Result, stated Stated, ws *[]Warning) error {
	if err := m.checkCounts(file); err != nil {
		return err
	}
	if err := m.ApplyDate(file, stated.MeasuredAt, r, ws); err != nil {
		return err
	}
	var missing []string
	if r.Model == "" {
		if m.Model == "" {
			missing = append(missing, "model")
		}
		r.Model = m.Model
	}
	if r.Task == "" && strings.TrimSpace(m.Task) == "" {
		missing = append(missing, "task")
	} else if r.Task == "" {
		t, err := m.LookupTask(file)
		if err != nil {
			return err
		}
		r.Task = t.ID
	}
	if r.Dataset == "" {
		r.Dataset = m.Dataset
	}
	if err := m.applyCounts(file, r, stated, ws); errors.Is(err, ErrMissing) {
		missing = append(missing, "queries")
	} else if err != nil {
		return err
	}
	if r.Accelerator == "" {
		if strings.TrimSpace(m.Hardware) == "" {
			missing = append(missing, "hardware")
		}
		r.Accelerator = m.Hardware
	}
	if r.GPUCount == 0 {
		if m.GPUs < 0 {
			return fmt.Errorf("%s: -gpus %d: must not be negative", file, m.GPUs)
		}
		r.GPUCount = m.GPUs
	}
	if r.Task != "" {
		if err := m.ApplySize(file, r); errors.Is(err, ErrMissing) {
			missing = append(missing, "size class")
		} else if err != nil {
			return err
		}
	}
	if len(missing) == 0 {
		return nil
	}
	e := &MissingError{File: file, What: missing}
	if r.Task == "" && r.SizeClass == "" && r.ParamsBillions <= 0 && m.SizeClass == "" && m.Params <= 0 {
		e.Unstated = append(e.Unstated, "size class")
	}
	if r.GPUCount == 0 && !statesCount(r.Accelerator) {
		e.Unstated = append(e.Unstated, "gpus")
	}
	if r.DurationSeconds == 0 {
		e.Unstated = append(e.Unstated, "duration")
	}
	return e
}

// DateSlack is how far a file's time may be from -measured-at and still
// agree with it: a day, since tools write local time without a zone.
const DateSlack = 24 * time.Hour

// ApplyDate fills -measured-at into a result whose file records no time,
// and checks it against one that does: the file's time is kept, and a flag
// more than DateSlack away from it (from the flag's day, for a day) is
// refused. where says where the file records it ("" for "the file's
// time"). Warnings go to ws, when it is not nil.
func (m Meta) ApplyDate(file, where string, r *rating.Result, ws *[]Warning) error {
	if m.MeasuredAt.IsZero() {
		return nil
	}
	if r.MeasuredAt.IsZero() {
		r.MeasuredAt = m.MeasuredAt
		return nil
	}
	flag, got := m.MeasuredAt.UTC().Format(time.RFC3339Nano), r.MeasuredAt.UTC()
	from, to := m.MeasuredAt.Add(-DateSlack), m.MeasuredAt.Add(DateSlack)
	if m.Day {
		flag = m.MeasuredAt.Format(time.DateOnly)
		to = to.Add(24 * time.Hour)
	}
	fileText := got.Format(time.RFC3339Nano)
	if where != "" {
		fileText += " (" + where + ")"
	}
	if got.Before(from) || got.After(to) {
		return fmt.Errorf("%s: -measured-at %s contradicts the file's %s", file, flag, fileText)
	}
	same := got.Equal(m.MeasuredAt) || m.Day && got.Format(time.DateOnly) == flag
	if !same && ws != nil {
		*ws = append(*ws, Warning{File: file, Message: fmt.Sprintf(
			"-measured-at %s is within a day of the file's %s: the file's time is used", flag, fileText)})
	}
	return nil
}

// statesCount reports whether an accelerator name states how many ran, as
// CodeCarbon's "2 x NVIDIA H100 80GB HBM3" does.
func statesCount(name string) bool {
	_, n, err := rating.BuiltinAccelerators().Resolve(name)
	return err == nil && n > 0
}

// checkCounts refuses count and duration flags that no file could agree
// with. A zero flag is not given.
func (m Meta) checkCounts(file string) error {
	switch {
	case m.Queries < 0:
		return fmt.Errorf("%s: -queries %d: must be at least 1", file, m.Queries)
	case m.Tokens < 0:
		return fmt.Errorf("%s: -tokens %d: must not be negative", file, m.Tokens)
	case m.DurationSeconds < 0 || math.IsNaN(m.DurationSeconds) || math.IsInf(m.DurationSeconds, 0):
		return fmt.Errorf("%s: -duration %v: must be a positive number of seconds", file, m.DurationSeconds)
	}
	return nil
}

// applyCounts takes queries, output tokens and duration from the file where
// it states them, and from the flags where it is silent. Queries that
// neither gives are reported last, once the rest is applied.
func (m Meta) applyCounts(file string, r *rating.Result, stated Stated, ws *[]Warning) error {
	if r.Queries != 0 || stated.Queries != "" {
		if m.Queries != 0 {
			if err := agree(file, "-queries", float64(m.Queries), float64(r.Queries),
				strconv.FormatInt(m.Queries, 10), strconv.FormatInt(r.Queries, 10)+" queries", stated.Queries, ws); err != nil {
				return err
			}
		}
	} else {
		r.Queries = m.Queries
	}
	if r.Output.Tokens != 0 || stated.Tokens != "" {
		if m.Tokens != 0 {
			if err := agree(file, "-tokens", float64(m.Tokens), float64(r.Output.Tokens),
				strconv.FormatInt(m.Tokens, 10), strconv.FormatInt(r.Output.Tokens, 10)+" output tokens", stated.Tokens, ws); err != nil {
				return err
			}
		}
	} else {
		r.Output.Tokens = m.Tokens
	}
	if r.DurationSeconds != 0 || stated.Duration != "" {
		if m.DurationSeconds != 0 {
			if err := agree(file, "-duration", m.DurationSeconds, r.DurationSeconds,
				seconds(m.DurationSeconds), seconds(r.DurationSeconds)+" s", stated.Duration, ws); err != nil {
				return err
			}
		}
	} else {
		r.DurationSeconds = m.DurationSeconds
	}
	if r.Queries == 0 {
		return Missing(file, "queries")
	}
	return nil
}

// agree refuses a flag that differs from the file's figure by more than
// Tolerance of it, and warns about one that differs by less.
func agree(file, flag string, fromFlag, fromFile float64, flagText, fileText, how string, ws *[]Warning) error {
	if how != "" {
		fileText += " (" + how + ")"
	}
	diff := math.Abs(fromFlag - fromFile)
	if !(diff <= Tolerance*math.Abs(fromFile)) {
		return fmt.Errorf("%s: %s %s contradicts the file's %s", file, flag, flagText, fileText)
	}
	if diff != 0 && ws != nil {
		*ws = append(*ws, Warning{File: file, Message: fmt.Sprintf(
			"%s %s is within %g %% of the file's %s: the file's figure is used", flag, flagText, Tolerance*100, fileText)})
	}
	return nil
}

// seconds formats a duration in seconds as briefly as it round-trips.
func seconds(s float64) string { return strconv.FormatFloat(s, 'g', -1, 64) }

// ApplySize sets the size class and parameter counts from -size-class,
// -params and -active-params, and says when a task graded by size class
// has neither.
func (m Meta) ApplySize(file string, r *rating.Result) error {
	task, ok := rating.LookupTask(r.Task)
	if !ok {
		return fmt.Errorf("%s: unknown task %q (see `energylabel tasks`)", file, r.Task)
	}
	if m.Params < 0 {
		return fmt.Errorf("%s: -params %v: must not be negative", file, m.Params)
	}
	if r.ParamsBillions == 0 {
		r.ParamsBillions = m.Params
	}
	switch {
	case m.ActiveParams < 0:
		return fmt.Errorf("%s: -active-params %v: must not be negative", file, m.ActiveParams)
	case m.ActiveParams > 0 && r.ActiveParamsBillions == 0:
		if r.ParamsBillions <= 0 {
			return fmt.Errorf("%s: -active-params %v needs the model's total parameters (-params BILLIONS)", file, m.ActiveParams)
		}
		if m.ActiveParams > r.ParamsBillions {
			return fmt.Errorf("%s: -active-params %v is more than the model's %v billion parameters", file, m.ActiveParams, r.ParamsBillions)
		}
		r.ActiveParamsBillions = m.ActiveParams
	}
	if m.SizeClass != "" {
		switch {
		case !task.SizeClasses:
			return fmt.Errorf("%s: -size-class %s: task %s has no size classes", file, m.SizeClass, task.ID)
		case m.SizeClass != "A" && m.SizeClass != "B" && m.SizeClass != "C":
			return fmt.Errorf("%s: -size-class %q: want A, B or C", file, m.SizeClass)
		case m.Params > 0 && rating.SizeClass(m.Params) != m.SizeClass:
			return fmt.Errorf("%s: -size-class %s disagrees with -params %v, which is class %s", file, m.SizeClass, m.Params, rating.SizeClass(m.Params))
		}
		if r.SizeClass == "" {
			r.SizeClass = m.SizeClass
		}
	}
	if task.SizeClasses && r.SizeClass == "" && r.ParamsBillions <= 0 {
		return Missing(file, "size class")
	}
	return nil
}

// Name chooses between a name the file gives at where and the one its flag
// gives. The flag wins, since tools write names the service may not accept
// (local paths, marketing names), and the choice is reported.
func Name(file, where, flag, fromFile, fromFlag string, ws *[]Warning) string {
	fromFile, fromFlag = strings.TrimSpace(fromFile), strings.TrimSpace(fromFlag)
	if fromFlag == "" {
		return fromFile
	}
	if fromFile != "" && fromFile != fromFlag {
		*ws = append(*ws, Warning{File: file, Where: where,
			Message: fmt.Sprintf("the file says %q; %s %q is used instead", fromFile, flag, fromFlag)})
	}
	return fromFlag
}
