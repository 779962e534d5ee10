package rating

import (
	"fmt"
	"math"

	"github.com/energylabel/energylabel/errdefs"
)

// Measurement is how `energylabel measure` measured a result: the GPUs'
// own energy counters around the command and a power trace. A result that
// carries one is refused unless its figures agree with it (checkMeasurement).
type Measurement struct {
	// Source is where the figures come from: MeasurementNVML.
	Source          string
	IntervalSeconds float64
	Devices         []MeasuredDevice
	// Trace is power summed over the devices; each point is the average
	// since the previous one (or the start).
	Trace         []PowerSample
	DriverVersion string
	CUDAVersion   string
	// IdleWatts is the idle power summed over the devices, measured for
	// IdleSeconds before the command; 0 when not measured. It is reported,
	// never subtracted.
	IdleWatts   float64
	IdleSeconds float64
}

// MeasuredDevice is one GPU a measurement read.
type MeasuredDevice struct {
	Index           int
	Name            string
	UUID            string
	PowerLimitWatts float64
	// EnergySource is EnergyFromCounter or EnergyFromSamples.
	EnergySource string
	// EnergyStartMJ and EnergyEndMJ are the total-energy counter's readings
	// before and after, in mJ; 0 when the energy comes from samples.
	EnergyStartMJ, EnergyEndMJ uint64
	EnergyWh                   float64
}

// PowerSample is one point of a trace: the average power from the
// previous point's T (or 0) to T, in W.
type PowerSample struct {
	T     float64
	Watts float64
}

// The values of a measurement's fields.
const (
	MeasurementNVML   = "nvml"
	EnergyFromCounter = "counter"
	EnergyFromSamples = "samples"
	// MeasuredWithNVML is what a rating says of a result whose NVML
	// measurement passed the trace checks.
	MeasuredWithNVML = "energylabel measure, NVML"
)

// The bounds and tolerances of the trace checks. Each is documented in
// the README's "What is checked" section; change both together.
const (
	// MaxTracePoints bounds a trace; energylabel measure downsamples to it.
	MaxTracePoints = 4096
	// MaxMeasuredDevices bounds a measurement's devices.
	MaxMeasuredDevices = MaxGPUs
	// MaxIntervalSeconds bounds the sampling interval.
	MaxIntervalSeconds = 60
	// MaxDeviceField bounds a device's name and UUID, and the versions.
	MaxDeviceField = 96
	// TraceTolerance is the relative difference allowed between the
	// trace's integral and the energy, on top of TraceLagSeconds.
	TraceTolerance = 0.10
	// TraceLagSeconds is the power reading's averaging window: NVML's
	// power on Hopper averages over about a second, so at the start and
	// end of a run the trace lags the counter by up to that long. The
	// integral may differ by this many seconds (plus one sampling
	// interval) at the trace's peak power, which gives a short run more
	// room: at a 100 ms interval, 49 % for the 2.9 s H100 run, 12 % for the
	// 66 s H200 run.
	TraceLagSeconds = 1.0
	// CounterTolerance is the relative difference allowed between a
	// device's energy and its counters' difference, and between the
	// devices' sum and gpu_energy_wh: rounding of the file's numbers only.
	CounterTolerance = 1e-6
	// TraceCoverSlackSeconds is how far the trace's last point may be from
	// duration_seconds, on top of two sampling intervals.
	TraceCoverSlackSeconds = 1.0
	// TraceGapIntervals and TraceGapSpans bound the time between two
	// points: that many sampling intervals, plus that many times the run's
	// duration over MaxTracePoints (a downsampled point's span), plus
	// TraceCoverSlackSeconds.
	TraceGapIntervals = 3
	TraceGapSpans     = 8
)

// checkMeasurement checks a result's measurement against its figures; a
// passing one adds CheckTrace.
func (c *checker) checkMeasurement() {
	m := c.r.Measurement
	if m == nil {
		return
	}
	n := len(c.vs)
	c.checkMeasurementFields(m)
	if len(c.vs) > n {
		return
	}
	r := c.r
	// Every device resolves, to the result's family. A name is resolved
	// once however many devices bear it, and the refusals stop at
	// MaxViolations: resolving an unknown name looks for the closest
	// known ones, which a thousand made-up names must not cost a thousand
	// times.
	seen := map[string]bool{}
	for i, d := range m.Devices {
		if seen[d.Name] {
			continue
		}
		seen[d.Name] = true
		if len(c.vs) > MaxViolations {
			break
		}
		field := fmt.Sprintf("measurement.devices[%d].name", i)
		a, _, err := c.reg.Accelerators.Resolve(d.Name)
		switch {
		case err != nil && c.lenient && acceleratorNameProblem(d.Name) == "":
		case err != nil:
			c.bad(field, "%s is not in the accelerator registry (see ListAccelerators)", quote(d.Name))
		case c.accelOK && a.Family != c.accel.Family:
			c.bad(field, "%s is a %s, but hardware.accelerator is a %s", quote(d.Name), a.Family, c.accel.Family)
		}
	}
	if c.gpus != 0 && c.gpus != len(m.Devices) {
		c.bad("hardware.count", "%d, but the measurement read %d devices", c.gpus, len(m.Devices))
	}
	// The energy is the devices' energy, each its counters' difference.
	var sum float64
	for i, d := range m.Devices {
		if d.EnergySource == EnergyFromCounter && len(c.vs) <= MaxViolations {
			want := float64(d.EnergyEndMJ-d.EnergyStartMJ) / 3.6e6
			if d.EnergyEndMJ < d.EnergyStartMJ || !agree(d.EnergyWh, want, CounterTolerance, 1e-9) {
				c.bad(fmt.Sprintf("measurement.devices[%d].energy_wh", i), "%v Wh is not its counters' difference (%d − %d mJ = %v Wh)",
					d.EnergyWh, d.EnergyEndMJ, d.EnergyStartMJ, want)
			}
		}
		sum += d.EnergyWh
	}
	if !agree(r.GPUEnergyWh, sum, CounterTolerance, 1e-9) {
		c.bad("gpu_energy_wh", "%v Wh is not the measured devices' energy, %v Wh", r.GPUEnergyWh, sum)
	}
	// The trace covers the run and its integral agrees with the energy.
	last := m.Trace[len(m.Trace)-1].T
	slack := 2*m.IntervalSeconds + TraceCoverSlackSeconds
	if r.DurationSeconds > 0 && math.Abs(last-r.DurationSeconds) > slack {
		c.bad("measurement.trace", "ends at %.4g s, but the run lasted %.4g s (duration_seconds): the trace must cover the run within %.3g s",
			last, r.DurationSeconds, slack)
	}
	// No stretch of the run goes unsampled: a gap is at most a few
	// intervals, or a few downsampled points' spans, and the slack.
	maxGap := TraceGapIntervals*m.IntervalSeconds + TraceGapSpans*last/MaxTracePoints + TraceCoverSlackSeconds
	prev := 0.0
	for i, s := range m.Trace {
		if s.T-prev > maxGap {
			c.bad(fmt.Sprintf("measurement.trace[%d].t", i), "%.4g s after the previous point: the trace must not leave more than %.3g s of the run unsampled",
				s.T-prev, maxGap)
			break
		}
		prev = s.T
	}
	integral, peak := TraceEnergy(m.Trace)
	tol := TraceTolerance*sum*3600 + (TraceLagSeconds+m.IntervalSeconds)*peak
	if math.Abs(integral-sum*3600) > tol {
		c.bad("measurement.trace", "integrates to %.4g J, but the counters say %.4g J: more than %.3g J apart (%.0f %% plus %.3g s at the peak %.4g W)",
			integral, sum*3600, tol, TraceTolerance*100, TraceLagSeconds+m.IntervalSeconds, peak)
	}
	// The trace's average power lies in the accelerator's window: short
	// spikes above board power are real, an average above it is not.
	if gpus := float64(max(1, len(m.Devices))); c.accelOK && last > 0 {
		a := c.accel
		switch w := integral / last / gpus; {
		case w > PowerLimitFactor*a.BoardWatts:
			c.bad("measurement.trace", "averages %.4g W per %s, above %.0f%% of its %.0f W board power", w, a.Name, PowerLimitFactor*100, a.BoardWatts)
		case w < a.Floor():
			c.bad("measurement.trace", "averages %.4g W per %s, below its floor of %.4g W", w, a.Name, a.Floor())
		}
	}
	if len(c.vs) == n {
		c.checks |= CheckTrace
	}
}

// checkMeasurementFields checks each field's range.
func (c *checker) checkMeasurementFields(m *Measurement) {
	if m.Source != MeasurementNVML {
		c.bad("measurement.source", "must be %q, got %s", MeasurementNVML, quote(m.Source))
	}
	if !positive(m.IntervalSeconds) || m.IntervalSeconds > MaxIntervalSeconds {
		c.bad("measurement.interval_seconds", "must be in (0, %d], got %v", MaxIntervalSeconds, m.IntervalSeconds)
	}
	if !nonNegative(m.IdleWatts) || !nonNegative(m.IdleSeconds) || m.IdleSeconds > MaxDurationSeconds {
		c.bad("measurement.idle_watts", "idle_watts and idle_seconds must be non-negative numbers, got %v W over %v s", m.IdleWatts, m.IdleSeconds)
	}
	for _, f := range []struct{ field, v string }{{"measurement.driver_version", m.DriverVersion}, {"measurement.cuda_version", m.CUDAVersion}} {
		if len(f.v) > MaxDeviceField || !errdefs.PrintableASCII(f.v) {
			c.bad(f.field, "at most %d bytes of printable ASCII, got %s", MaxDeviceField, quote(f.v))
		}
	}
	switch n := len(m.Devices); {
	case n == 0:
		c.bad("measurement.devices", "required: the GPUs measured")
	case n > MaxMeasuredDevices:
		c.bad("measurement.devices", "at most %d devices, got %d", MaxMeasuredDevices, n)
		return
	}
	for i, d := range m.Devices {
		p := fmt.Sprintf("measurement.devices[%d].", i)
		switch {
		case d.Name == "":
			c.bad(p+"name", "required: the device's name as NVML reports it")
		case len(d.Name) > MaxDeviceField || !errdefs.PrintableASCII(d.Name):
			c.bad(p+"name", "at most %d bytes of printable ASCII, got %s", MaxDeviceField, quote(d.Name))
		}
		if len(d.UUID) > MaxDeviceField || !errdefs.PrintableASCII(d.UUID) {
			c.bad(p+"uuid", "at most %d bytes of printable ASCII, got %s", MaxDeviceField, quote(d.UUID))
		}
		if d.Index < 0 || d.Index > MaxGPUs {
			c.bad(p+"index", "must be 0 to %d, got %d", MaxGPUs, d.Index)
		}
		if !nonNegative(d.PowerLimitWatts) {
			c.bad(p+"power_limit_watts", "must be a non-negative number, got %v", d.PowerLimitWatts)
		}
		if d.EnergySource != EnergyFromCounter && d.EnergySource != EnergyFromSamples {
			c.bad(p+"energy_source", "must be %q or %q, got %s", EnergyFromCounter, EnergyFromSamples, quote(d.EnergySource))
		}
		if !positive(d.EnergyWh) {
			c.bad(p+"energy_wh", "must be a positive number, got %v", d.EnergyWh)
		}
		if len(c.vs) > MaxViolations {
			return
		}
	}
	switch n := len(m.Trace); {
	case n == 0:
		c.bad("measurement.trace", "required: the power over the run")
		return
	case n > MaxTracePoints:
		c.bad("measurement.trace", "at most %d points, got %d", MaxTracePoints, n)
		return
	}
	prev := 0.0
	for i, s := range m.Trace {
		switch {
		case !(s.T > prev) || math.IsInf(s.T, 1):
			c.bad(fmt.Sprintf("measurement.trace[%d].t", i), "times must increase from 0, got %v after %v", s.T, prev)
			return
		case !nonNegative(s.Watts):
			c.bad(fmt.Sprintf("measurement.trace[%d].watts", i), "must be a non-negative number, got %v", s.Watts)
			return
		}
		prev = s.T
	}
}

// TraceEnergy is a trace's integral in J, each point's average power over
// the span since the previous point, and its peak power in W.
func TraceEnergy(trace []PowerSample) (joules, peak float64) {
	prev := 0.0
	for _, s := range trace {
		joules += s.Watts * (s.T - prev)
		peak = max(peak, s.Watts)
		prev = s.T
	}
	return joules, peak
}

// agree reports whether a and b agree within rel of b, or abs.
func agree(a, b, rel, abs float64) bool {
	d := math.Abs(a - b)
	return d <= abs || d <= rel*math.Abs(b)
}
