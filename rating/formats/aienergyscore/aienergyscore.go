// Package aienergyscore reads AI Energy Score leaderboard tables: one
// <task>.csv per task with columns model, total_gpu_energy (kWh per 1,000
// queries) and, for text generation, class.
//
// The tables carry no date, but a leaderboard is published as an edition
// ("AIES 2025-02"), and a reader of a label expects that edition's date,
// not the day someone imported it. So Rows and ParseDir recognise the
// editions in Editions by their figures (every row's task, model, size
// class and energy, whatever the files' layout), and date every row of a
// known edition with its publication: measured_at is the edition's date.
// An edition that gives only a month is dated the first of it: the
// February 2025 leaderboard is 2025-02-01. Rows of another leaderboard
// are left undated, unless RowsPublished is given its date.
package aienergyscore

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/energylabel/energylabel/rating"
)

// Queries is the size of every AIES task dataset.
const Queries = 1000

// ToolName marks results imported from a published leaderboard.
const ToolName = "AI Energy Score leaderboard"

// Parse reads one leaderboard table for a task (id or AIES alias). Errors
// name the line and column. The published energy_score column is ignored.
func Parse(taskName string, r io.Reader) ([]rating.Result, error) {
	task, ok := rating.LookupTask(taskName)
	if !ok {
		return nil, fmt.Errorf("unknown task %q", taskName)
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: reading header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"model", "total_gpu_energy"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("line 1: missing column %q", need)
		}
	}
	classCol, hasClass := col["class"]
	if task.SizeClasses && !hasClass {
		return nil, fmt.Errorf("line 1: missing column \"class\", needed for %s", task.ID)
	}
	var out []rating.Result
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err // csv.ParseError names the line and column
		}
		line, _ := cr.FieldPos(0)
		kwh, err := strconv.ParseFloat(strings.TrimSpace(rec[col["total_gpu_energy"]]), 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: total_gpu_energy: %q is not a number", line, rec[col["total_gpu_energy"]])
		}
		res := rating.Result{
			Model:       strings.TrimSpace(rec[col["model"]]),
			Task:        task.ID,
			Accelerator: "H100",
			GPUCount:    1,
			Queries:     Queries,
			// kWh per 1,000 queries is Wh per query: the run's total in Wh.
			GPUEnergyWh: kwh * 1000,
			ToolName:    ToolName,
		}
		if task.SizeClasses {
			res.SizeClass = strings.TrimSpace(rec[classCol])
			if res.SizeClass == "C" {
				res.GPUCount = 0 // several H100s, not reported
			}
		}
		out = append(out, res)
	}
}

// Row is one parsed row and where it came from.
type Row struct {
	File string
	// Line is the row's line in File, counting the header as line 1.
	Line   int
	Result rating.Result
}

// ParseDir reads every <task>.csv of a leaderboard directory, in file name
// order. Errors name the file.
func ParseDir(fsys fs.FS) ([]rating.Result, error) {
	rows, err := Rows(fsys)
	if err != nil {
		return nil, err
	}
	out := make([]rating.Result, len(rows))
	for i := range rows {
		out[i] = rows[i].Result
	}
	return out, nil
}

// Edition is a published leaderboard this package knows.
type Edition struct {
	// Name is the edition as AI Energy Score names it, e.g. "2025-02".
	Name string
	// Published is its date: its day, or the first of its month.
	Published time.Time
	// Digest is Digest of its rows.
	Digest string
}

// Editions are the published leaderboards Rows recognises.
var Editions = []Edition{{
	// The AI Energy Score leaderboard as of February 2025, 166 rows, as
	// rating/calibration bundles it (see its PROVENANCE.md).
	Name:      "2025-02",
	Published: time.Date(2025, time.February, 1, 0, 0, 0, 0, time.UTC),
	Digest:    "8bc8f3423cfa0f7ea5c4f57c6ecb77b4278481348232ddfb0c60ef864f78cf15",
}}

// Digest identifies a leaderboard by its figures: a SHA-256 over every
// row's task, model, size class and energy, in order. The files' layout
// (line ends, quoting, column order, the published stars) does not count.
func Digest(rows []Row) string {
	h := sha256.New()
	for _, r := range rows {
		fmt.Fprintf(h, "%s\t%s\t%s\t%s\n", r.Result.Task, r.Result.Model, r.Result.SizeClass,
			strconv.FormatFloat(r.Result.GPUEnergyWh, 'g', -1, 64))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Rows is ParseDir keeping each row's file and line, for messages. The rows
// of a known edition are dated with its publication (see the package
// comment).
func Rows(fsys fs.FS) ([]Row, error) {
	return RowsPublished(fsys, time.Time{})
}

// RowsPublished is Rows with the leaderboard's publication date given:
// every row is dated published. The zero time dates a known edition only,
// as Rows does.
func RowsPublished(fsys fs.FS, published time.Time) ([]Row, error) {
	rows, err := undatedRows(fsys)
	if err != nil {
		return nil, err
	}
	if published.IsZero() {
		digest := Digest(rows)
		for _, e := range Editions {
			if e.Digest == digest {
				published = e.Published
			}
		}
	}
	for i := range rows {
		rows[i].Result.MeasuredAt = published
	}
	return rows, nil
}

func undatedRows(fsys fs.FS) ([]Row, error) {
	names, err := fs.Glob(fsys, "*.csv")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no <task>.csv files found")
	}
	sort.Strings(names)
	var out []Row
	for _, name := range names {
		rs, err := parseFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for i, r := range rs {
			out = append(out, Row{File: name, Line: i + 2, Result: r})
		}
	}
	return out, nil
}

func parseFile(fsys fs.FS, name string) ([]rating.Result, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(strings.TrimSuffix(path.Base(name), ".csv"), f)
}
