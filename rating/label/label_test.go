package label

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/energylabel/energylabel/rating/label/internal/fontsubset"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// whisper is openai/whisper-large-v3 as the AIES 2025-02 leaderboard
// measured it, graded under grade/2025.1.
func whisper() Rating {
	return Rating{
		Model:          "openai/whisper-large-v3",
		Task:           "automatic-speech-recognition",
		Dataset:        "AIEnergyScore/asr",
		Hardware:       "H100",
		GPUCount:       1,
		Date:           time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
		WhPer1kQueries: 29.9,
		EnergyPerUnit:  29.9,
		Unit:           "Wh/1k queries",
		Basis:          "query",
		Stars:          3,
		Grade:          "F",
		EEI:            1.62,
		Scheme:         "grade/2025.1",
		PageURL:        "http://127.0.0.1:8080/models/openai/whisper-large-v3",
	}
}

// sizeClassed is a text-generation rating, graded within size class A.
func sizeClassed() Rating {
	r := whisper()
	r.Model, r.Task, r.Dataset, r.SizeClass = "meta-llama/Llama-3.1-8B-Instruct", "text-generation", "AIEnergyScore/text_generation", "A"
	r.EnergyPerUnit, r.Unit, r.Basis = 0.0118, "J/token", "output_token"
	return r
}

func ungraded() Rating {
	r := whisper()
	r.Grade, r.EEI = "", 0
	return r
}

func mustLabel(t testing.TB, r Rating) *Drawing {
	t.Helper()
	d, err := Label(r)
	if err != nil {
		t.Fatalf("Label: %v", err)
	}
	return d
}

func mustPNG(t testing.TB, d *Drawing) []byte {
	t.Helper()
	p, err := d.PNG()
	if err != nil {
		t.Fatalf("PNG: %v", err)
	}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	// A new Go release may compress a PNG, or an SVG's fonts, differently;
	// only the pixels, and the fonts' tables, are ours to keep stable.
	if strings.HasSuffix(name, ".png") && samePixels(t, got, want) {
		return
	}
	if strings.HasSuffix(name, ".svg") && bytes.Equal(uncompressedFonts(t, got), uncompressedFonts(t, want)) {
		return
	}
	t.Errorf("%s differs from the golden file; if the change is intended, run go test -update and review the diff", name)
}

// uncompressedFonts is an SVG with each embedded WOFF font replaced by
// the TrueType font it holds.
func uncompressedFonts(t *testing.T, svg []byte) []byte {
	t.Helper()
	return fontData.ReplaceAllFunc(svg, func(m []byte) []byte {
		woff, err := base64.StdEncoding.DecodeString(string(fontData.FindSubmatch(m)[1]))
		if err != nil {
			return m
		}
		ttf, err := fontsubset.UnWOFF(woff)
		if err != nil {
			return m
		}
		return []byte("data:font/ttf;base64," + base64.StdEncoding.EncodeToString(ttf))
	})
}

var fontData = regexp.MustCompile(`data:font/woff;base64,([A-Za-z0-9+/=]+)`)

func samePixels(t *testing.T, a, b []byte) bool {
	t.Helper()
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return false
	}
	if ia.Bounds() != ib.Bounds() {
		return false
	}
	for y := ia.Bounds().Min.Y; y < ia.Bounds().Max.Y; y++ {
		for x := ia.Bounds().Min.X; x < ia.Bounds().Max.X; x++ {
			if ia.At(x, y) != ib.At(x, y) {
				return false
			}
		}
	}
	return true
}

func TestGolden(t *testing.T) {
	golden(t, "badge_grade.svg", Badge(whisper(), GradeBadge))
	golden(t, "badge_stars.svg", Badge(whisper(), StarsBadge))
	golden(t, "badge_nograde.svg", Badge(ungraded(), GradeBadge))
	golden(t, "badge_notrated.svg", NotRated(whisper().Model))
	d := mustLabel(t, whisper())
	golden(t, "label.svg", d.SVG())
	golden(t, "label.png", mustPNG(t, d))
	golden(t, "label_nograde.svg", mustLabel(t, ungraded()).SVG())
	golden(t, "label_sizeclass.svg", mustLabel(t, sizeClassed()).SVG())

	// shields' other styles, a badge that says what is wrong, and the
	// endpoint JSON.
	golden(t, "badge_flat_square.svg", RatingBadge(whisper(), GradeBadge).SVG(FlatSquare))
	golden(t, "badge_plastic.svg", RatingBadge(whisper(), GradeBadge).SVG(Plastic))
	golden(t, "badge_for_the_badge.svg", RatingBadge(tiny(), GradeBadge).SVG(ForTheBadge))
	golden(t, "badge_problem.svg", ProblemBadge("pick a task", "rated for 2 tasks (automatic-speech-recognition, text-classification): add ?task=").SVG(Flat))
	golden(t, "endpoint.json", RatingBadge(whisper(), GradeBadge).Endpoint(Flat, 300))
	// A per-unit rating whose figures need prefixes.
	d = mustLabel(t, tiny())
	golden(t, "label_tiny.svg", d.SVG())
	golden(t, "label_tiny.png", mustPNG(t, d))
	d = mustLabel(t, surveyed(StatusCorrected))
	golden(t, "label_corrected.svg", d.SVG())
	golden(t, "label_corrected.png", mustPNG(t, d))
	golden(t, "badge_verified.svg", Badge(surveyed(StatusVerified), GradeBadge))
}

// surveyed is a classifier declared at 2.10 Wh per 1,000 queries (grade
// C) in a status, as surveyors left it: verified on 2026-12-05, or
// measured at 3.00 (grade D), which puts it under review or, as the mean
// of the follow-ups, corrects it.
func surveyed(status string) Rating {
	r := Rating{
		Model: "acme/tiny-clf", Task: "text-classification", Dataset: "AIEnergyScore/text_classification",
		Hardware: "H100", GPUCount: 1, Date: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		WhPer1kQueries: 2.1, EnergyPerUnit: 2.1, Unit: "Wh/1k queries", Basis: "query", Stars: 4, Grade: "C", EEI: 0.2,
		Scheme: "grade/2025.1", PageURL: "http://127.0.0.1:8080/models/acme/tiny-clf",
		Verification: Verification{Status: status, DeclaredWhPer1kQueries: 2.1, DeclaredEnergyPerUnit: 2.1},
	}
	if status == StatusPublished || status == StatusDeclared {
		return r
	}
	v := &r.Verification
	v.CheckedAt, v.DeclaredGrade = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), "C"
	switch status {
	case StatusUnderReview:
		v.DeterminedWhPer1kQueries, v.DeterminedEnergyPerUnit = 3, 3
	case StatusCorrected:
		v.DeterminedWhPer1kQueries, v.DeterminedEnergyPerUnit = 3, 3
		r.WhPer1kQueries, r.EnergyPerUnit, r.Grade, r.EEI, r.Stars = 3, 3, "D", 0.286, 3
	}
	return r
}

func TestStatusText(t *testing.T) {
	for status, want := range map[string]string{
		StatusPublished:   "published leaderboard",
		StatusDeclared:    "declared by the publisher",
		StatusVerified:    "verified 2026-12-05",
		StatusUnderReview: "under review: declared 2.10 Wh/1k queries, surveyor measured 3.00",
		StatusCorrected:   "corrected 2026-12-05",
		"":                "",
	} {
		if got := StatusText(surveyed(status)); got != want {
			t.Errorf("%q: %q, want %q", status, got, want)
		}
	}
	// Both figures are in one unit, without a prefix, so it is said once.
	r := surveyed(StatusUnderReview)
	r.Verification.DeclaredWhPer1kQueries = 0.9
	if got, want := StatusText(r), "under review: declared 0.900 Wh/1k queries, surveyor measured 3.00"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	r = surveyed(StatusVerified)
	r.Verification.CheckedAt = time.Time{}
	if got := StatusText(r); got != "verified by a surveyor" {
		t.Errorf("verified on no known date: %q", got)
	}
}

// The label says who vouches for its figures in a band between the
// ladder and the figures; a corrected one shows the determined figure,
// grade and stars, and the declared figure beside it, struck through.
func TestLabelSaysWhoVouchesForTheFigures(t *testing.T) {
	for _, tt := range []struct {
		status string
		texts  []string
		title  string
	}{
		{StatusPublished, []string{"published leaderboard", "2.10"}, "published leaderboard"},
		{StatusDeclared, []string{"declared by the publisher", "2.10"}, "declared by the publisher"},
		{StatusVerified, []string{"verified 2026-12-05", "2.10", "4 of 5 stars"}, "grade C, 4 of 5 stars, 2.10 Wh per 1,000 queries, verified 2026-12-05"},
		{StatusUnderReview, []string{"under review: declared 2.10 Wh/1k queries, surveyor measured 3.00", "2.10", "4 of 5 stars"}, "grade C, 4 of 5 stars, 2.10 Wh per 1,000 queries, under review"},
		{StatusCorrected, []string{"corrected 2026-12-05 · declared grade C", "3.00", "declared", "2.10 Wh", "3 of 5 stars"},
			"grade D, 3 of 5 stars, 3.00 Wh per 1,000 queries, corrected 2026-12-05, declared 2.10 Wh per 1,000 queries (grade C)"},
	} {
		t.Run(tt.status, func(t *testing.T) {
			d := mustLabel(t, surveyed(tt.status))
			doc := parseSVG(t, d.SVG())
			for _, want := range tt.texts {
				if !slices.Contains(doc.texts, want) {
					t.Errorf("no text %q in %q", want, doc.texts)
				}
			}
			if !strings.Contains(doc.title, tt.title) {
				t.Errorf("title %q lacks %q", doc.title, tt.title)
			}
			// The grade's marker letter: the determined grade when corrected.
			grade := map[bool]string{true: "D", false: "C"}[tt.status == StatusCorrected]
			if n := countOf(doc.texts, grade); n != 2 {
				t.Errorf("%s appears %d times, want on its arrow and the marker", grade, n)
			}
			// A tick for a verified rating: 7 arrows, the marker, 5 stars.
			polygons := 7 + 1 + 5
			if tt.status == StatusVerified {
				polygons++
			}
			if n := doc.count("polygon"); n != polygons {
				t.Errorf("%d polygons, want %d", n, polygons)
			}
			// Only a corrected label strikes anything through: a line across
			// the declared figure, at its middle.
			var declared *text
			for _, it := range d.items {
				if tx, ok := it.(text); ok && tx.s == "2.10 Wh" {
					declared = &tx
				}
			}
			if (declared != nil) != (tt.status == StatusCorrected) {
				t.Fatalf("declared figure beside the energy: %v", declared)
			}
			if declared == nil {
				return
			}
			struck := false
			for _, it := range d.items {
				if rc, ok := it.(rect); ok && rc.h < 1.5 && rc.x <= declared.x && rc.x+rc.w >= declared.x+declared.width-0.01 &&
					rc.y < declared.y && rc.y > declared.y-declared.size*0.6 {
					struck = true
				}
			}
			if !struck {
				t.Error("the declared figure is not struck through")
			}
			// The PNG draws the line too: the pixels across the middle of the
			// declared figure are ink, all the way along.
			img, err := png.Decode(bytes.NewReader(mustPNG(t, d)))
			if err != nil {
				t.Fatal(err)
			}
			y := int((declared.y - declared.size*0.32 + 0.45) * PNGScale)
			for x := int(declared.x*PNGScale) + 1; x < int((declared.x+declared.width)*PNGScale)-1; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r>>8 > 0xa0 {
					t.Fatalf("pixel %d,%d across the declared figure is light (%x): not struck through in the PNG", x, y, r>>8)
				}
			}
		})
	}
	// A rating that says nothing of its status leaves the band empty.
	doc := parseSVG(t, mustLabel(t, whisper()).SVG())
	for _, s := range doc.texts {
		if strings.Contains(s, "declared") || strings.Contains(s, "verified") || strings.Contains(s, "published") {
			t.Errorf("a rating without a status shows %q", s)
		}
	}
}

func TestBadgeSaysTheStatus(t *testing.T) {
	for _, tt := range []struct {
		status, grade, stars, said string
	}{
		{StatusPublished, "C · 2.10 Wh/1k queries", "★★★★☆", "AI energy: C · 2.10 Wh/1k queries"},
		{StatusDeclared, "C · 2.10 Wh/1k queries", "★★★★☆", "AI energy: C · 2.10 Wh/1k queries"},
		{StatusVerified, "C · 2.10 Wh/1k queries ✓", "★★★★☆ ✓", "AI energy: C · 2.10 Wh/1k queries, verified"},
		{StatusUnderReview, "C · 2.10 Wh/1k queries under review", "★★★★☆ under review", "AI energy: C · 2.10 Wh/1k queries, under review"},
		{StatusCorrected, "D · 3.00 Wh/1k queries corrected", "★★★☆☆ corrected", "AI energy: D · 3.00 Wh/1k queries, corrected"},
	} {
		r := surveyed(tt.status)
		for kind, want := range map[Kind]string{GradeBadge: tt.grade, StarsBadge: tt.stars} {
			b := RatingBadge(r, kind)
			doc := parseSVG(t, b.SVG(Flat))
			if !slices.Contains(doc.texts, want) {
				t.Errorf("%s badge: texts %q, want %q", tt.status, doc.texts, want)
			}
			var e endpoint
			if err := json.Unmarshal(b.Endpoint(Flat, 300), &e); err != nil || e.Message != want {
				t.Errorf("%s endpoint JSON: message %q (%v), want %q", tt.status, e.Message, err, want)
			}
			if kind == GradeBadge {
				if aria, _ := doc.attr("aria-label"); aria != tt.said {
					t.Errorf("%s badge: aria-label %q, want %q", tt.status, aria, tt.said)
				}
			}
		}
	}
	// for-the-badge sets the words in capitals, the unit as it is.
	doc := parseSVG(t, RatingBadge(surveyed(StatusUnderReview), GradeBadge).SVG(ForTheBadge))
	if !slices.Contains(doc.texts, "C · 2.10 Wh/1k queries UNDER REVIEW") {
		t.Errorf("for-the-badge under review: %q", doc.texts)
	}
	// The ✓ widens the badge as the fallback font sets it.
	plain, ticked := surveyed(StatusDeclared), surveyed(StatusVerified)
	pw, _ := parseSVG(t, Badge(plain, GradeBadge)).attr("width")
	tw, _ := parseSVG(t, Badge(ticked, GradeBadge)).attr("width")
	p, _ := strconv.Atoi(pw)
	w, _ := strconv.Atoi(tw)
	if d := w - p; d < 11 || d > 14 {
		t.Errorf("the ✓ widens the badge by %d px, want about 12 (a space and the mark at 11 px)", d)
	}
}

// tiny is a text-generation rating of 1.70e-4 Wh per 1,000 queries.
func tiny() Rating {
	r := sizeClassed()
	r.WhPer1kQueries, r.EnergyPerUnit = 0.00017, 0.0000118
	return r
}

// svgDoc is what the tests read back from an SVG.
type svgDoc struct {
	root     xml.StartElement
	elements []string // names, in document order
	title    string
	texts    []string // the character data of each <text>
}

func (d svgDoc) attr(name string) (string, bool) {
	for _, a := range d.root.Attr {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func (d svgDoc) count(name string) int {
	n := 0
	for _, e := range d.elements {
		if e == name {
			n++
		}
	}
	return n
}

// parseSVG decodes an SVG strictly, failing on anything that is not
// well-formed XML, and on coordinates that are not finite numbers.
func parseSVG(t testing.TB, b []byte) svgDoc {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	var doc svgDoc
	var stack []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(doc.elements) == 0 {
				doc.root = tok.Copy()
			} else if len(stack) == 0 {
				t.Fatalf("second root element <%s>", tok.Name.Local)
			}
			doc.elements = append(doc.elements, tok.Name.Local)
			stack = append(stack, tok.Name.Local)
			if tok.Name.Local == "text" {
				doc.texts = append(doc.texts, "")
			}
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "x", "y", "width", "height", "textLength", "font-size":
					v, err := strconv.ParseFloat(strings.TrimSuffix(a.Value, "%"), 64)
					if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("<%s %s=%q> is not a finite number", tok.Name.Local, a.Name.Local, a.Value)
					}
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			switch stack[len(stack)-1] {
			case "title":
				doc.title += string(tok)
			case "text":
				doc.texts[len(doc.texts)-1] += string(tok)
			}
		}
	}
	if doc.root.Name.Local != "svg" {
		t.Fatalf("root element is <%s>, want <svg>", doc.root.Name.Local)
	}
	return doc
}

func TestSVGsAreAccessible(t *testing.T) {
	tests := []struct {
		name  string
		svg   []byte
		names string // what a screen reader must hear
	}{
		{"grade badge names the grade and energy", Badge(whisper(), GradeBadge), "AI energy: F · 29.9 Wh/1k queries"},
		{"stars badge speaks the stars as a number", Badge(whisper(), StarsBadge), "AI energy: 3 of 5 stars"},
		{"badge without a grade says so", Badge(ungraded(), GradeBadge), "AI energy: no grade · 29.9 Wh/1k queries"},
		{"not rated badge says so", NotRated("acme/x"), "AI energy: not rated"},
		{"label names model, grade and stars", mustLabel(t, whisper()).SVG(), "AI energy label: openai/whisper-large-v3, automatic-speech-recognition, grade F, 3 of 5 stars, 29.9 Wh per 1,000 queries"},
		{"label without a grade says so", mustLabel(t, ungraded()).SVG(), "no grade"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parseSVG(t, tt.svg)
			if role, _ := doc.attr("role"); role != "img" {
				t.Errorf(`role = %q, want "img"`, role)
			}
			aria, _ := doc.attr("aria-label")
			if !strings.Contains(aria, tt.names) {
				t.Errorf("aria-label = %q, want it to contain %q", aria, tt.names)
			}
			if !strings.HasPrefix(doc.title, aria) {
				t.Errorf("<title> = %q, want it to start with the aria-label %q", doc.title, aria)
			}
			if doc.elements[1] != "title" {
				t.Errorf("first child is <%s>, want <title>", doc.elements[1])
			}
		})
	}
}

func TestLabelShowsTheRating(t *testing.T) {
	doc := parseSVG(t, mustLabel(t, whisper()).SVG())
	for _, want := range []string{
		"openai/whisper-large-v3", "openai", "automatic-speech-recognition", "H100", "Dataset", "AIEnergyScore/asr",
		"2025-02-01", "F", "Energy per 1,000 queries", "29.9", "Wh", "3 of 5 stars", "basis query · EEI 1.62", "scheme grade/2025.1",
	} {
		if !slices.Contains(doc.texts, want) {
			t.Errorf("no text %q in %q", want, doc.texts)
		}
	}
	if n := countOf(doc.texts, "F"); n != 2 {
		t.Errorf("F appears %d times, want on its arrow and on the marker", n)
	}
	if n := doc.count("polygon"); n != 7+1+5 {
		t.Errorf("%d polygons, want 7 arrows, the marker and 5 stars", n)
	}
	if doc.count("path") != 1 {
		t.Error("no QR code")
	}

	doc = parseSVG(t, mustLabel(t, ungraded()).SVG())
	if !slices.Contains(doc.texts, "no reference") || countOf(doc.texts, "F") != 1 {
		t.Errorf("label without a grade shows %q", doc.texts)
	}
	if n := doc.count("polygon"); n != 7+5 {
		t.Errorf("%d polygons, want 7 arrows and 5 stars but no marker", n)
	}
}

func TestLabelShowsTheSizeClassWhenThereIsOne(t *testing.T) {
	doc := parseSVG(t, mustLabel(t, sizeClassed()).SVG())
	for _, want := range []string{"Size class", "A · ≤ 20 billion parameters", "text-generation", "AIEnergyScore/text_generation"} {
		if !slices.Contains(doc.texts, want) {
			t.Errorf("no text %q in %q", want, doc.texts)
		}
	}
	if !strings.Contains(doc.title, "text-generation, size class A") {
		t.Errorf("title %q does not name the size class", doc.title)
	}
	if doc := parseSVG(t, mustLabel(t, whisper()).SVG()); slices.Contains(doc.texts, "Size class") {
		t.Error("a task without size classes shows one")
	}
	// A long task name makes room for the size class rather than run into it.
	r := sizeClassed()
	r.Task = strings.Repeat("very-long-task-", 6)
	var task, class text
	for _, it := range mustLabel(t, r).items {
		if tx, ok := it.(text); ok && strings.HasPrefix(tx.s, "very-long") {
			task = tx
		} else if ok && strings.HasPrefix(tx.s, "A · ") {
			class = tx
		}
	}
	if class.anchor != end || !strings.HasSuffix(class.s, "parameters") || task.x+task.width > class.x-class.width-8 {
		t.Errorf("the task %q ends at %.1f, over the size class %q from %.1f", task.s, task.x+task.width, class.s, class.x-class.width)
	}
}

func countOf(texts []string, s string) int {
	n := 0
	for _, t := range texts {
		if t == s {
			n++
		}
	}
	return n
}

func TestLabelDetails(t *testing.T) {
	r := whisper()
	r.Hardware, r.GPUCount = "H100", 8
	r.Date = time.Time{}
	doc := parseSVG(t, mustLabel(t, r).SVG())
	for _, want := range []string{"H100 × 8", "Date", "not stated"} {
		if !slices.Contains(doc.texts, want) {
			t.Errorf("no text %q in %q", want, doc.texts)
		}
	}

	r.Hardware = "NVIDIA H100 SXM5 80GB HBM3 with a very long name"
	doc = parseSVG(t, mustLabel(t, r).SVG())
	found := false
	for _, s := range doc.texts {
		if strings.HasPrefix(s, "NVIDIA") && strings.HasSuffix(s, "… × 8") {
			found = true
		}
	}
	if !found {
		t.Errorf("a cut hardware name lost its GPU count: %q", doc.texts)
	}

	r.PageURL = ""
	doc = parseSVG(t, mustLabel(t, r).SVG())
	if doc.count("path") != 0 {
		t.Error("a QR code without a page URL")
	}

	r.PageURL = "http://example.com/" + strings.Repeat("x", 4000)
	if _, err := Label(r); err == nil {
		t.Error("a URL too long for any QR code gave no error")
	}
	r.PageURL = "http://example.com/" + strings.Repeat("x", 1000)
	if _, err := Label(r); !errors.Is(err, ErrURLTooLong) {
		t.Errorf("a URL too long for a legible QR code gave %v, want ErrURLTooLong", err)
	}
	r.PageURL = "http://127.0.0.1:8080/models/" + strings.Repeat("o", 96) + "/" + strings.Repeat("n", 96)
	if _, err := Label(r); err != nil {
		t.Errorf("the longest model page URL: %v", err)
	}
}

func TestLongModelNamesAreCutToFit(t *testing.T) {
	r := whisper()
	r.Model = "acme/" + strings.Repeat("very-long-model-name-", 8)
	d := mustLabel(t, r)
	var name text
	for _, it := range d.items {
		if tx, ok := it.(text); ok && strings.HasPrefix(tx.s, "acme/") {
			name = tx
		}
	}
	if !strings.HasSuffix(name.s, "…") {
		t.Errorf("model name %q was not cut", name.s)
	}
	if name.width > inner || name.x+name.width > labelWidth-margin {
		t.Errorf("model name is %.1f wide, box is %d", name.width, inner)
	}
}

func TestHostileTextIsOnlyEverEscaped(t *testing.T) {
	const evil = `<script>alert(1)</script>"'&]]><![CDATA[x]]><!-- -->`
	r := whisper()
	r.Model = "owner/" + evil
	r.Task, r.Hardware, r.Unit, r.Basis, r.Scheme = evil, evil, evil, evil, evil
	r.Grade = evil
	outputs := map[string][]byte{
		"badge": Badge(r, GradeBadge),
		"stars": Badge(r, StarsBadge),
		"not":   NotRated(r.Model),
		"label": mustLabel(t, r).SVG(),
	}
	perUnit := ungraded() // the hostile basis is not "query", so its label has a per-unit line
	perUnit.Basis = "output_token"
	benign := map[string][]byte{
		"badge": Badge(ungraded(), GradeBadge),
		"stars": Badge(ungraded(), StarsBadge),
		"not":   NotRated("a/b"),
		"label": mustLabel(t, perUnit).SVG(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for _, raw := range []string{"<script", "</script", "<![CDATA", "<!--"} {
				if bytes.Contains(out, []byte(raw)) {
					t.Errorf("output contains raw %q", raw)
				}
			}
			doc, want := parseSVG(t, out), parseSVG(t, benign[name])
			if !slices.Equal(doc.elements, want.elements) {
				t.Errorf("elements\n%v\nwant\n%v", doc.elements, want.elements)
			}
			if !strings.Contains(doc.title, "<script>alert(1)</script>") {
				t.Errorf("title %q lost the text instead of escaping it", doc.title)
			}
		})
	}
}

func TestControlCharactersNeverReachTheXML(t *testing.T) {
	r := whisper()
	r.Model = "a/b\x00\x1b[31m\uFFFE\u202Eevil\xff\n"
	for _, out := range [][]byte{Badge(r, GradeBadge), NotRated(r.Model), mustLabel(t, r).SVG()} {
		parseSVG(t, out) // Strict decoding refuses characters XML does not allow.
	}
}

func TestRenderingIsDeterministic(t *testing.T) {
	r := whisper()
	if !bytes.Equal(Badge(r, GradeBadge), Badge(r, GradeBadge)) {
		t.Error("badge differs between renders")
	}
	a, b := mustLabel(t, r), mustLabel(t, r)
	if !bytes.Equal(a.SVG(), b.SVG()) {
		t.Error("label SVG differs between renders")
	}
	if !bytes.Equal(mustPNG(t, a), mustPNG(t, b)) {
		t.Error("label PNG differs between renders")
	}
}

func TestPNG(t *testing.T) {
	p := mustPNG(t, mustLabel(t, whisper()))
	if !bytes.HasPrefix(p, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("no PNG signature")
	}
	img, err := png.Decode(bytes.NewReader(p))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != labelWidth*PNGScale || b.Dy() != labelHeight*PNGScale {
		t.Errorf("PNG is %v, want %d×%d", b.Size(), labelWidth*PNGScale, labelHeight*PNGScale)
	}
	// The grade marker is black and the A arrow green, where the layout
	// puts them: the PNG shows the same drawing as the SVG.
	at := func(x, y float64) [3]uint32 {
		r, g, b, _ := img.At(int(x*PNGScale), int(y*PNGScale)).RGBA()
		return [3]uint32{r >> 8, g >> 8, b >> 8}
	}
	if c := at(300, ladderTop+5*ladderStep+ladderRow/2-8); c != [3]uint32{0x1a, 0x1a, 0x1a} {
		t.Errorf("F marker pixel is %x, want ink", c)
	}
	if c := at(60, ladderTop+2); c != [3]uint32{0x00, 0xa6, 0x51} {
		t.Errorf("A arrow pixel is %x, want EU green", c)
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(p)); err != nil {
		t.Error(err)
	}
}

func TestBadgeWidthsFollowVerdana(t *testing.T) {
	// badge-maker draws "build | passing" 37 + 51 wide.
	if w := badgeTextWidth("build") + 2*badgePadding; w != 37 {
		t.Errorf(`"build" box is %d wide, want 37`, w)
	}
	if w := badgeTextWidth("passing") + 2*badgePadding; w != 51 {
		t.Errorf(`"passing" box is %d wide, want 51`, w)
	}
	width := func(b []byte) int {
		w, _ := parseSVG(t, b).attr("width")
		n, _ := strconv.Atoi(w)
		return n
	}
	r := whisper()
	narrow := width(Badge(r, GradeBadge))
	r.WhPer1kQueries = 1234
	wide := width(Badge(r, GradeBadge))
	if wide <= narrow {
		t.Errorf("badge for 1230 Wh is %d wide, for 29.9 Wh %d; want wider", wide, narrow)
	}
	if verdanaText("WWW", 11) <= verdanaText("iii", 11) {
		t.Error("W is not wider than i")
	}
}

func TestBadgeColours(t *testing.T) {
	for _, g := range "ABCDEFG" {
		r := whisper()
		r.Grade = string(g)
		want := hex(gradeColours[g-'A'])
		if b := Badge(r, GradeBadge); !bytes.Contains(b, []byte(`fill="`+want+`"`)) {
			t.Errorf("grade %c badge has no %s fill", g, want)
		}
	}
	// Yellow needs dark text; red needs white.
	if !light(gradeColours[3]) || light(gradeColours[6]) {
		t.Error("text contrast rule picks the wrong colour")
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0.0214, "0.0214"},
		{2.37, "2.37"},
		{2.374, "2.37"},
		{29.9, "29.9"},
		{1723.4, "1720"},
		{999.6, "1000"},
		{99999, "100000"},
		{0.001, "0.00100"},
		{0.000123, "1.23e-4"},
		{1234567, "1.23e6"},
		{0, "0"},
		{-2.37, "-2.37"},
		{math.NaN(), Dash},
		{math.Inf(1), Dash},
		{math.Inf(-1), Dash},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.in); got != tt.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNonFiniteNumbersShowAsDash(t *testing.T) {
	r := whisper()
	r.WhPer1kQueries, r.EnergyPerUnit, r.EEI = math.NaN(), math.Inf(1), math.Inf(-1)
	if b := Badge(r, GradeBadge); !bytes.Contains(b, []byte("F · —")) {
		t.Errorf("badge for NaN energy: %s", b)
	}
	doc := parseSVG(t, mustLabel(t, r).SVG())
	if !slices.Contains(doc.texts, Dash) {
		t.Errorf("label for NaN energy shows %q", doc.texts)
	}
}

func FuzzBadge(f *testing.F) {
	f.Add("openai/whisper-large-v3", "automatic-speech-recognition", "H100", "Wh/1k queries", "F", 29.9, 29.9, 3, 1, "http://127.0.0.1:8080/models/openai/whisper-large-v3", "AI energy")
	f.Add(`<script>alert(1)</script>`, `"'&]]>`, "\x00\xff", "J/token", "", math.NaN(), math.Inf(1), 0, 8, "", "")
	f.Add("a/"+strings.Repeat("W", 300), "\u202e\ufffe", "", "", "A", -1.0, 1e300, 9, -1, "x", "\x00<]]>µ")

	// The element structure that harmless text gives, for each shape the
	// label can take: any element that fuzzed text adds or removes is an
	// injection.
	type shape struct{ graded, qr, perUnit bool }
	want := map[shape][]string{}
	for _, graded := range []bool{false, true} {
		for _, qr := range []bool{false, true} {
			for _, perUnit := range []bool{false, true} {
				r := whisper()
				if !graded {
					r.Grade = ""
				}
				if !qr {
					r.PageURL = ""
				}
				if perUnit {
					r.Basis = "output_token"
				}
				want[shape{graded, qr, perUnit}] = parseSVG(f, mustLabel(f, r).SVG()).elements
			}
		}
	}
	// And for each badge style, with a label and without.
	type look struct {
		style    Style
		hasLabel bool
	}
	badgeWant := map[look][]string{}
	for _, style := range []Style{Flat, FlatSquare, Plastic, ForTheBadge} {
		for _, hasLabel := range []bool{false, true} {
			b := NotRatedBadge("a/b")
			if !hasLabel {
				b.Label = ""
			}
			badgeWant[look{style, hasLabel}] = parseSVG(f, b.SVG(style)).elements
		}
	}

	f.Fuzz(func(t *testing.T, model, task, hardware, unit, grade string, wh, perUnit float64, stars, gpus int, url, badgeLabel string) {
		r := Rating{
			Model: model, Task: task, Hardware: hardware, GPUCount: gpus,
			WhPer1kQueries: wh, EnergyPerUnit: perUnit, EEI: wh / 10,
			Unit: unit, Basis: task, Stars: stars, Grade: grade, Scheme: unit, PageURL: url,
		}
		for _, b := range []BadgeText{RatingBadge(r, GradeBadge), RatingBadge(r, StarsBadge), NotRatedBadge(model), ProblemBadge(grade, url)} {
			b.Label = badgeLabel
			for _, style := range []Style{Flat, FlatSquare, Plastic, ForTheBadge} {
				want := badgeWant[look{style, clean(badgeLabel) != ""}]
				if got := parseSVG(t, b.SVG(style)).elements; !slices.Equal(got, want) {
					t.Fatalf("%s badge elements %v, want %v", style, got, want)
				}
			}
			var e map[string]any
			if err := json.Unmarshal(b.Endpoint(ForTheBadge, 300), &e); err != nil || e["label"] != clean(badgeLabel) {
				t.Fatalf("endpoint JSON %s: %v", b.Endpoint(ForTheBadge, 300), err)
			}
		}
		d, err := Label(r)
		if err != nil {
			if url == "" {
				t.Fatalf("Label failed without a URL: %v", err)
			}
			return // only a URL too long for a QR code fails
		}
		_, graded := r.grade()
		w := want[shape{graded, url != "", clean(r.Basis) != "query"}]
		if got := parseSVG(t, d.SVG()).elements; !slices.Equal(got, w) {
			t.Fatalf("label elements %v, want %v", got, w)
		}
	})
}

func BenchmarkBadge(b *testing.B) {
	r := whisper()
	for b.Loop() {
		Badge(r, GradeBadge)
	}
}

func BenchmarkLabelSVG(b *testing.B) {
	r := whisper()
	for b.Loop() {
		d, _ := Label(r)
		d.SVG()
	}
}

func BenchmarkLabelPNG(b *testing.B) {
	r := whisper()
	for b.Loop() {
		d, _ := Label(r)
		if _, err := d.PNG(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPNGCarriesTheQRCode(t *testing.T) {
	d := mustLabel(t, whisper())
	var code qr
	for _, it := range d.items {
		if q, ok := it.(qr); ok {
			code = q
		}
	}
	want, err := qrcode.New(whisper().PageURL, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(code.bits, want.Bitmap(), slices.Equal) {
		t.Fatal("the label's QR code is not the page URL's")
	}
	if m := code.module * PNGScale; m != math.Trunc(m) || m < 3 {
		t.Errorf("QR modules are %v px; want whole pixels, at least 3", m)
	}
	img, err := png.Decode(bytes.NewReader(mustPNG(t, d)))
	if err != nil {
		t.Fatal(err)
	}
	// Modules are whole pixels, so every pixel of the code, quiet zone
	// included, is pure black or white unless something else drew on it.
	x0, y0 := int(code.x*PNGScale), int(code.y*PNGScale)
	side := int(code.module * PNGScale * float64(len(code.bits)))
	for y := y0; y < y0+side; y++ {
		for x := x0; x < x0+side; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); !(r == g && g == b && (r == 0 || r == 0xffff)) {
				t.Fatalf("pixel (%d, %d) of the QR code is %x %x %x, not black or white", x, y, r, g, b)
			}
		}
	}
	// Reading each module's centre back proves a scanner sees the code.
	for y, row := range code.bits {
		for x, dark := range row {
			px := int((code.x + (float64(x)+0.5)*code.module) * PNGScale)
			py := int((code.y + (float64(y)+0.5)*code.module) * PNGScale)
			r, _, _, _ := img.At(px, py).RGBA()
			if (r < 0x8000) != dark {
				t.Fatalf("module (%d, %d) reads %v, want dark=%v", x, y, r, dark)
			}
		}
	}
}

// TestBadgeStylesFollowBadgeMaker checks each style's geometry against
// what shields' badge-maker 6.0.0 draws for the same text: its width, each
// text's textLength and x, as makeBadge gives them.
func TestBadgeStylesFollowBadgeMaker(t *testing.T) {
	orange := color.RGBA{0xf3, 0x70, 0x21, 0xff}
	tests := []struct {
		label, message string
		style          Style
		width          string
		lengths, xs    []string
	}{
		{"AI energy", "F · 29.9 Wh/1k", Flat, "158", []string{"550", "550", "830", "830"}, []string{"335", "335", "1105", "1105"}},
		{"AI energy", "F · 29.9 Wh/1k", FlatSquare, "158", []string{"550", "830"}, []string{"335", "1105"}},
		{"AI energy", "F · 29.9 Wh/1k", Plastic, "158", []string{"550", "550", "830", "830"}, []string{"335", "335", "1105", "1105"}},
		{"AI energy", "F · 29.9 Wh/1k", ForTheBadge, "217.75", []string{"662.5", "1035"}, []string{"451.25", "1540"}},
		{"build", "passing", ForTheBadge, "145", []string{"372.5", "597.5"}, []string{"306.25", "1031.25"}},
		{"AI energy", "pick a task", ForTheBadge, "199", []string{"662.5", "847.5"}, []string{"451.25", "1446.25"}},
		{"", "F · 29.9 Wh/1k", Flat, "93", []string{"830", "830"}, []string{"465", "465"}},
		{"", "F · 29.9 Wh/1k", ForTheBadge, "127.5", []string{"1035"}, []string{"637.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.style.String()+"/"+tt.label+"|"+tt.message, func(t *testing.T) {
			svg := BadgeText{Label: tt.label, Message: tt.message, Color: orange}.SVG(tt.style)
			doc := parseSVG(t, svg)
			if w, _ := doc.attr("width"); w != tt.width {
				t.Errorf("width %s, badge-maker's is %s", w, tt.width)
			}
			lengths, xs := textAttrs(t, svg)
			if !slices.Equal(lengths, tt.lengths) || !slices.Equal(xs, tt.xs) {
				t.Errorf("texts have textLength %v and x %v; badge-maker's have %v and %v", lengths, xs, tt.lengths, tt.xs)
			}
			height, _ := doc.attr("height")
			if want := map[Style]string{Flat: "20", FlatSquare: "20", Plastic: "18", ForTheBadge: "28"}[tt.style]; height != want {
				t.Errorf("height %s, want %s", height, want)
			}
		})
	}
}

// textAttrs returns the textLength and x of each <text> of an SVG.
func textAttrs(t *testing.T, svg []byte) (lengths, xs []string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "text" {
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "textLength":
					lengths = append(lengths, a.Value)
				case "x":
					xs = append(xs, a.Value)
				}
			}
		}
	}
}

func TestBadgeStylesDifferInTheirFinish(t *testing.T) {
	r := whisper()
	flat, square, plastic, ftb := RatingBadge(r, GradeBadge).SVG(Flat), RatingBadge(r, GradeBadge).SVG(FlatSquare),
		RatingBadge(r, GradeBadge).SVG(Plastic), RatingBadge(r, GradeBadge).SVG(ForTheBadge)
	for name, tc := range map[string]struct {
		svg                    []byte
		radius, gradient, caps bool
	}{
		"flat": {flat, true, true, false}, "flat-square": {square, false, false, false},
		"plastic": {plastic, true, true, false}, "for-the-badge": {ftb, false, false, true},
	} {
		doc := parseSVG(t, tc.svg)
		if got := bytes.Contains(tc.svg, []byte(`rx="`)); got != tc.radius {
			t.Errorf("%s: rounded corners %v, want %v", name, got, tc.radius)
		}
		if got := doc.count("linearGradient") > 0; got != tc.gradient {
			t.Errorf("%s: gradient %v, want %v", name, got, tc.gradient)
		}
		if got := slices.Contains(doc.texts, "AI ENERGY"); got != tc.caps {
			t.Errorf("%s: label in capitals %v, want %v (texts %q)", name, got, tc.caps, doc.texts)
		}
	}
	if !bytes.Contains(plastic, []byte(`stop-color="#fff" stop-opacity=".7"`)) {
		t.Error("plastic lacks its glossy gradient")
	}
	if !bytes.Contains(ftb, []byte(`font-weight="bold"`)) {
		t.Error("for-the-badge's message is not bold")
	}
}

func TestForTheBadgeKeepsTheUnitsCase(t *testing.T) {
	r := sizeClassed()
	r.EnergyPerUnit = 0.0554
	doc := parseSVG(t, RatingBadge(r, GradeBadge).SVG(ForTheBadge))
	if !slices.Contains(doc.texts, "F · 0.0554 J/token") {
		t.Errorf("texts %q: want the unit J/token as it is, not in capitals", doc.texts)
	}
	r.Grade = ""
	doc = parseSVG(t, RatingBadge(r, GradeBadge).SVG(ForTheBadge))
	if !slices.Contains(doc.texts, "NO GRADE · 0.0554 J/token") {
		t.Errorf("texts %q: want the words in capitals and the unit as it is", doc.texts)
	}
}

func TestBadgeLabel(t *testing.T) {
	b := RatingBadge(whisper(), GradeBadge)
	b.Label = `<b>"energy" & co</b>`
	for _, style := range []Style{Flat, FlatSquare, Plastic, ForTheBadge} {
		svg := b.SVG(style)
		doc := parseSVG(t, svg)
		want := b.Label
		if style == ForTheBadge {
			want = strings.ToUpper(want)
		}
		if !slices.Contains(doc.texts, want) {
			t.Errorf("%s: texts %q lack the label %q", style, doc.texts, want)
		}
		if aria, _ := doc.attr("aria-label"); !strings.HasPrefix(aria, b.Label+": ") {
			t.Errorf("%s: aria-label %q does not start with the label", style, aria)
		}
		if bytes.Contains(svg, []byte("<b>")) {
			t.Errorf("%s: the label is not escaped", style)
		}
	}
	b.Label = ""
	for _, style := range []Style{Flat, FlatSquare, Plastic, ForTheBadge} {
		doc := parseSVG(t, b.SVG(style))
		if len(doc.texts) == 0 || slices.ContainsFunc(doc.texts, func(s string) bool { return strings.Contains(strings.ToUpper(s), "AI ENERGY") }) {
			t.Errorf("%s with an empty label: texts %q, want the message alone", style, doc.texts)
		}
		if aria, _ := doc.attr("aria-label"); aria != "F · 29.9 Wh/1k queries" {
			t.Errorf("%s with an empty label: aria-label %q", style, aria)
		}
	}
}

func TestParseStyle(t *testing.T) {
	for _, s := range []Style{Flat, FlatSquare, Plastic, ForTheBadge} {
		if got, ok := ParseStyle(s.String()); !ok || got != s {
			t.Errorf("ParseStyle(%q) = %v, %v", s.String(), got, ok)
		}
	}
	if s, ok := ParseStyle(""); !ok || s != Flat {
		t.Errorf(`ParseStyle("") = %v, %v; want flat`, s, ok)
	}
	for _, bad := range []string{"social", "FLAT", "flat ", "for_the_badge"} {
		if _, ok := ParseStyle(bad); ok {
			t.Errorf("ParseStyle(%q) accepted it", bad)
		}
	}
}

// TestEndpointFollowsShieldsSchema checks the endpoint JSON against
// shields' endpoint schema (services/endpoint-common.js): only its keys,
// schemaVersion 1, a label and a message, a colour it reads.
func TestEndpointFollowsShieldsSchema(t *testing.T) {
	allowed := []string{"schemaVersion", "label", "message", "color", "labelColor", "isError", "namedLogo", "logoSvg", "style", "cacheSeconds"}
	for name, tc := range map[string]struct {
		b       BadgeText
		style   Style
		message string
		problem bool
	}{
		"grade":     {RatingBadge(whisper(), GradeBadge), Flat, "F · 29.9 Wh/1k queries", false},
		"stars":     {RatingBadge(whisper(), StarsBadge), ForTheBadge, "★★★☆☆", false},
		"not rated": {NotRatedBadge("a/b"), Flat, "not rated", false},
		"problem":   {ProblemBadge("pick a task", "rated for 2 tasks"), Flat, "pick a task", true},
	} {
		t.Run(name, func(t *testing.T) {
			raw := tc.b.Endpoint(tc.style, 300)
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			for k := range m {
				if !slices.Contains(allowed, k) {
					t.Errorf("key %q is not in shields' schema, which refuses unknown keys", k)
				}
			}
			if m["schemaVersion"] != 1.0 || m["label"] != "AI energy" || m["message"] != tc.message || m["cacheSeconds"] != 300.0 {
				t.Errorf("endpoint %s", raw)
			}
			if c, _ := m["color"].(string); !regexp.MustCompile(`^([0-9a-f]{3}){1,2}$`).MatchString(c) {
				t.Errorf("color %q is not a hex colour as shields reads one", c)
			}
			if isErr, _ := m["isError"].(bool); isErr != tc.problem {
				t.Errorf("isError %v, want %v", isErr, tc.problem)
			}
			if style, _ := m["style"].(string); (tc.style != Flat) != (style == tc.style.String()) {
				t.Errorf("style %q for %s", style, tc.style)
			}
		})
	}
	if got := string(RatingBadge(whisper(), GradeBadge).Endpoint(Flat, 300)); !strings.Contains(got, `"color":"f37021"`) {
		t.Errorf("grade F's endpoint colour: %s", got)
	}
}

// TestFormatEnergy checks the package's one rule for energy figures:
// three significant figures, the unit as given, never an SI prefix.
func TestFormatEnergy(t *testing.T) {
	tests := []struct {
		v          float64
		unit, want string
	}{
		{0.0554, "Wh/1k queries", "0.0554 Wh/1k queries"},
		{0.5, "Wh/1k queries", "0.500 Wh/1k queries"},
		{2.37, "Wh/1k queries", "2.37 Wh/1k queries"},
		{29.9, "Wh", "29.9 Wh"},
		{134.2, "Wh/1k queries", "134 Wh/1k queries"},
		{999.6, "Wh", "1000 Wh"},
		{1723.4, "Wh", "1720 Wh"},
		{3426.38, "Wh/1k queries", "3430 Wh/1k queries"},
		{0.0118, "J/token", "0.0118 J/token"},
		{0.31, "J/token", "0.310 J/token"},
		{0.0009996, "Wh", "0.00100 Wh"},
		{0.001, "Wh", "0.00100 Wh"},
		{2.5e6, "J/MP", "2.50e6 J/MP"},
		{0.00017, "Wh/1k queries", "1.70e-4 Wh/1k queries"},
		{0, "Wh", "0 Wh"},
		{-0.0214, "Wh", "-0.0214 Wh"},
		{math.NaN(), "Wh", Dash},
		{math.Inf(1), "J/token", Dash},
	}
	for _, tt := range tests {
		if got := FormatEnergy(tt.v, tt.unit); got != tt.want {
			t.Errorf("FormatEnergy(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
	// Across twelve orders of magnitude, the unit is the one given, and
	// the number reads back within rounding to three figures.
	for e := -6.0; e <= 6; e += 0.37 {
		v := 1.234567 * math.Pow(10, e)
		for _, unit := range []string{"Wh/1k queries", "J/token", "J/MP"} {
			n, u := SplitEnergy(v, unit)
			back, err := strconv.ParseFloat(n, 64)
			if u != unit || err != nil || math.Abs(back-v)/v > 0.005 {
				t.Errorf("SplitEnergy(%g, %q) = %q, %q", v, unit, n, u)
			}
		}
	}
}

// TestNothingOnTheLabelIsCutOff draws the label of every kind of unit,
// with the largest and smallest figures the prefixes give, and checks that
// no figure is cut and every line stays clear of the QR code and within
// the label.
func TestNothingOnTheLabelIsCutOff(t *testing.T) {
	units := map[string]string{"query": "Wh/1k queries", "output_token": "J/token", "output_megapixel": "J/MP", "output_megapixel_frame": "J/MP-frame"}
	for basis, unit := range units {
		for i, v := range []float64{0.000170, 0.0999, 999.4, 1723.4, 999e6, math.NaN(), 0.000171, 0.0998, 999.3, 1723.3, 998e6} {
			r := sizeClassed()
			r.Basis, r.Unit, r.WhPer1kQueries, r.EnergyPerUnit = basis, unit, v, v/7
			if i > 5 {
				// Corrected, with the declared figure half the determined one.
				r.Verification = Verification{Status: StatusCorrected, DeclaredWhPer1kQueries: v / 2, DeterminedWhPer1kQueries: v}
			}
			d := mustLabel(t, r)
			var code qr
			for _, it := range d.items {
				if q, ok := it.(qr); ok {
					code = q
				}
			}
			figures := 0
			for _, it := range d.items {
				tx, ok := it.(text)
				if !ok || tx.y < figuresTop {
					continue
				}
				figures++
				if strings.Contains(tx.s, "…") {
					t.Errorf("%s %v: %q is cut", basis, v, tx.s)
				}
				left, right := tx.x, tx.x+tx.width
				switch tx.anchor {
				case middle:
					left, right = tx.x-tx.width/2, tx.x+tx.width/2
				case end:
					left, right = tx.x-tx.width, tx.x
				}
				if left < margin || right > labelWidth-margin || tx.y > labelHeight-4 {
					t.Errorf("%s %v: %q spans %.1f–%.1f at y %.1f, outside the label", basis, v, tx.s, left, right, tx.y)
				}
				if tx.s != "scan for this model" && right > code.x {
					t.Errorf("%s %v: %q ends at %.1f, over the QR code at %.1f", basis, v, tx.s, right, code.x)
				}
			}
			// The energy, its unit, the stars, basis, scheme and the QR code's
			// caption; a per-unit basis adds its caption and figure; a
			// corrected rating the declared figure and its caption.
			want := map[bool]int{true: 7, false: 9}[basis == "query"]
			if r.Verification.Status == StatusCorrected {
				want += 2
			}
			if figures != want {
				t.Errorf("%s %v: %d texts among the figures, want %d", basis, v, figures, want)
			}
		}
	}
	r := sizeClassed()
	r.WhPer1kQueries, r.EnergyPerUnit = 0.0554, 0.0118
	doc := parseSVG(t, mustLabel(t, r).SVG())
	for _, want := range []string{"0.0554", "Wh", "0.0118 J/token", "basis output_token · EEI 1.62", "scheme grade/2025.1"} {
		if !slices.Contains(doc.texts, want) {
			t.Errorf("the label of 0.0554 Wh/1k queries lacks %q: %q", want, doc.texts)
		}
	}
}

func TestFormatRatio(t *testing.T) {
	for v, want := range map[float64]string{
		1.3: "1.3×", 1.26: "1.3×", 2: "2×", 9.96: "10×", 27.4: "27×", 903: "900×", 12_345: "12,000×", 1.5e6: "1,500,000×",
		0.95: "0.95×", 0: Dash, -1: Dash, math.Inf(1): Dash, math.NaN(): Dash,
	} {
		if got := FormatRatio(v); got != want {
			t.Errorf("FormatRatio(%v) = %q, want %q", v, got, want)
		}
	}
}
