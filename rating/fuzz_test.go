package rating

import (
	"errors"
	"github.com/energylabel/energylabel/errdefs"
	"math"
	"testing"
)

// FuzzNormalise feeds arbitrary results through validation and
// normalisation: either a field-naming refusal, or a finite positive measure.
func FuzzNormalise(f *testing.F) {
	f.Add("acme/tiny-clf", "text-classification", "H100", 1, int64(1000), int64(0), 0.9, 41.5, int64(0), int64(0), 0, 0, 0.07, "")
	f.Add("acme/tiny-clf", "text-classification", "1 x NVIDIA H100 80GB HBM3", 0, int64(1000), int64(0), 0.9, 41.5, int64(9e18), int64(0), 0, 0, 0.07, "")
	f.Add("meta-llama/Llama-3.1-8B", "text_generation", "NVIDIA H100 SXM", 8, int64(1000), int64(3), 50.0, 600.0, int64(200000), int64(0), 0, 0, 8.0, "")
	f.Add("acme/sd", "image_generation", "B200", 1, int64(10), int64(0), 1.0, 0.0, int64(0), int64(10), 1024, 1024, 0.0, "")
	f.Add("../etc", "asr", "", -1, int64(0), int64(5), math.NaN(), -1.0, int64(-1), int64(-1), -5, 0, -1.0, "Z")
	f.Fuzz(func(t *testing.T, model, task, acc string, gpus int, queries, failed int64, wh, dur float64, tokens, images int64, w, h int, params float64, class string) {
		r := Result{Model: model, Task: task, Accelerator: acc, GPUCount: gpus, Queries: queries, FailedQueries: failed,
			GPUEnergyWh: wh, DurationSeconds: dur, Output: Output{Tokens: tokens, Images: images, ImageWidth: w, ImageHeight: h},
			ParamsBillions: params, SizeClass: class}
		m, err := Builtin().Normalise(&r, Publisher)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || len(inv.Violations) == 0 {
				t.Fatalf("error without violations: %v", err)
			}
			for _, v := range inv.Violations {
				if v.Field == "" || v.Description == "" {
					t.Fatalf("violation without field or description: %+v", v)
				}
			}
			return
		}
		for _, x := range []float64{m.X(), m.WhPer1kQueries} {
			if !(x > 0) || math.IsInf(x, 0) {
				t.Fatalf("accepted result has measure %+v", m)
			}
		}
		if _, ok := LookupTask(m.Cohort.Task); !ok || m.Cohort.Hardware == "" || m.Cohort.Dataset == "" {
			t.Fatalf("accepted result has cohort %+v", m.Cohort)
		}
	})
}

// FuzzResolveAccelerator feeds arbitrary names to the accelerator matcher:
// a name resolves to a registered variant, or is refused naming
// hardware.accelerator; a non-ASCII name never resolves.
func FuzzResolveAccelerator(f *testing.F) {
	for _, s := range []string{"NVIDIA H100 80GB HBM3", "1 x NVIDIA H100 80GB HBM3", "H100", "Н100", "H100\u200b", "H１００",
		"99999 x B200", "x H100", "12 xH100", "nvidia", "Apple M1 Pro", ""} {
		f.Add(s)
	}
	reg := BuiltinAccelerators()
	f.Fuzz(func(t *testing.T, name string) {
		a, n, err := reg.Resolve(name)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Violations[0].Field != "hardware.accelerator" || len(err.Error()) > 512 {
				t.Fatalf("Resolve(%q): %v", name, err)
			}
			return
		}
		if !errdefs.PrintableASCII(name) || a.Family == "" || !(a.BoardWatts > 0) || n < 0 || n > 99999 {
			t.Fatalf("Resolve(%q) = %+v, %d", name, a, n)
		}
	})
}

// FuzzMeasurement feeds arbitrary measurements, the section energylabel
// measure writes, through the trace checks: a field-naming refusal, or an
// accepted result whose trace agrees with its energy.
func FuzzMeasurement(f *testing.F) {
	f.Add("nvml", 0.1, "NVIDIA H100 80GB HBM3", "counter", uint64(1000), uint64(504838), 0.139955, 2.9, []byte{170, 175, 174, 176})
	f.Add("nvml", 1.0, "NVIDIA H200", "samples", uint64(0), uint64(0), 2.58, 66.1, []byte{140})
	f.Add("", math.NaN(), "H100\x00", "x", uint64(9), uint64(1), -1.0, math.Inf(1), []byte{})
	f.Fuzz(func(t *testing.T, source string, interval float64, name, esrc string, start, end uint64, wh, dur float64, watts []byte) {
		m := &Measurement{Source: source, IntervalSeconds: interval,
			Devices: []MeasuredDevice{{Name: name, EnergySource: esrc, EnergyStartMJ: start, EnergyEndMJ: end, EnergyWh: wh}}}
		for i, w := range watts {
			m.Trace = append(m.Trace, PowerSample{T: dur * float64(i+1) / float64(len(watts)), Watts: float64(w)})
		}
		r := Result{Model: "acme/tiny-clf", Task: "text-classification", Accelerator: "H100", GPUCount: 1, Queries: 1000,
			GPUEnergyWh: wh, DurationSeconds: dur, Measurement: m}
		ms, err := Builtin().Normalise(&r, Publisher)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || len(inv.Violations) == 0 || len(inv.Violations) > MaxViolations {
				t.Fatalf("error without violations: %v", err)
			}
			for _, v := range inv.Violations {
				if v.Field == "" || v.Description == "" {
					t.Fatalf("violation without field or description: %+v", v)
				}
			}
			return
		}
		joules, peak := TraceEnergy(m.Trace)
		if ms.Checks&CheckTrace == 0 || math.Abs(joules-wh*3600) > TraceTolerance*wh*3600+(TraceLagSeconds+interval)*peak+1e-9 {
			t.Fatalf("accepted %+v with checks %v", m, ms.Checks.Names())
		}
	})
}
