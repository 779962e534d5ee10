package label

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/energylabel/energylabel/rating"
)

// StripPoint is one model of a cohort's strip chart.
type StripPoint struct {
	// Model names the point in its tooltip; Href, when set, links it.
	Model, Href string
	// X is the energy the model is graded on, in the chart's unit.
	X     float64
	Grade string
}

// StripChart is a cohort on one log-scale axis: a dot per model, linked
// to its page, over the cohort's grades as shaded bands. It is SVG
// to inline in a page: shapes, links and escaped text, no script.
type StripChart struct {
	// Unit is X's unit, e.g. "J/token" or "Wh/1k queries".
	Unit string
	// Reference is the cohort's reference x under the grade scheme; 0
	// draws no bands.
	Reference float64
	Points    []StripPoint
}

// The strip chart's geometry, in user units.
const (
	stripW                 = 720.0
	stripL, stripR         = 16.0, 704.0
	stripTop               = 22.0 // below the grade letters
	stripDot, stripLane    = 4.5, 10.0
	maxStripLanes          = 10
	maxStripPoints         = 500
	stripAxis, stripBottom = 17.0, 38.0 // the axis below the dots, and the space for its labels
)

// SVG draws the chart, with at most 500 points.
func (c StripChart) SVG() []byte {
	pts := make([]StripPoint, 0, min(len(c.Points), maxStripPoints))
	for _, p := range c.Points {
		if p.X > 0 && !math.IsInf(p.X, 0) && len(pts) < maxStripPoints {
			pts = append(pts, p)
		}
	}
	slices.SortStableFunc(pts, func(a, b StripPoint) int { return cmpFloat(a.X, b.X) })

	lo, hi := 1.0, 1.0
	if len(pts) > 0 {
		lo, hi = pts[0].X, pts[len(pts)-1].X
	}
	if c.Reference > 0 {
		// Show at least the classes around the reference, so that the
		// bands say where the cohort stands.
		lo, hi = min(lo, c.Reference/4), max(hi, c.Reference*2)
	}
	lo, hi = lo/1.5, hi*1.5
	x := func(v float64) float64 {
		return stripL + (math.Log(v)-math.Log(lo))/(math.Log(hi)-math.Log(lo))*(stripR-stripL)
	}

	// Dots that would overlap go to the next lane down.
	lanes := make([]float64, 0, maxStripLanes)
	lane := make([]int, len(pts))
	for i, p := range pts {
		px, l := x(p.X), -1
		for j, last := range lanes {
			if px-last >= 2*stripDot+1 {
				l = j
				break
			}
		}
		if l < 0 {
			if len(lanes) < maxStripLanes {
				lanes = append(lanes, 0)
			}
			l = len(lanes) - 1
		}
		lanes[l], lane[i] = px, l
	}
	plotB := stripTop + 6 + float64(max(1, len(lanes)))*stripLane
	height := plotB + stripBottom

	var b bytes.Buffer
	// No xmlns: inline in HTML, the parser puts it in SVG's namespace.
	fmt.Fprintf(&b, `<svg class="strip" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="`,
		num(stripW), num(height), num(stripW), num(height))
	escape(&b, fmt.Sprintf("Strip chart of %d models' energy (%s) on a log scale, over the grades A to G", len(pts), clean(c.Unit)))
	b.WriteString(`"><title>`)
	escape(&b, fmt.Sprintf("Energy per unit (%s) of each model of the cohort, log scale; each dot links to its model", c.Unit))
	b.WriteString(`</title>`)
	fmt.Fprintf(&b, `<rect width="%s" height="%s" fill="#fff"/>`, num(stripW), num(height))

	if c.Reference > 0 {
		bounds := rating.ClassBounds(c.Reference)
		left := lo
		for i := range 7 {
			right := hi
			if i < len(bounds) {
				right = min(bounds[i], hi)
			}
			if right > left {
				fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="%.2f"/>`,
					num(x(left)), num(stripTop), num(x(right)-x(left)), num(plotB-stripTop), hex(gradeColours[i]), chartBandOpacity)
				if x(right)-x(left) >= 12 {
					fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="13" font-weight="bold" text-anchor="middle" fill="#333" font-family="%s">%c</text>`,
						num((x(left)+x(right))/2), num(stripTop-6), escapeAttr(chartFontFamily), 'A'+i)
				}
			}
			left = max(left, right)
		}
	}

	// The axis, with a tick and a value at each round figure, in the
	// chart's unit (no SI prefix, as every figure is written).
	axisY := plotB + 2
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#888"/>`, num(stripL), num(axisY), num(stripR), num(axisY))
	vs, labels := logTicks(lo, hi)
	for i, v := range vs {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#888"/>`, num(x(v)), num(axisY), num(x(v)), num(axisY+4))
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="12" text-anchor="middle" fill="#333" font-family="%s">`, num(x(v)), num(axisY+stripAxis), escapeAttr(chartFontFamily))
		escape(&b, labels[i])
		b.WriteString(`</text>`)
	}
	fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="12" text-anchor="end" fill="#5b6770" font-family="%s">`, num(stripR), num(height-4), escapeAttr(chartFontFamily))
	escape(&b, clean(c.Unit)+", log scale: less energy to the left")
	b.WriteString(`</text>`)

	for i, p := range pts {
		fill := hex(grey)
		if len(p.Grade) == 1 && p.Grade[0] >= 'A' && p.Grade[0] <= 'G' {
			fill = hex(gradeColours[p.Grade[0]-'A'])
		}
		if p.Href != "" {
			b.WriteString(`<a href="`)
			escape(&b, p.Href)
			b.WriteString(`">`)
		}
		fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="%s" fill="%s" stroke="#1d2327" stroke-width="1"><title>`,
			num(x(p.X)), num(stripTop+3+float64(lane[i])*stripLane+stripLane/2), num(stripDot), fill)
		grade := p.Grade
		if grade == "" {
			grade = Dash
		}
		escape(&b, p.Model+": "+FormatEnergy(p.X, c.Unit)+", grade "+grade)
		b.WriteString(`</title></circle>`)
		if p.Href != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
