package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"

	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/aienergyscore"
	"github.com/energylabel/energylabel/rating/formats/mlenergy"
)

var importCommand = &command{
	name:    "import",
	usage:   "import aienergyscore|mlenergy DIR",
	summary: "import a published leaderboard: AIES <task>.csv files, or ML.ENERGY v3 data",
	help:    importHelp,
	run:     runImport,
}

const importHelp = `
  DIR holds one <task>.csv per AI Energy Score task (asr.csv, text_generation.csv, ...)
  with columns model, total_gpu_energy (kWh per 1,000 queries) and, for text
  generation, class (the size class A, B or C). Every row is checked before any is sent, and each
  model's rows are sent in file order, so its last row is its latest result.

  import mlenergy DIR
  DIR is ML.ENERGY leaderboard v3 data (index.json and tasks/<task>.json).
  For each task and each (model, GPU), the configuration with the least
  energy per output unit is imported as a 1,000-request result on the
  dataset ml.energy/<task>, as ML.ENERGY itself ranks models.

  Both need a token that may publish for every owner: "*" or the admin token.
`

// leaderboardRow is one parsed row, with where it came from for messages.
type leaderboardRow struct {
	where  string
	result rating.Result
}

func runImport(ctx context.Context, a *app, args []string) error {
	pos, err := a.parse("import", a.newFlagSet("import"), args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usageErrorf("import", "missing source and DIR")
	case pos[0] != "aienergyscore" && pos[0] != "mlenergy":
		return usageErrorf("import", "unknown import source %q (known: aienergyscore, mlenergy)", pos[0])
	case len(pos) == 1:
		return usageErrorf("import", "missing DIR")
	case len(pos) > 2:
		return usageErrorf("import", "unexpected argument %q", pos[2])
	}
	source, dir := pos[0], pos[1]
	read := readLeaderboard
	if source == "mlenergy" {
		read = readMLEnergy
	}
	rows, err := read(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("import %s %s: %w", source, dir, err)
	}
	c, err := a.dialWithToken("import", `a token that may publish for every owner ("*"), or the admin token`)
	if err != nil {
		return err
	}
	defer c.Close()
	msgs := make([]*energylabelv1.BenchmarkResult, len(rows))
	for i := range rows {
		msgs[i] = wire.BenchmarkResult(&rows[i].result)
	}
	resps, failedAt, err := submitAll(ctx, c, msgs)
	if err != nil {
		r := rows[failedAt]
		return fmt.Errorf("import %s %s: %s (%s): %w%s", source, dir, r.where, r.result.Model, err, alreadySubmitted(countSent(resps)))
	}
	if a.cfg.JSON {
		for _, resp := range resps {
			if err := a.printRatingsJSON(resp.GetRatings()); err != nil {
				return err
			}
		}
	}
	summary := a.stdout
	if a.cfg.JSON {
		summary = a.stderr // stdout holds only JSON lines
	}
	_, err = fmt.Fprintf(summary, "imported %d results from %s\n", len(rows), dir)
	return err
}

// readLeaderboard parses every <task>.csv in name order and validates every
// row, so that nothing is sent when any row is bad.
func readLeaderboard(fsys fs.FS) ([]leaderboardRow, error) {
	parsed, err := aienergyscore.Rows(fsys)
	if err != nil {
		return nil, err
	}
	rows := make([]leaderboardRow, len(parsed))
	for i, p := range parsed {
		if err := p.Result.Validate(); err != nil {
			return nil, fmt.Errorf("%s line %d (%s): %w", p.File, p.Line, p.Result.Model, err)
		}
		rows[i] = leaderboardRow{where: fmt.Sprintf("%s line %d", p.File, p.Line), result: p.Result}
	}
	return rows, nil
}

// readMLEnergy selects and validates ML.ENERGY v3 configurations.
func readMLEnergy(fsys fs.FS) ([]leaderboardRow, error) {
	results, err := mlenergy.ParseDir(fsys)
	if err != nil {
		return nil, err
	}
	rows := make([]leaderboardRow, len(results))
	for i, r := range results {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("result %d (%s): %w", i+1, r.Model, err)
		}
		rows[i] = leaderboardRow{where: r.Dataset + " on " + r.Accelerator, result: r}
	}
	return rows, nil
}

func countSent(resps []*energylabelv1.SubmitResultResponse) int {
	n := 0
	for _, r := range resps {
		if r != nil {
			n++
		}
	}
	return n
}
