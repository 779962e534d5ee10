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

// Label geometry, in SVG user units (CSS pixels at native size): the
// portrait proportions of an EU energy label, wide enough that its
// smallest text, set at minLabelText, reads at native size.
const (
	labelWidth  = 380
	labelHeight = 610
	margin      = 16
	inner       = labelWidth - 2*margin
	// minLabelText is the smallest font size on the label, in px.
	minLabelText = 9.0
	// captionSize is the size of captions and notes; valueSize that of
	// the values they caption.
	captionSize = 10.0
	valueSize   = 12.5
	// ladderTop is where the grade arrows start, keyTop the lines that
	// say what the grade and the stars are measured against, statusTop
	// the band that says who vouches for the figures, figuresTop the rule
	// above the figures.
	ladderTop  = 214
	ladderRow  = 21.0
	ladderStep = 25.0
	keyTop     = ladderTop + 6*ladderStep + ladderRow + 20
	statusTop  = keyTop + 26
	figuresTop = statusTop + 32
)

var (
	euBlue    = color.RGBA{0x00, 0x33, 0x99, 0xff}
	headerSub = color.RGBA{0xc5, 0xd3, 0xf0, 0xff}
	caption   = color.RGBA{0x5c, 0x5c, 0x5c, 0xff}
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
const qrSpace = 112

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
		return nil, fmt.Errorf("label: embedded fonts: %w", err)
	}
	d := &Drawing{width: labelWidth, height: labelHeight, title: labelTitle(r)}
	regular, bold := face(false), face(true)

	d.rect(0, 0, labelWidth, labelHeight, white)
	defer frame(d)

	// Header.
	d.rect(0, 0, labelWidth, 46, euBlue)
	d.text(margin, 31, "AI energy label", 20, true, start, white)
	d.text(labelWidth-margin, 30, "energylabel", 11, false, end, headerSub)

	// Who and what was measured.
	// A long name first gets smaller type, and is cut only when even that
	// is not enough.
	model := or(clean(r.Model))
	size := 17.0
	for size > 13 && bold.width(model, size) > inner {
		size -= 1
	}
	d.boxed(margin, 74, model, size, true, start, ink, inner)

	field := func(x, y, w float64, a anchor, name, value string) {
		d.text(x, y, name, captionSize, false, a, caption)
		d.boxed(x, y+15, or(value), valueSize, false, a, ink, w)
	}
	provider, _, _ := strings.Cut(clean(r.Model), "/")
	field(margin, 96, 112, start, "Provider", provider)

	// The GPU count must survive when a long accelerator name is cut.
	const hwX, hwWidth = margin + 122, 122
	hardware, count := or(clean(r.Hardware)), ""
	if r.GPUCount > 1 {
		count = " × " + strconv.Itoa(r.GPUCount)
	}
	hardware = regular.fit(hardware, valueSize, hwWidth-regular.width(count, valueSize)) + count
	field(hwX, 96, hwWidth, start, "Hardware", hardware)
	dateCaption, date := dateOf(r)
	field(labelWidth-margin, 96, labelWidth-margin-hwX-hwWidth-8, end, dateCaption, date)

	// The cohort: task, size class where the task has them, and dataset.
	task := clean(r.Task)
	taskWidth := float64(inner)
	if sc := strings.TrimSpace(clean(r.SizeClass)); sc != "" {
		// The size class says its bounds in full; the task takes the rest.
		text := SizeClassText(sc)
		w := min(regular.width(text, valueSize), inner-120)
		field(labelWidth-margin, 132, w, end, "Size class", text)
		taskWidth = inner - w - 12
	}
	field(margin, 132, taskWidth, start, "Task", task)
	field(margin, 168, inner, start, "Dataset", clean(r.Dataset))
	d.rect(margin, ladderTop-14, inner, 0.5, rule)

	ladder(d, r)
	key(d, r)
	status(d, r)
	const top = figuresTop
	d.rect(margin, top, inner, 0.5, rule)
	// The QR code's left edge, quiet zone included, bounds the figures.
	codeX := float64(labelWidth - margin)
	if bits != nil {
		size := module * float64(len(bits))
		codeX = labelWidth - margin + 4*module - size
	}

	// The figures: the energy per 1,000 queries, large, in Wh (no SI
	// prefix, ever); the stars; then, for a per-unit basis, the figure it
	// was graded on. Every line has room for the longest figure.
	corrected := r.Verification.Status == StatusCorrected
	const figureCaption = "Energy per 1,000 queries"
	d.text(margin, top+19, figureCaption, captionSize, false, start, caption)
	number, unit := SplitEnergy(r.WhPer1kQueries, "Wh")
	declared := ""
	if corrected {
		declared = FormatEnergy(r.Verification.DeclaredWhPer1kQueries, "Wh")
	}
	// The figure is set large, and smaller only when it and the declared
	// figure beside it would not fit left of the QR code.
	numberSize, unitSize := 32.0, 17.0
	var numberWidth, unitX, declaredX float64
	for ; ; numberSize, unitSize = numberSize-2, unitSize-1 {
		numberWidth = bold.width(number, numberSize)
		unitX = margin + numberWidth + 5
		right := unitX + bold.width(unit, unitSize)
		declaredX = math.Max(right, margin+regular.width(figureCaption, captionSize)) + 12
		if corrected {
			right = declaredX + regular.width(declared, 14)
		}
		if right <= codeX-4 || numberSize <= 22 {
			break
		}
	}
	// The number is pinned to its measured width, so that in a wider
	// fallback font it does not run into its unit.
	d.boxed(margin, top+51, number, numberSize, true, start, ink, numberWidth)
	d.boxed(unitX, top+51, unit, unitSize, true, start, ink, bold.width(unit, unitSize))
	if corrected {
		// The declared figure beside the determined one, struck through.
		x := declaredX
		d.boxed(x, top+19, "declared", captionSize, false, start, caption, codeX-4-x)
		// Pinned to its measured width, as the line through it is drawn.
		declared = regular.fit(declared, 14, codeX-4-x)
		w := regular.width(declared, 14)
		d.boxed(x, top+51, declared, 14, false, start, caption, w)
		d.rect(x, top+51-14*0.32, w, 1.1, caption)
	}
	n, rated := r.stars()
	for i := range 5 {
		fill := starOff
		if rated && i < n {
			fill = starOn
		}
		d.polygon(fill, star(margin+8+float64(i)*19, top+70, 8.5)...)
	}
	starsNote := "no stars"
	if rated {
		starsNote = strconv.Itoa(n) + " of 5 stars"
	}
	d.text(margin+100, top+74, starsNote, 11, false, start, caption)

	textWidth := codeX - 4 - margin // left of the QR code
	y := top + 96.0
	if basis := clean(r.Basis); basis != "query" {
		const perUnitCaption = "Energy per unit"
		d.text(margin, y, perUnitCaption, captionSize, false, start, caption)
		perUnit := Dash
		if u := strings.TrimSpace(clean(r.Unit)); u != "" {
			perUnit = FormatEnergy(r.EnergyPerUnit, u)
		}
		x := margin + regular.width(perUnitCaption, captionSize) + 6
		d.boxed(x, y, perUnit, 11, true, start, ink, margin+textWidth-x)
		y += 16
	}
	basis := "basis " + or(clean(r.Basis))
	if _, ok := r.grade(); ok {
		basis += " · EEI " + FormatNumber(r.EEI)
	}
	d.boxed(margin, y, basis, captionSize, false, start, caption, textWidth)
	d.boxed(margin, y+15, "scheme "+or(clean(r.Scheme)), captionSize, false, start, caption, textWidth)

	if bits != nil {
		// The bitmap's own quiet zone is the white space around the code.
		size, x := module*float64(len(bits)), codeX
		d.add(qr{x: x, y: top + 2, module: module, bits: bits})
		// Below the quiet zone, never in it, or scanners may miss the code;
		// flush with the code's right edge.
		d.text(labelWidth-margin, top+2+size+9, "scan for this model", minLabelText, false, end, caption)
	}
	return d, nil
}

// dateOf is the caption and the date the label shows: when the energy
// was measured, else when the service received the result ("Submitted",
// or "Imported" for a published leaderboard's row), else that the result
// does not say.
func dateOf(r Rating) (captionText, date string) {
	switch {
	case !r.Date.IsZero():
		return "Measured", r.Date.UTC().Format(time.DateOnly)
	case !r.Received.IsZero() && r.Verification.Status == StatusPublished:
		return "Imported", r.Received.UTC().Format(time.DateOnly)
	case !r.Received.IsZero():
		return "Submitted", r.Received.UTC().Format(time.DateOnly)
	}
	return "Date", "not stated"
}

// SizeClassText says what a size class is: "A · ≤ 20 billion parameters",
// as AIES draws the bounds (rating.SizeClass). An unknown letter is
// given as it is.
func SizeClassText(sc string) string {
	switch sc {
	case "A":
		return "A · ≤ 20 billion parameters"
	case "B":
		return "B · 20–66 billion parameters"
	case "C":
		return "C · > 66 billion parameters"
	}
	return sc
}

// frame draws the border last, over the header's edges.
func frame(d *Drawing) {
	d.rect(0, 0, labelWidth, 1, ink)
	d.rect(0, labelHeight-1, labelWidth, 1, ink)
	d.rect(0, 1, 1, labelHeight-2, ink)
	d.rect(labelWidth-1, 1, 1, labelHeight-2, ink)
}

// ladder draws the seven grade arrows and this rating's marker.
func ladder(d *Drawing, r Rating) {
	const top = ladderTop
	for i, fill := range gradeColours {
		y := top + float64(i)*ladderStep
		w := 100 + 17*float64(i)
		d.polygon(fill, arrowRight(margin, y, w, ladderRow)...)
		d.text(margin+8, y+16, string(rune('A'+i)), 15, true, start, textOn(fill))
	}
	g, ok := r.grade()
	const x0, x1 = 246.0, labelWidth - margin
	if !ok {
		cy := top + 3*ladderStep + ladderRow/2
		mid := (x0 + x1) / 2
		d.text(mid, cy-9, "no grade:", 13, true, middle, caption)
		d.text(mid, cy+6, "no reference", captionSize, false, middle, caption)
		d.text(mid, cy+19, "for this cohort", captionSize, false, middle, caption)
		return
	}
	cy := top + float64(g)*ladderStep + ladderRow/2
	const h = 38.0
	d.polygon(ink, arrowLeft(x0, cy-h/2, x1-x0, h)...)
	d.text((x0+h/2+x1)/2, cy+10, r.Grade, 29, true, middle, white)
}

// key says, beside the status, what each figure is measured against:
// the grade against the scheme's fixed references, the stars against
// the model's cohort in a release. A grade and stars can then disagree
// (E with 5 stars) without contradicting each other.
func key(d *Drawing, r Rating) {
	bold := face(true)
	scheme := or(clean(r.Scheme))
	release := "the current release"
	if rel := strings.TrimSpace(clean(r.Release)); rel != "" {
		release = "release " + rel
	}
	grade, gradeText := "No grade", ": no fixed reference for its cohort in "+scheme
	if _, ok := r.grade(); ok {
		grade, gradeText = "Grade "+r.Grade, " is absolute: against the fixed references of "+scheme
	}
	stars, starsText := "No stars", ": its cohort has none in "+release
	if n, ok := r.stars(); ok {
		stars, starsText = strconv.Itoa(n)+" of 5 stars", " are relative: against its cohort in "+release
	}
	for i, line := range [2][2]string{{grade, gradeText}, {stars, starsText}} {
		y := float64(keyTop + 13*i)
		w := bold.width(line[0], captionSize)
		d.text(margin, y, line[0], captionSize, true, start, ink)
		d.boxed(margin+w, y, line[1], captionSize, false, start, ink, inner-w)
	}
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
	const h = 20.0
	y := float64(statusTop)
	base := y + h/2 + 3.8 // 10.5 px, centred on the band
	colours, marked := statusColours[r.Verification.Status]
	if !marked {
		d.rect(margin, y+h/2, inner, 0.5, rule)
		w := face(false).width(textOf, 10.5) + 14
		d.rect(labelWidth/2-w/2, y, w, h, white)
		d.text(labelWidth/2, base, textOf, 10.5, false, middle, caption)
		return
	}
	fill, ink := colours[0], colours[1]
	d.rect(margin, y, inner, h, fill)
	x := float64(margin + 6)
	if r.Verification.Status == StatusVerified {
		d.polygon(ink, checkMark(x, y+4.5, 11)...)
		x += 16
	}
	if r.Verification.Status == StatusCorrected && r.Verification.DeclaredGrade != "" && r.Verification.DeclaredGrade != r.Grade {
		textOf += " · declared grade " + clean(r.Verification.DeclaredGrade)
	}
	// Bold when it fits, else regular, then smaller, and cut only when
	// even that is not enough.
	room, size, bold := labelWidth-margin-6-x, 10.5, true
	if face(true).width(textOf, size) > room {
		bold = false
		for size > minLabelText && face(false).width(textOf, size) > room {
			size -= 0.5
		}
	}
	d.boxed(x, base, textOf, size, bold, start, ink, room)
}

// checkMark is a check mark in a box size wide and high, top left at x, y:
// drawn, so that it looks the same in every viewer.
func checkMark(x, y, size float64) []point {
	s := size / 10
	return []point{{x, y + 5.2*s}, {x + 1.4*s, y + 3.8*s}, {x + 3.8*s, y + 6.2*s}, {x + 8.6*s, y + 1.4*s}, {x + 10*s, y + 2.8*s}, {x + 3.8*s, y + 9*s}}
}

// arrowRight is a grade arrow: a bar with its point to the right.
func arrowRight(x, y, w, h float64) []point {
	tip := h / 2
	return []point{{x, y}, {x + w - tip, y}, {x + w, y + h/2}, {x + w - tip, y + h}, {x, y + h}}
}

// arrowLeft is the marker, pointing back at the ladder.
func arrowLeft(x, y, w, h float64) []point {
	tip := h / 2
	return []point{{x, y + h/2}, {x + tip, y}, {x + w, y}, {x + w, y + h}, {x + tip, y + h}}
}

// star is a five-pointed star, drawn rather than set as a glyph, so that
// it looks the same in every viewer.
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
		if rel := clean(r.Release); rel != "" {
			b.WriteString(" of release " + rel)
		}
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
