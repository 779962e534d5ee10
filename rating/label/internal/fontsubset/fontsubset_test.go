package fontsubset

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// TestSubsetKeepsEachGlyph cuts fonts down to some text and checks, by
// reading the subset back, that each rune of it has the original's
// advance and outline, composite glyphs included, and that nothing else
// is left.
func TestSubsetKeepsEachGlyph(t *testing.T) {
	const text = "AI energy label: openai/whisper-large-v3 · 29.9 Wh/1k queries × 8 … µ é Å ≤ —"
	for name, ttf := range map[string][]byte{"Go regular": goregular.TTF, "Go bold": gobold.TTF} {
		t.Run(name, func(t *testing.T) {
			f, err := Parse(ttf)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := f.Subset([]rune(text + "\U0001F600"))
			if err != nil {
				t.Fatal(err)
			}
			if got := checksum(sub); got != 0xB1B0AFBA {
				t.Errorf("font checksum %#x, want 0xB1B0AFBA", got)
			}
			orig, _ := sfnt.Parse(ttf)
			s, err := sfnt.Parse(sub)
			if err != nil {
				t.Fatalf("the subset does not parse: %v", err)
			}
			distinct := map[rune]bool{}
			for _, r := range text {
				distinct[r] = true
			}
			if n := s.NumGlyphs(); n < 2 || n > len(distinct)+8 {
				t.Errorf("%d glyphs for %d distinct runes", n, len(distinct))
			}
			var ob, sb sfnt.Buffer
			ppem := fixed.Int26_6(orig.UnitsPerEm()) << 6
			for r := range distinct {
				og, _ := orig.GlyphIndex(&ob, r)
				sg, err := s.GlyphIndex(&sb, r)
				if err != nil || (og == 0) != (sg == 0) {
					t.Errorf("%q: glyph %d in the font, %d (%v) in the subset", r, og, sg, err)
					continue
				}
				oa, _ := orig.GlyphAdvance(&ob, og, ppem, font.HintingNone)
				sa, err := s.GlyphAdvance(&sb, sg, ppem, font.HintingNone)
				if err != nil || oa != sa {
					t.Errorf("%q: advance %v in the subset (%v), %v in the font", r, sa, err, oa)
				}
				os, err1 := orig.LoadGlyph(&ob, og, ppem, nil)
				os = slices.Clone(os)
				ss, err2 := s.LoadGlyph(&sb, sg, ppem, nil)
				if err1 != nil || err2 != nil || !slices.Equal(os, ss) {
					t.Errorf("%q: the outline differs (%v, %v)", r, err1, err2)
				}
			}
			for _, r := range "Zjx\U0001F600" {
				if g, _ := s.GlyphIndex(&sb, r); g != 0 {
					t.Errorf("%q is in the subset, not in the text", r)
				}
			}
			// WOFF holds the same font, smaller.
			w, err := WOFF(sub)
			if err != nil {
				t.Fatal(err)
			}
			if len(w) >= len(sub) {
				t.Errorf("WOFF is %d bytes, the font %d", len(w), len(sub))
			}
			back, err := UnWOFF(w)
			if err != nil || !bytes.Equal(back, sub) {
				t.Errorf("WOFF does not give the font back (%v)", err)
			}
		})
	}
}

// A composite glyph keeps its components, renumbered. The Go fonts
// have none; the label's DejaVu Sans has them for accented letters.
func TestSubsetKeepsComponents(t *testing.T) {
	ttf, err := os.ReadFile("../../fonts/DejaVuSans.ttf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(ttf)
	if err != nil {
		t.Fatal(err)
	}
	composite := rune(0)
	for r := rune(0xC0); r < 0x180 && composite == 0; r++ {
		if ids, _, _, _ := components(f.glyphs[f.GlyphIndex(r)]); len(ids) > 0 {
			composite = r
		}
	}
	if composite == 0 {
		t.Skip("no composite glyph in Latin-1 or Latin Extended-A")
	}
	sub, err := f.Subset([]rune{composite})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(sub)
	if err != nil {
		t.Fatal(err)
	}
	ids, _, _, err := components(s.glyphs[s.GlyphIndex(composite)])
	if err != nil || len(ids) == 0 {
		t.Fatalf("%q lost its components: %v", composite, err)
	}
	if want := 1 + 1 + len(ids); s.numGlyphs != want {
		t.Errorf("%d glyphs, want .notdef, %q and its %d components", s.numGlyphs, composite, len(ids))
	}
	// The outline, put together from the components, is the original's.
	ppem := fixed.Int26_6(f.sfnt.UnitsPerEm()) << 6
	var ob, sb sfnt.Buffer
	want, err1 := f.sfnt.LoadGlyph(&ob, sfnt.GlyphIndex(f.GlyphIndex(composite)), ppem, nil)
	got, err2 := s.sfnt.LoadGlyph(&sb, sfnt.GlyphIndex(s.GlyphIndex(composite)), ppem, nil)
	if err1 != nil || err2 != nil || !slices.Equal(want, got) {
		t.Errorf("%q's outline differs (%v, %v)", composite, err1, err2)
	}
	for _, id := range ids {
		if int(id) >= s.numGlyphs || len(s.glyphs[id]) == 0 {
			t.Errorf("%q's component %d is not in the subset of %d glyphs", composite, id, s.numGlyphs)
		}
	}
}

func TestParseRefusesWhatIsNotTrueType(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("wOFF0000000000000"), append([]byte{0, 1, 0, 0, 0, 9}, make([]byte, 10)...)} {
		if _, err := Parse(b); err == nil {
			t.Errorf("Parse(%q) accepted it", b)
		}
	}
}

func BenchmarkSubsetWOFF(b *testing.B) {
	ttf, err := os.ReadFile("../../fonts/DejaVuSans.ttf")
	if err != nil {
		b.Fatal(err)
	}
	f, err := Parse(ttf)
	if err != nil {
		b.Fatal(err)
	}
	runes := []rune("AI energy label openai/whisper-large-v3 Provider Hardware H100 × 8 Measured 2026-11-20 Task Dataset 0123456789 ·…")
	size := 0
	for b.Loop() {
		sub, err := f.Subset(runes)
		if err != nil {
			b.Fatal(err)
		}
		w, err := WOFF(sub)
		if err != nil {
			b.Fatal(err)
		}
		size = len(w)
	}
	b.ReportMetric(float64(size), "bytes")
}
