package decode

import (
	"strings"
	"testing"
)

func TestPosition(t *testing.T) {
	data := []byte("ab\ncd\nef")
	for _, tc := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {7, 3, 2}, {99, 3, 3}, {-5, 1, 1}} {
		if l, c := Position(data, tc.off); l != tc.line || c != tc.col {
			t.Errorf("Position(%d) = %d:%d, want %d:%d", tc.off, l, c, tc.line, tc.col)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	var v struct {
		A struct {
			B float64 `json:"b"`
		} `json:"a"`
	}
	for _, tc := range []struct{ data, want string }{
		{"{\n\"a\": {\"b\": \"x\"}}", "a.b (line 2): want a number, got string"},
		{"{\n\"a\": {\"b\": 1e999}}", "a.b (line 2): want a number, got number 1e999"},
		{"{\n\"a\": ", "line 2, column 6: not valid JSON: unexpected end of JSON input"},
	} {
		if err := JSON([]byte(tc.data), &v); err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v, want %q", tc.data, err, tc.want)
		}
	}
}

func TestTable(t *testing.T) {
	if _, err := NewTable([]byte("a,b\n"), "a", "c"); err == nil || err.Error() != `line 1: missing column "c"` {
		t.Errorf("missing column: %v", err)
	}
	if _, err := NewTable([]byte("a,a\n")); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate column: %v", err)
	}
	tb, err := NewTable([]byte("\ufeffa,b\n1, Inf\n\"x\ny\",2.5\n"), "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := tb.Next()
	if v, err := r.Int("a"); err != nil || v != 1 {
		t.Errorf("Int: %v, %v", v, err)
	}
	if _, err := r.Float("b"); err == nil || err.Error() != `line 2: b: "Inf" is not a number` {
		t.Errorf("Inf: %v", err)
	}
	r, _ = tb.Next()
	if r.Line != 3 || r.String("a") != "x\ny" || r.String("nope") != "" {
		t.Errorf("quoted row: line %d, %q", r.Line, r.String("a"))
	}
	if _, err := r.Int("b"); err == nil || err.Error() != `line 3: b: "2.5" is not a whole number` {
		t.Errorf("Int of 2.5: %v", err)
	}
}

func TestCountsPromptTokens(t *testing.T) {
	if !CountsPromptTokens(406.93, 750079, 598842, 1843.2731628417969) {
		t.Error("total throughput not recognised")
	}
	if CountsPromptTokens(324.88, 750079, 598842, 1843.2731628417969) {
		t.Error("output throughput taken for total")
	}
	if CountsPromptTokens(10, 0, 0, 1) {
		t.Error("no tokens taken for total")
	}
}
