package gpufacts

import (
	"math"

	"github.com/energylabel/energylabel/rating"
)

// Measurement is what energylabel measure records of the run on one
// device: the counter's difference, and NVML's lagging power readings
// every interval seconds as the trace.
func (r Run) Measurement(interval float64) *rating.Measurement {
	const start = 1_234_567_890 // mJ since the driver loaded
	end := start + uint64(math.Round(r.Wh*3.6e6))
	m := &rating.Measurement{Source: rating.MeasurementNVML, IntervalSeconds: interval,
		DriverVersion: "570.124.06", CUDAVersion: "12.8",
		Devices: []rating.MeasuredDevice{{Name: r.Name, UUID: "GPU-1e6c3a9b-0000-4000-8000-000000000001", PowerLimitWatts: r.PowerLimitWatts,
			EnergySource: rating.EnergyFromCounter, EnergyStartMJ: start, EnergyEndMJ: end, EnergyWh: float64(end-start) / 3.6e6}}}
	for t := interval; ; t += interval {
		t = min(t, r.Seconds)
		m.Trace = append(m.Trace, rating.PowerSample{T: t, Watts: r.Reading(t)})
		if t >= r.Seconds {
			break
		}
	}
	return m
}

// Result is the run as a native result carrying its measurement.
func (r Run) Result(interval float64) *rating.Result {
	m := r.Measurement(interval)
	res := &rating.Result{Model: "gpu-probe/distilbert-arch-clf", Task: "text-classification", Accelerator: r.Name, GPUCount: 1,
		Queries: r.Queries, GPUEnergyWh: m.Devices[0].EnergyWh, DurationSeconds: r.Seconds, ParamsBillions: 0.067,
		Precision: "fp32", BatchSize: 1, ToolName: "energylabel measure", ToolVersion: "test", Measurement: m}
	if r.Tokens > 0 {
		res.Model, res.Task, res.ParamsBillions, res.Output.Tokens = "gpu-probe/gpt2-arch", "text-generation", 0.124, r.Tokens
	}
	return res
}
