package rating

// Cohort is the set of ratings graded against each other.
type Cohort struct {
	Task    string
	Dataset string
	// SizeClass is "A", "B" or "C" for tasks with size classes, else empty.
	SizeClass string
	Hardware  string
	Basis     Unit
}

// Measure is a result normalised by task and output size.
type Measure struct {
	Cohort Cohort
	// WhPer1kQueries is the AIES headline figure.
	WhPer1kQueries float64
	// EnergyPerUnit is in Cohort.Basis's unit when it reports output sizes,
	// and Wh per 1,000 queries otherwise.
	EnergyPerUnit float64
	// PowerChecked says whether the physical power limit was checked.
	PowerChecked bool
}

// X is the metric both schemes grade: energy per unit of the basis.
func (m Measure) X() float64 { return m.EnergyPerUnit }

// Normalise validates a result and computes its measure and cohort.
func Normalise(r *Result) (Measure, error) {
	if err := r.Validate(); err != nil {
		return Measure{}, err
	}
	return MeasureOf(r), nil
}

// MeasureOf computes the measure of a result that has already been
// validated, such as one read back from storage. Validation rules may grow
// stricter over time; a stored result keeps the measure it was accepted with.
func MeasureOf(r *Result) Measure {
	task, _ := LookupTask(r.Task)
	m := Measure{
		Cohort: Cohort{
			Task:      task.ID,
			Dataset:   r.Dataset,
			SizeClass: r.SizeClass,
			Hardware:  HardwareCohort(r.Accelerator),
		},
		WhPer1kQueries: r.GPUEnergyWh / float64(r.Successful()) * 1000,
		PowerChecked:   r.DurationSeconds > 0,
	}
	if m.Cohort.Dataset == "" {
		m.Cohort.Dataset = task.DefaultDataset
	}
	if task.SizeClasses && m.Cohort.SizeClass == "" {
		m.Cohort.SizeClass = SizeClass(r.ParamsBillions)
	}
	joules := r.GPUEnergyWh * 3600
	o := r.Output
	units := 0.0
	switch task.Unit {
	case OutputToken:
		units = float64(o.Tokens)
	case OutputMegapixel:
		units = float64(o.Images) * float64(o.ImageWidth) * float64(o.ImageHeight) / 1e6
	case OutputMegapixelFrame:
		units = float64(o.VideoFrames) * float64(o.VideoWidth) * float64(o.VideoHeight) / 1e6
	}
	if units > 0 {
		m.Cohort.Basis = task.Unit
		m.EnergyPerUnit = joules / units
	} else {
		m.Cohort.Basis = Query
		m.EnergyPerUnit = m.WhPer1kQueries
	}
	return m
}
