package label

import (
	_ "embed"
	"encoding/base64"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/energylabel/energylabel/rating/label/internal/fontsubset"
)

// The label is set in DejaVu Sans (Bitstream Vera licence, with the
// DejaVu changes in the public domain; fonts/LICENSE), in both the PNG
// and the SVG: the PNG draws the bundled font, and the SVG carries the
// subset of it that its text needs as a WOFF @font-face, so that every
// viewer sets the same glyphs at the same advances as the layout
// measured them. fonts/README.md says how the bundled fonts were cut
// from DejaVu Sans 2.37.
//
// Text is set without kerning or ligatures: the subsets have no layout
// tables, so that a browser, like the PNG, places each glyph at the sum
// of the advances before it.
var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVuSans []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuSansBold []byte
)

// labelFontFace is the family name the SVG's @font-face rules give the
// embedded subsets.
const labelFontFace = "energylabel DejaVu Sans"

// labelFontFamily names the embedded face first, then the same face
// installed, then what looks most like it.
const labelFontFamily = "'" + labelFontFace + "', 'DejaVu Sans', Verdana, sans-serif"

// chartFontFamily is the charts' font stack: they are inlined in pages
// and carry no font of their own.
const chartFontFamily = "'DejaVu Sans', Verdana, sans-serif"

// typeface is a parsed font; it is never modified after parsing.
type typeface struct {
	font   *opentype.Font
	subset *fontsubset.Font
	upem   fixed.Int26_6
}

// faces parses the two embedded fonts once; the result is read-only.
var faces = sync.OnceValues(func() ([2]*typeface, error) {
	var out [2]*typeface
	for i, ttf := range [2][]byte{dejaVuSans, dejaVuSansBold} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return out, err
		}
		s, err := fontsubset.Parse(ttf)
		if err != nil {
			return out, err
		}
		out[i] = &typeface{font: f, subset: s, upem: fixed.Int26_6(f.UnitsPerEm())}
	}
	return out, nil
})

func face(bold bool) *typeface {
	fs, err := faces()
	if err != nil {
		// Unreachable: Label checks the fonts before it places any text.
		panic("label: embedded font: " + err.Error())
	}
	if bold {
		return fs[1]
	}
	return fs[0]
}

// layout returns where each rune of s starts, and the width of s, when s
// is set at size: the sum of the advances, without kerning. Measuring at
// ppem = units per em gives the font's exact design units, so the result
// does not depend on hinting or rounding at any one pixel size. A rune
// the font lacks takes the advance of its .notdef glyph, which both the
// PNG and the SVG's font draw for it.
func (t *typeface) layout(s string, size float64) (starts []float64, width float64) {
	var buf sfnt.Buffer
	starts = make([]float64, 0, len(s))
	scale := size / float64(t.upem)
	pen := 0.0
	for _, r := range s {
		g, err := t.font.GlyphIndex(&buf, r)
		if err != nil {
			g = 0
		}
		starts = append(starts, pen)
		if a, err := t.font.GlyphAdvance(&buf, g, t.upem<<6, font.HintingNone); err == nil {
			pen += float64(a) / 64 * scale
		}
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

// fontFace is the @font-face rule of the subset of t that sets runes, as
// WOFF in a data URI; "" when there is nothing to set.
func (t *typeface) fontFace(runes []rune, bold bool) (string, error) {
	if len(runes) == 0 {
		return "", nil
	}
	ttf, err := t.subset.Subset(runes)
	if err != nil {
		return "", err
	}
	woff, err := fontsubset.WOFF(ttf)
	if err != nil {
		return "", err
	}
	weight := "400"
	if bold {
		weight = "700"
	}
	return `@font-face{font-family:"` + labelFontFace + `";font-weight:` + weight +
		`;src:url(data:font/woff;base64,` + base64.StdEncoding.EncodeToString(woff) + `) format("woff")}`, nil
}
