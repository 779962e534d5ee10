package rating

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// FingerprintDigits is how many significant digits of each figure a
// fingerprint keeps: enough that two runs do not collide, few enough that
// the same run written out again (another float formatting, a tool's
// rounding) gives the same fingerprint.
const FingerprintDigits = 4

// fingerprintVersion starts the encoding, so that a change to it can
// never collide with fingerprints already stored.
const fingerprintVersion = "energylabel-measurement/1"

// Fingerprint identifies a measurement by the figures it states: the
// energy, the duration, every count and output size and each run's
// energy, to FingerprintDigits significant digits, and the accelerator
// and how many of them. It leaves out what names or describes the run
// (model, task, dataset, tool, parameters, precision, dates), so that the
// same run cannot be relabelled as another model by changing a name or
// a byte of the file it came in. The run energies count as a set: their
// order is not part of the measurement.
//
// r.Accelerator is taken as the name of the resolved variant; callers
// with a registry use Registry.Fingerprint, which resolves it first.
func Fingerprint(r *Result) string {
	var b strings.Builder
	b.WriteString(fingerprintVersion)
	put := func(name, value string) {
		b.WriteByte('\n')
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(value)
	}
	o := r.Output
	put("gpu_energy_wh", sigDigits(r.GPUEnergyWh))
	put("duration_seconds", sigDigits(r.DurationSeconds))
	put("queries", sigDigits(float64(r.Queries)))
	put("failed_queries", sigDigits(float64(r.FailedQueries)))
	put("output.tokens", sigDigits(float64(o.Tokens)))
	put("output.images", sigDigits(float64(o.Images)))
	put("output.image_width", sigDigits(float64(o.ImageWidth)))
	put("output.image_height", sigDigits(float64(o.ImageHeight)))
	put("output.video_frames", sigDigits(float64(o.VideoFrames)))
	put("output.video_width", sigDigits(float64(o.VideoWidth)))
	put("output.video_height", sigDigits(float64(o.VideoHeight)))
	put("output.audio_seconds", sigDigits(o.AudioSeconds))
	runs := make([]float64, len(r.RunEnergiesWh))
	for i, e := range r.RunEnergiesWh {
		runs[i], _ = strconv.ParseFloat(sigDigits(e), 64)
	}
	slices.Sort(runs)
	encoded := make([]string, len(runs))
	for i, e := range runs {
		encoded[i] = sigDigits(e)
	}
	put("run_energies_wh", strings.Join(encoded, ","))
	put("hardware.accelerator", strings.ToLower(strings.Join(strings.Fields(r.Accelerator), " ")))
	put("hardware.count", strconv.Itoa(r.GPUCount))
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// Fingerprint is the fingerprint of r on the accelerator variant its
// reported name resolves to, with the count a CodeCarbon-style name
// states where r has none. A name the registry does not know is taken
// as reported.
func (g Registry) Fingerprint(r *Result) string {
	f := *r
	if g.Accelerators != nil {
		if v, n, err := g.Accelerators.Resolve(r.Accelerator); err == nil {
			f.Accelerator = v.Name
			if f.GPUCount == 0 {
				f.GPUCount = n
			}
		}
	}
	return Fingerprint(&f)
}

// sigDigits writes x to FingerprintDigits significant digits; every zero
// is "0".
func sigDigits(x float64) string {
	if x == 0 {
		return "0"
	}
	return strconv.FormatFloat(x, 'g', FingerprintDigits, 64)
}
