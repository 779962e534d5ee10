package main

import (
	"context"
	"fmt"
	"strings"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

var listCommand = &command{
	name:    "list",
	usage:   "list -task T [-dataset D] [-size-class A|B|C] [-hardware H]",
	summary: "a cohort's leaderboard, best first (all pages)",
	help:    listHelp,
	run:     runList,
}

const listHelp = `
  -task T          task id or AIES alias (required)
  -dataset D       dataset; default the task's standard one
  -size-class C    size class by parameters, A, B or C: ` + sizeClassesHelp + `
                   (text-generation and reasoning only; -class is a deprecated alias).
                   Not the grade: grades A-G are in the GRADE column
  -hardware H      accelerator, e.g. H100
  -page-size N     ratings per request; the server's default when 0
`

func runList(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("list")
	task := fs.String("task", "", "")
	dataset := fs.String("dataset", "", "")
	var class sizeClassFlag
	class.register(fs, a.stderr)
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
		return missingFlags("list", "-task T")
	case *pageSize < 0:
		return usageErrorf("list", "-page-size must not be negative")
	}
	id, err := resolveTask("list", *task)
	if err != nil {
		return err
	}
	if err := checkSizeClass("list", class.value); err != nil {
		return err
	}
	if err := checkTaskSizeClass("list", id, class.value); err != nil {
		return err
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	filter := &energylabelv1.ListRatingsRequest{Task: id, Dataset: *dataset, SizeClass: class.value, Hardware: *hw, PageSize: int32(*pageSize)}
	rs, err := c.AllRatings(ctx, filter)
	if err != nil {
		return fmt.Errorf("list %s: %w", describeFilter(filter), err)
	}
	if a.cfg.JSON {
		return a.printRatingsJSON(rs)
	}
	if len(rs) == 0 {
		_, err := fmt.Fprintf(a.stdout, "no ratings match %s\n", describeFilter(filter))
		return err
	}
	return a.printLeaderboard(rs)
}

// describeFilter says what a listing asked for, in its flags' words.
func describeFilter(f *energylabelv1.ListRatingsRequest) string {
	parts := []string{"-task " + f.GetTask()}
	for _, p := range [][2]string{{"-dataset", f.GetDataset()}, {"-size-class", f.GetSizeClass()}, {"-hardware", f.GetHardware()}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	return strings.Join(parts, " ")
}

// printLeaderboard prints one block per cohort, each under a line naming
// it, best first as the server lists them, each rating with its place
// among the release's reference models ("3/13") and its status.
func (a *app) printLeaderboard(rs []*energylabelv1.Rating) error {
	for i, block := range cohortBlocks(rs) {
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		first := block[0]
		fmt.Fprintln(a.stdout, cohortTitle(first))
		// On a query basis the energy per unit is the figure per 1k
		// queries: one column says it.
		perQuery := first.GetBasis() == "query"
		w := newTable(a.stdout)
		header := []string{"RANK", "MODEL", "GRADE", "STARS", "PER 1K QUERIES"}
		if !perQuery {
			header = append(header, "ENERGY/UNIT")
		}
		row(w, append(header, "STATUS", "HARDWARE")...)
		for _, r := range block {
			cells := []string{releaseRank(r), r.GetModel(), grade(r), stars(r.GetStars()), shownPer1k(r)}
			if !perQuery {
				cells = append(cells, shownPerUnit(r))
			}
			row(w, append(cells, statusWord(r), hardware(r))...)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// cohortBlocks groups ratings by cohort, the cohorts in the order they
// first come and each cohort's ratings in theirs.
func cohortBlocks(rs []*energylabelv1.Rating) [][]*energylabelv1.Rating {
	var blocks [][]*energylabelv1.Rating
	index := map[string]int{}
	for _, r := range rs {
		k := cohortKey(r)
		i, ok := index[k]
		if !ok {
			i = len(blocks)
			index[k] = i
			blocks = append(blocks, nil)
		}
		blocks[i] = append(blocks[i], r)
	}
	return blocks
}

// cohortTitle names a rating's cohort: task, dataset, hardware, size class
// and basis, and how many models it has.
func cohortTitle(r *energylabelv1.Rating) string {
	parts := []string{r.GetTask(), "dataset " + r.GetDataset(), r.GetHardware()}
	if r.GetSizeClass() != "" {
		parts = append(parts, "size class "+r.GetSizeClass())
	}
	parts = append(parts, "per "+strings.ReplaceAll(r.GetBasis(), "_", " "))
	title := strings.Join(parts, " · ")
	var counts []string
	if n := r.GetCohortSize(); n > 0 {
		counts = append(counts, fmt.Sprintf("%d %s", n, plural(int(n), "model", "models")))
	}
	if n := r.GetReleaseCohortSize(); n > 0 && r.GetRelease() != "" {
		counts = append(counts, fmt.Sprintf("ranked among %d %s of %s", n, plural(int(n), "reference", "references"), r.GetRelease()))
	}
	if len(counts) > 0 {
		title += " (" + strings.Join(counts, "; ") + ")"
	}
	return title
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
