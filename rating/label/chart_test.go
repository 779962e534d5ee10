package label

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestHistoryChartIsWellFormedAndPlotsEveryPoint(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := HistoryChart{Unit: "Wh/1k <queries>", Reference: 0.8, Points: []HistoryPoint{
		{At: at, X: 0.9, Grade: "F"}, {At: at.Add(24 * time.Hour), X: 0.6, Grade: "E"}, {At: at.Add(48 * time.Hour), X: 0.3, Grade: "D"},
	}}
	svg := c.SVG()
	d := xml.NewDecoder(bytes.NewReader(svg))
	circles, bands := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "circle":
				circles++
			case "rect":
				bands++
			case "script", "foreignObject":
				t.Fatalf("chart holds <%s>", se.Name.Local)
			}
		}
	}
	if circles != 3 || bands < 4 {
		t.Errorf("%d points and %d rects, want 3 points and the background plus grade bands", circles, bands)
	}
	if !strings.Contains(string(svg), "&lt;queries&gt;") || !strings.Contains(string(svg), "grade D") {
		t.Errorf("the unit is not escaped or a point lacks its title:\n%s", svg)
	}
	if empty := (HistoryChart{Unit: "J/token"}).SVG(); !bytes.HasSuffix(empty, []byte("</svg>")) {
		t.Errorf("an empty chart: %s", empty)
	}
	// Small figures keep their digits, without a prefix.
	tiny := HistoryChart{Unit: "Wh/1k queries", Points: []HistoryPoint{{At: at, X: 0.0554, Grade: "A"}, {At: at.Add(time.Hour), X: 0.0718, Grade: "B"}}}
	for _, want := range []string{"0.0554 Wh/1k queries, grade A", "0.0718 Wh/1k queries, grade B", ">0.05<", ">0.07<"} {
		if !bytes.Contains(tiny.SVG(), []byte(want)) {
			t.Errorf("the chart of 0.0554 Wh/1k queries lacks %q:\n%s", want, tiny.SVG())
		}
	}
	if empty := (HistoryChart{Unit: "J/token"}).SVG(); !bytes.HasSuffix(empty, []byte("</svg>")) {
		t.Errorf("an empty chart: %s", empty)
	}
}

func TestStripChartLinksEveryModelOverTheClassBands(t *testing.T) {
	c := StripChart{Unit: "J/token", Reference: 0.5}
	for i, x := range []float64{0.01, 0.0101, 0.0102, 0.2, 3, 40} {
		c.Points = append(c.Points, StripPoint{Model: fmt.Sprintf("acme/m%d<x>", i), Href: fmt.Sprintf("/models/acme/m%d", i), X: x, Grade: "C"})
	}
	c.Points = append(c.Points, StripPoint{Model: "acme/nan", X: math.NaN()})
	svg := c.SVG()
	doc := parseSVG(t, svg)
	if n := doc.count("circle"); n != 6 {
		t.Errorf("%d dots, want one per model with a finite energy (6)", n)
	}
	if n := doc.count("a"); n != 6 {
		t.Errorf("%d links, want 6", n)
	}
	if n := doc.count("rect"); n < 1+7 {
		t.Errorf("%d rects, want the background and the 7 grade bands around a reference", n)
	}
	for _, want := range []string{`href="/models/acme/m3"`, "acme/m0&lt;x&gt;: 0.0100 J/token, grade C", ">0.01<", ">1<", "J/token, log scale"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("the chart lacks %s", want)
		}
	}
	for _, banned := range []string{"<script", "foreignObject", "javascript:"} {
		if bytes.Contains(svg, []byte(banned)) {
			t.Errorf("the chart holds %s", banned)
		}
	}
	// Three dots at almost the same energy stack, rather than hide each other.
	cys := regexp.MustCompile(`<circle cx="[0-9.]+" cy="([0-9.]+)"`).FindAllSubmatch(svg, 3)
	if len(cys) != 3 || string(cys[0][1]) == string(cys[1][1]) || string(cys[1][1]) == string(cys[2][1]) {
		t.Errorf("close dots share a lane: %q", cys)
	}

	many := StripChart{Unit: "Wh/1k queries"}
	for i := range 2000 {
		many.Points = append(many.Points, StripPoint{Model: "a/b", X: 1 + float64(i%3)})
	}
	doc = parseSVG(t, many.SVG())
	if n := doc.count("circle"); n != maxStripPoints {
		t.Errorf("%d dots, want at most %d", n, maxStripPoints)
	}
	if h, _ := doc.attr("height"); h == "" || len(h) > 3 {
		t.Errorf("height %q: the lanes are not bounded", h)
	}
	if empty := parseSVG(t, (StripChart{Unit: "J/token"}).SVG()); empty.count("circle") != 0 {
		t.Error("an empty chart has dots")
	}
}
