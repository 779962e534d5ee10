package main

import (
	"context"
	"strings"

	"github.com/energylabel/energylabel/client"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

var getCommand = &command{
	name:    "get",
	usage:   "get MODEL [-task T]",
	summary: "a model's ratings",
	help:    getHelp,
	run:     runGet,
}

const getHelp = `
  MODEL is owner/name. A model id that matches no model but differs only in
  case from one rated model reads that model, saying so on stderr.
  -task T     only this task (id or AIES alias)
  -scheme S   grade scheme version, e.g. grade/2025.1; default the current one
`

func runGet(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("get")
	task := fs.String("task", "", "")
	scheme := fs.String("scheme", "", "")
	pos, err := a.parse("get", fs, args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		return missingFlags("get", "MODEL")
	case 1:
	default:
		return usageErrorf("get", "unexpected argument %q", pos[1])
	}
	model := pos[0]
	if err := checkModel("get", "MODEL", model); err != nil {
		return err
	}
	t, err := resolveTask("get", *task)
	if err != nil {
		return err
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	rs, err := getRatings(ctx, c, model, t, *scheme)
	if err != nil {
		// A model id in another case: read the one model it names.
		var other string
		if other, err = a.spelledOtherwise(ctx, c, "get", model, t, err); err == nil {
			model = other
			rs, err = getRatings(ctx, c, model, t, *scheme)
		}
	}
	if err != nil {
		return wrapf("get", model, err)
	}
	if a.cfg.JSON {
		return a.printRatingsJSON(rs)
	}
	return a.printModelRatings(rs)
}

// getRatings is a model's ratings: not found when it has none, as asking
// for one model that has none is an error.
func getRatings(ctx context.Context, c *client.Client, model, task, scheme string) ([]*energylabelv1.Rating, error) {
	rs, err := c.GetRating(ctx, model, task, scheme)
	if err == nil && len(rs) == 0 {
		err = client.ErrNotFound
	}
	return rs, err
}

// printModelRatings prints one row per cohort a model is rated in.
func (a *app) printModelRatings(rs []*energylabelv1.Rating) error {
	notes := false
	for _, r := range rs {
		notes = notes || ratingNote(r) != ""
	}
	w := newTable(a.stdout)
	header := []string{"MODEL", "TASK", "DATASET", "SIZE CLASS", "HARDWARE", "GRADE", "EEI", "STARS", "RELEASE", "RANK", "PER 1K QUERIES", "ENERGY/UNIT", "FLOOR", "STATUS", "SCHEME", "CHECKS"}
	if notes {
		header = append(header, "NOTE")
	}
	row(w, header...)
	for _, r := range rs {
		cells := []string{r.GetModel(), r.GetTask(), r.GetDataset(), orDash(r.GetSizeClass()), hardware(r), grade(r), optNum(r.Eei),
			stars(r.GetStars()), orDash(r.GetRelease()), releaseRank(r),
			shownPer1k(r), shownPerUnit(r), floor(r), statusLine(r), r.GetScheme(), checks(r)}
		if notes {
			cells = append(cells, orDash(ratingNote(r)))
		}
		row(w, cells...)
	}
	return w.Flush()
}

// ratingNote says why a rating lacks a grade or stars, or its physics
// was not checked.
func ratingNote(r *energylabelv1.Rating) string {
	var notes []string
	for _, n := range []string{r.GetGradeNote(), r.GetStarsNote(), r.GetPhysicsNote()} {
		if n != "" {
			notes = append(notes, n)
		}
	}
	return strings.Join(notes, "; ")
}

// checks lists the plausibility checks a rating's result passed, or says
// that it is a published figure nobody could check.
func checks(r *energylabelv1.Rating) string {
	if len(r.GetChecks()) == 0 {
		return "none (published figure)"
	}
	return strings.Join(r.GetChecks(), ",")
}
