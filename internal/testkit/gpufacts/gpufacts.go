// Package gpufacts holds what NVML reported on this project's own GPUs, and
// synthesises power traces shaped like those runs, so that tests of the
// measuring loop and of the trace checks run without a GPU. Provenance:
// testdata/PROVENANCE.md; a test checks the figures against the files.
package gpufacts

import "math"

// Run is one recorded measurement.
type Run struct {
	// Name is the device's name as NVML reports it.
	Name string
	// PowerLimitWatts is NVML's power limit.
	PowerLimitWatts float64
	// IdleWatts is the power before any work.
	IdleWatts float64
	// Seconds and Wh are the run's duration and its counter's energy.
	Seconds, Wh float64
	// PeakWatts is the largest power sample during the run.
	PeakWatts float64
	Queries   int64
	Tokens    int64
}

// AvgWatts is the run's average power.
func (r Run) AvgWatts() float64 { return r.Wh * 3600 / r.Seconds }

// H100 is the DistilBERT-architecture classification run on an H100 SXM.
var H100 = Run{Name: "NVIDIA H100 80GB HBM3", PowerLimitWatts: 700, IdleWatts: 69.749,
	Seconds: 2.896622657775879, Wh: 0.139955, PeakWatts: 176.65, Queries: 1000}

// H200 is the GPT-2-architecture generation run on an H200; its idle
// power is nvidia-smi's reading before the run.
var H200 = Run{Name: "NVIDIA H200", PowerLimitWatts: 700, IdleWatts: 112.61,
	Seconds: 66.13508939743042, Wh: 2.5826438888888887, PeakWatts: 145.174, Queries: 300, Tokens: 9600}

// Power is the true power of the run at t seconds from its start: idle
// before and after, and during the run its average plus a small ripple
// that stays under the peak sample, scaled so that its integral over the
// run is the run's energy.
func (r Run) Power(t float64) float64 {
	if t < 0 || t > r.Seconds {
		return r.IdleWatts
	}
	amp := min(r.PeakWatts-r.AvgWatts(), 0.5*r.AvgWatts())
	// a whole number of ripples over the run, so that they integrate to 0
	return r.AvgWatts() + amp*math.Sin(2*math.Pi*4*t/r.Seconds)
}

// Reading is what NVML's power reading shows at t: the true power averaged
// over the preceding second, as Hopper's reading is.
func (r Run) Reading(t float64) float64 {
	const window, steps = 1.0, 20
	sum := 0.0
	for i := range steps {
		sum += r.Power(t - window + (float64(i)+0.5)*window/steps)
	}
	return sum / steps
}

// EnergyJ is the true energy from 0 to t, in J (idle outside the run).
func (r Run) EnergyJ(t float64) float64 {
	if t <= 0 {
		return r.IdleWatts * t
	}
	run := min(t, r.Seconds)
	amp := min(r.PeakWatts-r.AvgWatts(), 0.5*r.AvgWatts())
	w := 2 * math.Pi * 4 / r.Seconds
	e := r.AvgWatts()*run + amp*(1-math.Cos(w*run))/w
	if t > r.Seconds {
		e += r.IdleWatts * (t - r.Seconds)
	}
	return e
}
