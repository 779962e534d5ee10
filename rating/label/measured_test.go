package label

import (
	"slices"
	"testing"
)

// A declared result that energylabel measure measured says so where the
// status is said, on the label (and, through StatusText, on the page),
// within the label's width.
func TestAMeasuredResultSaysWhatMeasuredIt(t *testing.T) {
	r := surveyed(StatusDeclared)
	r.MeasuredWith = "energylabel measure, NVML"
	const want = "declared, measured with energylabel measure, NVML"
	if got := StatusText(r); got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if w := face(false).width(want, 10.5) + 14; w > inner {
		t.Errorf("the status is %.1f px wide, the label's inside %d", w, inner)
	}
	doc := parseSVG(t, mustLabel(t, r).SVG())
	if !slices.Contains(doc.texts, want) {
		t.Errorf("no text %q in %q", want, doc.texts)
	}
	// Only a declared result says it: a surveyor's word comes first.
	r.Verification.Status = StatusPublished
	if got := StatusText(r); got != "published leaderboard" {
		t.Errorf("published: %q", got)
	}
}
