package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/client"
	"github.com/energylabel/energylabel/errdefs"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

var historyCommand = &command{
	name:    "history",
	usage:   "history MODEL [-task T] [-hardware H] [-dataset D]",
	summary: "a model's accepted results, oldest first, with the grade and stars each had then",
	help: `
  -task T      only this task (id or AIES alias)
  -hardware H  only this accelerator family
  -dataset D   only this dataset
`,
	run: runHistory,
}

// historyPage is how many entries one call asks for.
const historyPage = 500

func runHistory(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("history")
	task := fs.String("task", "", "")
	hw := fs.String("hardware", "", "")
	dataset := fs.String("dataset", "", "")
	pos, err := a.parse("history", fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return missingFlags("history", "MODEL")
	case len(pos) > 1:
		return usageErrorf("history", "unexpected argument %q", pos[1])
	}
	model := pos[0]
	if err := checkModel("history", "MODEL", model); err != nil {
		return err
	}
	t, err := resolveTask("history", *task)
	if err != nil {
		return err
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	req := &energylabelv1.GetHistoryRequest{Model: model, Task: t, Hardware: *hw, Dataset: *dataset, PageSize: historyPage}
	entries, err := history(ctx, c, req)
	if err != nil {
		// A model id in another case: read the one model it names.
		var other string
		if other, err = a.spelledOtherwise(ctx, c, "history", model, t, err); err == nil {
			model, req.Model, req.PageToken = other, other, ""
			entries, err = history(ctx, c, req)
		}
	}
	if err != nil {
		return wrapf("history", model, err)
	}
	if a.cfg.JSON {
		for _, e := range entries {
			if err := a.printJSON(e); err != nil {
				return err
			}
		}
		return nil
	}
	w := newTable(a.stdout)
	row(w, "RESULT", "RECEIVED", "ENTRY", "TASK", "DATASET", "SIZE CLASS", "HARDWARE", "GRADE", "STARS", "RELEASE", "PER 1K QUERIES", "ENERGY/UNIT")
	for _, e := range entries {
		grade := "-"
		if e.Grade != nil {
			grade = e.GetGrade()
		}
		row(w, fmt.Sprint(e.GetResultId()), e.GetReceivedAt().AsTime().Format("2006-01-02 15:04:05Z"), historyEntryKind(e), e.GetTask(), e.GetDataset(),
			orDash(e.GetSizeClass()), e.GetHardware(), grade, stars(e.GetStars()), orDash(e.GetRelease()),
			per1k(e), energy(e.GetEnergyPerUnit(), e.GetUnit()))
	}
	return w.Flush()
}

// history reads every page of a model's history: not found when it has
// no entry.
func history(ctx context.Context, c *client.Client, req *energylabelv1.GetHistoryRequest) ([]*energylabelv1.HistoryEntry, error) {
	var entries []*energylabelv1.HistoryEntry
	for {
		resp, err := c.History(ctx, req)
		if err != nil {
			return nil, err
		}
		entries = append(entries, resp.GetEntries()...)
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if len(entries) == 0 {
		var only []string
		for _, p := range [][2]string{{"task", req.GetTask()}, {"hardware", req.GetHardware()}, {"dataset", req.GetDataset()}} {
			if p[1] != "" {
				only = append(only, p[0]+" "+p[1])
			}
		}
		what := ""
		if len(only) > 0 {
			what = " for " + strings.Join(only, ", ")
		}
		return nil, errdefs.New(errdefs.NotFound, fmt.Sprintf("model %q has no accepted result%s: %s", req.GetModel(), what, errdefs.NotFound))
	}
	return entries, nil
}

// historyEntryKind says what a history entry is: an accepted result, or a
// surveyor's measurement of the result it names, by whom and with what
// outcome.
func historyEntryKind(e *energylabelv1.HistoryEntry) string {
	if e.GetKind() != "verification" {
		return "result"
	}
	return fmt.Sprintf("checked by %s: %s", e.GetTokenId(), strings.ReplaceAll(e.GetVerification().GetStatus(), "_", " "))
}

var watchCommand = &command{
	name:    "watch",
	usage:   "watch [-task T] [-model M] [-namespace NS] [-from REVISION]",
	summary: "print rating changes as they happen, until interrupted",
	help: `
  -task T          only this task (id or AIES alias)
  -model M         only this model
  -namespace NS    only models of this owner
  -from REVISION   first print the changes after REVISION (resume where you left off)

When the server ends the watch (after an hour, or on shutdown), watch
resumes after the last revision it printed. When the server no longer
keeps the changes after it, watch prints the current ratings, one
"current" line each, and watches on from them.
`,
	run:    runWatch,
	direct: true,
}

func runWatch(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("watch")
	task := fs.String("task", "", "")
	model := fs.String("model", "", "")
	ns := fs.String("namespace", "", "")
	from := fs.Int64("from", 0, "")
	pos, err := a.parse("watch", fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("watch", "unexpected argument %q", pos[0])
	}
	if *model != "" {
		if err := checkModel("watch", "-model", *model); err != nil {
			return err
		}
	}
	t, err := resolveTask("watch", *task)
	if err != nil {
		return err
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	req := &energylabelv1.WatchRatingsRequest{Task: t, Model: *model, Namespace: *ns, StartRevision: *from}
	pause := watchPauseMin
	// One revision (an import) may come in several messages, and a watch
	// may end between them: a resumed watch starts before the last
	// revision printed, and skips what it printed of it.
	var last revisionSeen
	for {
		got := false
		if last.revision > 0 {
			req.StartRevision = last.revision - 1
		}
		err = c.WatchRatings(ctx, req, func(ev *energylabelv1.RatingEvent) error {
			got = true
			if !last.first(ev) {
				return nil
			}
			if a.cfg.JSON {
				return a.printJSON(ev)
			}
			_, err := fmt.Fprintln(a.stdout, describeEvent(ev))
			return err
		})
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return nil // interrupted: the normal end
		}
		if grpcstatus.Code(err) == codes.OutOfRange && req.StartRevision > 0 {
			// The server no longer keeps the changes after the last
			// revision seen: what changed since is in the current ratings.
			fmt.Fprintf(a.stderr, "energylabel: watch: the server no longer keeps the changes after revision %d; printing the current ratings, then watching on\n", req.StartRevision)
			if req.StartRevision, err = a.printCurrent(ctx, c, req); err != nil {
				return fmt.Errorf("watch: %w", err)
			}
			last = revisionSeen{}
			pause = watchPauseMin
			continue
		}
		if !watchResumes(err) {
			return fmt.Errorf("watch: %w", err)
		}
		// The server ended the watch (its maximum age, a shutdown, a
		// client that fell behind): resume after the last revision seen.
		if got {
			pause = watchPauseMin
		}
		why := "the server ended the watch"
		if err != nil {
			why = err.Error()
		}
		// With nothing seen since a start from now, it resumes from now.
		fmt.Fprintf(a.stderr, "energylabel: watch: resuming after revision %d in %s (%s)\n", max(req.StartRevision, last.revision), pause, why)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, watchPauseMax)
	}
}

// revisionSeen is the last revision a watch printed, and what of it.
type revisionSeen struct {
	revision int64
	// results are the result ids printed of it; release, whether its
	// release was.
	results map[uint64]bool
	release bool
}

// first says whether ev is new: after the last revision seen, or in it
// and not printed yet. It records ev as seen.
func (s *revisionSeen) first(ev *energylabelv1.RatingEvent) bool {
	switch rev := ev.GetRevision(); {
	case rev < s.revision:
		return false
	case rev > s.revision:
		*s = revisionSeen{revision: rev, results: map[uint64]bool{}}
	}
	if ev.GetKind() == energylabelv1.RatingEvent_KIND_RESULT {
		id := ev.GetRating().GetResultId()
		if s.results[id] {
			return false
		}
		s.results[id] = true
		return true
	}
	if s.release {
		return false
	}
	s.release = true
	return true
}

// How long watch waits before it resumes a watch the server ended, at
// first and at most.
const (
	watchPauseMin = 200 * time.Millisecond
	watchPauseMax = 10 * time.Second
)

// watchResumes reports whether watch should resume after a stream ended
// with err: the server ended it (its maximum age, a shutdown), it fell
// behind, or the server was out of reach or full for now. A refused
// request ends the command. (A revision the server no longer keeps is
// OutOfRange, which runWatch answers by re-reading the current ratings.)
func watchResumes(err error) bool {
	switch grpcstatus.Code(err) {
	case codes.OK, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Unavailable, codes.Aborted:
		return true
	}
	return false
}

// printCurrent prints the current ratings a watch's filter selects, one
// "current" line each, and returns a revision they are at least as new
// as: watching on from it misses nothing (and may repeat a change the
// lines show).
func (a *app) printCurrent(ctx context.Context, c *client.Client, req *energylabelv1.WatchRatingsRequest) (int64, error) {
	info, err := c.ServerInfo(ctx)
	if err != nil {
		return 0, err
	}
	print := func(r *energylabelv1.Rating) error {
		if req.Namespace != "" && !strings.HasPrefix(r.GetModel(), req.Namespace+"/") {
			return nil
		}
		if a.cfg.JSON {
			return a.printJSON(r)
		}
		_, err := fmt.Fprintln(a.stdout, describeRating("current", r))
		return err
	}
	if req.Model != "" {
		ratings, err := c.GetRating(ctx, req.Model, req.Task, "")
		if grpcstatus.Code(err) == codes.NotFound {
			return info.GetRevision(), nil
		}
		for _, r := range ratings {
			if err := print(r); err != nil {
				return 0, err
			}
		}
		return info.GetRevision(), err
	}
	for r, err := range c.Ratings(ctx, &energylabelv1.ListRatingsRequest{Task: req.Task}) {
		if err != nil {
			return 0, err
		}
		if err := print(r); err != nil {
			return 0, err
		}
	}
	return info.GetRevision(), nil
}

// describeEvent is one line per change.
func describeEvent(ev *energylabelv1.RatingEvent) string {
	switch ev.GetKind() {
	case energylabelv1.RatingEvent_KIND_RESULT:
		return describeRating(fmt.Sprintf("revision %d  result", ev.GetRevision()), ev.GetRating())
	case energylabelv1.RatingEvent_KIND_RELEASE:
		return fmt.Sprintf("revision %d  release %s: stars now come from it", ev.GetRevision(), ev.GetRelease().GetName())
	}
	return fmt.Sprintf("revision %d  %s", ev.GetRevision(), ev.GetKind())
}

// describeRating is one line for a rating, after what.
func describeRating(what string, r *energylabelv1.Rating) string {
	parts := []string{what, r.GetModel(), r.GetTask(), r.GetDataset()}
	if r.GetSizeClass() != "" {
		parts = append(parts, "size class "+r.GetSizeClass())
	}
	parts = append(parts, hardware(r), "grade "+grade(r), stars(r.GetStars()), energy(r.GetWhPer_1KQueries(), "Wh/1k queries"))
	return strings.Join(parts, "  ")
}
