package meta

import (
	"errors"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/rating"
)

func TestApply(t *testing.T) {
	full := Meta{Model: "acme/m", Task: "text_generation", Queries: 1000, Hardware: "H100", GPUs: 1, Params: 7}
	r := rating.Result{GPUEnergyWh: 1}
	if err := full.Apply("f", &r); err != nil {
		t.Fatal(err)
	}
	if r.Model != "acme/m" || r.Task != "text-generation" || r.Queries != 1000 || r.Accelerator != "H100" || r.GPUCount != 1 || r.ParamsBillions != 7 {
		t.Errorf("not applied: %+v", r)
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
	kept := rating.Result{Model: "file/model", Queries: 10, Accelerator: "B200"}
	if err := full.Apply("f", &kept); err != nil || kept.Model != "file/model" || kept.Queries != 10 || kept.Accelerator != "B200" {
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
		{"no hardware", func(m *Meta) { m.Hardware = " " }, "f: hardware unknown: pass -hardware ACCELERATOR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := full
			tc.change(&m)
			err := m.Apply("f", &rating.Result{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to begin %q", err, tc.want)
			}
		})
	}
	err := Meta{}.Apply("f", &rating.Result{})
	var missing *MissingError
	if !errors.Is(err, ErrMissing) || !errors.As(err, &missing) || missing.What != "model" {
		t.Errorf("error %v, want a MissingError for the model", err)
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
