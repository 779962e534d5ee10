package codecarbon

import (
	"strings"
	"testing"
	"time"
)

// The log's latest timestamp is the result's date; -measured-at fills in a
// log without timestamps and must agree with one that has them.
func TestMeasuredAt(t *testing.T) {
	data := read(t, h100Log)
	rs, _, err := Parse(h100Log+".csv", data, flags)
	if err != nil {
		t.Fatal(err)
	}
	latest := rs[0].MeasuredAt
	if latest.Format(time.DateOnly) != "2025-07-31" {
		t.Fatalf("measured_at %v, want the log's latest timestamp, on 2025-07-31", latest)
	}
	m := flags
	m.MeasuredAt, m.Day = time.Date(2025, 7, 31, 0, 0, 0, 0, time.UTC), true
	if rs, _, err := Parse(h100Log+".csv", data, m); err != nil || !rs[0].MeasuredAt.Equal(latest) {
		t.Errorf("-measured-at on the log's day: %v, %v; want the log's %v", rs, err, latest)
	}
	m.MeasuredAt = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := Parse(h100Log+".csv", data, m); err == nil || !strings.Contains(err.Error(), "-measured-at 2025-03-01 contradicts the file's 2025-07-31T") ||
		!strings.Contains(err.Error(), "(the latest timestamp of") {
		t.Errorf("-measured-at months away: %v", err)
	}

	// Without timestamps, the flag dates the result.
	lines := strings.Split(string(data), "\n")
	for i := 1; i < len(lines); i++ {
		if j := strings.IndexByte(lines[i], ','); j >= 0 {
			lines[i] = lines[i][j:]
		}
	}
	undated := []byte(strings.Join(lines, "\n"))
	if rs, _, err := Parse("undated.csv", undated, flags); err != nil || !rs[0].MeasuredAt.IsZero() {
		t.Fatalf("a log without timestamps: %v, %v; want no date", rs, err)
	}
	if rs, _, err := Parse("undated.csv", undated, m); err != nil || !rs[0].MeasuredAt.Equal(m.MeasuredAt) {
		t.Errorf("-measured-at on a log without timestamps: %v, %v; want %v", rs, err, m.MeasuredAt)
	}
}
