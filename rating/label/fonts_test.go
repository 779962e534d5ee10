package label

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"unicode"

	"github.com/energylabel/energylabel/rating/label/internal/fontsubset"
	"golang.org/x/image/font/sfnt"
)

var fontsFrom = flag.String("fonts-from", "", "cut fonts/DejaVuSans.ttf and fonts/DejaVuSans-Bold.ttf from the DejaVu Sans 2.37 fonts in this directory (see fonts/README.md)")

// bundledRanges are the characters the bundled fonts keep of DejaVu
// Sans: Latin (ASCII, Latin-1, Latin Extended-A), general punctuation,
// and the few symbols labels use or a model's text may hold.
var bundledRanges = [][2]rune{
	{0x20, 0x7e}, {0xa0, 0x17f}, {0x2010, 0x2027}, {0x2030, 0x203a}, {0x2044, 0x2044}, {0x20ac, 0x20ac},
	{0x2122, 0x2122}, {0x2190, 0x2193}, {0x2212, 0x2212}, {0x2248, 0x2248}, {0x2260, 0x2260}, {0x2264, 0x2265},
	{0x2605, 0x2606}, {0x2713, 0x2713}, {0x2717, 0x2717}, {0xfffd, 0xfffd},
}

func bundledRunes() []rune {
	var rs []rune
	for _, r := range bundledRanges {
		for c := r[0]; c <= r[1]; c++ {
			rs = append(rs, c)
		}
	}
	return rs
}

// TestBundledFonts checks that the bundled fonts hold every character
// of the ranges they were cut to; with -fonts-from DIR it first cuts them
// again from DejaVu Sans.
func TestBundledFonts(t *testing.T) {
	bundled := map[string]*[]byte{"DejaVuSans.ttf": &dejaVuSans, "DejaVuSans-Bold.ttf": &dejaVuSansBold}
	if *fontsFrom != "" {
		for name, data := range bundled {
			src, err := os.ReadFile(filepath.Join(*fontsFrom, name))
			if err != nil {
				t.Fatal(err)
			}
			f, err := fontsubset.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := f.Subset(bundledRunes())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("fonts", name), sub, 0o644); err != nil {
				t.Fatal(err)
			}
			*data = sub
		}
	}
	for name, data := range bundled {
		f, err := sfnt.Parse(*data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf sfnt.Buffer
		for _, r := range bundledRunes() {
			if g, err := f.GlyphIndex(&buf, r); (err != nil || g == 0) && unicode.IsGraphic(r) {
				t.Errorf("%s has no %U %q", name, r, r)
			}
		}
	}
}
