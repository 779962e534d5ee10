package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/energylabel/energylabel/rating"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

var listCommand = &command{
	name:    "list",
	usage:   "list -task T [-dataset D] [-class C] [-hardware H]",
	summary: "a cohort's leaderboard, best first (all pages)",
	help:    listHelp,
	run:     runList,
}

const listHelp = `
  -task T       task id or AIES alias (required)
  -dataset D    dataset; default the task's standard one
  -class C      size class A, B or C (text generation and reasoning)
  -hardware H   accelerator, e.g. H100
  -page-size N  ratings per request; the server's default when 0
`

func runList(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("list")
	task := fs.String("task", "", "")
	dataset := fs.String("dataset", "", "")
	class := fs.String("class", "", "")
	hw := fs.String("hardware", "", "")
	pageSize := fs.Int("page-size", 0, "")
	pos, err := a.parse("list", fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageErrorf("list", "unexpected argument %q", pos[0])
	case *task == "":
		return usageErrorf("list", "-task is required")
	case *pageSize < 0:
		return usageErrorf("list", "-page-size must not be negative")
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	rs, err := c.AllRatings(ctx, &energylabelv1.ListRatingsRequest{
		Task: taskID(*task), Dataset: *dataset, SizeClass: *class, Hardware: *hw, PageSize: int32(*pageSize),
	})
	if err != nil {
		return fmt.Errorf("list -task %s: %w", *task, err)
	}
	if a.cfg.JSON {
		return a.printRatingsJSON(rs)
	}
	return a.printLeaderboard(rs)
}

// taskID turns an AIES alias into the task id, leaving unknown names for the
// server to refuse.
func taskID(name string) string {
	if t, ok := rating.LookupTask(name); ok {
		return t.ID
	}
	return name
}

// printLeaderboard prints ratings as they came, best first within each
// cohort, ranking from 1 in each.
func (a *app) printLeaderboard(rs []*energylabelv1.Rating) error {
	classes := false
	for _, r := range rs {
		classes = classes || r.GetSizeClass() != ""
	}
	w := newTable(a.stdout)
	header := []string{"RANK", "MODEL", "GRADE", "STARS", "WH/1K", "ENERGY/UNIT", "HARDWARE"}
	if classes {
		header = append(header, "CLASS")
	}
	row(w, header...)
	rank, cohort := 0, ""
	for _, r := range rs {
		if k := cohortKey(r); k != cohort {
			rank, cohort = 0, k
		}
		rank++
		cells := []string{strconv.Itoa(rank), r.GetModel(), grade(r), stars(r.GetStars()),
			num(r.GetWhPer_1KQueries()), energyPerUnit(r), hardware(r)}
		if classes {
			cells = append(cells, orDash(r.GetSizeClass()))
		}
		row(w, cells...)
	}
	return w.Flush()
}
