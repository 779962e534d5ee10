package label

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label/internal/fontsubset"
)

// svgText is a <text> of an SVG as a viewer reads it: its position, its
// size, weight and anchor (inherited from its groups), and its text.
type svgText struct {
	x, y, size float64
	bold       bool
	anchor     string
	s          string
}

// svgTexts reads every <text> of an SVG.
func svgTexts(t *testing.T, b []byte) []svgText {
	t.Helper()
	type inherited struct {
		size   float64
		bold   bool
		anchor string
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	stack := []inherited{{size: 16, anchor: "start"}} // SVG's initial values
	var out []svgText
	var cur *svgText
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			in := stack[len(stack)-1]
			var x, y float64
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "font-size":
					in.size, _ = strconv.ParseFloat(a.Value, 64)
				case "font-weight":
					in.bold = a.Value == "bold" || a.Value == "700"
				case "text-anchor":
					in.anchor = a.Value
				case "x":
					x, _ = strconv.ParseFloat(a.Value, 64)
				case "y":
					y, _ = strconv.ParseFloat(a.Value, 64)
				}
			}
			stack = append(stack, in)
			if tok.Name.Local == "text" {
				out = append(out, svgText{x: x, y: y, size: in.size, bold: in.bold, anchor: in.anchor})
				cur = &out[len(out)-1]
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if tok.Name.Local == "text" {
				cur = nil
			}
		case xml.CharData:
			if cur != nil {
				cur.s += string(tok)
			}
		}
	}
}

var fontFaceRule = regexp.MustCompile(`@font-face\{font-family:"([^"]+)";font-weight:(\d+);src:url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\) format\("woff"\)\}`)

// svgFonts decodes the fonts an SVG embeds, regular and bold.
func svgFonts(t *testing.T, b []byte) (regular, bold *sfnt.Font) {
	t.Helper()
	for _, m := range fontFaceRule.FindAllSubmatch(b, -1) {
		if string(m[1]) != labelFontFace {
			t.Errorf("@font-face for %q", m[1])
		}
		woff, err := base64.StdEncoding.DecodeString(string(m[3]))
		if err != nil {
			t.Fatal(err)
		}
		ttf, err := fontsubset.UnWOFF(woff)
		if err != nil {
			t.Fatal(err)
		}
		f, err := sfnt.Parse(ttf)
		if err != nil {
			t.Fatalf("the embedded font does not parse: %v", err)
		}
		if string(m[2]) == "700" {
			bold = f
		} else {
			regular = f
		}
	}
	if regular == nil || bold == nil {
		t.Fatal("the SVG does not embed its regular and bold fonts")
	}
	return regular, bold
}

// advance is the width of s in f at size, as a browser sets it with no
// kerning: the sum of the glyphs' advances.
func advance(t *testing.T, f *sfnt.Font, s string, size float64) float64 {
	t.Helper()
	var buf sfnt.Buffer
	ppem := fixed.Int26_6(f.UnitsPerEm()) << 6
	w := 0.0
	for _, r := range s {
		g, err := f.GlyphIndex(&buf, r)
		if err != nil || g == 0 {
			t.Errorf("the embedded font has no glyph for %q (in %q)", r, s)
		}
		a, err := f.GlyphAdvance(&buf, g, ppem, font.HintingNone)
		if err != nil {
			t.Fatal(err)
		}
		w += float64(a) / 64 * size / float64(f.UnitsPerEm())
	}
	return w
}

// TestPNGAndSVGSetTheSameText renders one model's label as PNG and as
// SVG, and compares their text: the same strings in the same order, at
// the same size and baseline, with the same left and right edges. The
// SVG's edges are measured with the font the SVG embeds, as a browser
// sets it; the PNG's are where its rasteriser put the pen, with the face
// it draws with, and its glyphs' ink must lie within them.
func TestPNGAndSVGSetTheSameText(t *testing.T) {
	for name, r := range map[string]Rating{"whisper": whisper(), "size class": sizeClassed(), "corrected": surveyed(StatusCorrected), "verified": surveyed(StatusVerified)} {
		t.Run(name, func(t *testing.T) {
			d := mustLabel(t, r)
			svg := d.SVG()
			regular, bold := svgFonts(t, svg)
			texts := svgTexts(t, svg)

			var drawn []drawnText
			c := d.raster(PNGScale, &drawn)
			if c.err != nil {
				t.Fatal(c.err)
			}
			if len(drawn) != len(texts) {
				t.Fatalf("the PNG draws %d texts, the SVG has %d", len(drawn), len(texts))
			}
			const tolerance = 0.25 // px at native size
			for i, st := range texts {
				p := drawn[i]
				if st.s != p.s || st.size != p.size || st.bold != p.bold || math.Abs(st.y-p.baseline) > 0.01 {
					t.Errorf("text %d: SVG %q %v px bold %v at y %v; PNG %q %v px bold %v at y %v",
						i, st.s, st.size, st.bold, st.y, p.s, p.size, p.bold, p.baseline)
					continue
				}
				f := regular
				if st.bold {
					f = bold
				}
				w := advance(t, f, st.s, st.size)
				left := st.x
				switch st.anchor {
				case "middle":
					left -= w / 2
				case "end":
					left -= w
				}
				if math.Abs(left-p.left) > tolerance || math.Abs(left+w-p.right) > tolerance {
					t.Errorf("%q: the SVG sets it from %.2f to %.2f, the PNG from %.2f to %.2f", st.s, left, left+w, p.left, p.right)
				}
				if strings.TrimSpace(st.s) == "" {
					continue
				}
				// The ink: within the advance, give or take a glyph's side
				// bearing, and between the ascender and the descender.
				ink := p.ink
				slack := 0.1 * st.size
				if ink.Empty() || float64(ink.Min.X)/PNGScale < left-slack || float64(ink.Max.X)/PNGScale > left+w+slack ||
					float64(ink.Min.Y)/PNGScale < st.y-1.1*st.size || float64(ink.Max.Y)/PNGScale > st.y+0.35*st.size {
					t.Errorf("%q: the PNG's ink covers %v px, outside its box %.1f–%.1f around baseline %.1f", st.s, ink, left*PNGScale, (left+w)*PNGScale, st.y*PNGScale)
				}
			}
			// And the pixels are where the ink was recorded: a dark pixel in
			// the box of the model's name.
			img := c.img
			for _, p := range drawn {
				if p.s == clean(r.Model) && !hasInk(img, p.ink) {
					t.Errorf("no ink in the PNG where %q was drawn", p.s)
				}
			}
			canvases.Put(c)
		})
	}
}

func hasInk(img *image.RGBA, r image.Rectangle) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c := img.RGBAAt(x, y); c.R < 0x80 && c.G < 0x80 && c.B < 0x80 {
				return true
			}
		}
	}
	return false
}

// fontSizes are the font sizes an SVG sets text in.
func fontSizes(t *testing.T, b []byte) []float64 {
	t.Helper()
	var sizes []float64
	for _, tx := range svgTexts(t, b) {
		sizes = append(sizes, tx.size)
	}
	return sizes
}

func TestLabelTextIsAtLeast9px(t *testing.T) {
	long := sizeClassed()
	long.Model = "acme/" + strings.Repeat("very-long-model-name-", 8)
	long.Hardware, long.GPUCount = "NVIDIA H100 SXM5 80GB HBM3 with a very long name", 8
	long.Release = strings.Repeat("a-long-release-name-", 4)
	long.Verification = Verification{Status: StatusUnderReview, DeclaredWhPer1kQueries: 0.00017, DeterminedWhPer1kQueries: 1723.4}
	svgs := map[string][]byte{"problem": Problem("not rated").SVG(), "busy": Busy().SVG()}
	for name, r := range map[string]Rating{"whisper": whisper(), "ungraded": ungraded(), "size class": sizeClassed(), "long": long,
		"corrected": surveyed(StatusCorrected), "under review": surveyed(StatusUnderReview), "verified": surveyed(StatusVerified)} {
		svgs[name] = mustLabel(t, r).SVG()
	}
	for name, svg := range svgs {
		sizes := fontSizes(t, svg)
		if len(sizes) == 0 {
			t.Errorf("%s: no text", name)
		}
		if m := slices.Min(sizes); m < minLabelText {
			t.Errorf("%s: text at %v px, below %v", name, m, minLabelText)
		}
	}
}

func TestChartTextIsAtLeast11px(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	history := HistoryChart{Unit: "J/token", Reference: 0.5, Points: []HistoryPoint{{At: at, X: 0.9, Grade: "F"}, {At: at.AddDate(0, 2, 0), X: 0.3, Grade: "D"}}}
	strip := StripChart{Unit: "J/token", Reference: 0.5, Points: []StripPoint{{Model: "a/b", X: 0.01}, {Model: "a/c", X: 3}}}
	for name, svg := range map[string][]byte{"history": history.SVG(), "strip": strip.SVG()} {
		sizes := fontSizes(t, svg)
		if len(sizes) < 5 {
			t.Errorf("%s: %d texts", name, len(sizes))
		}
		if m := slices.Min(sizes); m < minChartText {
			t.Errorf("%s chart: text at %v px, below %v", name, m, minChartText)
		}
	}
}

// Each badge names the unit of the figure it shows, in full, with no SI
// prefix: the grade badge the figure the grade was computed on.
func TestBadgesNameTheirUnit(t *testing.T) {
	gpt := sizeClassed()
	gpt.Grade, gpt.EnergyPerUnit = "B", 0.31
	heavy := whisper()
	heavy.Grade, heavy.WhPer1kQueries = "G", 134.2
	image := whisper()
	image.Task, image.Basis, image.Unit, image.EnergyPerUnit, image.Grade = "text-to-image", "output_megapixel", "J/MP", 612.4, "D"
	for _, tt := range []struct {
		r    Rating
		want string
	}{
		{heavy, "G · 134 Wh/1k queries"},
		{gpt, "B · 0.310 J/token"},
		{image, "D · 612 J/MP"},
		{ungraded(), "no grade · 29.9 Wh/1k queries"},
	} {
		b := RatingBadge(tt.r, GradeBadge)
		if got := b.message(false); got != tt.want {
			t.Errorf("badge %q, want %q", got, tt.want)
		}
		if doc := parseSVG(t, b.SVG(Flat)); !slices.Contains(doc.texts, tt.want) {
			t.Errorf("the SVG badge says %q, want %q", doc.texts, tt.want)
		}
		if e := string(b.Endpoint(Flat, 300)); !strings.Contains(e, `"message":"`+tt.want+`"`) {
			t.Errorf("endpoint JSON %s, want message %q", e, tt.want)
		}
	}
	// No badge abbreviates the unit or prefixes it.
	for _, v := range []float64{0.0554, 0.9996, 1.5, 999.6, 3426} {
		r := whisper()
		r.WhPer1kQueries = v
		m := RatingBadge(r, GradeBadge).message(false)
		number, ok := strings.CutSuffix(strings.TrimPrefix(m, "F · "), " Wh/1k queries")
		if _, err := strconv.ParseFloat(number, 64); !ok || err != nil {
			t.Errorf("%v Wh/1k queries: badge %q, not a plain number and the unit", v, m)
		}
	}
}

// The stars badge takes its colour from the stars, and its text, on that
// colour, has the contrast WCAG 2 AA asks of text: 4.5:1.
func TestStarsBadgeContrast(t *testing.T) {
	seen := map[string]int{}
	for n := range 6 {
		r := whisper()
		r.Stars = n
		b := RatingBadge(r, StarsBadge)
		fill := b.Color
		if prev, ok := seen[hex(fill)]; ok {
			t.Errorf("%d and %d stars share the colour %s", prev, n, hex(fill))
		}
		seen[hex(fill)] = n
		// The colours the SVG draws: the message's fill, and its text's.
		for _, style := range []Style{Flat, ForTheBadge} {
			svg := string(b.SVG(style))
			fills := regexp.MustCompile(`<rect [^>]*fill="(#[0-9a-f]{6})"/>`).FindAllStringSubmatch(svg, -1)
			texts := regexp.MustCompile(`<text [^>]*fill="(#[0-9a-f]{3})"[^>]*>`).FindAllStringSubmatch(svg, -1)
			if len(fills) == 0 || len(texts) == 0 || fills[len(fills)-1][1] != hex(fill) {
				t.Fatalf("%d stars, %s: no %s fill:\n%s", n, style, hex(fill), svg)
			}
			text := parseShortHex(texts[len(texts)-1][1])
			if c := contrast(fill, text); c < 4.5 {
				t.Errorf("%d stars, %s: text %s on %s has contrast %.2f, below 4.5", n, style, hex(text), hex(fill), c)
			}
		}
	}
	if c := contrast(white, color.RGBA{0, 0, 0, 0xff}); math.Abs(c-21) > 1e-9 {
		t.Errorf("contrast of white on black is %v, want 21", c)
	}
	if c := contrast(color.RGBA{0x76, 0x76, 0x76, 0xff}, white); c < 4.5 || c > 4.6 {
		t.Errorf("contrast of #767676 on white is %v, want 4.54", c)
	}
}

func TestLabelSaysWhatGradeAndStarsAreMeasuredAgainst(t *testing.T) {
	r := whisper()
	r.Grade, r.Stars, r.Release = "E", 5, "aies-2025-02"
	r.Verification.Status = StatusDeclared
	doc := parseSVG(t, mustLabel(t, r).SVG())
	for _, want := range []string{
		"Grade E", "is absolute: against the fixed references of grade/2025.1",
		"5 of 5 stars", "are relative: against its cohort in release aies-2025-02",
		"declared by the publisher",
	} {
		if !slices.ContainsFunc(doc.texts, func(s string) bool { return strings.TrimSpace(s) == want }) {
			t.Errorf("no text %q in %q", want, doc.texts)
		}
	}
	// The key sits just above the status band.
	var keyY, statusY float64
	for _, it := range mustLabel(t, r).items {
		if tx, ok := it.(text); ok && strings.Contains(tx.s, "are relative") {
			keyY = tx.y
		} else if ok && tx.s == "declared by the publisher" {
			statusY = tx.y
		}
	}
	if statusY-keyY <= 0 || statusY-keyY > 30 {
		t.Errorf("the key's last line at y %v, the status at %v: not beside each other", keyY, statusY)
	}
	r.Grade, r.Stars, r.Release = "", 0, ""
	doc = parseSVG(t, mustLabel(t, r).SVG())
	for _, want := range []string{"No grade", ": no fixed reference for its cohort in grade/2025.1", "No stars", ": its cohort has none in the current release"} {
		if !slices.Contains(doc.texts, want) {
			t.Errorf("no text %q in %q", want, doc.texts)
		}
	}
}

func TestLabelDate(t *testing.T) {
	measured, received := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		date, received time.Time
		status         string
		caption, want  string
	}{
		{measured, received, StatusDeclared, "Measured", "2026-11-20"},
		{time.Time{}, received, StatusDeclared, "Submitted", "2026-12-01"},
		{time.Time{}, received, "", "Submitted", "2026-12-01"},
		{time.Time{}, received, StatusPublished, "Imported", "2026-12-01"},
		{time.Time{}, time.Time{}, StatusPublished, "Date", "not stated"},
	} {
		r := whisper()
		r.Date, r.Received, r.Verification.Status = tt.date, tt.received, tt.status
		doc := parseSVG(t, mustLabel(t, r).SVG())
		i := slices.Index(doc.texts, tt.caption)
		if i < 0 || i+1 >= len(doc.texts) || doc.texts[i+1] != tt.want {
			t.Errorf("%v, %v, %q: texts %q, want %q then %q", tt.date, tt.received, tt.status, doc.texts, tt.caption, tt.want)
		}
		if slices.Contains(doc.texts, Dash) {
			t.Errorf("a dash on the label: %q", doc.texts)
		}
	}
}

// The size class says its bounds, and they are the ones rating.SizeClass
// draws.
func TestSizeClassText(t *testing.T) {
	for _, tt := range []struct {
		params float64
		want   string
	}{
		{7, "A · ≤ 20 billion parameters"}, {20, "A · ≤ 20 billion parameters"},
		{20.5, "B · 20–66 billion parameters"}, {66, "B · 20–66 billion parameters"},
		{66.5, "C · > 66 billion parameters"}, {405, "C · > 66 billion parameters"},
	} {
		if got := SizeClassText(rating.SizeClass(tt.params)); got != tt.want {
			t.Errorf("%v billion parameters: %q, want %q", tt.params, got, tt.want)
		}
	}
	if got := SizeClassText("X"); got != "X" {
		t.Errorf("an unknown size class: %q", got)
	}
}

// The history chart has round values on its energy axis, distinct dates
// on its time axis, and each point's date, figure and grade in its
// tooltip.
func TestHistoryChartAxes(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 9, 30, 0, 0, time.UTC) }
	for name, tt := range map[string]struct {
		points []HistoryPoint
		ref    float64
		dates  []string
	}{
		"days":         {[]HistoryPoint{{At: day(1), X: 0.9, Grade: "F"}, {At: day(3), X: 0.6, Grade: "E"}, {At: day(9), X: 0.3, Grade: "D"}}, 0.8, nil},
		"one day":      {[]HistoryPoint{{At: day(1), X: 2.1, Grade: "C"}, {At: day(1).Add(4 * time.Hour), X: 2.0, Grade: "C"}}, 0, nil},
		"months":       {[]HistoryPoint{{At: day(1), X: 2.1}, {At: day(1).AddDate(0, 7, 0), X: 1.2}}, 10, nil},
		"one":          {[]HistoryPoint{{At: day(1), X: 2.1, Grade: "C"}}, 0, []string{"2026-11-01"}},
		"same instant": {[]HistoryPoint{{At: day(1), X: 2.1}, {At: day(1), X: 2.2}}, 0, []string{"2026-11-01"}},
	} {
		t.Run(name, func(t *testing.T) {
			c := HistoryChart{Unit: "Wh/1k queries", Reference: tt.ref, Points: tt.points}
			svg := c.SVG()
			var values, dates []string
			for _, tx := range svgTexts(t, svg) {
				switch {
				case tx.anchor == "end" && tx.x < plotL:
					values = append(values, tx.s)
				case tx.anchor == "middle" && tx.y > plotB:
					dates = append(dates, tx.s)
				}
			}
			if len(values) < 3 {
				t.Errorf("%d values on the energy axis: %q", len(values), values)
			}
			for _, v := range values {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					t.Errorf("energy axis value %q is not a plain number", v)
				}
			}
			if tt.dates != nil && !slices.Equal(dates, tt.dates) {
				t.Errorf("dates %q, want %q", dates, tt.dates)
			}
			if len(dates) == 0 || len(slices.Compact(slices.Clone(dates))) != len(dates) {
				t.Errorf("dates on the time axis %q: none, or repeated", dates)
			}
			if len(tt.points) > 1 && tt.points[0].At != tt.points[len(tt.points)-1].At && len(dates) < 2 {
				t.Errorf("a span of time with %d dates: %q", len(dates), dates)
			}
			// Each point's tooltip.
			titles := regexp.MustCompile(`<circle [^>]*><title>([^<]*)</title>`).FindAllSubmatch(svg, -1)
			if len(titles) != len(tt.points) {
				t.Fatalf("%d tooltips for %d points", len(titles), len(tt.points))
			}
			for i, p := range tt.points {
				want := p.At.Format("2006-01-02 15:04") + ": " + FormatEnergy(p.X, "Wh/1k queries")
				if !strings.HasPrefix(string(titles[i][1]), want) {
					t.Errorf("tooltip %q, want it to start %q", titles[i][1], want)
				}
			}
		})
	}
}

func TestLogTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		want   []string
	}{
		{0.05, 50, []string{"0.1", "1", "10"}},
		{0.3, 1.9, []string{"0.5", "1"}}, // then finer: see below
		{1e-3, 1e6, []string{"0.01", "1", "100", "10000", "1000000"}},
	} {
		_, labels := logTicks(tt.lo, tt.hi)
		if len(labels) < 3 || len(labels) > 8 {
			t.Errorf("logTicks(%v, %v) = %q: want 3 to 8", tt.lo, tt.hi, labels)
		}
		if tt.lo == 0.05 || tt.lo == 1e-3 {
			if !slices.Equal(labels, tt.want) {
				t.Errorf("logTicks(%v, %v) = %q, want %q", tt.lo, tt.hi, labels, tt.want)
			}
		}
	}
	for m, want := range map[[2]int]string{{1, 0}: "1", {15, -1}: "1.5", {5, -3}: "0.005", {12, -2}: "0.12", {2, 3}: "2000", {50, -1}: "5"} {
		if got := tickLabel(m[0], m[1]); got != want {
			t.Errorf("tickLabel(%d, %d) = %q, want %q", m[0], m[1], got, want)
		}
	}
}

func TestTimeTicksAreDistinct(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 17, 0, 0, time.UTC)
	for _, span := range []time.Duration{time.Minute, 40 * time.Minute, 5 * time.Hour, 30 * time.Hour, 4 * 24 * time.Hour,
		45 * 24 * time.Hour, 400 * 24 * time.Hour, 20 * 365 * 24 * time.Hour} {
		ts, labels := timeTicks(t0, t0.Add(span), maxTimeTicks)
		if len(ts) < 2 || len(ts) > maxTimeTicks || len(ts) != len(labels) {
			t.Errorf("span %v: %d ticks %q", span, len(ts), labels)
		}
		if len(slices.Compact(slices.Clone(labels))) != len(labels) {
			t.Errorf("span %v: labels repeat: %q", span, labels)
		}
		for _, tm := range ts {
			if tm.Before(t0) || tm.After(t0.Add(span)) {
				t.Errorf("span %v: tick %v outside it", span, tm)
			}
		}
	}
}

func TestShieldsMarkdown(t *testing.T) {
	got := ShieldsMarkdown("https://el.example", "openai/whisper-large-v3", "task=asr&hardware=H100")
	want := "[![AI energy rating](https://img.shields.io/endpoint?url=https%3A%2F%2Fel.example%2Fbadge%2Fopenai%2Fwhisper-large-v3.json%3Ftask%3Dasr%26hardware%3DH100)](https://el.example/models/openai/whisper-large-v3)"
	if got != want {
		t.Errorf("ShieldsMarkdown:\n%s\nwant\n%s", got, want)
	}
	if got := Markdown("https://el.example", "a/b", ""); got != "[![AI energy rating](https://el.example/badge/a/b.svg)](https://el.example/models/a/b)" {
		t.Errorf("Markdown: %s", got)
	}
}

// The SVG carries only the glyphs its text uses, and only what that
// costs: a label's two fonts stay small.
func TestLabelEmbedsOnlyTheGlyphsItUses(t *testing.T) {
	svg := mustLabel(t, whisper()).SVG()
	regular, bold := svgFonts(t, svg)
	var used [2]map[rune]bool
	used[0], used[1] = map[rune]bool{}, map[rune]bool{}
	for _, tx := range svgTexts(t, svg) {
		for _, r := range tx.s {
			used[btoi(tx.bold)][r] = true
		}
	}
	for i, f := range []*sfnt.Font{regular, bold} {
		if n := f.NumGlyphs(); n != len(used[i])+1 {
			t.Errorf("font %d holds %d glyphs for %d runes and .notdef", i, n, len(used[i]))
		}
	}
	if len(svg) > 32<<10 {
		t.Errorf("the label SVG is %d bytes", len(svg))
	}
	// Badges name a font stack and embed none.
	if b := Badge(whisper(), GradeBadge); bytes.Contains(b, []byte("@font-face")) || len(b) > 2<<10 {
		t.Errorf("the badge is %d bytes, or embeds a font", len(b))
	}
}

// parseShortHex reads a colour such as "#fff".
func parseShortHex(s string) color.RGBA {
	v, _ := strconv.ParseUint(s[1:], 16, 16)
	return color.RGBA{uint8(v>>8&0xf) * 17, uint8(v>>4&0xf) * 17, uint8(v&0xf) * 17, 0xff}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
