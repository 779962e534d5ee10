// Package formats recognises the files that energy measuring tools write and
// turns them into results, with the metadata a file lacks taken from the
// submitter's flags (Meta).
//
// Detection looks at the content, never the file name:
//   - a JSON object with a "model" or "gpu_energy_wh" key is the native
//     BenchmarkResult (protojson), which the CLI reads itself;
//   - a JSON object with "summary" and "energy" keys is ai_energy_benchmarks;
//   - a JSON object with a "preprocess", "prefill" or "decode" key is an
//     optimum-benchmark benchmark_report.json;
//   - a JSON object with "task" and "configurations" keys is an ML.ENERGY
//     leaderboard task file, which is imported, not submitted;
//   - a CSV whose header has model_name, gpu_energy_wh and
//     wh_per_1000_queries is an AIES batch master_results.csv;
//   - a CSV whose header has run_id and gpu_energy is a CodeCarbon
//     emissions.csv.
package formats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/aiebench"
	"github.com/energylabel/energylabel/rating/formats/aiesbatch"
	"github.com/energylabel/energylabel/rating/formats/codecarbon"
	"github.com/energylabel/energylabel/rating/formats/internal/decode"
	"github.com/energylabel/energylabel/rating/formats/meta"
	"github.com/energylabel/energylabel/rating/formats/optimum"
)

// Meta is the metadata the CLI takes from flags; see package meta.
type Meta = meta.Meta

// Warning is something a parser dropped or did not use, and why.
type Warning = meta.Warning

// ErrMissing is matched by every error about metadata that neither the file
// nor the flags give; such an error names the flag.
var ErrMissing = meta.ErrMissing

// Format is a kind of result file.
type Format int

// The formats Detect recognises.
const (
	Unknown Format = iota
	// Native is the BenchmarkResult protojson, which the CLI parses itself.
	Native
	Optimum
	AIEBench
	AIESBatch
	CodeCarbon
	// MLEnergyTask is an ML.ENERGY leaderboard task file, imported as a
	// directory with `energylabel import mlenergy`.
	MLEnergyTask
)

var formatNames = [...]string{"unknown", "native", "optimum-benchmark", "ai_energy_benchmarks", "aies-batch", "codecarbon", "mlenergy"}

// String returns the format's name, as ParseFormat accepts it.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// ParseFormat parses a format name, for a flag that overrides detection.
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames[1:] {
		if n == strings.TrimSpace(strings.ToLower(s)) {
			return Format(i + 1), nil
		}
	}
	return Unknown, fmt.Errorf("unknown format %q (want %s)", s, strings.Join(formatNames[1:], ", "))
}

// Detect tells a file's format from its content. name is used in errors.
func Detect(name string, data []byte) (Format, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff")))
	switch {
	case len(trimmed) == 0:
		return Unknown, fmt.Errorf("%s: empty file", name)
	case trimmed[0] == '{':
		return detectJSON(name, data)
	case trimmed[0] == '[':
		return Unknown, fmt.Errorf("%s: a JSON array is not a result file energylabel knows; want a JSON object or a CSV", name)
	}
	return detectCSV(name, trimmed)
}

func detectJSON(name string, data []byte) (Format, error) {
	var top map[string]json.RawMessage
	if err := decode.JSON(data, &top); err != nil {
		return Unknown, fmt.Errorf("%s: %w", name, err)
	}
	has := func(k string) bool { _, ok := top[k]; return ok }
	switch {
	case has("model") || has("gpu_energy_wh"):
		return Native, nil
	case has("summary") && has("energy"):
		return AIEBench, nil
	case has("preprocess") || has("prefill") || has("decode"):
		return Optimum, nil
	case has("task") && has("configurations"):
		return MLEnergyTask, nil
	}
	return Unknown, fmt.Errorf("%s: a JSON object that is no result format energylabel knows: want a BenchmarkResult (\"model\", \"gpu_energy_wh\"), an optimum-benchmark report (\"prefill\", \"decode\") or an ai_energy_benchmarks result (\"summary\", \"energy\")", name)
}

func detectCSV(name string, data []byte) (Format, error) {
	header, err := csv.NewReader(bytes.NewReader(data)).Read()
	if err != nil {
		return Unknown, fmt.Errorf("%s: neither JSON nor a CSV with a header: %w", name, err)
	}
	cols := map[string]bool{}
	for _, h := range header {
		cols[strings.TrimSpace(h)] = true
	}
	switch {
	case cols["model_name"] && cols["gpu_energy_wh"] && cols["wh_per_1000_queries"]:
		return AIESBatch, nil
	case cols["run_id"] && cols["gpu_energy"]:
		return CodeCarbon, nil
	}
	return Unknown, fmt.Errorf("%s: line 1: a CSV header that is no result format energylabel knows: want an AIES batch master_results.csv (model_name, gpu_energy_wh, wh_per_1000_queries) or a CodeCarbon emissions.csv (run_id, gpu_energy)", name)
}

// Parse reads a file of a format that Detect returned, with m supplying what
// the file lacks. Every result passes rating's validation. Warnings name
// what was dropped or not used, and why. On an error there are no results.
func Parse(name string, data []byte, f Format, m Meta) ([]rating.Result, []Warning, error) {
	switch f {
	case Optimum:
		return optimum.Parse(name, data, m)
	case AIEBench:
		return aiebench.Parse(name, data, m)
	case AIESBatch:
		return aiesbatch.Parse(name, data, m)
	case CodeCarbon:
		return codecarbon.Parse(name, data, m)
	case Native:
		return nil, nil, fmt.Errorf("%s: a native BenchmarkResult is read with protojson, not by formats.Parse", name)
	case MLEnergyTask:
		return nil, nil, fmt.Errorf("%s: an ML.ENERGY leaderboard task file is imported with `energylabel import mlenergy DIR`, not submitted", name)
	}
	return nil, nil, fmt.Errorf("%s: unknown format %v", name, f)
}
