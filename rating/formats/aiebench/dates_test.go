package aiebench

import (
	"testing"
	"time"
)

// The results file records no time: -measured-at dates the result.
func TestMeasuredAt(t *testing.T) {
	rs, _, err := Parse("benchmark_results.json", readSample(t), flags)
	if err != nil || !rs[0].MeasuredAt.IsZero() {
		t.Fatalf("%v, %v; want an undated result", rs, err)
	}
	m := flags
	m.MeasuredAt, m.Day = time.Date(2025, 10, 21, 0, 0, 0, 0, time.UTC), true
	if rs, _, err := Parse("benchmark_results.json", readSample(t), m); err != nil || !rs[0].MeasuredAt.Equal(m.MeasuredAt) {
		t.Errorf("with -measured-at: %v, %v; want %v", rs, err, m.MeasuredAt)
	}
}
