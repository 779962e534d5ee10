package rating

import (
	"fmt"
	"github.com/energylabel/energylabel/errdefs"
	"slices"
	"strings"
)

// Dataset is a registered standard workload of a task, and the basis its
// results are graded on: energy is comparable only on the same work.
type Dataset struct {
	Name string
	// Task is the task's id.
	Task string
	// Basis is Query, or the task's functional unit; a per-unit dataset
	// requires results to report their output size.
	Basis Unit
}

// MaxDatasetName bounds a dataset name.
const MaxDatasetName = maxNameLen

// builtinDatasets are the AIES datasets of each task (basis query), and
// the ML.ENERGY v3 workloads (basis the functional unit).
var builtinDatasets = func() []Dataset {
	var ds []Dataset
	for _, t := range tasks {
		if t.AIESAlias != "" {
			ds = append(ds, Dataset{Name: "AIEnergyScore/" + t.AIESAlias, Task: t.ID, Basis: Query})
		}
	}
	for _, d := range []struct{ name, task string }{
		{"lm-arena-chat", "text-generation"}, {"sourcegraph-fim", "text-generation"},
		{"gpqa", "reasoning"}, {"image-chat", "image-text-to-text"}, {"video-chat", "video-text-to-text"},
		{"text-to-image", "text-to-image"}, {"text-to-video", "text-to-video"},
	} {
		t, _ := LookupTask(d.task)
		ds = append(ds, Dataset{Name: "ml.energy/" + d.name, Task: t.ID, Basis: t.Unit})
	}
	return ds
}()

// Datasets is a registry of datasets by name. It is immutable: With
// returns a new registry.
type Datasets struct {
	all    []Dataset
	byName map[string]int
}

// NewDatasets builds a registry, refusing duplicate or invalid entries.
func NewDatasets(ds []Dataset) (*Datasets, error) {
	d := &Datasets{byName: map[string]int{}}
	for _, x := range ds {
		if err := d.add(x); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// BuiltinDatasets is the registry the service starts with.
func BuiltinDatasets() *Datasets { return builtinDatasetRegistry }

var builtinDatasetRegistry = func() *Datasets {
	d, err := NewDatasets(builtinDatasets)
	if err != nil {
		panic(err) // the table is fixed at build time, and tested
	}
	return d
}()

// With returns a registry that also holds x.
func (d *Datasets) With(x Dataset) (*Datasets, error) {
	out := &Datasets{all: slices.Clone(d.all), byName: make(map[string]int, len(d.byName)+1)}
	for k, i := range d.byName {
		out.byName[k] = i
	}
	if err := out.add(x); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *Datasets) add(x Dataset) error {
	if p := datasetNameProblem(x.Name); p != "" {
		return Invalid("name", "%s", p)
	}
	t, ok := LookupTask(x.Task)
	if !ok {
		return Invalid("task", "unknown task %s", quote(x.Task))
	}
	if x.Basis != Query && x.Basis != t.Unit {
		return Invalid("basis", "task %s is graded per %s or per query, not per %s", t.ID, t.Unit, x.Basis)
	}
	key := strings.ToLower(x.Name)
	if i, taken := d.byName[key]; taken {
		return Invalid("name", "dataset %s is already registered for task %s", quote(d.all[i].Name), d.all[i].Task)
	}
	x.Task = t.ID
	d.byName[key] = len(d.all)
	d.all = append(d.all, x)
	return nil
}

// All returns the datasets in registry order.
func (d *Datasets) All() []Dataset { return slices.Clone(d.all) }

// Resolve finds the dataset a result names for a task; "" is the task's
// default. Names compare exactly, but for case: a look-alike is a
// different name, and is refused with the task's known datasets.
func (d *Datasets) Resolve(task Task, name string) (Dataset, error) {
	if name == "" {
		name = task.DefaultDataset
	}
	if p := datasetNameProblem(name); p != "" {
		return Dataset{}, Invalid("dataset", "%s", p)
	}
	if i, ok := d.byName[strings.ToLower(name)]; ok && d.all[i].Task == task.ID {
		return d.all[i], nil
	}
	return Dataset{}, Invalid("dataset", "%s is not a registered dataset of task %s; known: %s",
		quote(name), task.ID, strings.Join(d.names(task.ID), ", "))
}

// names lists a task's dataset names.
func (d *Datasets) names(task string) []string {
	var out []string
	for _, x := range d.all {
		if x.Task == task {
			out = append(out, x.Name)
		}
	}
	return out
}

func datasetNameProblem(name string) string {
	switch {
	case name == "":
		return "required"
	case len(name) > MaxDatasetName:
		return fmt.Sprintf("at most %d bytes, got %d", MaxDatasetName, len(name))
	case !errdefs.PrintableASCII(name) || strings.TrimSpace(name) != name:
		return fmt.Sprintf("%s: only printable ASCII without surrounding spaces is accepted", quote(name))
	}
	return ""
}
