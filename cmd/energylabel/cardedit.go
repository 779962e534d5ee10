package main

import (
	"bytes"
	"fmt"
	"regexp"
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
// markers: in place of the old section, or at the end after a blank line.
// The bytes outside the section are the card's own.
func (l cardLayout) with(body string) []byte {
	section := cardStart + "\n" + body + cardEnd
	if l.eol != "\n" {
		section = strings.ReplaceAll(section, "\n", l.eol)
	}
	var out bytes.Buffer
	out.Grow(len(l.doc) + len(section) + 4)
	out.Write(l.doc[:l.from])
	if !l.found {
		switch {
		case len(l.doc) == 0:
		case bytes.HasSuffix(l.doc, []byte("\r")):
			out.WriteString("\n" + l.eol) // end its line as it began to
		case !bytes.HasSuffix(l.doc, []byte("\n")):
			out.WriteString(l.eol + l.eol)
		case !bytes.HasSuffix(l.doc, []byte("\n"+l.eol)) && !bytes.HasSuffix(l.doc, []byte("\n\n")):
			out.WriteString(l.eol)
		}
	}
	out.WriteString(section)
	// The end marker keeps the line ending it had; a new one gets one.
	if !l.found || bytes.HasSuffix(l.doc[:l.to], []byte("\n")) {
		out.WriteString(l.eol)
	}
	out.Write(l.doc[l.to:])
	return out.Bytes()
}
