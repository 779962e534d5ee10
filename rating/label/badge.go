package label

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image/color"
	"math"
	"strconv"
	"strings"
)

// Kind is what a badge shows.
type Kind int

const (
	// GradeBadge shows the A–G grade and Wh per 1,000 queries.
	GradeBadge Kind = iota
	// StarsBadge shows the AI Energy Score stars.
	StarsBadge
)

// DefaultLabel is the text on a badge's left unless the URL names another.
const DefaultLabel = "AI energy"

// BadgeText is what a badge says, whatever its style: shields' label,
// message and colour.
type BadgeText struct {
	// Label is the text on the left; "" draws the message alone.
	Label string
	// Message is the text on the right, without Unit.
	Message string
	// Unit, when set, follows Message after a space. It keeps its case in
	// every style: uppercase would make J/token read J/TOKEN.
	Unit string
	// Note, when set, follows the unit after a space: "✓" for a verified
	// rating, "under review", "corrected".
	Note string
	// Said is the message as a screen reader should hear it, when that
	// differs from what is drawn: "3 of 5 stars" for ★★★☆☆.
	Said string
	// About says which model the badge is about, for its tooltip.
	About string
	Color color.RGBA
	// Problem is set on a badge that says why there is no rating to show.
	Problem bool
}

// RatingBadge is the badge of a rating: "AI energy | B · 2.37 Wh/1k
// queries", "AI energy | C · 0.0118 J/token" or "AI energy | ★★★☆☆".
// The grade badge shows the figure the grade was computed on, in its
// unit: Wh per 1,000 queries on the query basis, the energy per unit on
// a per-unit basis. Its colour is the grade's, the stars badge's the
// stars'.
func RatingBadge(r Rating, kind Kind) BadgeText {
	b := BadgeText{Label: DefaultLabel, About: describe(r.Model, r.Task), Color: grey}
	switch kind {
	case StarsBadge:
		n, ok := r.stars()
		b.Color = starColours[0]
		if ok {
			b.Color = starColours[n]
			b.Message, b.Said = starString(n), strconv.Itoa(n)+" of 5 stars"
		} else {
			b.Message = "no stars"
		}
	default:
		v, unit := r.graded()
		number, unit := SplitEnergy(v, unit)
		if number != Dash {
			b.Unit = unit
		}
		if g, ok := r.grade(); ok {
			b.Color = gradeColours[g]
			b.Message = r.Grade + " · " + number
		} else {
			b.Message = "no grade · " + number
		}
	}
	b.Note = badgeNote(r.Verification.Status)
	if b.Note != "" {
		said := b.Said
		if said == "" {
			said = b.Message
			if b.Unit != "" {
				said += " " + b.Unit
			}
		}
		b.Said = said + ", " + strings.ReplaceAll(r.Verification.Status, "_", " ")
	}
	return b
}

// graded is the figure a rating's grade is computed on, and its unit:
// Wh per 1,000 queries on the query basis, else the energy per unit in
// the rating's unit. A rating that names no unit gives the per-query
// figure.
func (r Rating) graded() (float64, string) {
	if u, b := strings.TrimSpace(clean(r.Unit)), clean(r.Basis); b != "" && b != "query" && u != "" {
		return r.EnergyPerUnit, u
	}
	return r.WhPer1kQueries, perQuery
}

// badgeNote is what a badge says after its figure of a rating's status:
// a ✓ for a verified one, and the words for one under review or
// corrected (whose figure is then the determined one). A published or
// declared figure is the badge's ordinary case and says nothing more.
func badgeNote(status string) string {
	switch status {
	case StatusVerified:
		return "✓"
	case StatusUnderReview:
		return "under review"
	case StatusCorrected:
		return "corrected"
	}
	return ""
}

// NotRatedBadge stands in for a model without a rating, so that a model
// card shows no broken image: "AI energy | not rated".
func NotRatedBadge(model string) BadgeText {
	return BadgeText{Label: DefaultLabel, Message: "not rated", About: describe(model, ""), Color: grey}
}

// ProblemBadge says in a few words why a badge URL shows no rating, "AI
// energy | pick a task"; detail, the whole reason, goes in its tooltip.
func ProblemBadge(problem, detail string) BadgeText {
	about := ""
	if detail = clean(detail); detail != "" {
		about = " (" + detail + ")"
	}
	return BadgeText{Label: DefaultLabel, Message: problem, About: about, Color: grey, Problem: true}
}

// Badge draws a rating's badge in the flat style.
func Badge(r Rating, kind Kind) []byte { return RatingBadge(r, kind).SVG(Flat) }

// NotRated draws the flat "AI energy | not rated" badge.
func NotRated(model string) []byte { return NotRatedBadge(model).SVG(Flat) }

// message is the text drawn on the right, in the style's case.
func (b BadgeText) message(upper bool) string {
	m := clean(b.Message)
	if upper {
		m = strings.ToUpper(m)
	}
	if u := clean(b.Unit); u != "" {
		m += " " + u
	}
	if n := clean(b.Note); n != "" {
		if upper {
			n = strings.ToUpper(n)
		}
		m += " " + n
	}
	return m
}

// spoken is the badge's accessible name: "AI energy: 3 of 5 stars".
func (b BadgeText) spoken() string {
	said := b.Said
	if said == "" {
		said = b.message(false)
	}
	if b.Label == "" {
		return said
	}
	return b.Label + ": " + said
}

// describe says which model a badge is about, for its tooltip.
func describe(model, task string) string {
	model, task = clean(model), clean(task)
	switch {
	case model != "" && task != "":
		return " (" + model + ", " + task + ")"
	case model != "" || task != "":
		return " (" + model + task + ")"
	}
	return ""
}

func starString(n int) string {
	s := ""
	for i := range 5 {
		if i < n {
			s += "★"
		} else {
			s += "☆"
		}
	}
	return s
}

// Style is one of shields.io's badge styles, as its badge-maker draws them.
type Style uint8

const (
	// Flat is the default: height 20, rounded, a faint gradient.
	Flat Style = iota
	// FlatSquare has no rounding and no gradient.
	FlatSquare
	// Plastic is 18 high, rounder, with a glossy gradient.
	Plastic
	// ForTheBadge is 28 high, in capitals, spaced out.
	ForTheBadge
)

var styleNames = [...]string{"flat", "flat-square", "plastic", "for-the-badge"}

func (s Style) String() string {
	if int(s) < len(styleNames) {
		return styleNames[s]
	}
	return "Style(" + strconv.Itoa(int(s)) + ")"
}

// ParseStyle reads a style name as shields spells it; "" is Flat.
func ParseStyle(name string) (Style, bool) {
	if name == "" {
		return Flat, true
	}
	for i, n := range styleNames {
		if n == name {
			return Style(i), true
		}
	}
	return Flat, false
}

// Geometry of badge-maker's flat, flat-square and plastic styles.
const (
	badgeHeight  = 20
	badgePadding = 5
	badgeFont    = 11
)

// badgeTextWidth is badge-maker's preferred width: the measured width
// truncated, then made odd so the text centres on the pixel grid.
func badgeTextWidth(s string) int {
	w := int(verdanaText(s, badgeFont))
	if w%2 == 0 {
		w++
	}
	return w
}

var labelGrey = color.RGBA{0x55, 0x55, 0x55, 0xff}

// SVG draws the badge in a style.
func (b BadgeText) SVG(style Style) []byte {
	if style == ForTheBadge {
		return b.forTheBadge()
	}
	return b.classic(style)
}

// classic draws the flat, flat-square and plastic styles, which share
// badge-maker's layout and differ in height and finish.
func (b BadgeText) classic(style Style) []byte {
	label, message := clean(b.Label), b.message(false)
	height, textY, radius := badgeHeight, 140, 3
	if style == Plastic {
		height, textY, radius = 18, 130, 4
	}
	shadow := style != FlatSquare

	lw, mw := 0, badgeTextWidth(message)
	left, labelColour, labelFill := 0, b.Color, hex(b.Color) // no label: the message's colour throughout
	if label != "" {
		lw = badgeTextWidth(label)
		left, labelColour, labelFill = lw+2*badgePadding, labelGrey, "#555"
	}
	right := mw + 2*badgePadding
	total := left + right
	messageMargin := left - 1
	if label == "" {
		messageMargin = 0
	}

	var buf bytes.Buffer
	buf.Grow(1024)
	b.open(&buf, total, height)
	if style == FlatSquare {
		buf.WriteString(`<g shape-rendering="crispEdges">`)
		fmt.Fprintf(&buf, `<rect width="%d" height="%d" fill="%s"/><rect x="%d" width="%d" height="%d" fill="%s"/></g>`,
			left, height, labelFill, left, right, height, hex(b.Color))
	} else {
		// ids derive from the content so that several badges inlined in one
		// HTML page do not clip each other.
		h := fnv.New32a()
		fmt.Fprintf(h, "%s\x00%s\x00%x", label, message, b.Color)
		if style != Flat {
			fmt.Fprintf(h, "\x00%d", style)
		}
		id := fmt.Sprintf("%08x", h.Sum32())
		if style == Plastic {
			fmt.Fprintf(&buf, `<linearGradient id="s%s" x2="0" y2="100%%"><stop offset="0" stop-color="#fff" stop-opacity=".7"/><stop offset=".1" stop-color="#aaa" stop-opacity=".1"/><stop offset=".9" stop-color="#000" stop-opacity=".3"/><stop offset="1" stop-color="#000" stop-opacity=".5"/></linearGradient>`, id)
		} else {
			fmt.Fprintf(&buf, `<linearGradient id="s%s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`, id)
		}
		fmt.Fprintf(&buf, `<clipPath id="r%s"><rect width="%d" height="%d" rx="%d" fill="#fff"/></clipPath>`, id, total, height, radius)
		fmt.Fprintf(&buf, `<g clip-path="url(#r%s)"><rect width="%d" height="%d" fill="%s"/><rect x="%d" width="%d" height="%d" fill="%s"/><rect width="%d" height="%d" fill="url(#s%s)"/></g>`,
			id, left, height, labelFill, left, right, height, hex(b.Color), total, height, id)
	}
	buf.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">`)
	if label != "" {
		// badge-maker nudges the label 1px right and the message 1px left.
		badgeText(&buf, label, 10*(1+badgePadding)+5*lw, textY, lw, labelColour, shadow)
	}
	badgeText(&buf, message, 10*(messageMargin+badgePadding)+5*mw, textY, mw, b.Color, shadow)
	buf.WriteString(`</g></svg>`)
	return buf.Bytes()
}

// open writes the svg element and its accessible name.
func (b BadgeText) open(buf *bytes.Buffer, width any, height int) {
	fmt.Fprintf(buf, `<svg xmlns="http://www.w3.org/2000/svg" width="%v" height="%d" role="img" aria-label="`, width, height)
	spoken := b.spoken()
	escape(buf, spoken)
	buf.WriteString(`"><title>`)
	escape(buf, spoken+b.About)
	buf.WriteString(`</title>`)
}

// badgeText writes a text, and its shadow when the style has one, at ten
// times scale as badge-maker does, for finer positioning than whole pixels.
func badgeText(b *bytes.Buffer, s string, x, y, width int, bg color.RGBA, shadow bool) {
	fg, shade := "#fff", "#010101"
	if light(bg) {
		fg, shade = "#333", "#ccc"
	}
	if shadow {
		fmt.Fprintf(b, `<text aria-hidden="true" x="%d" y="%d" fill="%s" fill-opacity=".3" transform="scale(.1)" textLength="%d">`, x, y+10, shade, 10*width)
		escape(b, s)
		b.WriteString(`</text>`)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" transform="scale(.1)" fill="%s" textLength="%d">`, x, y, fg, 10*width)
	escape(b, s)
	b.WriteString(`</text>`)
}

// Geometry of badge-maker's for-the-badge style.
const (
	ftbHeight        = 28
	ftbFont          = 10
	ftbMargin        = 12
	ftbLetterSpacing = 1.25
)

// ftbWidth is how wide for-the-badge sets s: the measured width truncated,
// plus the letter spacing of each character.
func ftbWidth(s string, bold bool) float64 {
	if s == "" {
		return 0
	}
	w := verdanaText(s, ftbFont)
	if bold {
		w = verdanaBoldText(s, ftbFont)
	}
	return math.Trunc(w) + ftbLetterSpacing*float64(len([]rune(s)))
}

// forTheBadge draws badge-maker's for-the-badge style: capitals, spaced
// out, the message bold, square, 28 high. Units keep their case.
func (b BadgeText) forTheBadge() []byte {
	label, message := strings.ToUpper(clean(b.Label)), b.message(true)
	lw, mw := ftbWidth(label, false), ftbWidth(message, true)
	left := 0.0
	messageX := float64(ftbMargin)
	if label != "" {
		left = ftbMargin + lw + ftbMargin
		messageX = left + ftbMargin
	}
	right := 2*ftbMargin + mw

	var buf bytes.Buffer
	buf.Grow(1024)
	b.open(&buf, num(left+right), ftbHeight)
	buf.WriteString(`<g shape-rendering="crispEdges">`)
	if label != "" {
		fmt.Fprintf(&buf, `<rect width="%s" height="%d" fill="%s"/><rect x="%s" width="%s" height="%d" fill="%s"/>`,
			num(left), ftbHeight, "#555", num(left), num(right), ftbHeight, hex(b.Color))
	} else {
		fmt.Fprintf(&buf, `<rect width="%s" height="%d" fill="%s"/>`, num(right), ftbHeight, hex(b.Color))
	}
	buf.WriteString(`</g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="100">`)
	if label != "" {
		fmt.Fprintf(&buf, `<text transform="scale(.1)" x="%s" y="175" textLength="%s" fill="%s">`, num(10*(ftbMargin+lw/2)), num(10*lw), textFill(labelGrey))
		escape(&buf, label)
		buf.WriteString(`</text>`)
	}
	fmt.Fprintf(&buf, `<text transform="scale(.1)" x="%s" y="175" textLength="%s" fill="%s" font-weight="bold">`, num(10*(messageX+mw/2)), num(10*mw), textFill(b.Color))
	escape(&buf, message)
	buf.WriteString(`</text></g></svg>`)
	return buf.Bytes()
}

// textFill is badge-maker's text colour on a background.
func textFill(bg color.RGBA) string {
	if light(bg) {
		return "#333"
	}
	return "#fff"
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// num formats a coordinate with at most two decimals, and never as "-0".
func num(v float64) string {
	v = math.Round(v*100) / 100
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Busy is a small grey image that stands in for a label or chart the
// server is too busy to draw for its caller now.
func Busy() *Drawing { return Problem("busy, retry soon") }

// Problem is a small grey image that stands in for a label or chart that
// cannot be drawn, saying why in a few words ("not rated", "pick a
// task"), so that a model card shows no broken picture.
func Problem(words string) *Drawing {
	const w, h = 220, 40
	text := "AI energy label: " + clean(words)
	d := &Drawing{width: w, height: h, title: text}
	d.rect(0, 0, w, h, labelGrey)
	d.boxed(w/2, 25, text, 12, false, middle, white, w-12)
	return d
}
