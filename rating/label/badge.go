package label

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image/color"
	"math"
	"strconv"
)

// Kind is what a badge shows.
type Kind int

const (
	// GradeBadge shows the A–G grade and Wh per 1,000 queries.
	GradeBadge Kind = iota
	// StarsBadge shows the AI Energy Score stars.
	StarsBadge
)

const badgeLabel = "AI energy"

// Badge draws a shields.io flat-style badge, "AI energy | B · 2.37 Wh/1k"
// or "AI energy | ★★★☆☆", as SVG.
func Badge(r Rating, kind Kind) []byte {
	wh := FormatNumber(r.WhPer1kQueries)
	if wh != Dash {
		wh += " Wh/1k"
	}
	var message, spoken string
	fill := grey
	switch kind {
	case StarsBadge:
		fill = starsBlue
		if n, ok := r.stars(); ok {
			message = starString(n)
			spoken = strconv.Itoa(n) + " of 5 stars"
		} else {
			message, spoken = "no stars", "no stars"
		}
	default:
		if g, ok := r.grade(); ok {
			fill = gradeColours[g]
			message = r.Grade + " · " + wh
		} else {
			message = "no grade · " + wh
		}
		spoken = message
	}
	return badge(badgeLabel, message, badgeLabel+": "+spoken, describe(r.Model, r.Task), fill)
}

// NotRated draws the grey "AI energy | not rated" badge that stands in for
// a model without a rating, so that a model card shows no broken image.
func NotRated(model string) []byte {
	return badge(badgeLabel, "not rated", badgeLabel+": not rated", describe(model, ""), grey)
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

// Badge geometry of badge-maker's flat style.
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

func badge(label, message, spoken, context string, fill color.RGBA) []byte {
	label, message = clean(label), clean(message)
	lw, mw := badgeTextWidth(label), badgeTextWidth(message)
	left := lw + 2*badgePadding
	right := mw + 2*badgePadding
	total := left + right

	// ids derive from the content so that several badges inlined in one
	// HTML page do not clip each other.
	h := fnv.New32a()
	fmt.Fprintf(h, "%s\x00%s\x00%x", label, message, fill)
	id := fmt.Sprintf("%08x", h.Sum32())

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="`, total, badgeHeight)
	escape(&b, spoken)
	b.WriteString(`"><title>`)
	escape(&b, spoken+context)
	b.WriteString(`</title>`)
	fmt.Fprintf(&b, `<linearGradient id="s%s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`, id)
	fmt.Fprintf(&b, `<clipPath id="r%s"><rect width="%d" height="%d" rx="3" fill="#fff"/></clipPath>`, id, total, badgeHeight)
	fmt.Fprintf(&b, `<g clip-path="url(#r%s)"><rect width="%d" height="%d" fill="#555"/><rect x="%d" width="%d" height="%d" fill="%s"/><rect width="%d" height="%d" fill="url(#s%s)"/></g>`,
		id, left, badgeHeight, left, right, badgeHeight, hex(fill), total, badgeHeight, id)
	b.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">`)
	// badge-maker nudges the label 1px right and the message 1px left.
	badgeText(&b, label, 10*(1+badgePadding)+5*lw, lw, color.RGBA{0x55, 0x55, 0x55, 0xff})
	badgeText(&b, message, 10*(left-1+badgePadding)+5*mw, mw, fill)
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

// badgeText writes a text and its shadow, at ten times scale as
// badge-maker does, for finer positioning than whole pixels.
func badgeText(b *bytes.Buffer, s string, x, width int, bg color.RGBA) {
	fg, shadow := "#fff", "#010101"
	if light(bg) {
		fg, shadow = "#333", "#ccc"
	}
	fmt.Fprintf(b, `<text aria-hidden="true" x="%d" y="150" fill="%s" fill-opacity=".3" transform="scale(.1)" textLength="%d">`, x, shadow, 10*width)
	escape(b, s)
	fmt.Fprintf(b, `</text><text x="%d" y="140" transform="scale(.1)" fill="%s" textLength="%d">`, x, fg, 10*width)
	escape(b, s)
	b.WriteString(`</text>`)
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
