package label

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// PNGScale is how many PNG pixels a unit of the drawing takes, so that the
// label stays sharp on high-density screens.
const PNGScale = 2

// PNG rasterises the drawing at PNGScale.
func (d *Drawing) PNG() ([]byte, error) {
	c := d.raster(PNGScale, nil)
	defer canvases.Put(c)
	if c.err != nil {
		return nil, c.err
	}
	var b bytes.Buffer
	if err := pngEncoder.Encode(&b, c.img); err != nil {
		return nil, fmt.Errorf("label png: %w", err)
	}
	return b.Bytes(), nil
}

// A label's pixels and the rasteriser's coverage buffer are megabytes,
// its encoder's buffers hundreds of kilobytes: they are reused from one
// rendering to the next, so that a server drawing labels does not make
// the garbage collector run for everyone else.
var (
	canvases   sync.Pool
	pngEncoder = png.Encoder{BufferPool: &encoderBuffers{}}
)

type encoderBuffers struct{ p sync.Pool }

func (e *encoderBuffers) Get() *png.EncoderBuffer {
	b, _ := e.p.Get().(*png.EncoderBuffer)
	return b
}

func (e *encoderBuffers) Put(b *png.EncoderBuffer) { e.p.Put(b) }

// canvas is the state of one rasterisation.
type canvas struct {
	img   *image.RGBA
	scale float64
	z     vector.Rasterizer
	faces map[faceKey]font.Face
	err   error
	// drawn, when not nil, records each text as it is drawn, for tests.
	drawn *[]drawnText
}

// drawnText is where the rasteriser put a text, in drawing units: from
// the pen's first position to its last plus the last glyph's advance, as
// the face at PNG size measures it, and the box its glyphs' ink covers.
type drawnText struct {
	s           string
	size        float64
	bold        bool
	left, right float64
	baseline    float64
	ink         image.Rectangle // in PNG pixels; empty for blank text
}

type faceKey struct {
	bold bool
	size float64
}

// raster paints the drawing on a canvas from the pool, which the caller
// puts back once done with its image. drawn, when not nil, records where
// each text went.
func (d *Drawing) raster(scale float64, drawn *[]drawnText) *canvas {
	w, h := int(math.Ceil(d.width*scale)), int(math.Ceil(d.height*scale))
	c, _ := canvases.Get().(*canvas)
	if c == nil || c.img.Rect.Dx() != w || c.img.Rect.Dy() != h {
		c = &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h))}
	}
	c.scale, c.faces, c.err, c.drawn = scale, map[faceKey]font.Face{}, nil, drawn
	draw.Draw(c.img, c.img.Bounds(), image.White, image.Point{}, draw.Src)
	for _, it := range d.items {
		it.paint(c)
	}
	for _, f := range c.faces {
		f.Close()
	}
	c.faces, c.drawn = nil, nil
	return c
}

// fill blends colour into the pixel at x, y with coverage a in [0, 1].
func (c *canvas) fill(x, y int, col color.RGBA, a float64) {
	if !image.Pt(x, y).In(c.img.Rect) || a <= 0 {
		return
	}
	i := c.img.PixOffset(x, y)
	p := c.img.Pix[i : i+4 : i+4]
	k := uint32(math.Round(a * float64(col.A)))
	for j, s := range [3]uint8{col.R, col.G, col.B} {
		p[j] = uint8((uint32(s)*k + uint32(p[j])*(255-k) + 127) / 255)
	}
	p[3] = uint8((255*k + uint32(p[3])*(255-k) + 127) / 255)
}

// paint fills the rectangle with exact area coverage. Axis-aligned shapes
// are most of the label, and computing them directly keeps their edges
// crisp and the output identical on every architecture.
func (r rect) paint(c *canvas) {
	x0, y0 := r.x*c.scale, r.y*c.scale
	x1, y1 := (r.x+r.w)*c.scale, (r.y+r.h)*c.scale
	b := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1))).Intersect(c.img.Rect)
	for py := b.Min.Y; py < b.Max.Y; py++ {
		cy := math.Min(y1, float64(py+1)) - math.Max(y0, float64(py))
		for px := b.Min.X; px < b.Max.X; px++ {
			cx := math.Min(x1, float64(px+1)) - math.Max(x0, float64(px))
			if a := cx * cy; a >= 1 && r.fill.A == 0xff {
				i := c.img.PixOffset(px, py)
				copy(c.img.Pix[i:i+4], []uint8{r.fill.R, r.fill.G, r.fill.B, 0xff})
			} else {
				c.fill(px, py, r.fill, a)
			}
		}
	}
}

func (p polygon) paint(c *canvas) {
	if len(p.pts) < 3 {
		return
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, q := range p.pts {
		minX, maxX = math.Min(minX, q.x), math.Max(maxX, q.x)
		minY, maxY = math.Min(minY, q.y), math.Max(maxY, q.y)
	}
	b := image.Rect(
		int(math.Floor(minX*c.scale)), int(math.Floor(minY*c.scale)),
		int(math.Ceil(maxX*c.scale)), int(math.Ceil(maxY*c.scale)),
	).Intersect(c.img.Rect)
	if b.Empty() {
		return
	}
	// A rasteriser the size of the shape, not the image, also keeps it on
	// vector's fixed-point path, which is exact on every architecture.
	c.z.Reset(b.Dx(), b.Dy())
	ox, oy := float64(b.Min.X), float64(b.Min.Y)
	for i, q := range p.pts {
		x, y := float32(q.x*c.scale-ox), float32(q.y*c.scale-oy)
		if i == 0 {
			c.z.MoveTo(x, y)
		} else {
			c.z.LineTo(x, y)
		}
	}
	c.z.ClosePath()
	c.z.Draw(c.img, b, image.NewUniform(p.fill), image.Point{})
}

func (t text) paint(c *canvas) {
	tf := face(t.bold)
	key := faceKey{t.bold, t.size}
	f, ok := c.faces[key]
	if !ok {
		var err error
		f, err = opentype.NewFace(tf.font, &opentype.FaceOptions{Size: t.size * c.scale, DPI: 72, Hinting: font.HintingNone})
		if err != nil {
			c.err = fmt.Errorf("label font: %w", err)
			return
		}
		c.faces[key] = f
	}
	x := t.x
	switch t.anchor {
	case middle:
		x -= t.width / 2
	case end:
		x -= t.width
	}
	// Each glyph goes where the layout measured it, to the 64th of a
	// pixel, so anchored and cut text lands exactly as the SVG places it.
	src := image.NewUniform(t.fill)
	starts, _ := tf.layout(t.s, t.size)
	rec := drawnText{s: t.s, size: t.size, bold: t.bold, baseline: t.y}
	i := 0
	for _, r := range t.s {
		dot := fixed.Point26_6{
			X: fixed.Int26_6(math.Round((x + starts[i]) * c.scale * 64)),
			Y: fixed.Int26_6(math.Round(t.y * c.scale * 64)),
		}
		if i == 0 {
			rec.left = float64(dot.X) / 64 / c.scale
		}
		i++
		dr, mask, mp, advance, ok := f.Glyph(dot, r)
		if ok {
			draw.DrawMask(c.img, dr, src, image.Point{}, mask, mp, draw.Over)
			if !dr.Empty() {
				rec.ink = rec.ink.Union(dr)
			}
		}
		rec.right = float64(dot.X+advance) / 64 / c.scale
	}
	if c.drawn != nil {
		*c.drawn = append(*c.drawn, rec)
	}
}

func (q qr) paint(c *canvas) {
	for y, row := range q.bits {
		for x, dark := range row {
			if dark {
				rect{q.x + float64(x)*q.module, q.y + float64(y)*q.module, q.module, q.module, color.RGBA{0, 0, 0, 0xff}}.paint(c)
			}
		}
	}
}
