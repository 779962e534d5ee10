package label

import (
	"bytes"
	"fmt"
	"math"
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
// time, on a log scale, with the cohort's grades as bands behind it.
type HistoryChart struct {
	// Unit names X's unit, e.g. "Wh/1k queries".
	Unit string
	// Reference is the cohort's reference x under the grade scheme; 0
	// draws no bands.
	Reference float64
	Points    []HistoryPoint
}

// The chart's geometry, in user units (CSS pixels at native size).
const (
	chartW, chartH             = 520.0, 230.0
	plotL, plotR, plotT, plotB = 62.0, 496.0, 12.0, 178.0
	maxChartPoints             = 500
	maxTimeTicks               = 5
	chartBandOpacity           = 0.28
	// minChartText is the smallest font size on a chart, in px.
	minChartText = 11.0
)

// SVG draws the chart: an energy axis with round values, a time axis
// with distinct dates, and each result as a point whose tooltip (<title>)
// gives its date, figure and grade. It holds only shapes and escaped
// text, and at most the latest 500 points.
func (c HistoryChart) SVG() []byte {
	pts := c.Points
	if len(pts) > maxChartPoints {
		pts = pts[len(pts)-maxChartPoints:]
	}
	unit := clean(c.Unit)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="`,
		num(chartW), num(chartH), num(chartW), num(chartH))
	escape(&b, fmt.Sprintf("Energy history: %d results", len(pts)))
	b.WriteString(`"><title>`)
	escape(&b, fmt.Sprintf("Energy per unit (%s) of each accepted result, over time", unit))
	fmt.Fprintf(&b, `</title><rect width="100%%" height="100%%" fill="#fff"/><g font-family="%s" font-size="%s" fill="#333">`,
		escapeAttr(chartFontFamily), num(minChartText))
	c.plot(&b, pts, unit)
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

// plot draws the chart's axes and points.
func (c HistoryChart) plot(b *bytes.Buffer, pts []HistoryPoint, unit string) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if p.X > 0 && !math.IsInf(p.X, 0) {
			lo, hi = min(lo, p.X), max(hi, p.X)
		}
	}
	if math.IsInf(lo, 0) {
		return
	}
	// The axis spans the points and, where there is one, the reference's
	// D to F grades, so that the bands say where the points stand.
	if c.Reference > 0 {
		lo, hi = min(lo, c.Reference/4), max(hi, c.Reference*2)
	}
	lo, hi = lo/1.5, hi*1.5
	y := func(x float64) float64 {
		return plotB - (math.Log(x)-math.Log(lo))/(math.Log(hi)-math.Log(lo))*(plotB-plotT)
	}
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	span := t1.Sub(t0).Seconds()
	xAtTime := func(t time.Time) float64 {
		if span <= 0 {
			return (plotL + plotR) / 2
		}
		return plotL + 10 + (plotR-plotL-20)*t.Sub(t0).Seconds()/span
	}
	xAt := func(i int, t time.Time) float64 {
		if span <= 0 {
			return plotL + (plotR-plotL)*float64(i+1)/float64(len(pts)+1)
		}
		return xAtTime(t)
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
				fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="%.2f"/>`,
					plotL, y(above), plotR-plotL, y(below)-y(above), hex(gradeColours[i]), chartBandOpacity)
				if y(below)-y(above) >= minChartText {
					// Right of the plot, where no point can hide it.
					fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-weight="bold">%c</text>`,
						plotR+5, (y(above)+y(below))/2+4, 'A'+i)
				}
			}
			below = max(below, above)
		}
	}
	// The energy axis: a tick, a faint grid line and a value at each
	// round figure.
	vs, labels := logTicks(lo, hi)
	for i, v := range vs {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000" stroke-opacity=".12"/>`, plotL, y(v), plotR, y(v))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`, plotL-4, y(v), plotL, y(v))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">`, plotL-6, y(v)+4)
		escape(b, labels[i])
		b.WriteString(`</text>`)
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`, plotL, plotB, plotR, plotB)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`, plotL, plotT, plotL, plotB)
	// The time axis: distinct dates at round times.
	ts, dates := timeTicks(t0, t1, maxTimeTicks)
	for i, t := range ts {
		x := xAtTime(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`, x, plotB, x, plotB+4)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">`, x, plotB+17)
		escape(b, dates[i])
		b.WriteString(`</text>`)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="12" fill="#5b6770">`, plotL, chartH-10)
	escape(b, unit+" of each result, log scale; dates in UTC")
	b.WriteString(`</text>`)

	b.WriteString(`<polyline fill="none" stroke="#1d2327" stroke-width="1.5" points="`)
	for i, p := range pts {
		if p.X > 0 && !math.IsInf(p.X, 0) {
			fmt.Fprintf(b, "%.1f,%.1f ", xAt(i, p.At), y(p.X))
		}
	}
	b.WriteString(`"/>`)
	for i, p := range pts {
		if !(p.X > 0) || math.IsInf(p.X, 0) {
			continue
		}
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="4" fill="#1d2327"><title>`, xAt(i, p.At), y(p.X))
		grade := p.Grade
		if grade == "" {
			grade = Dash
		}
		escape(b, fmt.Sprintf("%s: %s, grade %s", p.At.UTC().Format("2006-01-02 15:04"), FormatEnergy(p.X, unit), grade))
		b.WriteString(`</title></circle>`)
	}
}
