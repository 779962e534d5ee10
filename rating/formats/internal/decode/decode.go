// Package decode holds what the format parsers share: JSON decoding whose
// errors name the line and field, and CSV tables read by column name with
// errors that name the line and column.
package decode

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// JSON unmarshals data into v. Its errors name the line and column of a
// syntax error, including a truncated file, and the field path of a value
// of the wrong type.
func JSON(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		line, col := Position(data, se.Offset)
		return fmt.Errorf("line %d, column %d: not valid JSON: %v", line, col, se)
	case errors.As(err, &te):
		line, _ := Position(data, te.Offset)
		field := te.Field
		if field == "" {
			field = "top level"
		}
		return fmt.Errorf("%s (line %d): want %s, got %s", field, line, kind(te.Type), te.Value)
	}
	return err
}

func kind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "true or false"
	}
	return t.String()
}

// Position returns the 1-based line and column of a byte offset.
func Position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// Table reads a CSV file with a header line, by column name.
type Table struct {
	r   *csv.Reader
	col map[string]int
}

// NewTable reads the header and checks that every required column is there.
func NewTable(data []byte, required ...string) (*Table, error) {
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("line 1: empty file, want a CSV header")
	}
	if err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	t := &Table{r: r, col: make(map[string]int, len(header))}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		if _, dup := t.col[h]; dup {
			return nil, fmt.Errorf("line 1: column %q appears twice", h)
		}
		t.col[h] = i
	}
	for _, name := range required {
		if !t.Has(name) {
			return nil, fmt.Errorf("line 1: missing column %q", name)
		}
	}
	return t, nil
}

// Has reports whether the table has a column.
func (t *Table) Has(name string) bool {
	_, ok := t.col[name]
	return ok
}

// Next returns the next row, or io.EOF after the last one.
func (t *Table) Next() (Row, error) {
	rec, err := t.r.Read()
	if err != nil {
		return Row{}, err // a csv.ParseError names its line
	}
	line, _ := t.r.FieldPos(0)
	return Row{Line: line, rec: rec, col: t.col}, nil
}

// Row is one record of a Table.
type Row struct {
	Line int
	rec  []string
	col  map[string]int
}

// Has reports whether the row's table has a column.
func (r Row) Has(name string) bool {
	_, ok := r.col[name]
	return ok
}

// String returns a column's value with surrounding space trimmed, or "" when
// the table has no such column.
func (r Row) String(name string) string {
	i, ok := r.col[name]
	if !ok {
		return ""
	}
	return strings.TrimSpace(r.rec[i])
}

// Float parses a column as a finite number.
func (r Row) Float(name string) (float64, error) {
	s := r.String(name)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("line %d: %s: %q is not a number", r.Line, name, s)
	}
	return v, nil
}

// Int parses a column as an integer.
func (r Row) Int(name string) (int64, error) {
	s := r.String(name)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("line %d: %s: %q is not a whole number", r.Line, name, s)
	}
	return v, nil
}

// CountsPromptTokens reports whether a tool's throughput is its total tokens
// (prompt and completion) over the duration rather than an output
// throughput, as ai_energy_benchmarks computes it. The tool prints it to two
// decimals, hence the allowance beside the 1%.
func CountsPromptTokens(throughput float64, totalTokens, completionTokens int64, seconds float64) bool {
	if totalTokens <= completionTokens || !(seconds > 0) {
		return false
	}
	all := float64(totalTokens) / seconds
	return math.Abs(throughput-all) <= 0.01*all+0.005
}

// Time reads an ISO 8601 time, with or without a zone; without one it is
// taken as UTC, as Python's isoformat() writes it.
func Time(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}

// JoinInts lists line numbers for a message: "3, 7, 9".
func JoinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ", ")
}
