// Package fontsubset cuts a TrueType font down to the glyphs some text
// needs, and wraps a font as WOFF, so that an SVG can carry the very
// font it was laid out with.
//
// A subset keeps the outlines, advances and names of the glyphs it holds
// and the tables every TrueType font must have (cmap, glyf, head, hhea,
// hmtx, loca, maxp, name, OS/2, post). It drops hinting instructions and
// every layout table (kern, GPOS, GSUB): text set in a subset gets no
// kerning and no ligatures, in a browser as in any other renderer, so
// that all of them place each glyph at the sum of the advances before it.
package fontsubset

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/image/font/sfnt"
)

// Font is a parsed TrueType font; it is never modified after parsing.
type Font struct {
	tables    map[string][]byte
	numGlyphs int
	// glyphs holds each glyph's data, sliced from glyf by loca.
	glyphs [][]byte
	// advances and lsbs are each glyph's horizontal metrics.
	advances, lsbs []uint16
	sfnt           *sfnt.Font
}

var be = binary.BigEndian

// Parse reads a TrueType font: one with glyf outlines, not CFF.
func Parse(b []byte) (*Font, error) {
	if len(b) < 12 {
		return nil, errors.New("fontsubset: font too short")
	}
	if v := be.Uint32(b); v != 0x00010000 && v != 0x74727565 { // 1.0 or "true"
		return nil, fmt.Errorf("fontsubset: not a TrueType font (version %#x)", v)
	}
	f := &Font{tables: map[string][]byte{}}
	n := int(be.Uint16(b[4:]))
	if len(b) < 12+16*n {
		return nil, errors.New("fontsubset: table directory truncated")
	}
	for i := range n {
		rec := b[12+16*i:]
		tag := string(rec[:4])
		off, length := be.Uint32(rec[8:]), be.Uint32(rec[12:])
		if uint64(off)+uint64(length) > uint64(len(b)) {
			return nil, fmt.Errorf("fontsubset: table %q runs past the end", tag)
		}
		f.tables[tag] = b[off : off+length]
	}
	for _, tag := range []string{"cmap", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "OS/2", "post"} {
		if f.tables[tag] == nil {
			return nil, fmt.Errorf("fontsubset: no %q table", tag)
		}
	}
	head, hhea, maxp := f.tables["head"], f.tables["hhea"], f.tables["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 || len(f.tables["post"]) < 32 {
		return nil, errors.New("fontsubset: head, hhea, maxp or post truncated")
	}
	f.numGlyphs = int(be.Uint16(maxp[4:]))
	long := be.Uint16(head[50:]) == 1
	loca, glyf := f.tables["loca"], f.tables["glyf"]
	offset := func(i int) (int, bool) {
		if long {
			if 4*i+4 > len(loca) {
				return 0, false
			}
			return int(be.Uint32(loca[4*i:])), true
		}
		if 2*i+2 > len(loca) {
			return 0, false
		}
		return 2 * int(be.Uint16(loca[2*i:])), true
	}
	f.glyphs = make([][]byte, f.numGlyphs)
	for i := range f.glyphs {
		a, ok1 := offset(i)
		z, ok2 := offset(i + 1)
		if !ok1 || !ok2 || a > z || z > len(glyf) {
			return nil, fmt.Errorf("fontsubset: glyph %d's loca entry is out of range", i)
		}
		f.glyphs[i] = glyf[a:z]
	}
	nh := int(be.Uint16(hhea[34:]))
	hmtx := f.tables["hmtx"]
	if nh < 1 || nh > f.numGlyphs || len(hmtx) < 4*nh+2*(f.numGlyphs-nh) {
		return nil, errors.New("fontsubset: hmtx truncated")
	}
	f.advances, f.lsbs = make([]uint16, f.numGlyphs), make([]uint16, f.numGlyphs)
	for i := range f.numGlyphs {
		if i < nh {
			f.advances[i], f.lsbs[i] = be.Uint16(hmtx[4*i:]), be.Uint16(hmtx[4*i+2:])
		} else {
			f.advances[i], f.lsbs[i] = f.advances[nh-1], be.Uint16(hmtx[4*nh+2*(i-nh):])
		}
	}
	s, err := sfnt.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("fontsubset: %w", err)
	}
	f.sfnt = s
	return f, nil
}

// GlyphIndex is the glyph the font maps r to, 0 (.notdef) when none.
func (f *Font) GlyphIndex(r rune) uint16 {
	var buf sfnt.Buffer
	g, err := f.sfnt.GlyphIndex(&buf, r)
	if err != nil {
		return 0
	}
	return uint16(g)
}

// Composite glyph flags.
const (
	arg1And2AreWords    = 0x0001
	weHaveAScale        = 0x0008
	moreComponents      = 0x0020
	weHaveAnXAndYScale  = 0x0040
	weHaveATwoByTwo     = 0x0080
	weHaveInstructions  = 0x0100
	compositeHeaderSize = 10
)

// components returns the glyphs a composite glyph is made of, and where
// each one's index sits in g; nothing for a simple or empty glyph.
func components(g []byte) (ids []uint16, at []int, end int, err error) {
	if len(g) < compositeHeaderSize || int16(be.Uint16(g)) >= 0 {
		return nil, nil, 0, nil
	}
	p := compositeHeaderSize
	for {
		if p+4 > len(g) {
			return nil, nil, 0, errors.New("fontsubset: composite glyph truncated")
		}
		flags := be.Uint16(g[p:])
		ids, at = append(ids, be.Uint16(g[p+2:])), append(at, p+2)
		p += 4
		if flags&arg1And2AreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&weHaveAScale != 0:
			p += 2
		case flags&weHaveAnXAndYScale != 0:
			p += 4
		case flags&weHaveATwoByTwo != 0:
			p += 8
		}
		if p > len(g) {
			return nil, nil, 0, errors.New("fontsubset: composite glyph truncated")
		}
		if flags&moreComponents == 0 {
			return ids, at, p, nil
		}
	}
}

// Subset returns a TrueType font that holds .notdef and the glyphs the
// font maps runes to (and the glyphs those are composed of), and maps
// each of those runes to its glyph. Runes the font has no glyph for are
// left out. Glyphs keep their order, outlines and metrics.
func (f *Font) Subset(runes []rune) ([]byte, error) {
	type mapping struct {
		r   rune
		old uint16
	}
	var maps []mapping
	keep := map[uint16]bool{0: true}
	for _, r := range runes {
		if g := f.GlyphIndex(r); g != 0 && int(g) < f.numGlyphs {
			maps = append(maps, mapping{r, g})
			keep[g] = true
		}
	}
	// Components, and their components.
	for queue := slices.Collect(mapKeys(keep)); len(queue) > 0; {
		g := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		ids, _, _, err := components(f.glyphs[g])
		if err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
		for _, c := range ids {
			if int(c) >= f.numGlyphs {
				return nil, fmt.Errorf("fontsubset: glyph %d has component %d, out of range", g, c)
			}
			if !keep[c] {
				keep[c] = true
				queue = append(queue, c)
			}
		}
	}
	olds := slices.Sorted(mapKeys(keep))
	newID := make(map[uint16]uint16, len(olds))
	for i, g := range olds {
		newID[g] = uint16(i)
	}

	// glyf and loca (long offsets), without instructions.
	var glyf bytes.Buffer
	loca := make([]byte, 4*(len(olds)+1))
	for i, g := range olds {
		be.PutUint32(loca[4*i:], uint32(glyf.Len()))
		data, err := f.stripped(g, newID)
		if err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
		glyf.Write(data)
		for glyf.Len()%4 != 0 {
			glyf.WriteByte(0)
		}
	}
	be.PutUint32(loca[4*len(olds):], uint32(glyf.Len()))

	hmtx := make([]byte, 4*len(olds))
	for i, g := range olds {
		be.PutUint16(hmtx[4*i:], f.advances[g])
		be.PutUint16(hmtx[4*i+2:], f.lsbs[g])
	}
	head := slices.Clone(f.tables["head"][:54])
	be.PutUint32(head[8:], 0)  // checkSumAdjustment, set last
	be.PutUint16(head[50:], 1) // indexToLocFormat: long
	hhea := slices.Clone(f.tables["hhea"][:36])
	be.PutUint16(hhea[34:], uint16(len(olds)))
	maxp := slices.Clone(f.tables["maxp"])
	be.PutUint16(maxp[4:], uint16(len(olds)))
	if len(maxp) >= 32 && be.Uint32(maxp) == 0x00010000 {
		be.PutUint16(maxp[26:], 0) // maxSizeOfInstructions
	}
	post := slices.Clone(f.tables["post"][:32])
	be.PutUint32(post, 0x00030000) // no glyph names

	cmapEntries := make(map[rune]uint16, len(maps))
	first, last := rune(0xFFFF), rune(0)
	for _, m := range maps {
		cmapEntries[m.r] = newID[m.old]
		first, last = min(first, m.r), max(last, m.r)
	}
	os2 := slices.Clone(f.tables["OS/2"])
	if len(os2) >= 68 && len(maps) > 0 {
		be.PutUint16(os2[64:], uint16(min(first, 0xFFFF)))
		be.PutUint16(os2[66:], uint16(min(last, 0xFFFF)))
	}
	name, err := f.names()
	if err != nil {
		return nil, err
	}
	return assemble(map[string][]byte{
		"cmap": cmap(cmapEntries), "glyf": glyf.Bytes(), "head": head, "hhea": hhea, "hmtx": hmtx,
		"loca": loca, "maxp": maxp, "name": name, "OS/2": os2, "post": post,
	}), nil
}

func mapKeys(m map[uint16]bool) func(func(uint16) bool) {
	return func(yield func(uint16) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// stripped is glyph g without its hinting instructions, its components
// renumbered.
func (f *Font) stripped(g uint16, newID map[uint16]uint16) ([]byte, error) {
	data := f.glyphs[g]
	if len(data) == 0 {
		return nil, nil
	}
	if len(data) < compositeHeaderSize {
		return nil, errors.New("fontsubset: glyph header truncated")
	}
	contours := int16(be.Uint16(data))
	if contours >= 0 {
		// Header, endPtsOfContours, instructionLength, instructions, the rest.
		p := compositeHeaderSize + 2*int(contours)
		if p+2 > len(data) {
			return nil, errors.New("fontsubset: simple glyph truncated")
		}
		n := int(be.Uint16(data[p:]))
		if p+2+n > len(data) {
			return nil, errors.New("fontsubset: glyph instructions truncated")
		}
		out := make([]byte, 0, len(data)-n)
		out = append(out, data[:p]...)
		out = append(out, 0, 0)
		return append(out, data[p+2+n:]...), nil
	}
	ids, at, end, err := components(data)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(data[:end])
	for i, id := range ids {
		be.PutUint16(out[at[i]:], newID[id])
		flags := be.Uint16(out[at[i]-2:])
		be.PutUint16(out[at[i]-2:], flags&^weHaveInstructions)
	}
	return out, nil
}

// The names a subset keeps: copyright, family, subfamily, unique id, full
// name, version, PostScript name, licence and licence URL, in their
// Windows Unicode records. The font's licence asks that its notices go
// with every copy.
var keptNames = []uint16{0, 1, 2, 3, 4, 5, 6, 13, 14}

// names rebuilds the name table from the records a subset keeps.
func (f *Font) names() ([]byte, error) {
	t := f.tables["name"]
	if len(t) < 6 {
		return nil, errors.New("fontsubset: name table truncated")
	}
	count, storage := int(be.Uint16(t[2:])), int(be.Uint16(t[4:]))
	if len(t) < 6+12*count {
		return nil, errors.New("fontsubset: name records truncated")
	}
	type record struct {
		platform, encoding, language, id uint16
		s                                []byte
	}
	var recs []record
	for i := range count {
		r := t[6+12*i:]
		platform, encoding, language, id := be.Uint16(r), be.Uint16(r[2:]), be.Uint16(r[4:]), be.Uint16(r[6:])
		length, off := int(be.Uint16(r[8:])), int(be.Uint16(r[10:]))
		if platform != 3 || encoding != 1 || !slices.Contains(keptNames, id) {
			continue
		}
		if storage+off+length > len(t) {
			return nil, errors.New("fontsubset: name string out of range")
		}
		recs = append(recs, record{platform, encoding, language, id, t[storage+off : storage+off+length]})
	}
	var out, strs bytes.Buffer
	w := func(v uint16) { _ = binary.Write(&out, be, v) }
	w(0)
	w(uint16(len(recs)))
	w(uint16(6 + 12*len(recs)))
	for _, r := range recs {
		w(r.platform)
		w(r.encoding)
		w(r.language)
		w(r.id)
		w(uint16(len(r.s)))
		w(uint16(strs.Len()))
		strs.Write(r.s)
	}
	out.Write(strs.Bytes())
	return out.Bytes(), nil
}

// cmap is a cmap table with one subtable, format 4 for the Windows
// Unicode BMP encoding. Runes beyond the Basic Multilingual Plane are
// left out.
func cmap(m map[rune]uint16) []byte {
	codes := slices.Sorted(func(yield func(rune) bool) {
		for r := range m {
			if r <= 0xFFFF && !yield(r) {
				return
			}
		}
	})
	// Segments of consecutive codes whose glyphs are consecutive too.
	type segment struct {
		start, end rune
		delta      int
	}
	var segs []segment
	for _, r := range codes {
		d := int(m[r]) - int(r)
		if n := len(segs); n > 0 && segs[n-1].end == r-1 && segs[n-1].delta == d {
			segs[n-1].end = r
			continue
		}
		segs = append(segs, segment{r, r, d})
	}
	if n := len(segs); n == 0 || segs[n-1].end != 0xFFFF {
		segs = append(segs, segment{0xFFFF, 0xFFFF, 1}) // the required last segment
	}
	segX2 := 2 * len(segs)
	searchRange, entrySelector := 2, 0
	for searchRange*2 <= segX2 {
		searchRange *= 2
		entrySelector++
	}
	var out bytes.Buffer
	w := func(v uint16) { _ = binary.Write(&out, be, v) }
	// The header and the one encoding record.
	w(0)
	w(1)
	w(3)
	w(1)
	_ = binary.Write(&out, be, uint32(12))
	w(4)
	w(uint16(16 + 8*len(segs))) // length
	w(0)                        // language
	w(uint16(segX2))
	w(uint16(searchRange))
	w(uint16(entrySelector))
	w(uint16(segX2 - searchRange))
	for _, s := range segs {
		w(uint16(s.end))
	}
	w(0) // reservedPad
	for _, s := range segs {
		w(uint16(s.start))
	}
	for _, s := range segs {
		w(uint16(s.delta)) // modulo 65536
	}
	for range segs {
		w(0) // idRangeOffset
	}
	return out.Bytes()
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var word [4]byte
		copy(word[:], b[i:])
		sum += be.Uint32(word[:])
	}
	return sum
}

func pad4(n int) int { return (n + 3) &^ 3 }

// assemble writes tables as a TrueType font, in tag order, each on a
// 4-byte boundary, with head's checkSumAdjustment set.
func assemble(tables map[string][]byte) []byte {
	tags := slices.Sorted(func(yield func(string) bool) {
		for t := range tables {
			if !yield(t) {
				return
			}
		}
	})
	n := len(tags)
	searchRange, entrySelector := 1, 0
	for searchRange*2 <= n {
		searchRange *= 2
		entrySelector++
	}
	size := 12 + 16*n
	for _, t := range tags {
		size += pad4(len(tables[t]))
	}
	out := make([]byte, size)
	be.PutUint32(out, 0x00010000)
	be.PutUint16(out[4:], uint16(n))
	be.PutUint16(out[6:], uint16(16*searchRange))
	be.PutUint16(out[8:], uint16(entrySelector))
	be.PutUint16(out[10:], uint16(16*(n-searchRange)))
	off, headAt := 12+16*n, 0
	for i, t := range tags {
		data := tables[t]
		if t == "head" && len(data) >= 12 {
			// Its checksum is taken with checkSumAdjustment 0.
			data = slices.Clone(data)
			be.PutUint32(data[8:], 0)
		}
		rec := out[12+16*i:]
		copy(rec, t)
		be.PutUint32(rec[4:], checksum(data))
		be.PutUint32(rec[8:], uint32(off))
		be.PutUint32(rec[12:], uint32(len(data)))
		copy(out[off:], data)
		if t == "head" {
			headAt = off
		}
		off += pad4(len(data))
	}
	be.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	return out
}

// WOFF wraps a TrueType font as WOFF 1.0, each table compressed with
// zlib where that makes it smaller, as browsers load web fonts.
func WOFF(ttf []byte) ([]byte, error) {
	if len(ttf) < 12 {
		return nil, errors.New("fontsubset: font too short")
	}
	n := int(be.Uint16(ttf[4:]))
	if len(ttf) < 12+16*n {
		return nil, errors.New("fontsubset: table directory truncated")
	}
	type entry struct {
		tag               []byte
		checksum, origLen uint32
		data              []byte
	}
	entries := make([]entry, n)
	total := 12 + 16*n
	for i := range entries {
		rec := ttf[12+16*i:]
		off, length := be.Uint32(rec[8:]), be.Uint32(rec[12:])
		if uint64(off)+uint64(length) > uint64(len(ttf)) {
			return nil, errors.New("fontsubset: table out of range")
		}
		raw := ttf[off : off+length]
		data := raw
		if len(raw) > 64 { // smaller tables do not shrink
			z, err := deflate(raw)
			if err != nil {
				return nil, err
			}
			if len(z) < len(raw) {
				data = z
			}
		}
		entries[i] = entry{rec[:4], be.Uint32(rec[4:]), length, data}
		total += pad4(int(length))
	}
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.tag, b.tag) })
	size := 44 + 20*n
	for _, e := range entries {
		size += pad4(len(e.data))
	}
	out := make([]byte, size)
	copy(out, "wOFF")
	be.PutUint32(out[4:], be.Uint32(ttf)) // flavor
	be.PutUint32(out[8:], uint32(size))
	be.PutUint16(out[12:], uint16(n))
	be.PutUint32(out[16:], uint32(total))
	be.PutUint16(out[20:], 1) // version 1.0 of the font data
	off := 44 + 20*n
	for i, e := range entries {
		rec := out[44+20*i:]
		copy(rec, e.tag)
		be.PutUint32(rec[4:], uint32(off))
		be.PutUint32(rec[8:], uint32(len(e.data)))
		be.PutUint32(rec[12:], e.origLen)
		be.PutUint32(rec[16:], e.checksum)
		copy(out[off:], e.data)
		off += pad4(len(e.data))
	}
	// The last table needs no padding, and WOFF's length counts what is
	// there.
	return out, nil
}

// zlibWriters are reused: each holds a compressor's state, a megabyte,
// which allocating for every table of every font would cost more than
// compressing it.
var zlibWriters sync.Pool

// deflate is b compressed as a zlib stream, as WOFF stores a table.
func deflate(b []byte) ([]byte, error) {
	var out bytes.Buffer
	zw, _ := zlibWriters.Get().(*zlib.Writer)
	if zw == nil {
		var err error
		if zw, err = zlib.NewWriterLevel(&out, zlib.DefaultCompression); err != nil {
			return nil, err
		}
	} else {
		zw.Reset(&out)
	}
	defer zlibWriters.Put(zw)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// UnWOFF is the TrueType font a WOFF 1.0 file holds; it reads what WOFF
// writes, to test it.
func UnWOFF(woff []byte) ([]byte, error) {
	if len(woff) < 44 || string(woff[:4]) != "wOFF" {
		return nil, errors.New("fontsubset: not WOFF")
	}
	n := int(be.Uint16(woff[12:]))
	if len(woff) < 44+20*n {
		return nil, errors.New("fontsubset: WOFF directory truncated")
	}
	tables := map[string][]byte{}
	for i := range n {
		rec := woff[44+20*i:]
		off, compLen, origLen := be.Uint32(rec[4:]), be.Uint32(rec[8:]), be.Uint32(rec[12:])
		if uint64(off)+uint64(compLen) > uint64(len(woff)) {
			return nil, errors.New("fontsubset: WOFF table out of range")
		}
		data := woff[off : off+compLen]
		if compLen < origLen {
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, err
			}
			var b bytes.Buffer
			if _, err := b.ReadFrom(zr); err != nil {
				return nil, err
			}
			data = b.Bytes()
		}
		if uint32(len(data)) != origLen {
			return nil, errors.New("fontsubset: WOFF table's length differs")
		}
		tables[string(rec[:4])] = data
	}
	return assemble(tables), nil
}
