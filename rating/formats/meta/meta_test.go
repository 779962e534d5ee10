package meta

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/energylabel/energylabel/rating"
)

func TestApply(t *testing.T) {
	full := Meta{Model: "acme/m", Task: "text_generation", Queries: 1000, Hardware: "H100", GPUs: 1, Params: 7}
	r := rating.Result{GPUEnergyWh: 1}
	if err := full.Apply("f", &r, Stated{}, nil); err != nil {
		t.Fatal(err)
	}
	if r.Model != "acme/m" || r.Task != "text-generation" || r.Queries != 1000 || r.Accelerator != "H100" || r.GPUCount != 1 || r.ParamsBillions != 7 ||
		r.Output.Tokens != 0 || r.DurationSeconds != 0 {
		t.Errorf("not applied: %+v", r)
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
	moe := full
	moe.Params, moe.ActiveParams = 117, 5.1
	if r := (rating.Result{GPUEnergyWh: 1}); moe.Apply("f", &r, Stated{}, nil) != nil || r.ParamsBillions != 117 || r.ActiveParamsBillions != 5.1 {
		t.Errorf("-active-params not applied: %+v", r)
	}
	if r := (rating.Result{GPUEnergyWh: 1, ParamsBillions: 120, ActiveParamsBillions: 5}); moe.Apply("f", &r, Stated{}, nil) != nil || r.ActiveParamsBillions != 5 {
		t.Errorf("-active-params overwrote the file's: %+v", r)
	}
	kept := rating.Result{Model: "file/model", Queries: 995, Accelerator: "B200"}
	if err := full.Apply("f", &kept, Stated{}, nil); err != nil || kept.Model != "file/model" || kept.Queries != 995 || kept.Accelerator != "B200" {
		t.Errorf("Apply overwrote what the file says: %+v, %v", kept, err)
	}

	for _, tc := range []struct {
		name   string
		change func(*Meta)
		want   string
	}{
		{"class that disagrees with params", func(m *Meta) { m.SizeClass = "C" }, "f: -size-class C disagrees with -params 7, which is class A"},
		{"class that is no class", func(m *Meta) { m.SizeClass = "D"; m.Params = 0 }, `f: -size-class "D": want A, B or C`},
		{"class for a task without classes", func(m *Meta) { m.Task = "asr"; m.SizeClass = "A" }, "f: -size-class A: task automatic-speech-recognition has no size classes"},
		{"negative queries", func(m *Meta) { m.Queries = -1 }, "f: -queries -1: must be at least 1"},
		{"negative params", func(m *Meta) { m.Params = -1 }, "f: -params -1: must not be negative"},
		{"negative active params", func(m *Meta) { m.ActiveParams = -1 }, "f: -active-params -1: must not be negative"},
		{"more active than total params", func(m *Meta) { m.ActiveParams = 8 }, "f: -active-params 8 is more than the model's 7 billion parameters"},
		{"active params without params", func(m *Meta) { m.ActiveParams = 1; m.Params = 0; m.SizeClass = "A" }, "f: -active-params 1 needs the model's total parameters (-params BILLIONS)"},
		{"negative tokens", func(m *Meta) { m.Tokens = -1 }, "f: -tokens -1: must not be negative"},
		{"negative duration", func(m *Meta) { m.DurationSeconds = -1 }, "f: -duration -1: must be a positive number of seconds"},
		{"infinite duration", func(m *Meta) { m.DurationSeconds = math.Inf(1) }, "f: -duration +Inf: must be a positive number of seconds"},
		{"NaN duration", func(m *Meta) { m.DurationSeconds = math.NaN() }, "f: -duration NaN: must be a positive number of seconds"},
		{"no hardware", func(m *Meta) { m.Hardware = " " }, "f: hardware unknown: pass -hardware ACCELERATOR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := full
			tc.change(&m)
			err := m.Apply("f", &rating.Result{}, Stated{}, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to begin %q", err, tc.want)
			}
		})
	}
	err := Meta{}.Apply("f", &rating.Result{}, Stated{}, nil)
	var missing *MissingError
	if !errors.Is(err, ErrMissing) || !errors.As(err, &missing) || !slices.Equal(missing.What, []string{"model", "task", "queries", "hardware"}) {
		t.Errorf("error %v, want a MissingError for the model, task, queries and hardware", err)
	}
}

// TestApplyReportsEverythingMissingAtOnce proves that a file without its
// flags is refused once, naming every flag it needs, and naming apart the
// -gpus and -duration that only publishers must give.
func TestApplyReportsEverythingMissingAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		m        Meta
		r        rating.Result
		stated   Stated
		what     []string
		unstated []string
		text     string
	}{
		{"nothing given", Meta{}, rating.Result{GPUEnergyWh: 1}, Stated{},
			[]string{"model", "task", "queries", "hardware"}, []string{"size class", "gpus", "duration"},
			"f: model, task, queries and hardware unknown: pass -model owner/name; -task TASK (see `energylabel tasks`); -queries N; -hardware ACCELERATOR, e.g. -hardware H100"},
		{"a file that states its counts, for a task with size classes", Meta{Task: "text-generation"}, rating.Result{GPUEnergyWh: 1, Queries: 1000}, Stated{Queries: "efficiency"},
			[]string{"model", "hardware", "size class"}, []string{"gpus", "duration"}, ""},
		{"duration, parameters and a count in the name given", Meta{Hardware: "2 x NVIDIA H100 80GB HBM3", DurationSeconds: 60, Params: 7}, rating.Result{GPUEnergyWh: 1, Queries: 10}, Stated{},
			[]string{"model", "task"}, nil, ""},
		{"-gpus given", Meta{Task: "asr", GPUs: 1}, rating.Result{GPUEnergyWh: 1, Queries: 10, DurationSeconds: 5}, Stated{Duration: "duration"},
			[]string{"model", "hardware"}, nil, "f: model and hardware unknown: pass -model owner/name; -hardware ACCELERATOR, e.g. -hardware H100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			err := tc.m.Apply("f", &r, tc.stated, nil)
			var missing *MissingError
			if !errors.As(err, &missing) {
				t.Fatalf("error %v, want a MissingError", err)
			}
			if !slices.Equal(missing.What, tc.what) || !slices.Equal(missing.Unstated, tc.unstated) {
				t.Errorf("missing %q, unstated %q; want %q, %q", missing.What, missing.Unstated, tc.what, tc.unstated)
			}
			if tc.text != "" && err.Error() != tc.text {
				t.Errorf("error %q\nwant  %q", err, tc.text)
			}
		})
	}
	// A bad value is reported on its own, before what is missing.
	err := Meta{Queries: -1}.Apply("f", &rating.Result{}, Stated{}, nil)
	if errors.Is(err, ErrMissing) || err == nil || err.Error() != "f: -queries -1: must be at least 1" {
		t.Errorf("error %v, want the bad -queries alone", err)
	}
}

func TestName(t *testing.T) {
	var ws []Warning
	if got := Name("f", "config.model", "-model", "a/b", "", &ws); got != "a/b" || len(ws) != 0 {
		t.Errorf("file value: %q, %v", got, ws)
	}
	if got := Name("f", "config.model", "-model", "/models/x", "a/x", &ws); got != "a/x" || len(ws) != 1 ||
		ws[0].String() != `f: config.model: the file says "/models/x"; -model "a/x" is used instead` {
		t.Errorf("flag value: %q, %v", got, ws)
	}
}

// TestCounts proves the rule for counts and duration: the file's figure
// wins, a flag fills only where the file is silent, and a flag more than
// 1 % away from the file's figure is refused naming both.
func TestCounts(t *testing.T) {
	base := Meta{Model: "acme/m", Task: "text-generation", Hardware: "H100", Params: 7}
	silent := func(t *testing.T, m Meta) rating.Result {
		t.Helper()
		r := rating.Result{GPUEnergyWh: 100}
		if err := m.Apply("f", &r, Stated{}, nil); err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("flags fill a silent file", func(t *testing.T) {
		m := base
		m.Queries, m.Tokens, m.DurationSeconds = 1000, 10000, 1200
		r := silent(t, m)
		if r.Queries != 1000 || r.Output.Tokens != 10000 || r.DurationSeconds != 1200 {
			t.Errorf("flags not applied: %+v", r)
		}
	})
	t.Run("tokens and duration are optional", func(t *testing.T) {
		m := base
		m.Queries = 1000
		if r := silent(t, m); r.Output.Tokens != 0 || r.DurationSeconds != 0 {
			t.Errorf("%+v", r)
		}
	})

	stated := Stated{Queries: "preprocess efficiency × energy", Tokens: "decode efficiency × energy", Duration: "summary.total_duration_seconds"}
	file := func() rating.Result {
		return rating.Result{GPUEnergyWh: 100, Queries: 1000, Output: rating.Output{Tokens: 10000}, DurationSeconds: 1200}
	}
	for _, tc := range []struct {
		name     string
		change   func(*Meta)
		want     string // the error's start; empty for none
		warnings int
	}{
		{"no flags", func(*Meta) {}, "", 0},
		{"flags equal to the file", func(m *Meta) { m.Queries, m.Tokens, m.DurationSeconds = 1000, 10000, 1200 }, "", 0},
		{"queries 1 % above", func(m *Meta) { m.Queries = 1010 }, "", 1},
		{"queries 1 % below", func(m *Meta) { m.Queries = 990 }, "", 1},
		{"tokens and duration within 1 %", func(m *Meta) { m.Tokens, m.DurationSeconds = 9901, 1211.9 }, "", 2},
		{"queries just over 1 %", func(m *Meta) { m.Queries = 1011 }, "f: -queries 1011 contradicts the file's 1000 queries (preprocess efficiency × energy)", 0},
		{"a thousand times the queries", func(m *Meta) { m.Queries = 1000000 }, "f: -queries 1000000 contradicts the file's 1000 queries (preprocess efficiency × energy)", 0},
		{"tokens", func(m *Meta) { m.Tokens = 9000 }, "f: -tokens 9000 contradicts the file's 10000 output tokens (decode efficiency × energy)", 0},
		{"duration", func(m *Meta) { m.DurationSeconds = 60 }, "f: -duration 60 contradicts the file's 1200 s (summary.total_duration_seconds)", 0},
		{"duration just over 1 %", func(m *Meta) { m.DurationSeconds = 1212.5 }, "f: -duration 1212.5 contradicts the file's 1200 s", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := base
			tc.change(&m)
			r := file()
			var ws []Warning
			err := m.Apply("f", &r, stated, &ws)
			if tc.want != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
					t.Fatalf("error %v, want it to begin %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Queries != 1000 || r.Output.Tokens != 10000 || r.DurationSeconds != 1200 {
				t.Errorf("the file's figures were not kept: %+v", r)
			}
			if len(ws) != tc.warnings {
				t.Errorf("warnings %v, want %d", ws, tc.warnings)
			}
		})
	}

	m := base
	m.Queries = 1005
	var ws []Warning
	r := file()
	if err := m.Apply("f", &r, stated, &ws); err != nil || len(ws) != 1 ||
		ws[0].String() != "f: -queries 1005 is within 1 % of the file's 1000 queries (preprocess efficiency × energy): the file's figure is used" {
		t.Errorf("warnings %v, error %v", ws, err)
	}

	// A file that states 0 output tokens is contradicted by any other
	// figure; one that does not state them takes the flag.
	m = base
	m.Queries, m.Tokens = 1000, 5
	r = rating.Result{GPUEnergyWh: 100}
	if err := m.Apply("f", &r, Stated{Tokens: "summary.total_completion_tokens"}, nil); err == nil ||
		err.Error() != "f: -tokens 5 contradicts the file's 0 output tokens (summary.total_completion_tokens)" {
		t.Errorf("error %v", err)
	}
	// A figure a parser set without saying how is still the file's.
	r = rating.Result{GPUEnergyWh: 100, Queries: 10}
	m.Tokens = 0
	if err := m.Apply("f", &r, Stated{}, nil); err == nil || err.Error() != "f: -queries 1000 contradicts the file's 10 queries" {
		t.Errorf("error %v", err)
	}
}

func TestParseMeasuredAt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Time
		day  bool
	}{
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), true},
		{" 2026-11-20 ", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), true},
		{"2026-11-20T10:00:00Z", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), false},
		{"2026-11-20T10:00:00.5+01:00", time.Date(2026, 11, 20, 9, 0, 0, 5e8, time.UTC), false},
	} {
		got, day, err := ParseMeasuredAt(tt.in)
		if err != nil || !got.Equal(tt.want) || day != tt.day {
			t.Errorf("ParseMeasuredAt(%q) = %v, %v, %v; want %v, %v", tt.in, got, day, err, tt.want, tt.day)
		}
	}
	for _, in := range []string{"", "20/11/2026", "2026-11-20 10:00", "2026-11-20T10:00:00", "2026-13-01", strings.Repeat("9", 100)} {
		if _, _, err := ParseMeasuredAt(in); err == nil || len(err.Error()) > 140 {
			t.Errorf("ParseMeasuredAt(%q): %v; want a short error", in, err)
		}
	}
}

// -measured-at fills in a result the file did not date, and must lie
// within a day of a time the file records, which is kept.
func TestApplyDate(t *testing.T) {
	day := Meta{MeasuredAt: time.Date(2025, 7, 31, 0, 0, 0, 0, time.UTC), Day: true}
	at := Meta{MeasuredAt: time.Date(2025, 7, 31, 15, 0, 0, 0, time.UTC)}
	fileTime := time.Date(2025, 7, 31, 15, 34, 35, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		m       Meta
		file    time.Time
		want    time.Time
		err     string
		warning string
	}{
		{"no flag, no time", Meta{}, time.Time{}, time.Time{}, "", ""},
		{"no flag keeps the file's", Meta{}, fileTime, fileTime, "", ""},
		{"a day fills in", day, time.Time{}, day.MeasuredAt, "", ""},
		{"a time fills in", at, time.Time{}, at.MeasuredAt, "", ""},
		{"the file's day agrees silently", day, fileTime, fileTime, "", ""},
		{"a day later", day, fileTime.Add(24 * time.Hour), fileTime.Add(24 * time.Hour), "", "-measured-at 2025-07-31 is within a day of the file's 2025-08-01T15:34:35Z (timestamp): the file's time is used"},
		{"a day and a half before the day's end", day, day.MeasuredAt.Add(-20 * time.Hour), day.MeasuredAt.Add(-20 * time.Hour), "", "within a day"},
		{"two days later", day, fileTime.Add(48 * time.Hour), time.Time{}, "f: -measured-at 2025-07-31 contradicts the file's 2025-08-02T15:34:35Z (timestamp)", ""},
		{"a time within a day", at, fileTime, fileTime, "", "-measured-at 2025-07-31T15:00:00Z is within a day"},
		{"a time 25 hours away", at, at.MeasuredAt.Add(-25 * time.Hour), time.Time{}, "-measured-at 2025-07-31T15:00:00Z contradicts the file's 2025-07-30T14:00:00Z (timestamp)", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := rating.Result{MeasuredAt: tt.file}
			var ws []Warning
			err := tt.m.ApplyDate("f", "timestamp", &r, &ws)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !r.MeasuredAt.Equal(tt.want) {
				t.Fatalf("measured_at %v, %v; want %v", r.MeasuredAt, err, tt.want)
			}
			if tt.warning == "" && len(ws) > 0 || tt.warning != "" && (len(ws) != 1 || !strings.Contains(ws[0].String(), tt.warning)) {
				t.Errorf("warnings %v, want %q", ws, tt.warning)
			}
		})
	}
	// Apply applies it too, naming where the file records its time.
	r := rating.Result{GPUEnergyWh: 1, MeasuredAt: fileTime}
	m := Meta{Model: "acme/m", Task: "summarization", Queries: 1000, Hardware: "H100", MeasuredAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Day: true}
	if err := m.Apply("f", &r, Stated{MeasuredAt: "the latest timestamp of 3 runs"}, nil); err == nil || !strings.Contains(err.Error(), "(the latest timestamp of 3 runs)") {
		t.Errorf("Apply: %v", err)
	}
}

func FuzzParseMeasuredAt(f *testing.F) {
	for _, s := range []string{"2026-11-20", "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.123+05:30", "20/11/2026", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, day, err := ParseMeasuredAt(s)
		if err != nil {
			if len(err.Error()) > 300 {
				t.Fatalf("an error of %d bytes", len(err.Error()))
			}
			return
		}
		if day && (at.Location() != time.UTC || at.Hour() != 0 || at.Minute() != 0 || at.Second() != 0 || at.Nanosecond() != 0) {
			t.Fatalf("a day that is not a UTC midnight: %v", at)
		}
		// Whatever it parsed agrees with itself as a file's time.
		r := rating.Result{MeasuredAt: at}
		if err := (Meta{MeasuredAt: at, Day: day}).ApplyDate("f", "", &r, nil); err != nil || !r.MeasuredAt.Equal(at) {
			t.Fatalf("%v against itself: %v", at, err)
		}
	})
}
