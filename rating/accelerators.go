package rating

import (
	"fmt"
	"github.com/energylabel/energylabel/errdefs"
	"slices"
	"strconv"
	"strings"
)

// Accelerator is one variant of an accelerator: what its cohort is, how
// much power it may draw, and the names measuring tools report for it.
type Accelerator struct {
	// Name is the canonical variant, e.g. "H100 SXM".
	Name string
	// Family names the variant's cohort, e.g. "H100": variants of a family
	// are graded together, as AIES grades every H100 together.
	Family string
	// BoardWatts is the maximum board power (TDP) from the vendor's datasheet.
	BoardWatts float64
	// FloorFraction is the share of BoardWatts below which an average is not
	// a real run of the workload on this accelerator; 0 means DefaultFloorFraction.
	FloorFraction float64
	// Aliases are the other names tools report: NVML and nvidia-smi product
	// names, leaderboard short names.
	Aliases []string
	// Source says where BoardWatts and the figures below come from.
	Source string
	// PeakTFLOPS16 and PeakTFLOPSFastest are the datasheet's peak dense
	// (not sparse) tensor throughput at 16-bit and at FastestPrecision, the
	// lowest precision its datasheet gives: 8-bit (FP8, or INT8 before
	// Hopper and Ada), FP4 on Blackwell; 0 when unpublished.
	PeakTFLOPS16      float64
	PeakTFLOPSFastest float64
	FastestPrecision  string
	// MemoryGB is the accelerator's memory; 0 when unpublished.
	MemoryGB float64
}

// The power limits of the physical plausibility check.
const (
	// PowerLimitFactor is how far above its board power an accelerator's
	// measured average may go before a result is implausible.
	PowerLimitFactor = 1.1
	// DefaultFloorFraction is the floor of datacenter GPUs: 5 % of board
	// power. An idle H100 SXM draws 69.7 W, 10 % of its 700 W (measured
	// with NVML for this project), so a run that averages below 5 % did
	// not run the workload on the GPU.
	DefaultFloorFraction = 0.05
	// DesktopFloorFraction is the floor of workstation and desktop GPUs,
	// which idle lower in proportion: 2 %.
	DesktopFloorFraction = 0.02
	// SoCFloorFraction is the floor of systems on a chip, whose board power
	// is the whole machine's and whose GPU idles near zero: 1 %.
	SoCFloorFraction = 0.01
)

// Floor is the lowest plausible average power, in watts.
func (a Accelerator) Floor() float64 {
	f := a.FloorFraction
	if f == 0 {
		f = DefaultFloorFraction
	}
	return f * a.BoardWatts
}

// builtinVariants are the variants every server starts with. The first
// variant of a family is the one a bare family name (e.g. "H100") means: the
// variant with the highest board power, so the power check never refuses a
// real run of any variant.
var builtinVariants = []Accelerator{
	{Name: "H100 SXM", Family: "H100", BoardWatts: 700,
		Aliases:      []string{"H100", "NVIDIA H100 80GB HBM3", "H100 SXM5", "H100 SXM5 80GB"},
		Source:       "NVIDIA H100 Tensor Core GPU datasheet: SXM max TDP up to 700 W; H100 datasheet, SXM: 989 TFLOPS BF16 and 1,979 FP8 dense (half the sparse figures), 80 GB",
		PeakTFLOPS16: 989, PeakTFLOPSFastest: 1979, FastestPrecision: "fp8", MemoryGB: 80},
	{Name: "H100 PCIe", Family: "H100", BoardWatts: 350,
		Aliases:      []string{"NVIDIA H100 PCIe", "H100 PCIe 80GB"},
		Source:       "NVIDIA H100 Tensor Core GPU datasheet: PCIe max TDP 300-350 W; H100 datasheet, PCIe: 756 TFLOPS BF16 and 1,513 FP8 dense, 80 GB",
		PeakTFLOPS16: 756, PeakTFLOPSFastest: 1513, FastestPrecision: "fp8", MemoryGB: 80},
	{Name: "H100 NVL", Family: "H100", BoardWatts: 400,
		Aliases:      []string{"NVIDIA H100 NVL", "H100 NVL 94GB"},
		Source:       "NVIDIA H100 Tensor Core GPU datasheet: H100 NVL max TDP 350-400 W; H100 datasheet, NVL: 835 TFLOPS BF16 and 1,671 FP8 dense, 94 GB",
		PeakTFLOPS16: 835, PeakTFLOPSFastest: 1671, FastestPrecision: "fp8", MemoryGB: 94},
	{Name: "H200 SXM", Family: "H200", BoardWatts: 700,
		Aliases:      []string{"H200", "NVIDIA H200", "H200 141GB HBM3e"},
		Source:       "NVIDIA H200 Tensor Core GPU datasheet: SXM max TDP up to 700 W; NVML reports a 700 W limit on this project's H200; H200 datasheet, SXM: 989 TFLOPS BF16 and 1,979 FP8 dense, 141 GB",
		PeakTFLOPS16: 989, PeakTFLOPSFastest: 1979, FastestPrecision: "fp8", MemoryGB: 141},
	{Name: "H200 NVL", Family: "H200", BoardWatts: 600,
		Aliases:      []string{"NVIDIA H200 NVL"},
		Source:       "NVIDIA H200 Tensor Core GPU datasheet: H200 NVL max TDP up to 600 W; H200 datasheet, NVL: 835 TFLOPS BF16 and 1,671 FP8 dense, 141 GB",
		PeakTFLOPS16: 835, PeakTFLOPSFastest: 1671, FastestPrecision: "fp8", MemoryGB: 141},
	{Name: "B200", Family: "B200", BoardWatts: 1000,
		Aliases:      []string{"NVIDIA B200", "B200 SXM", "B200 180GB HBM3e"},
		Source:       "NVIDIA HGX B200 datasheet: up to 1,000 W per GPU; HGX B200 datasheet, per GPU: 2.25 PFLOPS BF16 and 9 PFLOPS FP4 dense, 180 GB",
		PeakTFLOPS16: 2250, PeakTFLOPSFastest: 9000, FastestPrecision: "fp4", MemoryGB: 180},
	{Name: "A100 SXM 80GB", Family: "A100", BoardWatts: 400,
		Aliases:      []string{"A100", "NVIDIA A100-SXM4-80GB", "A100 SXM", "A100 SXM4"},
		Source:       "NVIDIA A100 Tensor Core GPU datasheet: SXM max TDP 400 W; A100 datasheet: 312 TFLOPS BF16 and 624 TOPS INT8 dense, 80 GB",
		PeakTFLOPS16: 312, PeakTFLOPSFastest: 624, FastestPrecision: "int8", MemoryGB: 80},
	{Name: "A100 SXM 40GB", Family: "A100", BoardWatts: 400,
		Aliases:      []string{"NVIDIA A100-SXM4-40GB"},
		Source:       "NVIDIA A100 Tensor Core GPU datasheet: SXM max TDP 400 W; A100 datasheet: 312 TFLOPS BF16 and 624 TOPS INT8 dense, 40 GB",
		PeakTFLOPS16: 312, PeakTFLOPSFastest: 624, FastestPrecision: "int8", MemoryGB: 40},
	{Name: "A100 PCIe 80GB", Family: "A100", BoardWatts: 300,
		Aliases:      []string{"NVIDIA A100 80GB PCIe", "NVIDIA A100-PCIE-80GB", "A100 PCIe"},
		Source:       "NVIDIA A100 Tensor Core GPU datasheet: PCIe 80GB max TDP 300 W; A100 datasheet: 312 TFLOPS BF16 and 624 TOPS INT8 dense, 80 GB",
		PeakTFLOPS16: 312, PeakTFLOPSFastest: 624, FastestPrecision: "int8", MemoryGB: 80},
	{Name: "A100 PCIe 40GB", Family: "A100", BoardWatts: 250,
		Aliases:      []string{"NVIDIA A100-PCIE-40GB"},
		Source:       "NVIDIA A100 Tensor Core GPU datasheet: PCIe 40GB max TDP 250 W; A100 datasheet: 312 TFLOPS BF16 and 624 TOPS INT8 dense, 40 GB",
		PeakTFLOPS16: 312, PeakTFLOPSFastest: 624, FastestPrecision: "int8", MemoryGB: 40},
	{Name: "L40S", Family: "L40S", BoardWatts: 350,
		Aliases:      []string{"NVIDIA L40S"},
		Source:       "NVIDIA L40S datasheet: max power consumption 350 W; L40S datasheet: 362 TFLOPS BF16 and 733 FP8 dense, 48 GB",
		PeakTFLOPS16: 362, PeakTFLOPSFastest: 733, FastestPrecision: "fp8", MemoryGB: 48},
	{Name: "L4", Family: "L4", BoardWatts: 72,
		Aliases:      []string{"NVIDIA L4"},
		Source:       "NVIDIA L4 Tensor Core GPU datasheet: max thermal design power 72 W; L4 datasheet: 121 TFLOPS BF16 and 242.5 FP8 dense, 24 GB",
		PeakTFLOPS16: 121, PeakTFLOPSFastest: 242.5, FastestPrecision: "fp8", MemoryGB: 24},
	{Name: "A10G", Family: "A10G", BoardWatts: 300,
		Aliases: []string{"NVIDIA A10G"},
		Source:  "no public datasheet: 300 W is the power limit NVML reports on AWS G5 instances"},
	{Name: "T4", Family: "T4", BoardWatts: 70,
		Aliases:      []string{"Tesla T4", "NVIDIA T4", "NVIDIA Tesla T4"},
		Source:       "NVIDIA T4 datasheet: max power 70 W; T4 datasheet: 65 TFLOPS FP16 and 130 TOPS INT8, 16 GB",
		PeakTFLOPS16: 65, PeakTFLOPSFastest: 130, FastestPrecision: "int8", MemoryGB: 16},
	{Name: "RTX 4090", Family: "RTX 4090", BoardWatts: 450, FloorFraction: DesktopFloorFraction,
		Aliases:      []string{"NVIDIA GeForce RTX 4090", "GeForce RTX 4090"},
		Source:       "NVIDIA GeForce RTX 4090 specifications: total graphics power 450 W; NVIDIA Ada Lovelace GPU architecture whitepaper, RTX 4090: 330.3 TFLOPS FP16 and 660.6 FP8 dense (FP16 accumulate), 24 GB",
		PeakTFLOPS16: 330.3, PeakTFLOPSFastest: 660.6, FastestPrecision: "fp8", MemoryGB: 24},
	{Name: "MI300X", Family: "MI300X", BoardWatts: 750,
		Aliases:      []string{"AMD Instinct MI300X", "Instinct MI300X", "AMD Instinct MI300X OAM"},
		Source:       "AMD Instinct MI300X datasheet: peak total board power 750 W; AMD Instinct MI300X datasheet: 1,307 TFLOPS FP16 and 2,615 FP8 dense, 192 GB",
		PeakTFLOPS16: 1307, PeakTFLOPSFastest: 2615, FastestPrecision: "fp8", MemoryGB: 192},
	// Apple publishes no GPU power. The ceiling is the whole machine's
	// maximum continuous power from Apple's published Mac power figures, or
	// the power adapter of the laptop the chip ships in, whichever is larger.
	apple("M1", 39, "Mac mini (M1, 2020): maximum continuous power 39 W"),
	apple("M1 Pro", 96, "MacBook Pro 14-inch (2021): 96 W USB-C power adapter"),
	apple("M1 Max", 140, "MacBook Pro 16-inch (2021): 140 W USB-C power adapter"),
	apple("M1 Ultra", 215, "Mac Studio (2022): maximum continuous power 215 W with M1 Ultra"),
	apple("M2", 50, "Mac mini (M2, 2023): maximum continuous power 50 W"),
	apple("M2 Pro", 140, "MacBook Pro 16-inch (2023): 140 W USB-C power adapter"),
	apple("M2 Max", 145, "Mac Studio (2023): maximum continuous power 145 W with M2 Max"),
	apple("M2 Ultra", 295, "Mac Studio (2023): maximum continuous power 295 W with M2 Ultra"),
	apple("M3", 70, "MacBook Pro 14-inch (M3, 2023): 70 W USB-C power adapter"),
	apple("M3 Pro", 140, "MacBook Pro 16-inch (2023): 140 W USB-C power adapter"),
	apple("M3 Max", 140, "MacBook Pro 16-inch (2023): 140 W USB-C power adapter"),
	apple("M4", 65, "Mac mini (M4, 2024): maximum continuous power 65 W"),
	apple("M4 Pro", 140, "Mac mini (M4 Pro, 2024): maximum continuous power 140 W"),
	apple("M4 Max", 140, "MacBook Pro 16-inch (2024): 140 W USB-C power adapter"),
}

func apple(chip string, watts float64, source string) Accelerator {
	name := "Apple " + chip
	return Accelerator{Name: name, Family: name, BoardWatts: watts, FloorFraction: SoCFloorFraction, Source: source}
}

// vendors are the leading names matching ignores.
var vendors = []string{"NVIDIA", "AMD", "APPLE"}

// MaxAcceleratorName bounds an accelerator name, as every name in a cohort.
const MaxAcceleratorName = maxNameLen

// Accelerators is a registry of accelerator variants, resolved by any of
// their names. It is immutable: With returns a new registry.
type Accelerators struct {
	variants []Accelerator
	// byKey maps every name's matching key to its variant's index.
	byKey map[string]int
}

// NewAccelerators builds a registry, refusing two variants that claim the
// same name.
func NewAccelerators(variants []Accelerator) (*Accelerators, error) {
	a := &Accelerators{byKey: map[string]int{}}
	for _, v := range variants {
		if err := a.add(v); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// BuiltinAccelerators is the registry the service starts with.
func BuiltinAccelerators() *Accelerators { return builtinAccelerators }

var builtinAccelerators = func() *Accelerators {
	a, err := NewAccelerators(builtinVariants)
	if err != nil {
		panic(err) // the table is fixed at build time, and tested
	}
	return a
}()

// With returns a registry that also holds v. It refuses a variant whose
// name or alias is already taken, or whose fields are not sensible.
func (a *Accelerators) With(v Accelerator) (*Accelerators, error) {
	out := &Accelerators{variants: slices.Clone(a.variants), byKey: make(map[string]int, len(a.byKey)+4)}
	for k, i := range a.byKey {
		out.byKey[k] = i
	}
	if err := out.add(v); err != nil {
		return nil, err
	}
	return out, nil
}

func (a *Accelerators) add(v Accelerator) error {
	if err := v.validate(); err != nil {
		return err
	}
	// Aliases may name the family; the family itself becomes an alias of
	// the family's first variant.
	names := append([]string{v.Name}, v.Aliases...)
	if !slices.ContainsFunc(a.variants, func(o Accelerator) bool { return o.Family == v.Family }) {
		names = append(names, v.Family)
	}
	keys := make([]string, 0, len(names))
	for _, n := range names {
		k := matchKey(n)
		if i, taken := a.byKey[k]; taken {
			return Invalid("name", "%q is already a name of %s", n, a.variants[i].Name)
		}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	i := len(a.variants)
	a.variants = append(a.variants, v)
	for _, k := range keys {
		a.byKey[k] = i
	}
	return nil
}

func (v Accelerator) validate() error {
	var vs []Violation
	for _, f := range append([]struct{ field, value string }{{"name", v.Name}, {"family", v.Family}}, aliasFields(v.Aliases)...) {
		if d := acceleratorNameProblem(f.value); d != "" {
			vs = append(vs, Violation{f.field, d})
		} else if matchKey(f.value) == "" {
			vs = append(vs, Violation{f.field, fmt.Sprintf("%s is only a vendor name", quote(f.value))})
		}
	}
	if !(v.BoardWatts > 0 && v.BoardWatts <= MaxBoardWatts) {
		vs = append(vs, Violation{"watts", fmt.Sprintf("board power must be in (0, %d] W, got %v", MaxBoardWatts, v.BoardWatts)})
	}
	if !(v.FloorFraction >= 0 && v.FloorFraction < 1) {
		vs = append(vs, Violation{"floor", fmt.Sprintf("must be a fraction in [0, 1), got %v", v.FloorFraction)})
	}
	for _, f := range []struct {
		field    string
		v, limit float64
	}{{"peak_tflops_16bit", v.PeakTFLOPS16, MaxPeakTFLOPS}, {"peak_tflops", v.PeakTFLOPSFastest, MaxPeakTFLOPS}, {"memory_gb", v.MemoryGB, MaxMemoryGB}} {
		if !(f.v >= 0 && f.v <= f.limit) {
			vs = append(vs, Violation{f.field, fmt.Sprintf("must be in [0, %v] (0: unpublished), got %v", f.limit, f.v)})
		}
	}
	if v.PeakTFLOPS16 > 0 && v.PeakTFLOPSFastest > 0 && v.PeakTFLOPSFastest < v.PeakTFLOPS16 {
		vs = append(vs, Violation{"peak_tflops", fmt.Sprintf("the fastest precision's peak %v is below the 16-bit peak %v", v.PeakTFLOPSFastest, v.PeakTFLOPS16)})
	}
	if len(v.FastestPrecision) > MaxFastestPrecision || !errdefs.PrintableASCII(v.FastestPrecision) {
		vs = append(vs, Violation{"fastest_precision", fmt.Sprintf("printable ASCII of at most %d bytes", MaxFastestPrecision)})
	}
	if len(v.Aliases) > MaxAliases {
		vs = append(vs, Violation{"aliases", fmt.Sprintf("at most %d, got %d", MaxAliases, len(v.Aliases))})
	}
	if len(v.Source) > MaxSourceLen || !errdefs.PrintableASCII(v.Source) {
		vs = append(vs, Violation{"source", fmt.Sprintf("printable ASCII of at most %d bytes", MaxSourceLen)})
	}
	if len(vs) > 0 {
		return &InvalidError{Subject: "accelerator", Violations: vs}
	}
	return nil
}

// Limits of an accelerator registered at run time.
const (
	MaxBoardWatts = 10000
	MaxAliases    = 16
	MaxSourceLen  = 256
)

func aliasFields(aliases []string) []struct{ field, value string } {
	out := make([]struct{ field, value string }, len(aliases))
	for i, a := range aliases {
		out[i].field, out[i].value = fmt.Sprintf("aliases[%d]", i), a
	}
	return out
}

// All returns the variants in registry order.
func (a *Accelerators) All() []Accelerator { return slices.Clone(a.variants) }

// Resolve finds the variant a reported name means, and the count the name
// states, as CodeCarbon writes "2 x NVIDIA H100 80GB HBM3" (0 when it
// states none). Matching ignores case, spaces, dashes, underscores and a
// leading vendor name. A name that is not printable ASCII, or that no
// variant has, is refused; the error names the closest known names.
func (a *Accelerators) Resolve(name string) (Accelerator, int, error) {
	if d := acceleratorNameProblem(name); d != "" {
		return Accelerator{}, 0, Invalid("hardware.accelerator", "%s", d)
	}
	if v, count, ok := a.lookup(name); ok {
		return v, count, nil
	}
	_, rest := splitCount(name)
	return Accelerator{}, 0, Invalid("hardware.accelerator", "unknown accelerator %s; closest known: %s (see `energylabel hardware`)",
		quote(name), strings.Join(a.closest(rest, 3), ", "))
}

// lookup is Resolve without the closest names, which cost an edit distance
// per known name: only an error message a person reads needs them.
func (a *Accelerators) lookup(name string) (Accelerator, int, bool) {
	if acceleratorNameProblem(name) != "" {
		return Accelerator{}, 0, false
	}
	count, rest := splitCount(name)
	if i, ok := a.byKey[matchKey(rest)]; ok {
		return a.variants[i], count, true
	}
	return Accelerator{}, 0, false
}

// Family is the cohort name of a reported accelerator name, or "" when the
// registry does not know it. It looks for no closest names: badges and
// filters that ask it answer "not rated" rather than a suggestion.
func (a *Accelerators) Family(name string) string {
	if v, _, ok := a.lookup(name); ok {
		return v.Family
	}
	return ""
}

func acceleratorNameProblem(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return `required, e.g. "H100"`
	case len(name) > MaxAcceleratorName:
		return fmt.Sprintf("at most %d bytes, got %d", MaxAcceleratorName, len(name))
	case !errdefs.PrintableASCII(name):
		return fmt.Sprintf("%s: only printable ASCII is accepted (look-alike letters, invisible and full-width characters are refused)", quote(name))
	}
	return ""
}

// splitCount splits CodeCarbon's "N x NAME" into N and NAME.
func splitCount(name string) (int, string) {
	s := strings.TrimSpace(name)
	digits := 0
	for digits < len(s) && digits < 5 && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits == 0 {
		return 0, name
	}
	rest := strings.TrimLeft(s[digits:], " ")
	if len(rest) < 2 || (rest[0] != 'x' && rest[0] != 'X') || rest[1] != ' ' {
		return 0, name
	}
	n, _ := strconv.Atoi(s[:digits])
	return n, rest[2:]
}

// matchKey spells a name the way matching compares it.
func matchKey(name string) string {
	s := strings.ToUpper(strings.TrimSpace(name))
	for _, v := range vendors {
		if t, ok := strings.CutPrefix(s, v); ok && (t == "" || t[0] == ' ' || t[0] == '-' || t[0] == '_') {
			s = t
			break
		}
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, s)
}

// closest returns up to n canonical names whose names are nearest to name
// by edit distance on their matching keys.
func (a *Accelerators) closest(name string, n int) []string {
	key := matchKey(name)
	dist := make([]int, len(a.variants))
	for i := range dist {
		dist[i] = 1 << 30
	}
	for k, i := range a.byKey {
		dist[i] = min(dist[i], EditDistance(key, k))
	}
	order := make([]int, len(a.variants))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return dist[x] - dist[y] })
	out := make([]string, 0, n)
	for _, i := range order[:min(n, len(order))] {
		out = append(out, a.variants[i].Name)
	}
	return out
}

// EditDistance is the Levenshtein distance of two short strings, in bytes:
// did-you-mean suggestions compare ASCII names with it.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
