package aiesbatch

import (
	"strings"
	"testing"
	"time"
)

// Each row's timestamp is its date; -measured-at fills in rows without
// one, and a row more than a day from it is refused.
func TestMeasuredAt(t *testing.T) {
	data := readSample(t)
	rs, _, err := Parse("master_results.csv", data, flags)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.MeasuredAt.IsZero() {
			t.Errorf("row %d: no date", i)
		}
	}
	m := flags
	m.MeasuredAt, m.Day = rs[0].MeasuredAt.Truncate(24*time.Hour), true
	if _, _, err := Parse("master_results.csv", data, m); err != nil && !strings.Contains(err.Error(), "contradicts") {
		t.Fatal(err)
	}
	m.MeasuredAt = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := Parse("master_results.csv", data, m); err == nil || !strings.Contains(err.Error(), "master_results.csv: -measured-at 2024-01-01 contradicts the file's") ||
		!strings.Contains(err.Error(), "(line 2: timestamp)") {
		t.Errorf("-measured-at far from every row: %v", err)
	}

	// A row without a timestamp takes the flag's date.
	lines := strings.Split(string(data), "\n")
	header := strings.Split(lines[0], ",")
	col := -1
	for i, h := range header {
		if h == "timestamp" {
			col = i
		}
	}
	if col < 0 {
		t.Fatal("the sample has no timestamp column")
	}
	row := strings.Split(lines[1], ",")
	row[col] = ""
	lines[1] = strings.Join(row, ",")
	rs, _, err = Parse("master_results.csv", []byte(strings.Join(lines, "\n")), m)
	if err == nil || !strings.Contains(err.Error(), "(line 3: timestamp)") {
		t.Fatalf("the next row, far from the flag: %v", err)
	}
	m.MeasuredAt = time.Date(2025, 10, 21, 0, 0, 0, 0, time.UTC)
	rs, _, err = Parse("master_results.csv", []byte(strings.Join(lines, "\n")), m)
	if err != nil {
		t.Fatal(err)
	}
	if !rs[0].MeasuredAt.Equal(m.MeasuredAt) {
		t.Errorf("an undated row: measured_at %v, want the flag's %v", rs[0].MeasuredAt, m.MeasuredAt)
	}
}
