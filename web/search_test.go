package web

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/energylabel/energylabel/rating"
)

func testModelIDs() *modelIDs {
	m := &modelIDs{ids: []string{"openai/whisper-large-v3", "openai/Whisper-Tiny", "distil-whisper/distil-large-v3", "meta-llama/Llama-3.1-8B"}}
	for i := range 120 {
		m.ids = append(m.ids, fmt.Sprintf("acme/model-%03d", i))
	}
	for _, id := range m.ids {
		m.lower = append(m.lower, strings.ToLower(id))
	}
	return m
}

func TestSearchFindsSubstringsInAnyCase(t *testing.T) {
	m := testModelIDs()
	for raw, want := range map[string][]string{
		"whisper":      {"openai/whisper-large-v3", "openai/Whisper-Tiny", "distil-whisper/distil-large-v3"},
		"  WHISPER-t ": {"openai/Whisper-Tiny"},
		"llama-3.1":    {"meta-llama/Llama-3.1-8B"},
		"nothing":      nil,
	} {
		q, err := parseSearchQuery(raw)
		if err != nil {
			t.Fatalf("parseSearchQuery(%q): %v", raw, err)
		}
		got, more := m.find(q)
		if fmt.Sprint(got) != fmt.Sprint(want) || more {
			t.Errorf("search %q found %v (more %v), want %v", raw, got, more, want)
		}
	}
	got, more := m.find("acme/")
	if len(got) != maxSearchResults || !more {
		t.Errorf("a search matching 120 models lists %d, more %v; want the first %d and more", len(got), more, maxSearchResults)
	}
	for _, bad := range []string{strings.Repeat("x", maxSearchQuery+1), strings.Repeat("Ⱥ", maxSearchQuery/2), "a\x00b", "\xff", "a\u202eb"} {
		if _, err := parseSearchQuery(bad); err == nil || !errors.Is(err, rating.ErrInvalid) {
			t.Errorf("parseSearchQuery(%.20q) = %v, want an invalid-argument error", bad, err)
		}
	}
}

func FuzzSearchQuery(f *testing.F) {
	f.Add("whisper")
	f.Add("  Meta-Llama/ ")
	f.Add("\x00\xff" + strings.Repeat("é", 100))
	m := testModelIDs()
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseSearchQuery(raw)
		if err != nil {
			if !errors.Is(err, rating.ErrInvalid) {
				t.Fatalf("parseSearchQuery(%q): %v is not an invalid-argument error", raw, err)
			}
			return
		}
		if len(q) > maxSearchQuery || !utf8.ValidString(q) || q != strings.ToLower(q) || q != strings.TrimSpace(q) {
			t.Fatalf("parseSearchQuery(%q) = %q: not bounded, lowercase and trimmed", raw, q)
		}
		for _, r := range q {
			if unicode.IsControl(r) {
				t.Fatalf("parseSearchQuery(%q) = %q keeps a control character", raw, q)
			}
		}
		ids, _ := m.find(q)
		if len(ids) > maxSearchResults {
			t.Fatalf("%d results", len(ids))
		}
		for _, id := range ids {
			if !strings.Contains(strings.ToLower(id), q) {
				t.Fatalf("search %q found %q", q, id)
			}
		}
	})
}
