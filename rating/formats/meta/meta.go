// Package meta is what a result file may leave out and its submitter gives
// with flags, and the warnings parsers give about what they left out.
package meta

import (
	"errors"
	"fmt"
	"strings"

	"github.com/energylabel/energylabel/rating"
)

// Meta is the metadata the CLI takes from flags. A zero field is not given.
type Meta struct {
	Model   string // -model
	Task    string // -task
	Dataset string // -dataset
	Queries int64  // -queries
	// Hardware is the accelerator model, e.g. "H100" (-hardware).
	Hardware string
	GPUs     int     // -gpus
	Params   float64 // -params, in billions
	// SizeClass is A, B or C (-size-class).
	SizeClass string
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
}

// ErrMissing is matched by every error about metadata that neither the file
// nor the flags give.
var ErrMissing = errors.New("missing metadata")

// MissingError says which flag supplies what a file lacks.
type MissingError struct {
	File string
	// What is the missing field, e.g. "model".
	What string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s: %s unknown: pass %s", e.File, e.What, flags[e.What])
}

// Is makes errors.Is(err, ErrMissing) true.
func (e *MissingError) Is(target error) bool { return target == ErrMissing }

// Missing returns the error for a field that neither file nor flags give.
func Missing(file, what string) error { return &MissingError{File: file, What: what} }

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

// Apply fills what only the submitter knows into a result of a single-run
// file: model, task, dataset, queries, hardware and size. The file's parser
// has set what the file says; Apply refuses to overwrite it.
func (m Meta) Apply(file string, r *rating.Result) error {
	if r.Model == "" {
		if m.Model == "" {
			return Missing(file, "model")
		}
		r.Model = m.Model
	}
	if r.Task == "" {
		t, err := m.LookupTask(file)
		if err != nil {
			return err
		}
		r.Task = t.ID
	}
	if r.Dataset == "" {
		r.Dataset = m.Dataset
	}
	if r.Queries == 0 {
		if m.Queries <= 0 {
			if m.Queries < 0 {
				return fmt.Errorf("%s: -queries %d: must be at least 1", file, m.Queries)
			}
			return Missing(file, "queries")
		}
		r.Queries = m.Queries
	}
	if r.Accelerator == "" {
		if strings.TrimSpace(m.Hardware) == "" {
			return Missing(file, "hardware")
		}
		r.Accelerator = m.Hardware
	}
	if r.GPUCount == 0 {
		if m.GPUs < 0 {
			return fmt.Errorf("%s: -gpus %d: must not be negative", file, m.GPUs)
		}
		r.GPUCount = m.GPUs
	}
	return m.ApplySize(file, r)
}

// ApplySize sets the size class and parameter count from -size-class and
// -params, and says when a task graded by size class has neither.
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
