package web

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
)

// maxRequestLine is the most of a query a request can carry: the server's
// MaxHeaderBytes.
const maxRequestLine = 64 << 10

// FuzzBadgeLook feeds badge URLs' queries to the parse that the response
// cache keys on: a look it accepts is bounded and valid UTF-8, and any
// badge drawn in it, of a rating or of a problem, is well-formed SVG or
// endpoint JSON.
func FuzzBadgeLook(f *testing.F) {
	f.Add("style=for-the-badge&label=AI+energy")
	f.Add("label=&style=plastic")
	f.Add("label=%3Cscript%3E&style=flat-square")
	f.Add("label=%ff%00&style=FLAT")
	f.Add("style=social&label=" + strings.Repeat("L", 70))
	accels := rating.BuiltinAccelerators()
	f.Fuzz(func(t *testing.T, raw string) {
		if len(raw) > maxRequestLine {
			t.Skip("longer than a request line the server reads")
		}
		for _, path := range []string{"/badge/acme/m.svg", "/badge/acme/m.json"} {
			sel, ok := selectionOf(path, raw, accels)
			q := parseImageQuery(raw)
			look, err := q.look()
			if ok && err != nil {
				t.Fatalf("selectionOf(%q) accepted a look that look() refuses: %v", raw, err)
			}
			if err != nil {
				continue
			}
			if ok && sel.look != look {
				t.Fatalf("selection look %+v, look() %+v", sel.look, look)
			}
			if len(look.label) > maxBadgeLabel || !utf8.ValidString(look.label) {
				t.Fatalf("look %+v is not bounded UTF-8", look)
			}
			for _, b := range []label.BadgeText{label.NotRatedBadge("acme/m"), label.ProblemBadge("pick a task", raw)} {
				kind := gradeBadge
				if strings.HasSuffix(path, ".json") {
					kind = gradeJSON
				}
				img := look.render(b, kind)
				if kind == gradeJSON {
					var e map[string]any
					if err := json.Unmarshal(img.body, &e); err != nil {
						t.Fatalf("endpoint JSON %s: %v", img.body, err)
					}
					continue
				}
				dec := xml.NewDecoder(bytes.NewReader(img.body))
				dec.Strict = true
				for {
					_, err := dec.Token()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatalf("badge for %q is not well-formed: %v\n%s", raw, err, img.body)
					}
				}
			}
		}
	})
}

func TestProblemWords(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&problem{"pick a task", rating.Invalid("task", "rated for 2 tasks")}, "pick a task"},
		{rating.Invalid("task", "unknown task"), "unknown task"},
		{rating.Invalid("scheme", "unknown"), "unknown scheme"},
		{rating.Invalid("model", "bad"), "bad model id"},
		{rating.Invalid("hardware", "too long"), "bad hardware"},
		{errors.New("disk on fire"), "server error"},
	} {
		if got := problemWords(tc.err); got != tc.want {
			t.Errorf("problemWords(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestAProblemBadgeIsShortLived(t *testing.T) {
	h := &HTTP{}
	w := httptest.NewRecorder()
	h.imageError(w, httptest.NewRequest("GET", "/badge/a/b.svg", nil), gradeBadge, badgeLook{}, rating.Invalid("task", "x"))
	if w.Code != 200 || w.Header().Get("Cache-Control") != "max-age=60" || w.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("%d %v", w.Code, w.Header())
	}
	if !bytes.Contains(w.Body.Bytes(), []byte("unknown task")) {
		t.Errorf("body %s", w.Body.Bytes())
	}
	w = httptest.NewRecorder()
	h.imageError(w, httptest.NewRequest("GET", "/label/a/b.svg", nil), labelSVG, badgeLook{}, rating.Invalid("task", "x"))
	if w.Code != 200 || w.Header().Get("Cache-Control") != "max-age=60" || !bytes.Contains(w.Body.Bytes(), []byte("unknown task")) {
		t.Errorf("a label's error: %d %v %s, want a grey image saying so, status 200, kept a minute", w.Code, w.Header(), w.Body.Bytes())
	}
}
