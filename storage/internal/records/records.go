// Package records converts between the stored types and the
// energylabel.store.v1 messages every backend stores, so that a record
// reads the same from bbolt and from etcd, and moves between them
// unchanged.
package records

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/energylabel/energylabel/internal/pbtime"
	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Result is the stored record of an accepted result.
func Result(a *storage.Accepted) *storev1.Result {
	r, c := a.Result, a.Measure.Cohort
	return &storev1.Result{
		Model: r.Model, Task: r.Task, Dataset: r.Dataset,
		Accelerator: r.Accelerator, GpuCount: int32(r.GPUCount),
		Queries: r.Queries, FailedQueries: r.FailedQueries,
		GpuEnergyWh: r.GPUEnergyWh, DurationSeconds: r.DurationSeconds,
		RunEnergiesWh: r.RunEnergiesWh,
		OutputTokens:  r.Output.Tokens, OutputImages: r.Output.Images,
		ImageWidth: int32(r.Output.ImageWidth), ImageHeight: int32(r.Output.ImageHeight),
		VideoFrames: r.Output.VideoFrames, VideoWidth: int32(r.Output.VideoWidth), VideoHeight: int32(r.Output.VideoHeight),
		AudioSeconds:       r.Output.AudioSeconds,
		ParametersBillions: r.ParamsBillions, SizeClass: r.SizeClass, Precision: r.Precision,
		BatchSize: int32(r.BatchSize), ToolName: r.ToolName, ToolVersion: r.ToolVersion,
		MeasuredAt:                pbtime.Timestamp(r.MeasuredAt),
		ThroughputTokensPerSecond: r.ThroughputTokensPerSecond,
		ActiveParametersBillions:  r.ActiveParamsBillions,
		Audit:                     audit(&a.Audit),
		Measure: &storev1.Measure{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware,
			Basis: c.Basis.String(), WhPer_1KQueries: a.Measure.WhPer1kQueries, EnergyPerUnit: a.Measure.EnergyPerUnit,
			Checks: uint32(a.Measure.Checks), FloorRatio: a.Measure.FloorRatio},
		Source:           sourceRecord(a.Source),
		CarriedReference: referenceRecord(a.Carried),
		Label: &storev1.Label{Grade: a.Label.Grade, Eei: a.Label.EEI, Scheme: a.Label.Scheme,
			Stars: int32(a.Label.Stars), Release: a.Label.Release},
	}
}

func audit(a *storage.Audit) *storev1.Audit {
	return &storev1.Audit{TokenId: a.TokenID, ReceivedAt: pbtime.Timestamp(a.ReceivedAt),
		ClientAddr: a.ClientAddr, PayloadSha256: a.PayloadSHA256, Fingerprint: a.Fingerprint}
}

func auditOf(a *storev1.Audit) storage.Audit {
	return storage.Audit{TokenID: a.GetTokenId(), ReceivedAt: pbtime.Time(a.GetReceivedAt()), ClientAddr: a.GetClientAddr(),
		PayloadSHA256: a.GetPayloadSha256(), Fingerprint: a.GetFingerprint()}
}

// adminTokenID is the token id the admin token's results are stored
// with: results stored before the source was kept read as published
// when the admin submitted them.
const adminTokenID = "admin"

func sourceRecord(s rating.Source) storev1.Source {
	switch s {
	case rating.Published:
		return storev1.Source_SOURCE_PUBLISHED
	case rating.Publisher:
		return storev1.Source_SOURCE_DECLARED
	}
	return storev1.Source_SOURCE_UNSPECIFIED
}

func sourceOf(s storev1.Source, tokenID string) rating.Source {
	switch {
	case s == storev1.Source_SOURCE_PUBLISHED:
		return rating.Published
	case s == storev1.Source_SOURCE_UNSPECIFIED && tokenID == adminTokenID:
		return rating.Published
	}
	return rating.Publisher
}

// SourceRecord is the source a result record vouches for, as a Latest
// record spells it: one stored before the source was kept reads as
// published when the admin token submitted it, else as declared.
func SourceRecord(p *storev1.Result) storev1.Source {
	return sourceRecord(sourceOf(p.Source, p.GetAudit().GetTokenId()))
}

func referenceRecord(r storage.Reference) *storev1.Reference {
	if r.ResultID == 0 {
		return nil
	}
	return &storev1.Reference{ResultId: r.ResultID, EnergyPerUnit: r.X, WhPer_1KQueries: r.WhPer1k}
}

func referenceOf(p *storev1.Reference) storage.Reference {
	return storage.Reference{ResultID: p.GetResultId(), X: p.GetEnergyPerUnit(), WhPer1k: p.GetWhPer_1KQueries()}
}

// ResultOf is the result and audit trail a record holds.
func ResultOf(p *storev1.Result) (*rating.Result, storage.Audit) {
	r := &rating.Result{
		Model: p.Model, Task: p.Task, Dataset: p.Dataset,
		Accelerator: p.Accelerator, GPUCount: int(p.GpuCount),
		Queries: p.Queries, FailedQueries: p.FailedQueries,
		GPUEnergyWh: p.GpuEnergyWh, DurationSeconds: p.DurationSeconds,
		RunEnergiesWh: p.RunEnergiesWh,
		Output: rating.Output{
			Tokens: p.OutputTokens, Images: p.OutputImages,
			ImageWidth: int(p.ImageWidth), ImageHeight: int(p.ImageHeight),
			VideoFrames: p.VideoFrames, VideoWidth: int(p.VideoWidth), VideoHeight: int(p.VideoHeight),
			AudioSeconds: p.AudioSeconds,
		},
		ParamsBillions: p.ParametersBillions, SizeClass: p.SizeClass, Precision: p.Precision,
		BatchSize: int(p.BatchSize), ToolName: p.ToolName, ToolVersion: p.ToolVersion,
		MeasuredAt:                pbtime.Time(p.MeasuredAt),
		ThroughputTokensPerSecond: p.ThroughputTokensPerSecond,
		ActiveParamsBillions:      p.ActiveParametersBillions,
	}
	return r, auditOf(p.GetAudit())
}

// HistoryEntry is a stored result as history shows it: with the measure
// and label it was accepted with. A result stored before both were kept is
// measured again, and its label is unknown.
func HistoryEntry(id uint64, rev int64, p *storev1.Result) storage.HistoryEntry {
	l := p.GetLabel()
	return storage.HistoryEntry{
		Current:  Current(id, p),
		Label:    storage.Label{Grade: l.GetGrade(), EEI: l.GetEei(), Scheme: l.GetScheme(), Stars: int(l.GetStars()), Release: l.GetRelease()},
		Revision: rev, StoredBytes: proto.Size(p),
	}
}

// Current is what the read model keeps of a stored result.
func Current(id uint64, p *storev1.Result) storage.Current {
	r, a := ResultOf(p)
	m := rating.MeasureOf(r)
	if pm := p.GetMeasure(); pm != nil {
		basis, _ := rating.ParseUnit(pm.Basis)
		m = rating.Measure{
			Cohort:         rating.Cohort{Task: pm.Task, Dataset: pm.Dataset, SizeClass: pm.SizeClass, Hardware: pm.Hardware, Basis: basis},
			WhPer1kQueries: pm.WhPer_1KQueries, EnergyPerUnit: pm.EnergyPerUnit, Checks: rating.Checks(pm.Checks),
			FloorRatio: pm.FloorRatio,
		}
	}
	return storage.CurrentOf(id, &storage.Accepted{Result: r, Measure: m, Audit: a,
		Source: sourceOf(p.Source, a.TokenID), Carried: referenceOf(p.CarriedReference)})
}

// Latest is the record of a model's current result in a cohort.
func Latest(e *storage.Current) *storev1.Latest {
	c := e.Measure.Cohort
	return &storev1.Latest{
		ResultId: e.ID, Model: e.Model,
		Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware, Basis: c.Basis.String(),
		WhPer_1KQueries: e.Measure.WhPer1kQueries, EnergyPerUnit: e.Measure.EnergyPerUnit,
		PowerChecked: e.Measure.PowerChecked(), Checks: uint32(e.Measure.Checks),
		GpuCount: int32(e.GPUCount), ParametersBillions: e.ParamsBillions,
		MeasuredAt: pbtime.Timestamp(e.MeasuredAt), ReceivedAt: pbtime.Timestamp(e.ReceivedAt),
		ToolName: e.ToolName, ToolVersion: e.ToolVersion,
		FloorRatio: e.Measure.FloorRatio, Source: sourceRecord(e.Source), CarriedReference: referenceRecord(e.Carried),
	}
}

// CurrentOfLatest reads a Latest record back.
func CurrentOfLatest(p *storev1.Latest) (storage.Current, error) {
	basis, ok := rating.ParseUnit(p.Basis)
	if !ok {
		return storage.Current{}, fmt.Errorf("result %d: unknown basis %q", p.ResultId, p.Basis)
	}
	checks := rating.Checks(p.Checks)
	if p.PowerChecked {
		checks |= rating.CheckPower
	}
	return storage.Current{
		ID: p.ResultId, Model: p.Model,
		Measure: rating.Measure{
			Cohort:         rating.Cohort{Task: p.Task, Dataset: p.Dataset, SizeClass: p.SizeClass, Hardware: p.Hardware, Basis: basis},
			WhPer1kQueries: p.WhPer_1KQueries, EnergyPerUnit: p.EnergyPerUnit, Checks: checks, FloorRatio: p.FloorRatio,
		},
		GPUCount: int(p.GpuCount), ParamsBillions: p.ParametersBillions,
		MeasuredAt: storage.CanonicalTime(pbtime.Time(p.MeasuredAt)), ReceivedAt: storage.CanonicalTime(pbtime.Time(p.ReceivedAt)),
		ToolName: p.ToolName, ToolVersion: p.ToolVersion,
		// A Latest record does not keep the token: one from before the
		// source was kept reads as published only if it says so.
		Source: sourceOf(p.Source, ""), Carried: referenceOf(p.CarriedReference),
	}, nil
}

// Token is the record of a token.
func Token(t *storage.Token) *storev1.Token {
	return &storev1.Token{
		Id: t.ID, SecretSha256: t.SecretSHA256, Namespaces: t.Namespaces, CreatedAt: pbtime.Timestamp(t.CreatedAt),
		ExpiresAt: pbtime.Timestamp(t.ExpiresAt), LastUsedAt: pbtime.Timestamp(t.LastUsedAt), Revoked: t.Revoked, Role: t.Role,
	}
}

// TokenOf reads a token record back.
func TokenOf(p *storev1.Token) storage.Token {
	return storage.Token{
		ID: p.Id, SecretSHA256: p.SecretSha256, Namespaces: p.Namespaces, CreatedAt: storage.CanonicalTime(pbtime.Time(p.CreatedAt)),
		ExpiresAt: canonicalOrZero(p.ExpiresAt), LastUsedAt: canonicalOrZero(p.LastUsedAt), Revoked: p.Revoked, Role: p.Role,
	}
}

// Accelerator is the record of a registered accelerator.
func Accelerator(a *rating.Accelerator) *storev1.Accelerator {
	return &storev1.Accelerator{Name: a.Name, Family: a.Family, BoardWatts: a.BoardWatts,
		FloorFraction: a.FloorFraction, Aliases: a.Aliases, Source: a.Source,
		PeakTflops_16Bit: a.PeakTFLOPS16, PeakTflopsFastest: a.PeakTFLOPSFastest, FastestPrecision: a.FastestPrecision, MemoryGb: a.MemoryGB}
}

// AcceleratorOf reads an accelerator record back.
func AcceleratorOf(p *storev1.Accelerator) rating.Accelerator {
	return rating.Accelerator{Name: p.Name, Family: p.Family, BoardWatts: p.BoardWatts,
		FloorFraction: p.FloorFraction, Aliases: p.Aliases, Source: p.Source,
		PeakTFLOPS16: p.PeakTflops_16Bit, PeakTFLOPSFastest: p.PeakTflopsFastest, FastestPrecision: p.FastestPrecision, MemoryGB: p.MemoryGb}
}

// Dataset is the record of a registered dataset.
func Dataset(d *rating.Dataset) *storev1.Dataset {
	return &storev1.Dataset{Name: d.Name, Task: d.Task, Basis: d.Basis.String()}
}

// DatasetOf reads a dataset record back.
func DatasetOf(p *storev1.Dataset) (rating.Dataset, error) {
	basis, ok := rating.ParseUnit(p.Basis)
	if !ok {
		return rating.Dataset{}, fmt.Errorf("dataset %q: unknown basis %q", p.Name, p.Basis)
	}
	return rating.Dataset{Name: p.Name, Task: p.Task, Basis: basis}, nil
}

// Release is the record of a release, cohorts in a stable order.
func Release(rel *rating.Release) *storev1.Release {
	p := &storev1.Release{Name: rel.Name, CreatedAt: pbtime.Timestamp(rel.CreatedAt)}
	for c, b := range rel.Cohorts {
		p.Cohorts = append(p.Cohorts, &storev1.CohortBounds{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass,
			Hardware: c.Hardware, Basis: c.Basis.String(), Lo: b.Lo, Hi: b.Hi, Models: int32(b.Models), References: b.References})
	}
	slices.SortFunc(p.Cohorts, func(a, b *storev1.CohortBounds) int { return compareCohorts(cohortOfBounds(a), cohortOfBounds(b)) })
	return p
}

// ReleaseOf reads a release record back.
func ReleaseOf(p *storev1.Release) *rating.Release {
	rel := &rating.Release{Name: p.Name, CreatedAt: storage.CanonicalTime(pbtime.Time(p.CreatedAt)), Cohorts: make(map[rating.Cohort]rating.Bounds, len(p.Cohorts))}
	for _, b := range p.Cohorts {
		rel.Cohorts[cohortOfBounds(b)] = rating.Bounds{Lo: b.Lo, Hi: b.Hi, Models: int(b.Models), References: b.References}
	}
	return rel
}

func cohortOfBounds(b *storev1.CohortBounds) rating.Cohort {
	basis, _ := rating.ParseUnit(b.Basis)
	return rating.Cohort{Task: b.Task, Dataset: b.Dataset, SizeClass: b.SizeClass, Hardware: b.Hardware, Basis: basis}
}

func compareCohorts(a, b rating.Cohort) int {
	return slices.Compare([]string{a.Task, a.Dataset, a.SizeClass, a.Hardware, a.Basis.String()},
		[]string{b.Task, b.Dataset, b.SizeClass, b.Hardware, b.Basis.String()})
}

func canonicalOrZero(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return storage.CanonicalTime(ts.AsTime())
}

// Verification is the record of a surveyor's measurement.
func Verification(v *storage.Verification) *storev1.Verification {
	c, s := v.Cohort, v.Survey
	p := &storev1.Verification{
		Model: v.Model, Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware, Basis: c.Basis.String(),
		ResultId: v.ResultID, TokenId: v.TokenID, At: pbtime.Timestamp(v.At),
		EnergyPerUnit: v.X, WhPer_1KQueries: v.WhPer1k,
		DeclaredEnergyPerUnit: v.Declared.X, DeclaredWhPer_1KQueries: v.Declared.WhPer1k,
		Status: s.Status.String(), Measurements: int32(s.Measurements),
		Followups: int32(s.FollowUps), FollowupEnergyPerUnitSum: s.SumX, FollowupWhPer_1KQueriesSum: s.SumWh,
		DeterminedEnergyPerUnit: s.DeterminedX, DeterminedWhPer_1KQueries: s.DeterminedWh,
	}
	if v.Measurement != nil {
		p.Measurement = Result(&storage.Accepted{Result: v.Measurement, Audit: v.Audit, Source: rating.Surveyor})
		p.Measurement.Measure, p.Measurement.Label = nil, nil
	}
	return p
}

// VerificationOf reads a verification record back.
func VerificationOf(p *storev1.Verification) (storage.Verification, error) {
	basis, ok := rating.ParseUnit(p.Basis)
	if !ok {
		return storage.Verification{}, fmt.Errorf("verification of %q: unknown basis %q", p.Model, p.Basis)
	}
	status, ok := rating.ParseStatus(p.Status)
	if !ok {
		return storage.Verification{}, fmt.Errorf("verification of %q: unknown status %q", p.Model, p.Status)
	}
	v := storage.Verification{
		Model:    p.Model,
		Cohort:   rating.Cohort{Task: p.Task, Dataset: p.Dataset, SizeClass: p.SizeClass, Hardware: p.Hardware, Basis: basis},
		ResultID: p.ResultId, TokenID: p.TokenId, At: storage.CanonicalTime(pbtime.Time(p.At)),
		X: p.EnergyPerUnit, WhPer1k: p.WhPer_1KQueries,
		Declared: storage.Reference{ResultID: p.ResultId, X: p.DeclaredEnergyPerUnit, WhPer1k: p.DeclaredWhPer_1KQueries},
		Survey: rating.Survey{Status: status, Measurements: int(p.Measurements),
			FollowUps: int(p.Followups), SumX: p.FollowupEnergyPerUnitSum, SumWh: p.FollowupWhPer_1KQueriesSum,
			DeterminedX: p.DeterminedEnergyPerUnit, DeterminedWh: p.DeterminedWhPer_1KQueries},
	}
	if m := p.GetMeasurement(); m != nil {
		v.Measurement, v.Audit = ResultOf(m)
		v.Audit.ReceivedAt = storage.CanonicalTime(v.Audit.ReceivedAt)
	}
	return v, nil
}
