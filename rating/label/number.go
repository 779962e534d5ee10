package label

import (
	"math"
	"strconv"
	"strings"
)

// siPrefixes are the prefixes FormatEnergy uses, from 10^-12 to 10^9.
var siPrefixes = [...]string{"p", "n", "µ", "m", "", "k", "M", "G"}

const siLowest = -12 // the exponent of siPrefixes[0]

// SplitEnergy formats v, a figure in unit ("Wh", "Wh/1k", "J/token"), to
// three significant figures with the SI prefix that puts the number between
// 1 and 999: 0.00017 Wh/1k is "170", "µWh/1k". NaN and infinities give
// Dash and the unit as it is; figures beyond the prefixes (below 1 p, from
// 1000 G) keep an exponent, as FormatNumber writes them.
func SplitEnergy(v float64, unit string) (number, prefixed string) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Dash, unit
	}
	if v == 0 {
		return "0", unit
	}
	// Round once, in decimal, then read the exponent off the rounded value,
	// so that 999.6 mWh becomes 1.00 Wh, never 1000 mWh.
	e := strconv.FormatFloat(v, 'e', 2, 64)
	i := strings.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	p := floorDiv(exp-siLowest, 3)
	if p < 0 || p >= len(siPrefixes) {
		return FormatNumber(v), unit
	}
	rounded, _ := strconv.ParseFloat(e, 64)
	shift := siLowest + 3*p // the prefix's exponent
	scaled := rounded / math.Pow10(shift)
	return strconv.FormatFloat(scaled, 'f', max(0, 2-(exp-shift)), 64), siPrefixes[p] + unit
}

// FormatEnergy is SplitEnergy's number and prefixed unit with a space
// between them: "170 µWh/1k", "11.8 mJ/token", "1.72 kWh". A figure that is
// not a number is Dash alone.
func FormatEnergy(v float64, unit string) string {
	n, u := SplitEnergy(v, unit)
	if n == Dash || u == "" {
		return n
	}
	return n + " " + u
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
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
