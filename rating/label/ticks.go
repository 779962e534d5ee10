package label

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// logTicks are round values between lo and hi for a log-scale axis: the
// powers of ten, or 1-2-5 steps, or finer steps, whichever first gives
// at least 3; every other power of ten, or fewer, when there would be
// more than 8. Each comes with its label, a plain decimal (tickLabel).
func logTicks(lo, hi float64) (vs []float64, labels []string) {
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 0) {
		return nil, nil
	}
	for _, mantissas := range [][]int{{10}, {10, 20, 50}, {10, 15, 20, 30, 50, 70}, {10, 12, 15, 20, 25, 30, 40, 50, 60, 80}} {
		vs, labels = vs[:0], labels[:0]
		for e := int(math.Floor(math.Log10(lo))) - 1; e <= int(math.Ceil(math.Log10(hi))); e++ {
			for _, m := range mantissas {
				v := float64(m) * math.Pow10(e-1)
				if v >= lo && v <= hi {
					vs, labels = append(vs, v), append(labels, tickLabel(m, e-1))
				}
			}
		}
		if len(vs) >= 3 {
			break
		}
	}
	// Too many powers of ten: keep every k-th.
	for k := 2; len(vs) > 8; k++ {
		var kv []float64
		var kl []string
		for i := range vs {
			if e := int(math.Round(math.Log10(vs[i]))); e%k == 0 {
				kv, kl = append(kv, vs[i]), append(kl, labels[i])
			}
		}
		vs, labels = kv, kl
	}
	return vs, labels
}

// tickLabel writes m × 10^e as a plain decimal, with no SI prefix, as
// every energy figure is written: "0.05", "1.5", "2000". Beyond 10^-4 and
// 10^7 it uses FormatNumber's exponent.
func tickLabel(m, e int) string {
	for m%10 == 0 && m != 0 {
		m, e = m/10, e+1
	}
	if v := float64(m) * math.Pow10(e); v < 1e-4 || v >= 1e7 {
		return FormatNumber(v)
	}
	digits := strconv.Itoa(m)
	if e >= 0 {
		return digits + strings.Repeat("0", e)
	}
	point := len(digits) + e
	if point > 0 {
		return digits[:point] + "." + digits[point:]
	}
	return "0." + strings.Repeat("0", -point) + digits
}

// timeStep is a step of a time axis, and how its ticks are labelled.
type timeStep struct {
	d      time.Duration // 0 for calendar months
	months int
	layout string
}

var timeSteps = []timeStep{
	{d: time.Minute, layout: "01-02 15:04"}, {d: 5 * time.Minute, layout: "01-02 15:04"},
	{d: 15 * time.Minute, layout: "01-02 15:04"}, {d: time.Hour, layout: "01-02 15:04"},
	{d: 3 * time.Hour, layout: "01-02 15:04"}, {d: 6 * time.Hour, layout: "01-02 15:04"},
	{d: 12 * time.Hour, layout: "01-02 15:04"},
	{d: 24 * time.Hour, layout: time.DateOnly}, {d: 2 * 24 * time.Hour, layout: time.DateOnly},
	{d: 7 * 24 * time.Hour, layout: time.DateOnly}, {d: 14 * 24 * time.Hour, layout: time.DateOnly},
	{months: 1, layout: "2006-01"}, {months: 2, layout: "2006-01"}, {months: 3, layout: "2006-01"},
	{months: 6, layout: "2006-01"}, {months: 12, layout: "2006"}, {months: 24, layout: "2006"},
	{months: 60, layout: "2006"}, {months: 120, layout: "2006"},
}

// timeTicks are round times between t0 and t1, at most max of them, on
// the finest step that has no more, each labelled as finely as its step
// needs and so distinct from the others: days as 2026-11-20, months as
// 2026-11, hours as 11-20 15:00. Fewer than two ticks inside give the
// two ends instead, labelled the same way; a span of zero gives t0 alone.
func timeTicks(t0, t1 time.Time, max int) (ts []time.Time, labels []string) {
	t0, t1 = t0.UTC(), t1.UTC()
	if !t1.After(t0) {
		return []time.Time{t0}, []string{t0.Format(time.DateOnly)}
	}
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if n := len(stepTimes(t0, t1, s)); n <= max {
			step = s
			break
		}
	}
	ts = stepTimes(t0, t1, step)
	if len(ts) < 2 {
		ts = []time.Time{t0, t1}
		if t0.Format(step.layout) == t1.Format(step.layout) {
			// The span is below the step's resolution: name it by its
			// finest label.
			step.layout = "01-02 15:04"
		}
	}
	for _, t := range ts {
		labels = append(labels, t.Format(step.layout))
	}
	return ts, labels
}

// stepTimes are the times from t0 to t1 that are whole steps, in UTC,
// stopping after a thousand and one.
func stepTimes(t0, t1 time.Time, s timeStep) []time.Time {
	var out []time.Time
	if s.months == 0 {
		t := t0.Truncate(s.d)
		if t.Before(t0) {
			t = t.Add(s.d)
		}
		for ; !t.After(t1); t = t.Add(s.d) {
			if out = append(out, t); len(out) > 1000 {
				return out // too many to draw, whatever the caller's max
			}
		}
		return out
	}
	month := (t0.Year()*12 + int(t0.Month()) - 1) / s.months * s.months
	for ; ; month += s.months {
		t := time.Date(month/12, time.Month(month%12+1), 1, 0, 0, 0, 0, time.UTC)
		if t.After(t1) {
			return out
		}
		if !t.Before(t0) {
			if out = append(out, t); len(out) > 1000 {
				return out
			}
		}
	}
}
