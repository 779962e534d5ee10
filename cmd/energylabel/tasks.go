package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

var tasksCommand = &command{
	name:    "tasks",
	usage:   "tasks",
	summary: "the task classes, each with the units its datasets' ratings are in",
	help: `
  RATED IN is the unit of the energy its default dataset's ratings are graded
  on (Wh per 1,000 queries on the AI Energy Score datasets); OTHER DATASETS are
  the task's other registered datasets, by the unit they grade in (per output
  token, megapixel or megapixel-frame on the ML.ENERGY ones). Every rating also
  gives its Wh per 1,000 queries. 'energylabel datasets' lists each dataset.
  With -json, each line is the API's Task; its unit is the functional unit's.
`,
	run: runTasks,
}

func runTasks(ctx context.Context, a *app, args []string) error {
	pos, err := a.parse("tasks", a.newFlagSet("tasks"), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("tasks", "unexpected argument %q", pos[0])
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ts, err := c.ListTasks(ctx)
	if err != nil {
		return fmt.Errorf("tasks: %w", err)
	}
	if a.cfg.JSON {
		for _, t := range ts {
			if err := a.printJSON(t); err != nil {
				return err
			}
		}
		return nil
	}
	// A rating is graded per the basis its dataset declares, not per the
	// task's functional unit: say what the datasets grade in.
	ds, err := c.ListDatasets(ctx, "")
	if err != nil {
		return fmt.Errorf("tasks: %w", err)
	}
	return a.printTasks(ts, ds)
}

func (a *app) printTasks(ts []*energylabelv1.Task, ds []*energylabelv1.Dataset) error {
	w := newTable(a.stdout)
	row(w, "TASK", "AIES ALIAS", "SIZE CLASSES", "DEFAULT DATASET", "RATED IN", "OTHER DATASETS")
	for _, t := range ts {
		classes := "-"
		if t.GetHasSizeClasses() {
			classes = "A,B,C"
		}
		ratedIn := "-"
		var others []string
		byUnit := map[string][]string{}
		for _, d := range ds {
			if d.GetTask() != t.GetId() {
				continue
			}
			unit := basisUnit(d.GetBasis())
			if d.GetName() == t.GetDefaultDataset() {
				ratedIn = unit
				continue
			}
			if !slices.Contains(others, unit) {
				others = append(others, unit)
			}
			byUnit[unit] = append(byUnit[unit], d.GetName())
		}
		var other []string
		for _, u := range others {
			other = append(other, u+": "+strings.Join(byUnit[u], ", "))
		}
		row(w, t.GetId(), orDash(t.GetAiesAlias()), classes, orDash(t.GetDefaultDataset()), ratedIn, orDash(strings.Join(other, "; ")))
	}
	return w.Flush()
}

// basisUnit is the unit ratings on a dataset of this basis are graded
// in: "Wh/1k queries" per query, else per the functional unit ("J/token").
func basisUnit(basis string) string {
	u, ok := rating.ParseUnit(basis)
	if !ok {
		return "per " + basis
	}
	return u.Symbol()
}
