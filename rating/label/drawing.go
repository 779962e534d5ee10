package label

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/color"
	"slices"
	"strings"
)

// Drawing is a label drawn once as a display list, to be emitted as SVG or
// PNG so that both show the same thing.
type Drawing struct {
	width, height float64
	// title is the drawing's accessible name.
	title string
	items []item
}

// Size is the drawing's size in SVG user units; the PNG is PNGScale times
// larger.
func (d *Drawing) Size() (width, height float64) { return d.width, d.height }

// item is one primitive of the display list.
type item interface {
	svg(b *bytes.Buffer)
	paint(c *canvas)
}

type point struct{ x, y float64 }

type rect struct {
	x, y, w, h float64
	fill       color.RGBA
}

type polygon struct {
	pts  []point
	fill color.RGBA
}

type anchor int

const (
	start anchor = iota
	middle
	end
)

// text is one line of text. Its width is measured when it is placed, so
// the SVG can pin it with textLength and the PNG can anchor it.
type text struct {
	x, y   float64 // y is the baseline
	s      string
	size   float64
	bold   bool
	anchor anchor
	fill   color.RGBA
	width  float64
	// max is the width of the text's box, 0 when it has room to spare.
	max float64
}

// qr is a QR code whose modules are squares of side module, top left at x, y.
type qr struct {
	x, y, module float64
	bits         [][]bool
}

func (d *Drawing) add(it item) { d.items = append(d.items, it) }

func (d *Drawing) rect(x, y, w, h float64, fill color.RGBA) {
	d.add(rect{x, y, w, h, fill})
}

func (d *Drawing) polygon(fill color.RGBA, pts ...point) { d.add(polygon{pts, fill}) }

// text places a line of text that has room to spare; s must be clean.
func (d *Drawing) text(x, y float64, s string, size float64, bold bool, a anchor, fill color.RGBA) {
	d.add(text{x: x, y: y, s: s, size: size, bold: bold, anchor: a, fill: fill, width: face(bold).width(s, size)})
}

// boxed places a line of text in a box max wide, cutting it to fit.
func (d *Drawing) boxed(x, y float64, s string, size float64, bold bool, a anchor, fill color.RGBA, max float64) {
	tf := face(bold)
	s = tf.fit(s, size, max)
	d.add(text{x: x, y: y, s: s, size: size, bold: bold, anchor: a, fill: fill, width: tf.width(s, size), max: max})
}

// fallbackRatio is how much wider than DejaVu Sans the widest likely
// fallback font, Verdana, sets the same text, in a viewer that does not
// load the SVG's own font.
const fallbackRatio = 1.1

// SVG emits the drawing as a standalone SVG document.
func (d *Drawing) SVG() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="`,
		num(d.width), num(d.height), num(d.width), num(d.height))
	escape(&b, d.title)
	b.WriteString(`"><title>`)
	escape(&b, d.title)
	b.WriteString("</title>\n")
	if css := d.fontFaces(); css != "" {
		b.WriteString("<defs><style>")
		b.WriteString(css)
		b.WriteString("</style></defs>\n")
	}
	fmt.Fprintf(&b, `<g font-family="%s" shape-rendering="geometricPrecision">`+"\n", escapeAttr(labelFontFamily))
	for _, it := range d.items {
		it.svg(&b)
		b.WriteByte('\n')
	}
	b.WriteString("</g></svg>\n")
	return b.Bytes()
}

// fontFaces is the @font-face rules of the subsets of the label's font
// that set the drawing's text, regular and bold; "" when there is no
// text, or should the fonts fail, whose fallbacks the SVG names.
func (d *Drawing) fontFaces() string {
	var used [2]map[rune]bool
	for _, it := range d.items {
		t, ok := it.(text)
		if !ok {
			continue
		}
		i := 0
		if t.bold {
			i = 1
		}
		if used[i] == nil {
			used[i] = map[rune]bool{}
		}
		for _, r := range t.s {
			used[i][r] = true
		}
	}
	if _, err := faces(); err != nil {
		return ""
	}
	var css strings.Builder
	for i, set := range used {
		runes := make([]rune, 0, len(set))
		for r := range set {
			runes = append(runes, r)
		}
		slices.Sort(runes)
		rule, err := face(i == 1).fontFace(runes, i == 1)
		if err != nil {
			return ""
		}
		css.WriteString(rule)
	}
	return css.String()
}

// escapeAttr is s escaped for an attribute value.
func escapeAttr(s string) string {
	var b bytes.Buffer
	escape(&b, s)
	return b.String()
}

func (r rect) svg(b *bytes.Buffer) {
	fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`, num(r.x), num(r.y), num(r.w), num(r.h), hex(r.fill))
}

func (p polygon) svg(b *bytes.Buffer) {
	pts := make([]string, len(p.pts))
	for i, q := range p.pts {
		pts[i] = num(q.x) + "," + num(q.y)
	}
	fmt.Fprintf(b, `<polygon points="%s" fill="%s"/>`, strings.Join(pts, " "), hex(p.fill))
}

func (t text) svg(b *bytes.Buffer) {
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s"`, num(t.x), num(t.y), num(t.size))
	if t.bold {
		b.WriteString(` font-weight="bold"`)
	}
	switch t.anchor {
	case middle:
		b.WriteString(` text-anchor="middle"`)
	case end:
		b.WriteString(` text-anchor="end"`)
	}
	fmt.Fprintf(b, ` fill="%s"`, hex(t.fill))
	if strings.HasPrefix(t.s, " ") || strings.HasSuffix(t.s, " ") || strings.Contains(t.s, "  ") {
		// SVG drops such spaces unless told to keep them, and the PNG
		// keeps them.
		b.WriteString(` xml:space="preserve"`)
	}
	if t.max > 0 && t.width*fallbackRatio > t.max {
		// A viewer that does not load the SVG's font sets it in a fallback:
		// pin text that would overflow its box in a wider one to the width
		// the layout measured.
		fmt.Fprintf(b, ` textLength="%s" lengthAdjust="spacingAndGlyphs"`, num(t.width))
	}
	b.WriteString(">")
	escape(b, t.s)
	b.WriteString(`</text>`)
}

func (q qr) svg(b *bytes.Buffer) {
	// One path in module units, scaled, keeps the SVG small and leaves no
	// hairline seams between neighbouring modules.
	fmt.Fprintf(b, `<path transform="translate(%s %s) scale(%s)" fill="#000" shape-rendering="crispEdges" d="`, num(q.x), num(q.y), num(q.module))
	for y, row := range q.bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	b.WriteString(`"/>`)
}

// escape writes s as XML character data, safe in text and in attributes.
func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(clean(s)))
}
