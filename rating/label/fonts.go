package label

import (
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// The label is set in the Go fonts, which are embedded, so that the PNG
// needs no system fonts and the SVG names them first to look the same.
const labelFontFamily = "Go, DejaVu Sans, Verdana, sans-serif"

// typeface is a parsed font; it is never modified after parsing.
type typeface struct {
	font *opentype.Font
	upem fixed.Int26_6
}

// faces parses the two embedded fonts once; the result is read-only.
var faces = sync.OnceValues(func() ([2]*typeface, error) {
	var out [2]*typeface
	for i, ttf := range [2][]byte{goregular.TTF, gobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return out, err
		}
		out[i] = &typeface{font: f, upem: fixed.Int26_6(f.UnitsPerEm())}
	}
	return out, nil
})

func face(bold bool) *typeface {
	fs, err := faces()
	if err != nil {
		// Unreachable: Label checks the fonts before it places any text.
		panic("label: embedded Go font: " + err.Error())
	}
	if bold {
		return fs[1]
	}
	return fs[0]
}

// layout returns where each rune of s starts, and the width of s, when s
// is set at size, kerning included. Measuring at ppem = units per em gives
// the font's exact design units, so the result does not depend on hinting
// or rounding at any one pixel size.
func (t *typeface) layout(s string, size float64) (starts []float64, width float64) {
	var buf sfnt.Buffer
	starts = make([]float64, 0, len(s))
	scale := size / float64(t.upem)
	pen := 0.0
	prev, hasPrev := sfnt.GlyphIndex(0), false
	for _, r := range s {
		g, err := t.font.GlyphIndex(&buf, r)
		if err != nil {
			g = 0
		}
		if hasPrev {
			if k, err := t.font.Kern(&buf, prev, g, t.upem<<6, font.HintingNone); err == nil {
				pen += float64(k) / 64 * scale
			}
		}
		starts = append(starts, pen)
		if a, err := t.font.GlyphAdvance(&buf, g, t.upem<<6, font.HintingNone); err == nil {
			pen += float64(a) / 64 * scale
		}
		prev, hasPrev = g, true
	}
	return starts, pen
}

// width is the advance width of s set at size.
func (t *typeface) width(s string, size float64) float64 {
	_, w := t.layout(s, size)
	return w
}

// fit shortens s with an ellipsis until it is at most max wide.
func (t *typeface) fit(s string, size, max float64) string {
	starts, w := t.layout(s, size)
	if w <= max {
		return s
	}
	ell := t.width("…", size)
	rs := []rune(s)
	// starts[n] is where rune n begins: the width of the first n runes.
	n := len(rs) - 1
	for n > 0 && starts[n]+ell > max {
		n--
	}
	return strings.TrimRight(string(rs[:n]), " ") + "…"
}
