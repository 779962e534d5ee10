package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

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
	t, err := resolveTask("history", *task)
	if err != nil {
		return err
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	req := &energylabelv1.GetHistoryRequest{Model: pos[0], Task: t, Hardware: *hw, Dataset: *dataset, PageSize: historyPage}
	var entries []*energylabelv1.HistoryEntry
	for {
		resp, err := c.History(ctx, req)
		if err != nil {
			return wrapf("history", pos[0], err)
		}
		entries = append(entries, resp.GetEntries()...)
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if a.cfg.JSON {
		for _, e := range entries {
			if err := a.printJSON(e); err != nil {
				return err
			}
		}
		return nil
	}
	if len(entries) == 0 {
		fmt.Fprintf(a.stdout, "%s has no accepted result\n", pos[0])
		return nil
	}
	w := newTable(a.stdout)
	row(w, "RESULT", "RECEIVED", "ENTRY", "TASK", "DATASET", "CLASS", "HARDWARE", "GRADE", "STARS", "RELEASE", "PER 1K QUERIES", "ENERGY/UNIT")
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
`,
	run: runWatch,
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
	for {
		got := false
		err = c.WatchRatings(ctx, req, func(ev *energylabelv1.RatingEvent) error {
			got = true
			req.StartRevision = max(req.StartRevision, ev.GetRevision())
			if a.cfg.JSON {
				return a.printJSON(ev)
			}
			_, err := fmt.Fprintln(a.stdout, describeEvent(ev))
			return err
		})
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return nil // interrupted: the normal end
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
		fmt.Fprintf(a.stderr, "energylabel: watch: resuming after revision %d in %s (%s)\n", req.StartRevision, pause, why)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, watchPauseMax)
	}
}

// How long watch waits before it resumes a watch the server ended, at
// first and at most.
const (
	watchPauseMin = 200 * time.Millisecond
	watchPauseMax = 10 * time.Second
)

// watchResumes reports whether watch should resume after a stream ended
// with err: the server ended it (its maximum age, a shutdown), it fell
// behind, or the server was out of reach or full for now. A revision the
// server no longer keeps, or a refused request, ends the command.
func watchResumes(err error) bool {
	switch grpcstatus.Code(err) {
	case codes.OK, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Unavailable, codes.Aborted:
		return true
	}
	return false
}

// describeEvent is one line per change.
func describeEvent(ev *energylabelv1.RatingEvent) string {
	switch ev.GetKind() {
	case energylabelv1.RatingEvent_KIND_RESULT:
		r := ev.GetRating()
		parts := []string{fmt.Sprintf("revision %d", ev.GetRevision()), "result", r.GetModel(), r.GetTask(), r.GetDataset()}
		if r.GetSizeClass() != "" {
			parts = append(parts, "class "+r.GetSizeClass())
		}
		parts = append(parts, hardware(r), "grade "+grade(r), stars(r.GetStars()), energy(r.GetWhPer_1KQueries(), "Wh/1k queries"))
		return strings.Join(parts, "  ")
	case energylabelv1.RatingEvent_KIND_RELEASE:
		return fmt.Sprintf("revision %d  release %s: stars now come from it", ev.GetRevision(), ev.GetRelease().GetName())
	}
	return fmt.Sprintf("revision %d  %s", ev.GetRevision(), ev.GetKind())
}
