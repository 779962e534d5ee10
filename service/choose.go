package service

import (
	"slices"
	"strings"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
)

// Which of a model's ratings an image shows is the server's choice alone:
// the images, and GetRating's for_badge that the CLI's badge and card ask,
// choose the same way, through the accelerators this server knows.

// maxChoiceValue bounds the task, hardware and dataset of a choice:
// longer ones name nothing that can be rated.
const maxChoiceValue = 256

// choiceOf turns a task (id or alias), hardware (any name the registry
// resolves) and dataset into the index's choice.
func ChoiceOf(accels *rating.Accelerators, task, hardware, dataset string) (index.Choice, error) {
	for _, f := range []struct{ name, v string }{{"task", task}, {"hardware", hardware}, {"dataset", dataset}} {
		if len(f.v) > maxChoiceValue {
			return index.Choice{}, rating.Invalid(f.name, "at most %d bytes, got %d", maxChoiceValue, len(f.v))
		}
	}
	c := index.Choice{Dataset: dataset}
	if task != "" {
		t, ok := rating.LookupTask(task)
		if !ok {
			return c, rating.UnknownTask("task", task)
		}
		c.Task = t.ID
	}
	if hardware != "" {
		c.Hardware = accels.Family(hardware)
		if c.Hardware == "" {
			c.Hardware = hardware // no cohort has it: not rated
		}
	}
	return c, nil
}

// chosenRating is the rating an image of model shows for the choice (see
// index.ModelRating), so long as the choice names one task. ok is false
// when the model has no such rating.
func (s *Service) ChosenRating(model string, c index.Choice) (r index.Rated, ok bool, err error) {
	if err := rating.ValidateModel(model); err != nil {
		return r, false, err
	}
	r, n := s.index.ModelRating(model, c)
	if n == 0 {
		return r, false, nil
	}
	if n > 1 && c.Task == "" {
		var tasks []string
		for _, rt := range s.index.ModelRatings(model) {
			if t := rt.Measure.Cohort.Task; c.Matches(rt.Measure.Cohort) && !slices.Contains(tasks, t) {
				tasks = append(tasks, t)
			}
		}
		if len(tasks) > 1 {
			return r, false, &ManyTasksError{rating.Invalid("task", "model %s is rated for %d tasks (%s): name one (task=)", model, len(tasks), strings.Join(tasks, ", "))}
		}
	}
	return r, true, nil
}

// ManyTasksError says that a choice of a model's rating names no task,
// and the model is rated for several: a badge says "pick a task".
type ManyTasksError struct{ err error }

func (e *ManyTasksError) Error() string { return e.err.Error() }
func (e *ManyTasksError) Unwrap() error { return e.err }
