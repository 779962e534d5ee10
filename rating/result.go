package rating

import "time"

// Result is one benchmark run as submitted: energy measured for a number of
// queries, with the output the user received.
type Result struct {
	Model   string
	Task    string
	Dataset string
	// Accelerator is the hardware model as reported, e.g. "H100".
	Accelerator string
	// GPUCount is the number of accelerators; 0 when not reported.
	GPUCount      int
	Queries       int64
	FailedQueries int64
	GPUEnergyWh   float64
	// DurationSeconds is 0 when unknown; the power check then cannot run.
	DurationSeconds float64
	RunEnergiesWh   []float64
	Output          Output
	ParamsBillions  float64
	SizeClass       string
	Precision       string
	BatchSize       int
	ToolName        string
	ToolVersion     string
	MeasuredAt      time.Time
	// ThroughputTokensPerSecond is 0 when unknown.
	ThroughputTokensPerSecond float64
	// ActiveParamsBillions is the parameters a mixture-of-experts model
	// activates per token; 0 means all of ParamsBillions.
	ActiveParamsBillions float64
	// Measurement is how energylabel measure measured it; nil otherwise.
	Measurement *Measurement `json:",omitempty"`
}

// Output is what the user received over all successful queries.
type Output struct {
	Tokens       int64
	Images       int64
	ImageWidth   int
	ImageHeight  int
	VideoFrames  int64
	VideoWidth   int
	VideoHeight  int
	AudioSeconds float64
}

// Successful is the number of queries that produced output.
func (r *Result) Successful() int64 { return r.Queries - r.FailedQueries }
