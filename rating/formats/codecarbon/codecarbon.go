// Package codecarbon reads an emissions.csv that CodeCarbon writes, into one
// result: the GPU energy of one experiment.
//
// Reading of the file:
//   - each run_id is one tracker, started and stopped once; a file holds
//     the trackers of an experiment (experiment_id), and the result is their
//     sum. Rows of the same run_id are flushes of one tracker, each
//     cumulative since its start, so only its last row counts, with a
//     warning. A file with several experiments is refused: -queries counts
//     the queries of one.
//   - energy is gpu_energy, in kWh, and only gpu_energy. CodeCarbon writes 0
//     where it measured the GPU idle (gpu_power 0 W), as in the Apple M1 Pro
//     logs: such a row counts 0, with a warning. A file whose gpu_energy is
//     0 throughout is refused: energy_consumed (CPU, GPU and RAM) is never
//     taken in its place.
//   - hardware is gpu_model, less a leading "<gpu_count> x ", and gpu_count.
//     The name resolves through rating's accelerator registry: CodeCarbon's
//     "1 x NVIDIA H100 80GB HBM3" is an H100 SXM, one of them, graded in
//     the H100 cohort.
//   - duration is the sum of the trackers' durations, so that energy over
//     duration is their average power. A -duration that contradicts it by
//     more than 1 % is refused (see package meta); it is needed only for a
//     file whose durations are all 0.
//   - the trackers are parts of one run, not repeated runs: the result has
//     no per-run energies.
//   - timestamp is local time without a zone; the latest is read as UTC,
//     and is when the run was measured. -measured-at fills it in for a
//     file without timestamps; where the file has one, a -measured-at more
//     than a day away is refused (see package meta).
//
// The file states no count of queries or output tokens: model, task and
// queries come from the submitter's flags, and output tokens, where the
// task has them, from -tokens.
//
// Every result passes rating's validation, physics included: energy over
// duration must be a power the accelerator can draw. CodeCarbon measures
// the GPU whether or not the model ran on it, so a log of a model that ran
// on the CPU is refused, naming gpu_energy_wh and the accelerator's floor.
// The Apple M1 Pro logs in testdata are such files: their GPU averaged
// 0.02 W and 0.001 W, under the M1 Pro's floor of 0.96 W.
package codecarbon

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/internal/decode"
	"github.com/energylabel/energylabel/rating/formats/meta"
)

// ToolName names the tool on every result.
const ToolName = "codecarbon"

// columns are the columns a file must have.
var columns = []string{"run_id", "duration", "gpu_energy", "gpu_count", "gpu_model"}

type tracker struct {
	line       int
	lines      []int
	kwh        float64
	seconds    float64
	gpuPowerW  string
	measuredAt time.Time
}

// Parse reads an emissions.csv called name. m supplies the model, task and
// queries, and may replace the file's gpu_model.
func Parse(name string, data []byte, m meta.Meta) ([]rating.Result, []meta.Warning, error) {
	r, ws, err := readLog(name, data, m)
	if err != nil {
		return nil, nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return []rating.Result{r}, ws, nil
}

// readLog is Parse without rating's validation: the result as the file and
// the flags give it.
func readLog(name string, data []byte, m meta.Meta) (rating.Result, []meta.Warning, error) {
	t, err := decode.NewTable(data, columns...)
	if err != nil {
		return rating.Result{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	var ws []meta.Warning
	warn := func(where, format string, args ...any) {
		ws = append(ws, meta.Warning{File: name, Where: where, Message: fmt.Sprintf(format, args...)})
	}
	fail := func(line int, format string, args ...any) (rating.Result, []meta.Warning, error) {
		return rating.Result{}, nil, fmt.Errorf("%s: line %d: %s", name, line, fmt.Sprintf(format, args...))
	}
	var (
		order      []string
		trackers   = map[string]*tracker{}
		experiment string
		expLine    int
		gpuModel   string
		gpuCount   int64
		version    string
	)
	for {
		row, err := t.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rating.Result{}, nil, fmt.Errorf("%s: %w", name, err)
		}
		id := row.String("run_id")
		if id == "" {
			return fail(row.Line, "run_id: empty")
		}
		if exp := row.String("experiment_id"); expLine == 0 {
			experiment, expLine = exp, row.Line
		} else if exp != experiment {
			return fail(row.Line, "experiment_id %q, but line %d has %q: a file must hold one experiment, since -queries counts its queries",
				exp, expLine, experiment)
		}
		kwh, err := row.Float("gpu_energy")
		if err != nil {
			return rating.Result{}, nil, fmt.Errorf("%s: %w", name, err)
		}
		if kwh < 0 {
			return fail(row.Line, "gpu_energy: %v kWh is negative", kwh)
		}
		secs, err := row.Float("duration")
		if err != nil {
			return rating.Result{}, nil, fmt.Errorf("%s: %w", name, err)
		}
		if secs < 0 {
			return fail(row.Line, "duration: %v s is negative", secs)
		}
		count, err := wholeNumber(row, "gpu_count")
		if err != nil {
			return rating.Result{}, nil, fmt.Errorf("%s: %w", name, err)
		}
		model := row.String("gpu_model")
		if prefix := strconv.FormatInt(count, 10) + " x "; strings.HasPrefix(model, prefix) {
			model = strings.TrimSpace(strings.TrimPrefix(model, prefix))
		}
		if row.Line == expLine {
			gpuModel, gpuCount = model, count
		} else if model != gpuModel || count != gpuCount {
			return fail(row.Line, "gpu_model %q × %d, but line %d has %q × %d: a file must hold one machine's runs",
				model, count, expLine, gpuModel, gpuCount)
		}
		var at time.Time
		if ts := row.String("timestamp"); ts != "" {
			if at, err = decode.Time(ts); err != nil {
				return fail(row.Line, "timestamp: %q is not an ISO 8601 time", ts)
			}
		}
		version = row.String("codecarbon_version")
		tr := trackers[id]
		if tr == nil {
			tr = &tracker{}
			trackers[id] = tr
			order = append(order, id)
		} else if secs < tr.seconds {
			return fail(row.Line, "run_id %s: duration %v s is less than line %d's %v s, though its rows are cumulative",
				id, secs, tr.line, tr.seconds)
		}
		tr.line, tr.kwh, tr.seconds, tr.measuredAt = row.Line, kwh, secs, at
		tr.gpuPowerW = row.String("gpu_power")
		tr.lines = append(tr.lines, row.Line)
	}
	if len(order) == 0 {
		return rating.Result{}, nil, fmt.Errorf("%s: no rows", name)
	}

	r := rating.Result{GPUCount: int(gpuCount), ToolName: ToolName, ToolVersion: version}
	kwh := 0.0
	for _, id := range order {
		tr := trackers[id]
		if len(tr.lines) > 1 {
			warn(fmt.Sprintf("line %d", tr.line), "run_id %s also on lines %s: CodeCarbon's rows of one run are cumulative, so only its last counts",
				id, decode.JoinInts(tr.lines[:len(tr.lines)-1]))
		}
		if tr.kwh == 0 {
			power := ""
			if tr.gpuPowerW != "" {
				power = fmt.Sprintf(" (gpu_power %s W)", tr.gpuPowerW)
			}
			warn(fmt.Sprintf("line %d", tr.line), "gpu_energy is 0 kWh%s: CodeCarbon measured the GPU idle; it counts 0", power)
		}
		kwh += tr.kwh
		r.DurationSeconds += tr.seconds
		if tr.measuredAt.After(r.MeasuredAt) {
			r.MeasuredAt = tr.measuredAt
		}
	}
	r.GPUEnergyWh = kwh * 1000
	if !(r.GPUEnergyWh > 0) || math.IsInf(r.GPUEnergyWh, 0) {
		return rating.Result{}, nil, fmt.Errorf("%s: gpu_energy sums to %v kWh over %d runs: CodeCarbon measured no GPU energy (gpu_model %q); energylabel rates GPU energy only, and does not take energy_consumed instead",
			name, kwh, len(order), gpuModel)
	}
	if m.GPUs != 0 && m.GPUs != r.GPUCount {
		return rating.Result{}, nil, fmt.Errorf("%s: line %d: gpu_count is %d but -gpus says %d", name, expLine, r.GPUCount, m.GPUs)
	}
	r.Accelerator = meta.Name(name, fmt.Sprintf("line %d: gpu_model", expLine), "-hardware", gpuModel, m.Hardware, &ws)
	var stated meta.Stated
	if !r.MeasuredAt.IsZero() {
		stated.MeasuredAt = "timestamp"
		if len(order) > 1 {
			stated.MeasuredAt = fmt.Sprintf("the latest timestamp of %d runs", len(order))
		}
	}
	if r.DurationSeconds > 0 {
		stated.Duration = "duration"
		if len(order) > 1 {
			stated.Duration = fmt.Sprintf("duration, summed over %d runs", len(order))
		}
	}
	if err := m.Apply(name, &r, stated, &ws); err != nil {
		return rating.Result{}, nil, err
	}
	return r, ws, nil
}

// wholeNumber reads a count that may be written as 2 or 2.0; empty is 0,
// as CodeCarbon writes it on a machine without a GPU.
func wholeNumber(row decode.Row, col string) (int64, error) {
	if row.String(col) == "" {
		return 0, nil
	}
	v, err := row.Float(col)
	if err != nil {
		return 0, err
	}
	if v < 0 || v != math.Trunc(v) || v > 1<<20 {
		return 0, fmt.Errorf("line %d: %s: %q is not a count", row.Line, col, row.String(col))
	}
	return int64(v), nil
}
