package rating

import (
	"math"
	"strings"
	"time"
)

// Cohort is the set of ratings graded against each other.
type Cohort struct {
	Task    string
	Dataset string
	// SizeClass is "A", "B" or "C" for tasks with size classes, else empty.
	SizeClass string
	Hardware  string
	Basis     Unit
}

// Checks are the plausibility checks a result passed.
type Checks uint8

// The checks that need a duration.
const (
	// CheckPower: the average power per accelerator lies between the
	// variant's floor and 1.1 × its board power.
	CheckPower Checks = 1 << iota
	// CheckRate: each output count per second per accelerator is under
	// its ceiling.
	CheckRate
	// CheckThroughput: J/token agrees with power over the reported
	// throughput within 10 %.
	CheckThroughput
	// CheckTrace: the result carried a measurement (energylabel measure,
	// NVML) whose counters, trace and devices agree with its figures.
	CheckTrace
)

var checkNames = [...]string{"power", "output_rate", "throughput", "trace"}

// namesOf holds the names of every combination of checks, made once: every
// rating read lists them.
var namesOf = func() (out [1 << len(checkNames)][]string) {
	for c := range out {
		for i, n := range checkNames {
			if c&(1<<i) != 0 {
				out[c] = append(out[c], n)
			}
		}
	}
	return out
}()

// Names lists the checks by the names the API gives them. The slice is
// shared: callers must not change it.
func (c Checks) Names() []string { return namesOf[c&(1<<len(checkNames)-1)] }

// Measure is a result normalised by task and output size.
type Measure struct {
	Cohort Cohort
	// WhPer1kQueries is the AIES headline figure.
	WhPer1kQueries float64
	// EnergyPerUnit is in Cohort.Basis's unit: Wh per 1,000 queries on a
	// query-basis dataset.
	EnergyPerUnit float64
	// Checks are the plausibility checks the result passed.
	Checks Checks
	// FloorRatio is the energy divided by the physical floor of the
	// declared work on the declared hardware; 0 when no floor applied.
	FloorRatio float64
}

// X is the metric both schemes grade: energy per unit of the basis.
func (m Measure) X() float64 { return m.EnergyPerUnit }

// PowerChecked says whether the physical power check ran and passed.
func (m Measure) PowerChecked() bool { return m.Checks&CheckPower != 0 }

// MeasuredWith names what measured the figures, when the server checked
// it: MeasuredWithNVML for a result whose trace checks passed, else "".
func (m Measure) MeasuredWith() string {
	if m.Checks&CheckTrace != 0 {
		return MeasuredWithNVML
	}
	return ""
}

// Source is who vouches for a result, which decides what it must carry.
type Source int

const (
	// Publisher is a model publisher's own measurement: it must carry its
	// duration, its accelerator count and, for tasks with size classes,
	// its parameter count.
	Publisher Source = iota
	// Published is a figure from a published leaderboard that an operator
	// imports: it may lack a duration (its rating then says it was not
	// power-checked), a count, or a parameter count where it gives a class.
	Published
	// Surveyor is a surveyor's re-measurement of another publisher's
	// model: it must carry all that a publisher's does.
	Surveyor
)

// Registry is what a result's names resolve against: the accelerators and
// the datasets the service knows. The zero value is not usable; start from
// Builtin.
type Registry struct {
	Accelerators *Accelerators
	Datasets     *Datasets
	// Now is the time measurement dates are checked against; the zero
	// time skips the check of dates in the future.
	Now time.Time
}

// Builtin is the registry every server starts with.
func Builtin() Registry {
	return Registry{Accelerators: BuiltinAccelerators(), Datasets: BuiltinDatasets()}
}

// Normalise validates a result as src vouches for it and computes its
// measure and cohort. It fills in the accelerator count where only the
// accelerator's name states it. Every derived value is finite.
func (g Registry) Normalise(r *Result, src Source) (Measure, error) {
	c := checker{r: r, reg: g, src: src}
	c.check()
	if err := c.err(); err != nil {
		return Measure{}, err
	}
	r.GPUCount = c.gpus
	m := measure(r, c.task, c.accel.Family, c.dataset)
	m.Checks = c.checks
	m.FloorRatio = c.floorRatio
	if !(m.WhPer1kQueries > 0 && m.EnergyPerUnit > 0) || math.IsInf(m.WhPer1kQueries, 0) || math.IsInf(m.EnergyPerUnit, 0) {
		return Measure{}, Invalid("gpu_energy_wh", "%v Wh gives an energy per unit that is not a finite positive number", r.GPUEnergyWh)
	}
	return m, nil
}

// Normalise is Builtin().Normalise of a published figure, as the bundled
// calibration data is.
func Normalise(r *Result) (Measure, error) { return Builtin().Normalise(r, Published) }

// MeasureOf computes the measure of a result that was accepted earlier,
// such as one read back from storage, without checking it again: rules may
// have grown stricter since. Names the built-in registry does not know
// keep their spelling as the cohort's hardware, and the basis then follows
// from whether the output size was reported, as it did before datasets
// were registered.
func MeasureOf(r *Result) Measure {
	task, _ := LookupTask(r.Task)
	g := Builtin()
	family := g.Accelerators.Family(r.Accelerator)
	if family == "" {
		family = strings.Join(strings.Fields(r.Accelerator), " ")
	}
	ds, err := g.Datasets.Resolve(task, r.Dataset)
	if err != nil {
		ds = Dataset{Name: r.Dataset, Task: task.ID, Basis: task.Unit}
		if ds.Name == "" {
			ds.Name = task.DefaultDataset
		}
		if units(task.Unit, r.Output) <= 0 {
			ds.Basis = Query
		}
	}
	m := measure(r, task, family, ds)
	if r.DurationSeconds > 0 {
		m.Checks = CheckPower
	}
	return m
}

func measure(r *Result, task Task, family string, ds Dataset) Measure {
	m := Measure{
		Cohort: Cohort{
			Task:      task.ID,
			Dataset:   ds.Name,
			SizeClass: r.SizeClass,
			Hardware:  family,
			Basis:     ds.Basis,
		},
		WhPer1kQueries: r.GPUEnergyWh / float64(r.Successful()) * 1000,
	}
	if task.SizeClasses && r.ParamsBillions > 0 {
		m.Cohort.SizeClass = SizeClass(r.ParamsBillions)
	}
	if ds.Basis == Query {
		m.EnergyPerUnit = m.WhPer1kQueries
	} else {
		m.EnergyPerUnit = r.GPUEnergyWh * 3600 / units(ds.Basis, r.Output)
	}
	return m
}

// units is the output size in the functional unit u.
func units(u Unit, o Output) float64 {
	switch u {
	case OutputToken:
		return float64(o.Tokens)
	case OutputMegapixel:
		return megapixels(o)
	case OutputMegapixelFrame:
		return megapixelFrames(o)
	}
	return 0
}
