package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The markers around the energy section of a model card. Everything
// outside them is the publisher's and is never changed.
const (
	cardStart = "<!-- energylabel:start -->"
	cardEnd   = "<!-- energylabel:end -->"
	// maxCardBytes bounds the model cards card edits: a Hugging Face
	// README is a few kB, and a file of megabytes is not one.
	maxCardBytes = 4 << 20
)

// markerLine matches a marker line, allowing the spacing people type.
var markerLine = regexp.MustCompile(`^ {0,3}<!--\s*energylabel:(start|end)\s*-->\s*$`)

// cardLayout is where a model card's energy section is, or goes.
type cardLayout struct {
	doc []byte
	// from and to are the byte range the section occupies, markers
	// included; from == to == len(doc) when there is none yet.
	from, to int
	// found says the markers were there.
	found bool
	// eol is the file's line ending, "\n" or "\r\n".
	eol string
	// headings are the card's ATX headings, outside the front matter
	// and code blocks, in order.
	headings []heading
}

// heading is one ATX heading of a card.
type heading struct {
	level int
	text  string
	// at is the offset of its line; line its number, from 1.
	at, line int
}

// atxHeading matches an ATX heading line: up to three spaces, one to six
// #s, then the text after a space, without a closing run of #s.
var atxHeading = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)

// parseHeadingLine reads a heading line as -heading and -after give it:
// "### Energy" (one to six #s, a space, the text). Text without #s is a
// level-2 heading's text. ok is false for what is neither.
func parseHeadingLine(s string) (level int, text string, ok bool) {
	s = strings.Join(strings.Fields(s), " ")
	if !strings.HasPrefix(s, "#") {
		return 2, s, true
	}
	m := atxHeading.FindStringSubmatch(s)
	if m == nil || strings.TrimSpace(m[2]) == "" {
		return 0, "", false
	}
	return len(m[1]), strings.TrimSpace(m[2]), true
}

// headingLine writes a heading as -after reads it back: a text that ends
// in "#" gets a closing sequence, which Markdown would otherwise take it
// for.
func headingLine(level int, text string) string {
	line := strings.Repeat("#", level) + " " + text
	if strings.HasSuffix(text, "#") {
		line += " #"
	}
	return line
}

// sameHeadingText compares heading texts as a reader does: ignoring
// case and runs of spaces.
func sameHeadingText(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// placeAfter places a new section at the end of the section of the first
// heading that reads after ("## Environmental Impact"; text alone matches
// a heading of any level): before the next heading of its level or
// above, or at the end of the card. A card whose section exists keeps
// it where it is.
func (l cardLayout) placeAfter(after string) (cardLayout, error) {
	if l.found || after == "" {
		return l, nil
	}
	level, text, _ := parseHeadingLine(after)
	anyLevel := !strings.HasPrefix(strings.TrimSpace(after), "#")
	for i, h := range l.headings {
		if !sameHeadingText(h.text, text) || !anyLevel && h.level != level {
			continue
		}
		l.from, l.to = len(l.doc), len(l.doc)
		for _, next := range l.headings[i+1:] {
			if next.level <= h.level {
				l.from, l.to = next.at, next.at
				break
			}
		}
		return l, nil
	}
	var have []string
	for _, h := range l.headings {
		if len(have) == 5 {
			have = append(have, "…")
			break
		}
		have = append(have, strconv.Quote(headingLine(h.level, h.text)))
	}
	if len(have) == 0 {
		return l, fmt.Errorf("-after %s: the card has no headings", quoteShort(after))
	}
	return l, fmt.Errorf("-after %s: no such heading; the card's headings are %s", quoteShort(after), strings.Join(have, ", "))
}

// parseCard finds the energy section of a model card. Marker lines count
// outside the YAML front matter and fenced code blocks only, so that a
// card may show them in an example. Markers out of order, duplicated or
// unpaired are refused, naming their lines: the card is the publisher's,
// and guessing which part of it to replace could lose their text.
func parseCard(doc []byte) (cardLayout, error) {
	l := cardLayout{doc: doc, from: len(doc), to: len(doc), eol: "\n"}
	if len(doc) > maxCardBytes {
		return l, fmt.Errorf("%d bytes: a model card has at most %d MiB", len(doc), maxCardBytes>>20)
	}
	if i := bytes.IndexByte(doc, 0); i >= 0 {
		return l, fmt.Errorf("a NUL byte at offset %d: not a text file", i)
	}
	if !utf8.Valid(doc) {
		return l, fmt.Errorf("not UTF-8 text")
	}
	// The first line break says; a card without one that ends in "\r" gets
	// the "\n" that makes it "\r\n", and so says "\r\n" once edited.
	if i := bytes.IndexByte(doc, '\n'); i > 0 && doc[i-1] == '\r' || i < 0 && bytes.HasSuffix(doc, []byte("\r")) {
		l.eol = "\r\n"
	}
	var (
		startLine, endLine int // 1-based; 0 when not seen
		startAt, endTo     int
		fence              string
		fenceLine          int
	)
	lineNo, off := 0, 0
	if n, end := frontMatterEnd(doc); end > 0 {
		lineNo, off = n, end
	}
	for off < len(doc) {
		lineNo++
		next := len(doc)
		if i := bytes.IndexByte(doc[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		line := strings.TrimRight(string(doc[off:next]), "\r\n")
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		begin := off
		off = next

		if fence != "" {
			if closesFence(line, fence) {
				fence = ""
			}
			continue
		}
		if f := opensFence(line); f != "" {
			fence, fenceLine = f, lineNo
			continue
		}
		if h := atxHeading.FindStringSubmatch(line); h != nil {
			l.headings = append(l.headings, heading{level: len(h[1]), text: strings.TrimSpace(h[2]), at: begin, line: lineNo})
			continue
		}
		m := markerLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch m[1] {
		case "start":
			if startLine != 0 {
				return l, fmt.Errorf("line %d: a second %s (the first is on line %d)", lineNo, cardStart, startLine)
			}
			startLine, startAt = lineNo, begin
		case "end":
			switch {
			case endLine != 0:
				return l, fmt.Errorf("line %d: a second %s (the first is on line %d)", lineNo, cardEnd, endLine)
			case startLine == 0:
				return l, fmt.Errorf("line %d: %s comes before any %s", lineNo, cardEnd, cardStart)
			}
			endLine, endTo = lineNo, next
		}
	}
	switch {
	case startLine != 0 && endLine == 0:
		return l, fmt.Errorf("line %d: %s has no %s after it", startLine, cardStart, cardEnd)
	case startLine != 0:
		l.from, l.to, l.found = startAt, endTo, true
	case fence != "":
		// A section appended here would be inside the code block.
		return l, fmt.Errorf("line %d: a code block (%s) that is never closed", fenceLine, fence)
	}
	return l, nil
}

// frontMatterEnd finds the YAML front matter: from a first line "---" to
// the next line "---" or "...". It returns the number of lines it spans
// and the offset after it, or 0, 0 when the card has none.
func frontMatterEnd(doc []byte) (lines, end int) {
	off := 0
	for n := 1; off < len(doc); n++ {
		next := len(doc)
		if i := bytes.IndexByte(doc[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		line := strings.TrimRight(string(doc[off:next]), " \t\r\n")
		switch {
		case n == 1 && strings.TrimPrefix(line, "\uFEFF") != "---":
			return 0, 0
		case n > 1 && (line == "---" || line == "..."):
			return n, next
		}
		off = next
	}
	return 0, 0 // never closed: a thematic break, not front matter
}

// opensFence returns the fence a line opens (``` or ~~~, three or more),
// or "".
func opensFence(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return ""
	}
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(t) && t[n] == c {
			n++
		}
		if n >= 3 && (c == '~' || !strings.Contains(t[n:], "`")) {
			return t[:n]
		}
	}
	return ""
}

// closesFence reports whether a line closes the fence.
func closesFence(line, fence string) bool {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return false
	}
	t = strings.TrimRight(t, " \t\r")
	return len(t) >= len(fence) && strings.Trim(t, fence[:1]) == ""
}

// with returns the card with body (lines ending in "\n") between the
// markers: in place of the old section, or where it was placed (at the
// end by default) between blank lines. The bytes outside the section
// are the card's own.
func (l cardLayout) with(body string) []byte {
	section := cardStart + "\n" + body + cardEnd
	if l.eol != "\n" {
		section = strings.ReplaceAll(section, "\n", l.eol)
	}
	before, after := l.doc[:l.from], l.doc[l.to:]
	var out bytes.Buffer
	out.Grow(len(l.doc) + len(section) + 4)
	out.Write(before)
	if !l.found {
		switch {
		case len(before) == 0:
		case bytes.HasSuffix(before, []byte("\r")):
			out.WriteString("\n" + l.eol) // end its line as it began to
		case !bytes.HasSuffix(before, []byte("\n")):
			out.WriteString(l.eol + l.eol)
		case !bytes.HasSuffix(before, []byte("\n"+l.eol)) && !bytes.HasSuffix(before, []byte("\n\n")):
			out.WriteString(l.eol)
		}
	}
	out.WriteString(section)
	// The end marker keeps the line ending it had; a new one gets one,
	// and a blank line before the heading it is placed above.
	if !l.found || bytes.HasSuffix(l.doc[:l.to], []byte("\n")) {
		out.WriteString(l.eol)
	}
	if !l.found && len(after) > 0 && !bytes.HasPrefix(after, []byte("\n")) && !bytes.HasPrefix(after, []byte("\r\n")) {
		out.WriteString(l.eol)
	}
	out.Write(after)
	return out.Bytes()
}
