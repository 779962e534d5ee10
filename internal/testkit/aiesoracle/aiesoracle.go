// Package aiesoracle reads the stars the AIES 2025-02 leaderboard
// published (its energy_score column): the oracle of tests that check the
// stars an import of it gives. Nothing but tests reads that column.
package aiesoracle

import (
	"encoding/csv"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
)

// Ratings is how many ratings the leaderboard has: 166 rows, of which a
// model's last in its task and class counts.
const Ratings = 164

// Grades is the letter spread grade/2025.1 gives the leaderboard.
var Grades = map[string]int{"A": 2, "B": 2, "C": 8, "D": 25, "E": 48, "F": 44, "G": 35}

// Stars is task id → size class → model → published stars, from the
// bundled copy of the leaderboard.
func Stars() (map[string]map[string]map[string]int32, error) {
	dir := calibration.AIES202502()
	names, err := fs.Glob(dir, "*.csv")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]map[string]int32{}
	for _, name := range names {
		task, ok := rating.LookupTask(strings.TrimSuffix(name, ".csv"))
		if !ok {
			return nil, fmt.Errorf("%s: unknown task", name)
		}
		f, err := dir.Open(name)
		if err != nil {
			return nil, err
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		out[task.ID] = map[string]map[string]int32{}
		for _, rec := range recs[1:] {
			class := ""
			if i, ok := col["class"]; ok {
				class = rec[i]
			}
			stars, err := strconv.Atoi(rec[col["energy_score"]])
			if err != nil {
				return nil, fmt.Errorf("%s: energy_score %q", name, rec[col["energy_score"]])
			}
			if out[task.ID][class] == nil {
				out[task.ID][class] = map[string]int32{}
			}
			out[task.ID][class][rec[col["model"]]] = int32(stars)
		}
	}
	return out, nil
}
