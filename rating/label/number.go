package label

import (
	"math"
	"strconv"
	"strings"
)

// Energy figures follow one rule wherever this package writes them, on
// badges, labels, charts and in status text, and wherever other packages
// write them with FormatEnergy:
//
//   - no SI prefix, ever: a figure is in the unit of its metric, Wh per
//     1,000 queries, J per output token, J per output megapixel, so that
//     two figures of one kind compare digit by digit (0.0554 Wh/1k
//     queries against 3430 Wh/1k queries, never 55.4 mWh/1k against 3.43
//     kWh/1k);
//   - the number has three significant figures, as FormatNumber writes
//     it: a plain decimal from 0.001 to below 1,000,000 (every figure of
//     the AIES and ML.ENERGY leaderboards), an exponent beyond;
//   - the unit is always written, in full: "Wh/1k queries", not "Wh/1k".

// perQuery is the unit of a rating's WhPer1kQueries, as badges and text
// name it.
const perQuery = "Wh/1k queries"

// SplitEnergy formats v, a figure in unit ("Wh/1k queries", "J/token"),
// by the package's one rule: three significant figures, no SI prefix. It
// returns the number and the unit, which is unit as it is; NaN and
// infinities give Dash.
func SplitEnergy(v float64, unit string) (number, sameUnit string) {
	return FormatNumber(v), unit
}

// FormatEnergy is SplitEnergy's number and unit with a space between
// them: "0.000170 Wh/1k queries", "0.0118 J/token", "1720 Wh". A figure
// that is not a number is Dash alone.
func FormatEnergy(v float64, unit string) string {
	n, u := SplitEnergy(v, unit)
	if n == Dash || u == "" {
		return n
	}
	return n + " " + u
}

// FormatRatio writes a ratio as a multiple, as precisely as a reader
// compares them: one decimal below 10 ("1.3×", "2×"), two significant
// digits from there ("27×", "900×", "12,000×"). NaN, infinities and
// ratios of 0 or less give Dash.
func FormatRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return Dash
	}
	if v < 1 {
		return strconv.FormatFloat(v, 'g', 2, 64) + "×"
	}
	if r := math.Round(v*10) / 10; r < 10 {
		return strings.TrimSuffix(strconv.FormatFloat(r, 'f', 1, 64), ".0") + "×"
	}
	step := math.Pow10(int(math.Floor(math.Log10(v))) - 1)
	digits := strconv.FormatFloat(math.Round(v/step)*step, 'f', 0, 64)
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "×"
}
