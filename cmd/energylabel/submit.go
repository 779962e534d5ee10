package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/energylabel/energylabel/client"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats"
	"github.com/energylabel/energylabel/rating/formats/meta"
)

var submitCommand = &command{
	name:    "submit",
	usage:   "submit FILE...",
	summary: "submit result files",
	help:    submitHelp,
	run:     runSubmit,
}

const submitHelp = `
  Each FILE's format is detected from its content (or forced with -format):
    native       a BenchmarkResult in protojson:
                 {"model": "acme/tiny-clf", "task": "text-classification",
                  "hardware": {"accelerator": "H100", "count": 1},
                  "queries": 1000, "gpu_energy_wh": 0.9, "duration_seconds": 41.5}
    optimum-benchmark     benchmark_report.json (GPU energy of preprocess,
                          prefill and decode; non-positive runs are dropped;
                          queries and output tokens from its efficiency
                          fields; no duration)
    ai_energy_benchmarks  its results JSON (summary and energy)
    aies-batch            AIES batch master_results.csv, one result per row
    codecarbon            CodeCarbon emissions.csv (gpu_energy of one
                          experiment; its duration, but no counts)
  What a file does not say comes from flags; one error per file names them all:
  -format F  -model OWNER/NAME  -task T  -dataset D  -queries N
  -hardware ACCELERATOR  -gpus N  -params BILLIONS  -size-class A|B|C
  -active-params BILLIONS  parameters a mixture-of-experts model activates
                     per token (default: all of -params)
  -tokens N          output tokens over all successful queries (required
                     for text-generation, reasoning, image-text-to-text
                     and video-text-to-text: the physical floors are per
                     token)
  -duration SECONDS  wall time of the measured run, for the power check
  -measured-at DATE  when the run was measured: RFC 3339 (2026-11-20T10:00:00Z)
                     or a day (2026-11-20, UTC). It fills in the date of files
                     that record none (optimum-benchmark, ai_energy_benchmarks,
                     a native file without measured_at); a file that records
                     one (CodeCarbon's and the AIES batch table's timestamp, a
                     native measured_at) keeps its own, and a -measured-at
                     more than a day from it is refused. Without either, the
                     label shows the day the server received the result.
  Counts and a duration that a file states are taken from the file: their
  flags are needed only where it is silent, and one more than 1 % away
  from the file's figure is refused.
  An ai_energy_benchmarks file labels only the model its config.model names:
  -model naming another is refused (a native file's model is its own; -model
  is for the other files).
  One measurement labels one model: the server fingerprints the figures it
  reads, so the same run sent for another model is refused, and sent again
  for the same model prints "already stored as result N" and stores nothing.
  Every file is checked before any is sent: one bad file submits nothing.
  Needs a publisher token for the models' owners (-token or ENERGYLABEL_TOKEN).
`

// readOptions is what a result file may leave unsaid and the command line
// supplies, and the format when it is forced.
type readOptions struct {
	format formats.Format
	meta   formats.Meta
	// warn reports what a parser dropped or did not use.
	warn func(formats.Warning)
}

// readResults parses one file into the results it holds.
func readResults(name string, data []byte, opts readOptions) ([]rating.Result, error) {
	f := opts.format
	if f == formats.Unknown {
		var err error
		if f, err = formats.Detect(name, data); err != nil {
			return nil, err
		}
	}
	if f == formats.Native {
		var p energylabelv1.BenchmarkResult
		if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("%s: not a BenchmarkResult in protojson: %w", name, err)
		}
		r := wire.Result(&p)
		// The native format states the model's size itself; the size flags
		// fill in only what it leaves out, as for every other format.
		if m := opts.meta; m.Params != 0 || m.ActiveParams != 0 || m.SizeClass != "" {
			if err := m.ApplySize(name, &r); err != nil && !errors.Is(err, meta.ErrMissing) {
				return nil, err
			}
		}
		// Its measured_at likewise: -measured-at fills it in, or must agree.
		var ws []formats.Warning
		if err := opts.meta.ApplyDate(name, "measured_at", &r, &ws); err != nil {
			return nil, err
		}
		for _, w := range ws {
			if opts.warn != nil {
				opts.warn(w)
			}
		}
		return []rating.Result{r}, nil
	}
	if f == formats.AIEBench && strings.TrimSpace(opts.meta.Model) != "" {
		if err := ownModel(name, "config.model", namedModel(name, data, f, opts.meta), opts.meta.Model); err != nil {
			return nil, err
		}
	}
	results, warnings, err := formats.Parse(name, data, f, opts.meta)
	for _, w := range warnings {
		if opts.warn != nil {
			opts.warn(w)
		}
	}
	return results, err
}

// modelMismatchError is a -model that names another model than the file
// does: a file that names its model labels only that model.
type modelMismatchError struct {
	file, where, fileModel, flagModel string
}

func (e *modelMismatchError) Error() string {
	return fmt.Sprintf("%s: -model %s is not the model the file names (%s %s): a result file that names its model labels only that model; leave out -model",
		e.file, quoteShort(e.flagModel), e.where, quoteShort(e.fileModel))
}

// ownModel refuses a -model flag naming another model than the file's own,
// where the file names one the service could rate.
func ownModel(file, where, fileModel, flagModel string) error {
	fileModel, flagModel = strings.TrimSpace(fileModel), strings.TrimSpace(flagModel)
	if flagModel == "" || fileModel == "" || fileModel == flagModel || rating.ValidateModel(fileModel) != nil {
		return nil
	}
	return &modelMismatchError{file: file, where: where, fileModel: fileModel, flagModel: flagModel}
}

// namedModel is the model a tool file names itself: the one its format
// reads when no -model replaces it; "" when it names none.
func namedModel(name string, data []byte, f formats.Format, m formats.Meta) string {
	m.Model = ""
	rs, _, err := formats.Parse(name, data, f, m)
	if err != nil || len(rs) != 1 {
		return ""
	}
	return rs[0].Model
}

// given reports whether the flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// resultFile is a file's results, ready to send.
type resultFile struct {
	name    string
	sha256  string
	results []rating.Result
}

func runSubmit(ctx context.Context, a *app, args []string) error {
	batch, err := a.readResultFiles("submit", args)
	if err != nil {
		return err
	}
	c, err := a.dialWithToken("submit", "a publisher token for the models' owners")
	if err != nil {
		return err
	}
	defer c.Close()

	w := newTable(a.stdout)
	if !a.cfg.JSON {
		row(w, "FILE", "RESULT", "MODEL", "TASK", "SIZE CLASS", "HARDWARE", "GRADE", "STARS", "PER 1K QUERIES", "ENERGY/UNIT")
	}
	var stored []string // what a failure part-way leaves stored, for its message
	for _, f := range batch {
		for i := range f.results {
			resp, err := submit(ctx, c, wire.BenchmarkResult(&f.results[i]), f.sha256)
			if err != nil {
				w.Flush()
				return fmt.Errorf("submit %s: %w%s%s", f.name, err, flagHint(err), alreadySubmitted(len(stored), stored...))
			}
			stored = append(stored, fmt.Sprintf("%s as result %d", f.name, resp.GetResultId()))
			if resp.GetAlreadyStored() {
				fmt.Fprintf(a.stderr, "energylabel: %s: already stored as result %d: the same measurement of %s; nothing was written\n",
					f.name, resp.GetResultId(), f.results[i].Model)
			}
			if a.cfg.JSON {
				if err := a.printRatingsJSON(resp.GetRatings()); err != nil {
					return err
				}
				continue
			}
			for _, r := range resp.GetRatings() {
				row(w, f.name, strconv.FormatUint(resp.GetResultId(), 10), r.GetModel(), r.GetTask(), orDash(r.GetSizeClass()),
					hardware(r), grade(r), stars(r.GetStars()), per1k(r), energyPerUnit(r))
			}
		}
	}
	return w.Flush()
}

// readResultFiles parses the flags and files of a command that sends
// result files (submit, verify), and reads, parses and validates every
// file before anything is sent, so that one bad file sends nothing; every
// file that lacks flags says which, at once.
func (a *app) readResultFiles(cmd string, args []string) ([]resultFile, error) {
	fs := a.newFlagSet(cmd)
	opts := readOptions{warn: func(w formats.Warning) { fmt.Fprintf(a.stderr, "energylabel: warning: %s\n", w) }}
	format := fs.String("format", "", "")
	m := &opts.meta
	fs.StringVar(&m.Model, "model", "", "")
	fs.StringVar(&m.Task, "task", "", "")
	fs.StringVar(&m.Dataset, "dataset", "", "")
	fs.Int64Var(&m.Queries, "queries", 0, "")
	fs.Int64Var(&m.Tokens, "tokens", 0, "")
	fs.Float64Var(&m.DurationSeconds, "duration", 0, "")
	fs.StringVar(&m.Hardware, "hardware", "", "")
	fs.IntVar(&m.GPUs, "gpus", 0, "")
	fs.Float64Var(&m.Params, "params", 0, "")
	fs.Float64Var(&m.ActiveParams, "active-params", 0, "")
	fs.StringVar(&m.SizeClass, "size-class", "", "")
	measuredAt := fs.String("measured-at", "", "")
	files, err := a.parse(cmd, fs, args)
	if err != nil {
		return nil, err
	}
	if given(fs, "measured-at") {
		if m.MeasuredAt, m.Day, err = meta.ParseMeasuredAt(*measuredAt); err != nil {
			return nil, briefUsageErrorf(cmd, "%s: -measured-at: %v", cmd, err)
		}
		if err := checkMeasuredAt(m.MeasuredAt, time.Now()); err != nil {
			return nil, briefUsageErrorf(cmd, "%s: -measured-at %s: %v", cmd, strings.TrimSpace(*measuredAt), err)
		}
	}
	if *format != "" {
		if opts.format, err = formats.ParseFormat(*format); err != nil {
			return nil, usageErrorf(cmd, "-format: %v", err)
		}
	}
	if given(fs, "duration") && !(m.DurationSeconds > 0 && !math.IsInf(m.DurationSeconds, 1)) {
		return nil, usageErrorf(cmd, "-duration %v: want a positive number of seconds", m.DurationSeconds)
	}
	if len(files) == 0 {
		return nil, missingFlags(cmd, "FILE")
	}
	task, err := resolveTask(cmd, m.Task)
	if err != nil {
		return nil, err
	}
	if err := checkSizeClass(cmd, m.SizeClass); err != nil {
		return nil, err
	}
	if err := checkTaskSizeClass(cmd, task, m.SizeClass); err != nil {
		return nil, err
	}
	if m.Model != "" {
		if err := checkModel(cmd, "-model", strings.TrimSpace(m.Model)); err != nil {
			return nil, err
		}
	}
	batch := make([]resultFile, 0, len(files))
	var lacking []string
	for _, name := range files {
		f, err := loadResultFile(name, opts)
		var missing *meta.MissingError
		var mismatch *modelMismatchError
		switch {
		case errors.As(err, &missing):
			lacking = append(lacking, cmd+": "+missingFlagsOf(missing))
			continue
		case errors.As(err, &mismatch):
			return nil, briefUsageErrorf(cmd, "%s: %s", cmd, mismatch)
		case err != nil:
			return nil, fmt.Errorf("%s: %w", cmd, err) // the error names the file
		}
		batch = append(batch, f)
	}
	if len(lacking) > 0 {
		return nil, briefUsageErrorf(cmd, "%s", strings.Join(lacking, "\n"))
	}
	return batch, nil
}

// checkMeasuredAt refuses a -measured-at that no measurement can have, as
// the server would: before rating.EarliestMeasurement, or more than
// rating.FutureSlack after now.
func checkMeasuredAt(t, now time.Time) error {
	switch {
	case t.Before(rating.EarliestMeasurement):
		return fmt.Errorf("before %s: no such benchmark ran then", rating.EarliestMeasurement.Format(time.DateOnly))
	case t.After(now.Add(rating.FutureSlack)):
		return fmt.Errorf("in the future (it is %s)", now.UTC().Format(time.RFC3339))
	}
	return nil
}

// loadResultFile reads, parses and validates one file.
func loadResultFile(name string, opts readOptions) (resultFile, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return resultFile{}, err
	}
	rs, err := readResults(name, data, opts)
	if err != nil {
		return resultFile{}, err
	}
	if len(rs) == 0 {
		return resultFile{}, fmt.Errorf("%s: no results in file", name)
	}
	for i := range rs {
		if err := rs[i].Validate(); err != nil {
			if len(rs) > 1 {
				return resultFile{}, fmt.Errorf("%s: result %d (%s): %w", name, i+1, rs[i].Model, err)
			}
			return resultFile{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	sum := sha256.Sum256(data)
	return resultFile{name: name, sha256: hex.EncodeToString(sum[:]), results: rs}, nil
}

// submitFlags are the flags that supply what a file lacks, by the name
// meta.MissingError gives it.
var submitFlags = map[string]string{
	"model":      "-model OWNER/NAME",
	"task":       "-task T",
	"dataset":    "-dataset D",
	"queries":    "-queries N",
	"hardware":   "-hardware ACCELERATOR",
	"gpus":       "-gpus N",
	"size class": "-params BILLIONS (or -size-class A|B|C)",
	"duration":   "-duration SECONDS",
}

// missingFlagsOf names every flag a file needs: what it lacks, and what a
// publisher must give as well.
func missingFlagsOf(e *meta.MissingError) string {
	var fs []string
	for _, w := range e.What {
		fs = append(fs, cmp.Or(submitFlags[w], w))
	}
	for _, w := range e.Unstated {
		if w == "size class" {
			fs = append(fs, "-params BILLIONS (for text-generation and reasoning)")
			continue
		}
		fs = append(fs, cmp.Or(submitFlags[w], w))
	}
	return fmt.Sprintf("%s: missing %s", e.File, strings.Join(fs, ", "))
}

// fieldFlags are the result fields the server requires of a publisher
// that a flag gives, where the file is silent.
var fieldFlags = map[string]string{
	"hardware.count":   "-gpus N",
	"duration_seconds": "-duration SECONDS",
	"output.tokens":    "-tokens N",
}

// flagHint names the flags that give what the server said is required.
func flagHint(err error) string {
	var inv *client.InvalidArgumentError
	if !errors.As(err, &inv) {
		return ""
	}
	var fs []string
	for _, v := range inv.Violations {
		if f, ok := fieldFlags[v.Field]; ok && strings.HasPrefix(v.Description, "required") && !slices.Contains(fs, f) {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return ""
	}
	return " (pass " + strings.Join(fs, " and ") + ")"
}

// alreadySubmitted tells the user what a failure mid-way left stored: how
// many, and which when known (the first few), as nothing else is printed.
func alreadySubmitted(n int, which ...string) string {
	if n == 0 {
		return ""
	}
	list := ""
	if len(which) > 0 {
		const shown = 5
		list = ": " + strings.Join(which[:min(shown, len(which))], ", ")
		if len(which) > shown {
			list += fmt.Sprintf(" and %d more", len(which)-shown)
		}
	}
	return fmt.Sprintf(" (%d other result(s) were submitted%s)", n, list)
}
