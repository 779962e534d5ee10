package optimum

import (
	"testing"
	"time"
)

// The report records no time: -measured-at dates the result, or nothing.
func TestMeasuredAt(t *testing.T) {
	rs, _, err := Parse("benchmark_report.json", readReport(t), aies)
	if err != nil || !rs[0].MeasuredAt.IsZero() {
		t.Fatalf("%v, %v; want an undated result", rs, err)
	}
	m := aies
	m.MeasuredAt = time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC)
	rs, _, err = Parse("benchmark_report.json", readReport(t), m)
	if err != nil || !rs[0].MeasuredAt.Equal(m.MeasuredAt) {
		t.Errorf("with -measured-at: %v, %v; want %v", rs, err, m.MeasuredAt)
	}
}
