package rating

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Physical floors: the least energy and time the declared hardware could
// need for the declared work. Generating a token takes at least
// 2 × active parameters FLOPs; no run beats the card's fastest dense
// tensor throughput, and a power-capped card is at most about 1.5× more
// efficient than its board power says, so both floors take a safety
// factor of 2. They refuse the impossible, not the merely good: the
// closest honest ML.ENERGY v3 rows sit far above them.
const (
	// FloorSafety divides both floors.
	FloorSafety = 2
	// FLOPsPerParamToken is the work of one token per (active) parameter.
	FLOPsPerParamToken = 2
	// MaxPeakTFLOPS bounds a registered accelerator's peak throughput.
	MaxPeakTFLOPS = 1_000_000
	// MaxMemoryGB bounds a registered accelerator's memory.
	MaxMemoryGB = 100_000
	// MaxFastestPrecision bounds the name of the fastest precision.
	MaxFastestPrecision = 16
)

// The window of measurement dates: none before the first accelerators
// that ran such benchmarks, none in the future beyond a day's clock skew.
var (
	EarliestMeasurement = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	FutureSlack         = 24 * time.Hour
)

// floorBasis is what the floors of one reported accelerator name rest on:
// a variant's datasheet figures, or, for a bare family name, the family's
// most lenient figure for each floor.
type floorBasis struct {
	name string
	// joulesPerFLOP is board watts over the fastest peak FLOP/s.
	joulesPerFLOP float64
	peakFLOPS     float64
	memoryBytes   float64
	precision     string
	ok            bool
}

// hasFigures says whether a variant's datasheet gives the floors' figures.
func (a Accelerator) hasFigures() bool { return a.PeakTFLOPSFastest > 0 && a.MemoryGB > 0 }

// floorBasis is the floor basis of a reported name that resolved to v: the
// variant's own, or for a bare family name its family's most lenient.
// A variant (or any variant of a named family) without published figures
// gives none.
func (a *Accelerators) floorBasis(reported string, v Accelerator) floorBasis {
	_, rest := splitCount(reported)
	if matchKey(rest) != matchKey(v.Family) {
		if !v.hasFigures() {
			return floorBasis{}
		}
		return floorBasis{name: v.Name, joulesPerFLOP: v.BoardWatts / (v.PeakTFLOPSFastest * 1e12),
			peakFLOPS: v.PeakTFLOPSFastest * 1e12, memoryBytes: v.MemoryGB * 1e9, precision: v.FastestPrecision, ok: true}
	}
	b := floorBasis{name: v.Family, ok: true}
	for _, o := range a.variants {
		if o.Family != v.Family {
			continue
		}
		if !o.hasFigures() {
			return floorBasis{}
		}
		jpf := o.BoardWatts / (o.PeakTFLOPSFastest * 1e12)
		if b.joulesPerFLOP == 0 || jpf < b.joulesPerFLOP {
			b.joulesPerFLOP, b.precision = jpf, o.FastestPrecision
		}
		b.peakFLOPS = max(b.peakFLOPS, o.PeakTFLOPSFastest*1e12)
		b.memoryBytes = max(b.memoryBytes, o.MemoryGB*1e9)
	}
	return b
}

// precisionSeparators are the characters a precision's spelling may
// hold or not ("float-16", "float_16", "float 16").
var precisionSeparators = strings.NewReplacer("-", "", "_", "", " ", "")

// BytesPerParameter is the size of a weight at a declared precision: 4
// for fp32, 2 for 16-bit, 1 for 8-bit, 0.5 for 4-bit formats and for an
// undeclared or unknown precision (the most lenient of the common ones).
// Case, "-", "_", " " and a "torch." prefix are ignored, and an 8-bit
// float's format suffix too ("float8_e4m3fn").
func BytesPerParameter(precision string) float64 {
	p := strings.ToLower(strings.TrimSpace(precision))
	p = strings.TrimPrefix(p, "torch.")
	p = precisionSeparators.Replace(p)
	switch p {
	case "fp32", "float32", "f32", "tf32", "float", "32bit":
		return 4
	case "bf16", "fp16", "float16", "bfloat16", "f16", "half", "16bit":
		return 2
	case "fp8", "int8", "float8", "f8", "w8a8", "w8a16", "8bit", "q8", "q80", "uint8", "mxfp8":
		return 1
	}
	for _, eight := range []string{"fp8e", "float8e", "f8e"} { // fp8_e4m3, float8_e5m2fnuz...
		if strings.HasPrefix(p, eight) {
			return 1
		}
	}
	return 0.5
}

// TokenUnit reports whether a task's functional unit is the output token:
// the tasks the compute floors apply to.
func (t Task) TokenUnit() bool { return t.Unit == OutputToken }

// checkFloors checks a sized token-unit result against the physical floors
// of its hardware and records how far above the energy floor it is.
// Only publishers' and surveyors' results can be refused by them.
func (c *checker) checkFloors() {
	r := c.r
	if !c.taskOK || !c.task.TokenUnit() || !c.accelOK || r.ParamsBillions <= 0 {
		return
	}
	b := c.reg.Accelerators.floorBasis(r.Accelerator, c.accel)
	if !b.ok {
		return
	}
	gpus := float64(max(1, c.gpus))
	refuse := c.src != Published
	if weights := r.ParamsBillions * 1e9 * BytesPerParameter(r.Precision); refuse && weights > gpus*b.memoryBytes {
		c.bad("parameters_billions", "the weights of a %s B model at %s take %s GB, more than the %s GB of %d × %s",
			fmtFigure(r.ParamsBillions), precisionName(r.Precision), sig(weights/1e9, 4), sig(gpus*b.memoryBytes/1e9, 4), int(gpus), b.name)
	}
	tokens := float64(r.Output.Tokens)
	if tokens <= 0 {
		return
	}
	active := r.ParamsBillions
	if r.ActiveParamsBillions > 0 {
		active = r.ActiveParamsBillions
	}
	flops := FLOPsPerParamToken * active * 1e9 * tokens
	floorWh := flops * b.joulesPerFLOP / FloorSafety / 3600
	if !(floorWh > 0) {
		return
	}
	if refuse && r.GPUEnergyWh < floorWh {
		c.bad("gpu_energy_wh", "%s Wh is below the physical floor of %s Wh for %s tokens of a %s B model on %d × %s at %s",
			sig(r.GPUEnergyWh, 4), sig(floorWh, 2), fmtCount(tokens), fmtFigure(active), int(gpus), b.name, precisionBits(b.precision))
	}
	if floorS := flops / (gpus * b.peakFLOPS) / FloorSafety; refuse && r.DurationSeconds > 0 && r.DurationSeconds < floorS {
		c.bad("duration_seconds", "%s s is below the physical floor of %s s for %s tokens of a %s B model on %d × %s at %s",
			sig(r.DurationSeconds, 4), sig(floorS, 2), fmtCount(tokens), fmtFigure(active), int(gpus), b.name, precisionBits(b.precision))
	}
	c.floorRatio = r.GPUEnergyWh / floorWh
}

// checkDates refuses a measurement date before EarliestMeasurement or more
// than FutureSlack after the registry's clock (when it has one).
func (c *checker) checkDates() {
	t := c.r.MeasuredAt
	switch {
	case t.IsZero():
	case t.Before(EarliestMeasurement):
		c.bad("measured_at", "%s is before %d: no such benchmark ran then", t.UTC().Format(time.RFC3339), EarliestMeasurement.Year())
	case !c.reg.Now.IsZero() && t.After(c.reg.Now.Add(FutureSlack)):
		c.bad("measured_at", "%s is in the future (the server's time is %s)", t.UTC().Format(time.RFC3339), c.reg.Now.UTC().Format(time.RFC3339))
	}
}

func fmtFigure(v float64) string { return sig(v, 4) }

// sig writes v with n significant digits and, between 1e-9 and 1e15,
// without an exponent: "0.45", "1200", "0.0005".
func sig(v float64, n int) string {
	s := strconv.FormatFloat(v, 'g', n, 64)
	if a := math.Abs(v); strings.Contains(s, "e") && a >= 1e-9 && a < 1e15 {
		r, _ := strconv.ParseFloat(s, 64)
		s = strconv.FormatFloat(r, 'f', -1, 64)
	}
	return s
}

// fmtCount writes a count with thousands separators.
func fmtCount(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func precisionName(p string) string {
	if p == "" {
		return "an undeclared precision (4-bit assumed)"
	}
	return Quote(p)
}

func precisionBits(p string) string {
	switch p {
	case "fp8", "int8":
		return "8-bit"
	case "fp4", "int4":
		return "4-bit"
	}
	return p
}

// PhysicsNote says why a rating of a token-unit task has no floor ratio,
// or "" when it has one or its task is not graded per token.
func PhysicsNote(m Measure) string {
	t, ok := LookupTask(m.Cohort.Task)
	if !ok || !t.TokenUnit() || m.FloorRatio > 0 {
		return ""
	}
	return "physics not checked: the result states no parameter count or output tokens, or its hardware has no published peak throughput and memory"
}
