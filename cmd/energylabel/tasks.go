package main

import (
	"context"
	"fmt"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

var tasksCommand = &command{
	name:    "tasks",
	usage:   "tasks",
	summary: "the task classes",
	run:     runTasks,
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
	return a.printTasks(ts)
}

func (a *app) printTasks(ts []*energylabelv1.Task) error {
	w := newTable(a.stdout)
	row(w, "ID", "AIES ALIAS", "UNIT", "FUNCTIONAL UNIT", "SIZE CLASSES", "DEFAULT DATASET")
	for _, t := range ts {
		classes := "-"
		if t.GetHasSizeClasses() {
			classes = "A,B,C"
		}
		row(w, t.GetId(), orDash(t.GetAiesAlias()), t.GetUnit(), t.GetFunctionalUnit(), classes, t.GetDefaultDataset())
	}
	return w.Flush()
}
