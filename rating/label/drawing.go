package label

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/color"
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

// fallbackRatio is how much wider than Go the widest likely fallback font,
// Verdana, sets the same text.
const fallbackRatio = 1.25

// SVG emits the drawing as a standalone SVG document.
func (d *Drawing) SVG() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="`,
		num(d.width), num(d.height), num(d.width), num(d.height))
	escape(&b, d.title)
	b.WriteString(`"><title>`)
	escape(&b, d.title)
	b.WriteString("</title>\n")
	fmt.Fprintf(&b, `<g font-family="%s" shape-rendering="geometricPrecision">`+"\n", labelFontFamily)
	for _, it := range d.items {
		it.svg(&b)
		b.WriteByte('\n')
	}
	b.WriteString("</g></svg>\n")
	return b.Bytes()
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
	if t.max > 0 && t.width*fallbackRatio > t.max {
		// Most viewers lack the Go fonts; pin text that would overflow its
		// box in a wider fallback to the width the layout measured.
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
