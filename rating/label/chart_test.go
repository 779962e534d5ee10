package label

import (
	"bytes"
	"encoding/xml"
	"io"
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
		t.Errorf("%d points and %d rects, want 3 points and the background plus class bands", circles, bands)
	}
	if !strings.Contains(string(svg), "&lt;queries&gt;") || !strings.Contains(string(svg), "grade D") {
		t.Errorf("the unit is not escaped or a point lacks its title:\n%s", svg)
	}
	if empty := (HistoryChart{Unit: "J/token"}).SVG(); !bytes.HasSuffix(empty, []byte("</svg>")) {
		t.Errorf("an empty chart: %s", empty)
	}
}
