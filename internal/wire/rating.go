package wire

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/energylabel/energylabel/index"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// ratingMessages are a Rating and its sub-messages, allocated together:
// every read encodes several per call, and one allocation is cheaper than
// a dozen.
type ratingMessages struct {
	rating             energylabelv1.Rating
	measured, received timestamppb.Timestamp
	tool               energylabelv1.Tool
	stars              int32
	grade              string
	eei, reference     float64
	classes            [7]energylabelv1.GradeClass
	classPtrs          [7]*energylabelv1.GradeClass
	upTo               [6]float64
	floorRatio         float64
	verification       energylabelv1.Verification
	declaredGrade      string
}

// gradeLetters are the grades as the API spells them.
var gradeLetters = [7]string{"A", "B", "C", "D", "E", "F", "G"}

// Rating encodes a rated entry: its stars under a release and its grade
// under a grade scheme, both of the figures it shows (the
// determined ones of a corrected result), its place among the release's
// references, what surveyors found, and what explains all of it.
func Rating(r *index.Rated, scheme *rating.GradeScheme, rel *rating.Release) *energylabelv1.Rating {
	c := r.Measure.Cohort
	shown := r.Shown()
	g := scheme.Grade(shown)
	st := rel.Stars(shown)
	m := &ratingMessages{rating: energylabelv1.Rating{
		Model: r.Model, Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware,
		Basis: c.Basis.String(), WhPer_1KQueries: shown.WhPer1kQueries, EnergyPerUnit: shown.EnergyPerUnit,
		Unit: c.Basis.Symbol(), Scheme: scheme.Version, GradeNote: g.Note, PowerChecked: r.Measure.PowerChecked(),
		ResultId: r.ID, GpuCount: int32(r.GPUCount), CohortSize: int32(r.CohortSize), Rank: int32(r.Rank), ReleaseCohortSize: int32(r.RankOf),
		ParametersBillions: r.ParamsBillions, Release: st.Release, StarsNote: st.Note,
		Checks: r.Measure.Checks.Names(), PhysicsNote: rating.PhysicsNote(shown), MeasuredWith: r.Measure.MeasuredWith(),
	}}
	p := &m.rating
	p.Verification = &m.verification
	if st.Stars > 0 {
		m.stars = int32(st.Stars)
		p.Stars = &m.stars
	}
	if shown.FloorRatio > 0 {
		m.floorRatio = shown.FloorRatio
		p.FloorRatio = &m.floorRatio
	}
	if g.Grade != 0 {
		m.grade, m.eei, m.reference = g.Grade.String(), g.EEI, g.Reference
		p.Grade, p.Eei, p.Reference = &m.grade, &m.eei, &m.reference
		m.upTo = rating.ClassBounds(g.Reference)
		above := 0.0
		for i := range m.classes {
			gc := &m.classes[i]
			gc.Grade, gc.Above = gradeLetters[i], above
			if i < len(m.upTo) {
				gc.UpTo = &m.upTo[i]
				above = m.upTo[i]
			}
			m.classPtrs[i] = gc
		}
		p.Classes = m.classPtrs[:]
	}
	verification(&m.verification, r, scheme, &m.declaredGrade)
	p.MeasuredAt = timestampIn(&m.measured, r.MeasuredAt)
	p.ReceivedAt = timestampIn(&m.received, r.ReceivedAt)
	if r.ToolName != "" || r.ToolVersion != "" {
		m.tool.Name, m.tool.Version = r.ToolName, r.ToolVersion
		p.Tool = &m.tool
	}
	return p
}

// verification fills v with who vouches for a rating and what
// surveyors found: the declared figures, and the determined ones while
// they differ from them.
func verification(v *energylabelv1.Verification, r *index.Rated, scheme *rating.GradeScheme, declaredGrade *string) {
	sv := r.Survey
	v.Status = sv.Status.String()
	v.DeclaredWhPer_1KQueries, v.DeclaredEnergyPerUnit = r.Measure.WhPer1kQueries, r.Measure.EnergyPerUnit
	v.Tolerance = scheme.Tolerance
	v.Measurements = int32(sv.Measurements)
	if sv.Measurements == 0 {
		return
	}
	if g := scheme.Grade(r.Measure); g.Grade != 0 {
		*declaredGrade = g.Grade.String()
		v.DeclaredGrade = declaredGrade
	}
	if sv.Status == rating.StatusUnderReview || sv.Status == rating.StatusCorrected {
		v.DeterminedWhPer_1KQueries, v.DeterminedEnergyPerUnit = &sv.DeterminedWh, &sv.DeterminedX
	}
	v.CheckedAt = timestamppb.New(r.CheckedAt)
}

// timestampIn is wire.Timestamp into a given message: nil for the zero time.
func timestampIn(ts *timestamppb.Timestamp, t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	ts.Seconds, ts.Nanos = t.Unix(), int32(t.Nanosecond())
	return ts
}
