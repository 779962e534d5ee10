package main

import (
	"bytes"
	"strings"
	"testing"
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
	})
}
