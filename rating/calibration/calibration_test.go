package calibration

import (
	"encoding/csv"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats/aienergyscore"
)

// published reads the energy_score column, the conformance oracle, keyed by
// task id, class and model.
func published(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	names, _ := fs.Glob(AIES202502(), "*.csv")
	for _, name := range names {
		f, _ := AIES202502().Open(name)
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		task, _ := rating.LookupTask(strings.TrimSuffix(name, ".csv"))
		for _, rec := range recs[1:] {
			class := ""
			if len(rec) > 3 {
				class = rec[3]
			}
			stars, _ := strconv.Atoi(rec[2])
			out[task.ID+"|"+class+"|"+rec[0]] = stars
		}
	}
	return out
}

// TestAIES202502Conformance grades the bundled leaderboard as the service
// does and checks every published star and the documented A–G spread.
func TestAIES202502Conformance(t *testing.T) {
	results, err := aienergyscore.ParseDir(AIES202502())
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := Grade2025_1()
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		m     rating.Measure
		model string
	}
	latest := map[string]entry{}
	for i := range results {
		m, err := rating.Normalise(&results[i])
		if err != nil {
			t.Fatal(err)
		}
		latest[m.Cohort.Task+"|"+m.Cohort.SizeClass+"|"+results[i].Model] = entry{m, results[i].Model}
	}
	lo, hi := map[rating.Cohort]float64{}, map[rating.Cohort]float64{}
	for _, e := range latest {
		c := e.m.Cohort
		if v, ok := lo[c]; !ok || e.m.X() < v {
			lo[c] = e.m.X()
		}
		if v, ok := hi[c]; !ok || e.m.X() > v {
			hi[c] = e.m.X()
		}
	}
	want := published(t)
	spread := map[string]int{}
	for key, e := range latest {
		c := e.m.Cohort
		if got := rating.Stars(e.m.X(), lo[c], hi[c]); got != want[key] {
			t.Errorf("%s: %d stars, published %d", key, got, want[key])
		}
		spread[scheme.Grade(e.m).Grade.String()]++
	}
	if len(latest) != 164 {
		t.Errorf("%d unique ratings, want 164", len(latest))
	}
	wantSpread := map[string]int{"A": 2, "B": 2, "C": 8, "D": 25, "E": 48, "F": 44, "G": 35}
	for g, n := range wantSpread {
		if spread[g] != n {
			t.Errorf("grade %s: %d ratings, want %d (spread %v)", g, spread[g], n, spread)
		}
	}
}

// TestGrade2025_1References pins the query-basis references derived from
// AIES 2025-02, in Wh per 1,000 queries.
func TestGrade2025_1References(t *testing.T) {
	scheme, err := Grade2025_1()
	if err != nil {
		t.Fatal(err)
	}
	h100 := func(task, class string) rating.Cohort {
		tk, _ := rating.LookupTask(task)
		return rating.Cohort{Task: tk.ID, Dataset: tk.DefaultDataset, SizeClass: class, Hardware: "H100", Basis: rating.Query}
	}
	pins := map[rating.Cohort]float64{
		h100("asr", ""):                 16.545973,   // 13 models: the middle one
		h100("text-generation", "A"):    9.3925605,   // 32 models: mean of the middle two
		h100("text-generation", "C"):    1721.555861, // class C runs on several H100s
		h100("image_generation", ""):    353.8066045,
		h100("text-classification", ""): 0.801512,
	}
	for c, want := range pins {
		got, ok := scheme.References[c]
		if !ok || math.Abs(got-want) > 1e-9*want {
			t.Errorf("reference for %s/%s = %v, want %v", c.Task, c.SizeClass, got, want)
		}
	}
	query := 0
	for c := range scheme.References {
		if c.Basis == rating.Query {
			query++
		}
	}
	if query != 12 {
		t.Errorf("%d query-basis cohorts, want 12 (9 tasks + 3 text-generation classes)", query)
	}
	for c, ref := range scheme.References {
		if !(ref > 0) || math.IsInf(ref, 0) {
			t.Errorf("%+v: reference %v", c, ref)
		}
	}
}

// TestCommittedReferencesAreTheDerivedOnes derives grade/2025.1 from the
// bundled measurements again: a parser or normalisation change that would
// regrade everything fails here instead.
func TestCommittedReferencesAreTheDerivedOnes(t *testing.T) {
	committed, err := Grade2025_1()
	if err != nil {
		t.Fatal(err)
	}
	derived, err := Derive2025_1()
	if err != nil {
		t.Fatal(err)
	}
	if len(committed.References) != len(derived.References) {
		t.Errorf("%d committed references, %d derived", len(committed.References), len(derived.References))
	}
	for c, want := range derived.References {
		if got, ok := committed.References[c]; !ok || got != want {
			t.Errorf("%+v: committed %v, derived %v", c, got, want)
		}
	}
	// The file is what MarshalScheme writes, byte for byte.
	b, err := MarshalScheme(derived, Derivation2025_1)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := data.ReadFile("data/schemes/grade-2025.1.json")
	if string(b) != string(file) {
		t.Error("data/schemes/grade-2025.1.json is not what the derivation writes")
	}
}

func TestSchemeFilesAreChecked(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field":   `{"version":"v","references":[],"extra":1}`,
		"no version":      `{"references":[]}`,
		"negative x":      `{"version":"v","references":[{"task":"asr","dataset":"d","hardware":"H100","basis":"query","x":-1}]}`,
		"unknown basis":   `{"version":"v","references":[{"task":"asr","dataset":"d","hardware":"H100","basis":"furlong","x":1}]}`,
		"duplicate":       `{"version":"v","references":[{"task":"asr","dataset":"d","hardware":"H","basis":"query","x":1},{"task":"asr","dataset":"d","hardware":"H","basis":"query","x":2}]}`,
		"not JSON at all": `grade`,
	} {
		if _, err := ParseScheme([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
