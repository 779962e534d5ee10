package label

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

// Label geometry, in SVG user units: the portrait proportions of an EU
// energy label, wide enough to read at 260 px.
const (
	labelWidth  = 260
	labelHeight = 407
	margin      = 12
	inner       = labelWidth - 2*margin
	// ladderTop is where the class arrows start, statusTop the band that
	// says who vouches for the figures, figuresTop the rule above the
	// figures.
	ladderTop  = 151
	statusTop  = 289
	figuresTop = 309
)

var (
	euBlue    = color.RGBA{0x00, 0x33, 0x99, 0xff}
	headerSub = color.RGBA{0xc5, 0xd3, 0xf0, 0xff}
	caption   = color.RGBA{0x6b, 0x6b, 0x6b, 0xff}
	rule      = color.RGBA{0xd0, 0xd0, 0xd0, 0xff}
	starOn    = color.RGBA{0xf2, 0xa9, 0x00, 0xff}
	starOff   = color.RGBA{0xd6, 0xd6, 0xd6, 0xff}
)

// statusColours are the status band's fill and ink: green for a verified
// rating, amber under review, red for a corrected one; a declared or
// published figure is said plainly.
var statusColours = map[string][2]color.RGBA{
	StatusVerified:    {{0xe3, 0xf4, 0xea, 0xff}, {0x0a, 0x6b, 0x35, 0xff}},
	StatusUnderReview: {{0xff, 0xf1, 0xd6, 0xff}, {0x8a, 0x4b, 0x00, 0xff}},
	StatusCorrected:   {{0xfd, 0xe4, 0xe4, 0xff}, {0xa4, 0x16, 0x1a, 0xff}},
}

// ErrURLTooLong is returned by Label for a page URL too long to encode in
// a QR code that fits on the label and still scans.
var ErrURLTooLong = errors.New("page URL too long for the label's QR code")

// qrSpace is the side of the square the QR code gets, quiet zone included.
const qrSpace = 84

// Label draws the full energy label of a rating. It fails only when the
// page URL is too long for its QR code; URLs of up to about 350 bytes fit.
func Label(r Rating) (*Drawing, error) {
	var bits [][]bool
	module := 0.0
	if r.PageURL != "" {
		code, err := qrcode.New(r.PageURL, qrcode.Medium)
		if err != nil {
			return nil, fmt.Errorf("label: QR code for %q: %w", r.PageURL, err)
		}
		bits = code.Bitmap()
		// Whole pixels per module at PNGScale keep the PNG's code sharp.
		module = math.Floor(qrSpace*PNGScale/float64(len(bits))) / PNGScale
		if module < 1 {
			return nil, fmt.Errorf("label: QR code for %q: %w", r.PageURL, ErrURLTooLong)
		}
	}
	if _, err := faces(); err != nil {
		return nil, fmt.Errorf("label: embedded Go fonts: %w", err)
	}
	d := &Drawing{width: labelWidth, height: labelHeight, title: labelTitle(r)}
	regular, bold := face(false), face(true)

	d.rect(0, 0, labelWidth, labelHeight, white)
	defer frame(d)

	// Header.
	d.rect(0, 0, labelWidth, 38, euBlue)
	d.text(margin, 25, "AI energy label", 16, true, start, white)
	d.text(labelWidth-margin, 24, "energylabel", 9, false, end, headerSub)

	// Who and what was measured.
	// A long name first gets smaller type, and is cut only when even that
	// is not enough.
	model := or(clean(r.Model))
	size := 14.0
	for size > 11 && bold.width(model, size) > inner {
		size -= 1.5
	}
	d.boxed(margin, 59, model, size, true, start, ink, inner)

	field := func(x, y, w float64, a anchor, name, value string) {
		d.text(x, y, name, 7.5, false, a, caption)
		d.boxed(x, y+11, or(value), 10, false, a, ink, w)
	}
	provider, _, _ := strings.Cut(clean(r.Model), "/")
	field(margin, 75, 88, start, "Provider", provider)
	// The cohort: task, size class where the task has them, and dataset.
	taskWidth := float64(inner)
	if sc := clean(r.SizeClass); strings.TrimSpace(sc) != "" {
		const classWidth = 60
		field(labelWidth-margin, 100, classWidth, end, "Size class", sc)
		taskWidth -= classWidth + 8
	}
	field(margin, 100, taskWidth, start, "Task", clean(r.Task))
	field(margin, 125, inner, start, "Dataset", clean(r.Dataset))

	// The GPU count must survive when a long accelerator name is cut.
	const hwWidth = 84
	hardware, count := or(clean(r.Hardware)), ""
	if r.GPUCount > 1 {
		count = " × " + strconv.Itoa(r.GPUCount)
	}
	hardware = regular.fit(hardware, 10, hwWidth-regular.width(count, 10)) + count
	field(106, 75, hwWidth, start, "Hardware", hardware)

	date := Dash
	if !r.Date.IsZero() {
		date = r.Date.UTC().Format(time.DateOnly)
	}
	field(labelWidth-margin, 75, 60, end, "Measured", date)
	d.rect(margin, ladderTop-8, inner, 0.5, rule)

	ladder(d, r)
	status(d, r)
	const top = figuresTop
	d.rect(margin, top, inner, 0.5, rule)
	// The QR code's left edge, quiet zone included, bounds the figures.
	codeX := float64(labelWidth - margin)
	if bits != nil {
		size := module * float64(len(bits))
		codeX = labelWidth - margin + 4*module - size
	}

	// The figures: the energy per 1,000 queries, large, with its SI
	// prefix on the unit; the stars; then, for a per-unit basis, the figure
	// it was graded on. Every line has room for the longest figure.
	corrected := r.Verification.Status == StatusCorrected
	const figureCaption = "Energy per 1,000 queries"
	if corrected {
		// The declared figure's column follows the caption and the unit:
		// both are pinned to their measured widths, so that in a wider
		// fallback font they do not run into it.
		d.boxed(margin, top+14, figureCaption, 7.5, false, start, caption, regular.width(figureCaption, 7.5))
	} else {
		d.text(margin, top+14, figureCaption, 7.5, false, start, caption)
	}
	number, unit := SplitEnergy(r.WhPer1kQueries, "Wh")
	// The number is pinned to its measured width, so that in a wider
	// fallback font it does not run into its unit.
	numberWidth := bold.width(number, 26)
	d.boxed(margin, top+38, number, 26, true, start, ink, numberWidth)
	if corrected {
		d.boxed(margin+numberWidth+4, top+38, unit, 14, true, start, ink, bold.width(unit, 14))
		// The declared figure beside the determined one, struck through.
		v := r.Verification
		x := math.Max(margin+numberWidth+4+bold.width(unit, 14), margin+regular.width(figureCaption, 7.5)) + 10
		declared := FormatEnergy(v.DeclaredWhPer1kQueries, "Wh")
		d.boxed(x, top+14, "declared", 7.5, false, start, caption, codeX-2-x)
		// Pinned to its measured width, as the line through it is drawn.
		declared = regular.fit(declared, 11, codeX-2-x)
		w := regular.width(declared, 11)
		d.boxed(x, top+38, declared, 11, false, start, caption, w)
		d.rect(x, top+38-11*0.32, w, 0.9, caption)
	} else {
		d.text(margin+numberWidth+4, top+38, unit, 14, true, start, ink)
	}
	n, rated := r.stars()
	for i := range 5 {
		fill := starOff
		if rated && i < n {
			fill = starOn
		}
		d.polygon(fill, star(margin+6+float64(i)*15, top+51, 6.5)...)
	}
	starsNote := "no stars"
	if rated {
		starsNote = strconv.Itoa(n) + " of 5 stars"
	}
	d.text(margin+77, top+54, starsNote, 8, false, start, caption)

	const textWidth = 160 - margin // left of the QR code
	y := top + 67.0
	if basis := clean(r.Basis); basis != "query" {
		d.text(margin, y, "Energy per unit", 7.5, false, start, caption)
		perUnit := Dash
		if u := strings.TrimSpace(clean(r.Unit)); u != "" {
			perUnit = FormatEnergy(r.EnergyPerUnit, u)
		}
		d.boxed(margin+60, y, perUnit, 8.5, true, start, ink, textWidth-60)
		y += 11
	}
	basis := "basis " + or(clean(r.Basis))
	if _, ok := r.grade(); ok {
		basis += " · EEI " + FormatNumber(r.EEI)
	}
	d.boxed(margin, y, basis, 7.5, false, start, caption, textWidth)
	d.boxed(margin, y+10, "scheme "+or(clean(r.Scheme)), 7.5, false, start, caption, textWidth)

	if bits != nil {
		// The bitmap's own quiet zone is the white space around the code.
		size, x := module*float64(len(bits)), codeX
		d.add(qr{x: x, y: top + 1, module: module, bits: bits})
		// Below the quiet zone, never in it, or scanners may miss the code.
		d.text(x+size/2, top+1+size+6.5, "scan for this model", 7, false, middle, caption)
	}
	return d, nil
}

// frame draws the border last, over the header's edges.
func frame(d *Drawing) {
	d.rect(0, 0, labelWidth, 1, ink)
	d.rect(0, labelHeight-1, labelWidth, 1, ink)
	d.rect(0, 1, 1, labelHeight-2, ink)
	d.rect(labelWidth-1, 1, 1, labelHeight-2, ink)
}

// ladder draws the seven class arrows and this rating's marker.
func ladder(d *Drawing, r Rating) {
	const (
		top   = ladderTop
		row   = 16.0
		pitch = 19.0
	)
	for i, fill := range gradeColours {
		y := top + float64(i)*pitch
		w := 74 + 13*float64(i)
		d.polygon(fill, arrowRight(margin, y, w, row)...)
		d.text(margin+6, y+12, string(rune('A'+i)), 11.5, true, start, textOn(fill))
	}
	g, ok := r.grade()
	if !ok {
		cy := top + 3*pitch + row/2
		d.text(216, cy-8, "no grade:", 10, true, middle, caption)
		d.text(216, cy+4, "no reference", 7.5, false, middle, caption)
		d.text(216, cy+13, "for this cohort", 7.5, false, middle, caption)
		return
	}
	cy := top + float64(g)*pitch + row/2
	const h, x0, x1 = 30.0, 184.0, labelWidth - margin
	d.polygon(ink, arrowLeft(x0, cy-h/2, x1-x0, h)...)
	d.text((x0+h/2+x1)/2, cy+8, r.Grade, 23, true, middle, white)
}

// status draws the band that says who vouches for the figures: verified
// with a tick and the date, under review with both figures, corrected
// with the date, declared or published plainly. A rating that does not
// say leaves the band empty.
func status(d *Drawing, r Rating) {
	textOf := StatusText(r)
	if textOf == "" {
		return
	}
	const h = 15.0
	y := float64(statusTop)
	base := y + h/2 + 3 // 8.5 pt, centred on the band
	colours, marked := statusColours[r.Verification.Status]
	if !marked {
		d.rect(margin, y+h/2, inner, 0.5, rule)
		w := face(false).width(textOf, 8) + 12
		d.rect(labelWidth/2-w/2, y, w, h, white)
		d.text(labelWidth/2, base, textOf, 8, false, middle, caption)
		return
	}
	fill, ink := colours[0], colours[1]
	d.rect(margin, y, inner, h, fill)
	x := float64(margin + 5)
	if r.Verification.Status == StatusVerified {
		d.polygon(ink, checkMark(x, y+3, 9)...)
		x += 13
	}
	if r.Verification.Status == StatusCorrected && r.Verification.DeclaredGrade != "" && r.Verification.DeclaredGrade != r.Grade {
		textOf += " · declared grade " + clean(r.Verification.DeclaredGrade)
	}
	// Bold when it fits, else regular, then smaller, and cut only when
	// even that is not enough.
	room, size, bold := labelWidth-margin-5-x, 8.5, true
	if face(true).width(textOf, size) > room {
		bold = false
		for size > 7.5 && face(false).width(textOf, size) > room {
			size -= 0.5
		}
	}
	d.boxed(x, base, textOf, size, bold, start, ink, room)
}

// checkMark is a check mark in a box size wide and high, top left at x, y:
// drawn, since the Go fonts have no ✓.
func checkMark(x, y, size float64) []point {
	s := size / 10
	return []point{{x, y + 5.2*s}, {x + 1.4*s, y + 3.8*s}, {x + 3.8*s, y + 6.2*s}, {x + 8.6*s, y + 1.4*s}, {x + 10*s, y + 2.8*s}, {x + 3.8*s, y + 9*s}}
}

// arrowRight is a class arrow: a bar with its point to the right.
func arrowRight(x, y, w, h float64) []point {
	tip := h / 2
	return []point{{x, y}, {x + w - tip, y}, {x + w, y + h/2}, {x + w - tip, y + h}, {x, y + h}}
}

// arrowLeft is the marker, pointing back at the ladder.
func arrowLeft(x, y, w, h float64) []point {
	tip := h / 2
	return []point{{x, y + h/2}, {x + tip, y}, {x + w, y}, {x + w, y + h}, {x + tip, y + h}}
}

// star is a five-pointed star, drawn rather than set as a glyph because the
// Go fonts have no ★.
func star(cx, cy, r float64) []point {
	pts := make([]point, 10)
	for i := range pts {
		rad := r
		if i%2 == 1 {
			rad = r * 0.382 // a regular pentagram's inner radius
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		pts[i] = point{cx + rad*math.Cos(a), cy + rad*math.Sin(a)}
	}
	return pts
}

// labelTitle is the label's accessible name: what a sighted reader takes in.
func labelTitle(r Rating) string {
	var b strings.Builder
	b.WriteString("AI energy label: " + or(clean(r.Model)))
	if t := clean(r.Task); t != "" {
		b.WriteString(", " + t)
	}
	if sc := clean(r.SizeClass); sc != "" {
		b.WriteString(", size class " + sc)
	}
	if _, ok := r.grade(); ok {
		b.WriteString(", grade " + r.Grade)
	} else {
		b.WriteString(", no grade")
	}
	if n, ok := r.stars(); ok {
		b.WriteString(", " + strconv.Itoa(n) + " of 5 stars")
	}
	b.WriteString(", " + FormatEnergy(r.WhPer1kQueries, "Wh") + " per 1,000 queries")
	if st := StatusText(r); st != "" {
		b.WriteString(", " + st)
	}
	if v := r.Verification; v.Status == StatusCorrected {
		b.WriteString(", declared " + FormatEnergy(v.DeclaredWhPer1kQueries, "Wh") + " per 1,000 queries")
		if v.DeclaredGrade != "" {
			b.WriteString(" (grade " + clean(v.DeclaredGrade) + ")")
		}
	}
	return b.String()
}
