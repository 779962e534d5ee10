package label

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/energylabel/energylabel/rating"
)

// HistoryPoint is one accepted result in a model's history.
type HistoryPoint struct {
	At time.Time
	// X is the energy per unit the result was graded on.
	X float64
	// Grade is the letter it had then; empty for none.
	Grade string
}

// HistoryChart is a model's history in one cohort: energy per unit over
// time, on a log scale, with the cohort's grade classes as bands behind it.
type HistoryChart struct {
	// Unit names X's unit, e.g. "Wh/1k queries".
	Unit string
	// Reference is the cohort's reference x under the grade scheme; 0
	// draws no bands.
	Reference float64
	Points    []HistoryPoint
}

// The chart's geometry, in user units.
const (
	chartW, chartH                 = 520.0, 180.0
	plotL, plotR, plotT, plotB     = 56.0, 508.0, 10.0, 150.0
	maxChartPoints                 = 500
	chartBandOpacity, chartTextPix = 0.28, 10.0
)

// SVG draws the chart. It holds only shapes and escaped text, and at most
// the latest 500 points.
func (c HistoryChart) SVG() []byte {
	pts := c.Points
	if len(pts) > maxChartPoints {
		pts = pts[len(pts)-maxChartPoints:]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="`,
		chartW, chartH, chartW, chartH)
	escape(&b, fmt.Sprintf("Energy history: %d results", len(pts)))
	b.WriteString(`"><title>`)
	escape(&b, fmt.Sprintf("Energy per unit (%s) of each accepted result, over time", c.Unit))
	b.WriteString(`</title><rect width="100%" height="100%" fill="#fff"/>`)
	if len(pts) == 0 {
		b.WriteString(`</svg>`)
		return b.Bytes()
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if p.X > 0 && !math.IsInf(p.X, 0) {
			lo, hi = min(lo, p.X), max(hi, p.X)
		}
	}
	if math.IsInf(lo, 0) {
		b.WriteString(`</svg>`)
		return b.Bytes()
	}
	// The axis spans the points and, where there is one, the reference's
	// D to F classes, so that the bands say where the points stand.
	if c.Reference > 0 {
		lo, hi = min(lo, c.Reference/4), max(hi, c.Reference*2)
	}
	lo, hi = lo/1.5, hi*1.5
	y := func(x float64) float64 {
		return plotB - (math.Log(x)-math.Log(lo))/(math.Log(hi)-math.Log(lo))*(plotB-plotT)
	}
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	span := t1.Sub(t0).Seconds()
	xAt := func(i int, t time.Time) float64 {
		if span <= 0 {
			return plotL + (plotR-plotL)*float64(i+1)/float64(len(pts)+1)
		}
		return plotL + 8 + (plotR-plotL-16)*t.Sub(t0).Seconds()/span
	}
	if c.Reference > 0 {
		bounds := rating.ClassBounds(c.Reference)
		below := lo
		for i := range 7 {
			above := hi
			if i < len(bounds) {
				above = min(bounds[i], hi)
			}
			if above > below {
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="%.2f"/>`,
					plotL, y(above), plotR-plotL, y(below)-y(above), hex(gradeColours[i]), chartBandOpacity)
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="%.0f" font-family="%s" fill="#333">%c</text>`,
					plotR-10, (y(above)+y(below))/2+3, chartTextPix, labelFontFamily, 'A'+i)
			}
			below = max(below, above)
		}
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`, plotL, plotB, plotR, plotB)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`, plotL, plotT, plotL, plotB)
	base, _, _ := strings.Cut(c.Unit, "/")
	for _, v := range []float64{lo * 1.5, hi / 1.5} {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="%.0f" font-family="%s" text-anchor="end" fill="#333">`,
			plotL-4, y(v)+3, chartTextPix, labelFontFamily)
		escape(&b, FormatEnergy(v, base))
		b.WriteString(`</text>`)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="%.0f" font-family="%s" fill="#333">`, plotL, chartH-12, chartTextPix, labelFontFamily)
	escape(&b, t0.UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, `</text><text x="%.1f" y="%.1f" font-size="%.0f" font-family="%s" text-anchor="end" fill="#333">`, plotR, chartH-12, chartTextPix, labelFontFamily)
	escape(&b, t1.UTC().Format("2006-01-02")+" · "+c.Unit)
	b.WriteString(`</text>`)
	b.WriteString(`<polyline fill="none" stroke="#1d2327" stroke-width="1.5" points="`)
	for i, p := range pts {
		if p.X > 0 {
			fmt.Fprintf(&b, "%.1f,%.1f ", xAt(i, p.At), y(p.X))
		}
	}
	b.WriteString(`"/>`)
	for i, p := range pts {
		if !(p.X > 0) {
			continue
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="#1d2327"><title>`, xAt(i, p.At), y(p.X))
		grade := p.Grade
		if grade == "" {
			grade = Dash
		}
		escape(&b, fmt.Sprintf("%s: %s, grade %s", p.At.UTC().Format("2006-01-02 15:04"), FormatEnergy(p.X, c.Unit), grade))
		b.WriteString(`</title></circle>`)
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}
