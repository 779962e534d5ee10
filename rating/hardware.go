package rating

import "strings"

// Accelerator is a known accelerator and its maximum board power.
type Accelerator struct {
	// Name is the variant, e.g. "H100 SXM".
	Name string
	// Family is the accelerator model that names its cohort, e.g. "H100".
	Family   string
	MaxWatts float64
}

// accelerators is the power table of the physical plausibility check. The
// first entry of a family is the one assumed when a result names only the
// family; it is the variant with the highest board power, so that the check
// never refuses a real run.
var accelerators = []Accelerator{
	{"H100 SXM", "H100", 700},
	{"H100 PCIe", "H100", 350},
	{"H200", "H200", 700},
	{"B200", "B200", 1000},
	{"A100 SXM", "A100", 400},
	{"A100 PCIe", "A100", 300},
	{"L40S", "L40S", 350},
	{"L4", "L4", 72},
	{"RTX 4090", "RTX 4090", 450},
}

// PowerLimitFactor is how far above its board power an accelerator's
// measured average may go before a result is implausible.
const PowerLimitFactor = 1.1

// LookupAccelerator finds an accelerator by variant or family name,
// ignoring case, spacing, dashes and a leading "NVIDIA".
func LookupAccelerator(name string) (Accelerator, bool) {
	key := acceleratorKey(name)
	for i, k := range acceleratorKeys {
		if k.name == key {
			return accelerators[i], true
		}
	}
	for i, k := range acceleratorKeys {
		if k.family == key {
			return accelerators[i], true
		}
	}
	return Accelerator{}, false
}

// acceleratorKeys are the table's names as acceleratorKey spells them,
// computed once: every submission and every index rebuild looks one up.
var acceleratorKeys = func() []struct{ name, family string } {
	keys := make([]struct{ name, family string }, len(accelerators))
	for i, a := range accelerators {
		keys[i].name, keys[i].family = acceleratorKey(a.Name), acceleratorKey(a.Family)
	}
	return keys
}()

// HardwareCohort is the cohort name of an accelerator: its family when
// known, otherwise the reported name with its spacing tidied.
func HardwareCohort(name string) string {
	if a, ok := LookupAccelerator(name); ok {
		return a.Family
	}
	return strings.Join(strings.Fields(name), " ")
}

func acceleratorKey(name string) string {
	s := strings.ToUpper(name)
	s = strings.TrimPrefix(strings.TrimSpace(s), "NVIDIA")
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, s)
}
