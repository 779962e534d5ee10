package main

import (
	"bytes"
	"strings"
	"testing"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

const testSection = "## Energy use\n\nthe badge and the table\n\n"

// section is what with puts in, for the expectations below.
const section = cardStart + "\n" + testSection + cardEnd + "\n"

func TestCardSectionGoesBetweenTheMarkers(t *testing.T) {
	frontMatter := "---\nlicense: mit\ntags:\n- energy\n---\n"
	tests := []struct {
		name, card, want string
	}{
		{"an empty card", "", section},
		{"appended after a blank line", frontMatter + "# m\n\ntext\n", frontMatter + "# m\n\ntext\n\n" + section},
		{"a card ending in a blank line", "# m\n\n", "# m\n\n" + section},
		{"a card without a final newline", "# m", "# m\n\n" + section},
		{"front matter alone", frontMatter, frontMatter + "\n" + section},
		{"replaced in place", frontMatter + "# m\n\n" + cardStart + "\nold\n" + cardEnd + "\n\n## More\n",
			frontMatter + "# m\n\n" + section + "\n## More\n"},
		{"markers with other spacing", "a\n  <!--energylabel:start-->\nold\n<!--   energylabel:end   --> \nb\n", "a\n" + section + "b\n"},
		{"an end marker at the end of the file", "a\n" + cardStart + "\nold\n" + cardEnd, "a\n" + strings.TrimSuffix(section, "\n")},
		{"Windows line endings", "---\r\nlicense: mit\r\n---\r\n# m\r\n", "---\r\nlicense: mit\r\n---\r\n# m\r\n\r\n" + strings.ReplaceAll(section, "\n", "\r\n")},
		{"a byte order mark", "\uFEFF---\nx: 1\n---\n# m\n", "\uFEFF---\nx: 1\n---\n# m\n\n" + section},
		{"markers in the front matter are YAML", "---\nnote: |\n  " + cardStart + "\n---\n# m\n", "---\nnote: |\n  " + cardStart + "\n---\n# m\n\n" + section},
		{"markers in a code block are an example", "# m\n```md\n" + cardStart + "\n" + cardEnd + "\n```\n",
			"# m\n```md\n" + cardStart + "\n" + cardEnd + "\n```\n\n" + section},
		{"markers in a tilde code block", "~~~~\n" + cardEnd + "\n~~~~\n", "~~~~\n" + cardEnd + "\n~~~~\n\n" + section},
		{"an opening --- that never closes is a rule", "---\n# m\n", "---\n# m\n\n" + section},
		{"a last line ending in a lone CR", "000\r", "000\r\n\r\n" + strings.ReplaceAll(section, "\n", "\r\n")},
		{"CRLF lines ending in a lone CR", "a\r\nb\r", "a\r\nb\r\n\r\n" + strings.ReplaceAll(section, "\n", "\r\n")},
		{"LF lines ending in a lone CR", "a\nb\r", "a\nb\r\n\n" + section},
		{"a marker indented as code is text", "    " + cardEnd + "\n", "    " + cardEnd + "\n\n" + section},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := parseCard([]byte(tt.card))
			if err != nil {
				t.Fatal(err)
			}
			got := l.with(testSection)
			if string(got) != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
			// A second run changes nothing.
			again, err := parseCard(got)
			if err != nil {
				t.Fatal(err)
			}
			if !again.found || !bytes.Equal(again.with(testSection), got) {
				t.Errorf("a second run changed the card:\n%q", again.with(testSection))
			}
		})
	}
}

// TestCardSectionGoesAfterAHeading proves -after: a new section goes at
// the end of the named heading's section, before the next heading of its
// level or above, between blank lines; an existing one stays where it is.
func TestCardSectionGoesAfterAHeading(t *testing.T) {
	tests := []struct {
		name, card, after, want string
	}{
		{"before the next heading", "# m\n\n## Environmental Impact\n\nCO2: x\n\n## Citation\n\ncite\n", "## Environmental Impact",
			"# m\n\n## Environmental Impact\n\nCO2: x\n\n" + section + "\n## Citation\n\ncite\n"},
		{"without blank lines around", "## Env\ntext\n## Next\n", "## Env", "## Env\ntext\n\n" + section + "\n## Next\n"},
		{"after its subsections", "## Env\n### Sub\nx\n## Next\n", "## Env", "## Env\n### Sub\nx\n\n" + section + "\n## Next\n"},
		{"a subsection ends at its parent's sibling", "## Env\n### Sub\nx\n### Other\ny\n", "### Sub", "## Env\n### Sub\nx\n\n" + section + "\n### Other\ny\n"},
		{"the last section", "# m\n## Env\ntext\n", "## Env", "# m\n## Env\ntext\n\n" + section},
		{"text alone matches any level, ignoring case, spaces and closing #s", "## Env\n### Environmental  Impact ###\nx\n## Next\n", "environmental impact",
			"## Env\n### Environmental  Impact ###\nx\n\n" + section + "\n## Next\n"},
		{"a level must match when given", "### Env\nx\n## Env\ny\n# End\n", "## Env", "### Env\nx\n## Env\ny\n\n" + section + "\n# End\n"},
		{"headings in code blocks are examples", "```md\n## Env\n```\n## Env\nx\n## Next\n", "## Env", "```md\n## Env\n```\n## Env\nx\n\n" + section + "\n## Next\n"},
		{"Windows line endings", "## Env\r\nx\r\n## Next\r\n", "## Env", "## Env\r\nx\r\n\r\n" + strings.ReplaceAll(section, "\n", "\r\n") + "\r\n## Next\r\n"},
		{"an existing section stays where it is", "## Env\nx\n## Next\n" + cardStart + "\nold\n" + cardEnd + "\n", "## Env", "## Env\nx\n## Next\n" + section},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := parseCard([]byte(tt.card))
			if err == nil {
				l, err = l.placeAfter(tt.after)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := l.with(testSection)
			if string(got) != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
			again, err := parseCard(got)
			if err == nil {
				again, err = again.placeAfter(tt.after)
			}
			if err != nil || !again.found || !bytes.Equal(again.with(testSection), got) {
				t.Errorf("a second run changed the card (%v):\n%q", err, again.with(testSection))
			}
		})
	}
	l, _ := parseCard([]byte("# m\n## Usage\n```\n## Env\n```\n"))
	if _, err := l.placeAfter("## Env"); err == nil || err.Error() != `-after "## Env": no such heading; the card's headings are "# m", "## Usage"` {
		t.Errorf("placeAfter a missing heading: %v", err)
	}
}

func TestCardEditorRefusesWhatItCannotEditSafely(t *testing.T) {
	tests := []struct {
		name, card, want string
	}{
		{"two start markers", "a\n" + cardStart + "\nx\n" + cardStart + "\n" + cardEnd + "\n", "line 4: a second " + cardStart + " (the first is on line 2)"},
		{"two end markers", cardStart + "\n" + cardEnd + "\n" + cardEnd + "\n", "line 3: a second " + cardEnd + " (the first is on line 2)"},
		{"an end before the start", "---\nx: 1\n---\n" + cardEnd + "\n" + cardStart + "\n", "line 4: " + cardEnd + " comes before any " + cardStart},
		{"a start without an end", "a\n" + cardStart + "\nb\n", "line 2: " + cardStart + " has no " + cardEnd + " after it"},
		{"an end hidden in a code block", cardStart + "\n```\n" + cardEnd + "\n```\n", "line 1: " + cardStart + " has no " + cardEnd + " after it"},
		{"a code block never closed", "# m\n```python\nprint(1)\n", "line 2: a code block (```) that is never closed"},
		{"a NUL byte", "# m\x00\n", "a NUL byte at offset 3: not a text file"},
		{"not UTF-8", "# m\xff\n", "not UTF-8 text"},
		{"too large", strings.Repeat("a", maxCardBytes+1), "4194305 bytes: a model card has at most 4 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCard([]byte(tt.card))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzCardEditor checks, on any input the editor accepts, that the bytes
// outside the section are the card's own, that the section is there once,
// and that a second run changes nothing.
func FuzzCardEditor(f *testing.F) {
	for _, seed := range []string{
		"", "# m\n", "---\nlicense: mit\n---\n# m\n", "a\n" + cardStart + "\nold\n" + cardEnd + "\nb",
		"```\n" + cardStart + "\n```\n", "\uFEFF---\r\nx: 1\r\n---\r\n", "---\n", "~~~\n~~~\n" + cardEnd,
		"  <!-- energylabel:start -->\r\n<!--energylabel:end-->",
		"# m\n## Env\nx\n### Sub\n## Next\r\n", "## a\n```\n## b\n```\n## c",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, card []byte) {
		l, err := parseCard(card)
		if err != nil {
			return
		}
		out := l.with(testSection)
		if !bytes.Equal(out[:l.from], card[:l.from]) {
			t.Fatalf("the bytes before the section changed")
		}
		if !bytes.HasSuffix(out, card[l.to:]) {
			t.Fatalf("the bytes after the section changed")
		}
		again, err := parseCard(out)
		if err != nil {
			t.Fatalf("the edited card is refused: %v\n%q", err, out)
		}
		if !again.found {
			t.Fatalf("the edited card has no section:\n%q", out)
		}
		if twice := again.with(testSection); !bytes.Equal(twice, out) {
			t.Fatalf("a second run changed the card:\n%q\n%q", out, twice)
		}
		// Placed after a heading, the card's bytes are its own on either
		// side, and a second run changes nothing.
		for _, h := range l.headings {
			after := headingLine(h.level, h.text)
			if _, _, ok := parseHeadingLine(after); !ok || l.found {
				continue
			}
			pl, err := l.placeAfter(after)
			if err != nil {
				t.Fatalf("placeAfter %q: %v", after, err)
			}
			out := pl.with(testSection)
			if !bytes.HasPrefix(out, card[:pl.from]) || !bytes.HasSuffix(out, card[pl.to:]) {
				t.Fatalf("placed after %q, the card's bytes changed:\n%q", after, out)
			}
			again, err := parseCard(out)
			if err != nil || !again.found || !bytes.Equal(again.with(testSection), out) {
				t.Fatalf("placed after %q, a second run changed the card (%v):\n%q", after, err, out)
			}
		}
	})
}

// TestHeadingTakesTheWholeLine proves that -heading and -after take the
// heading line as it is written in the card: "### Energy" is a level-3
// heading, never "## ### Energy"; text alone is a level-2 heading's.
func TestHeadingTakesTheWholeLine(t *testing.T) {
	for _, tc := range []struct {
		in    string
		level int
		text  string
		ok    bool
	}{
		{"### Energy", 3, "Energy", true},
		{"  #  Energy   use  ", 1, "Energy use", true},
		{"## Environmental Impact ##", 2, "Environmental Impact", true},
		{"Energy use", 2, "Energy use", true},
		{"###### Six", 6, "Six", true},
		{"####### Seven", 0, "", false},
		{"###Energy", 0, "", false},
		{"##", 0, "", false},
	} {
		level, text, ok := parseHeadingLine(tc.in)
		if level != tc.level || text != tc.text || ok != tc.ok {
			t.Errorf("parseHeadingLine(%q) = %d, %q, %v; want %d, %q, %v", tc.in, level, text, ok, tc.level, tc.text, tc.ok)
		}
	}
	got := cardSection("https://e.example", []*energylabelv1.Rating{{Model: "acme/m", Task: "asr", Dataset: "AIEnergyScore/asr", Hardware: "H100"}},
		nil, badgeOptions{}, "### Energy")
	if !strings.HasPrefix(got, "### Energy\n\n") {
		t.Errorf("section starts %q", got[:min(40, len(got))])
	}
	if header := strings.Split(got, "\n")[3]; strings.Count(header, "|") > 7 || strings.Contains(header, "Size class") {
		t.Errorf("table header %q: want at most 6 columns, and no size class column for a task without", header)
	}
}
