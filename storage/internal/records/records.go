// Package records converts between the stored types and the
// energylabel.store.v1 messages every backend stores, so that a record
// reads the same from bbolt and from etcd, and moves between them
// unchanged.
package records

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

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
		MeasuredAt:                Timestamp(r.MeasuredAt),
		ThroughputTokensPerSecond: r.ThroughputTokensPerSecond,
		Audit: &storev1.Audit{
			TokenId: a.Audit.TokenID, ReceivedAt: Timestamp(a.Audit.ReceivedAt),
			ClientAddr: a.Audit.ClientAddr, PayloadSha256: a.Audit.PayloadSHA256,
		},
		Measure: &storev1.Measure{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware,
			Basis: c.Basis.String(), WhPer_1KQueries: a.Measure.WhPer1kQueries, EnergyPerUnit: a.Measure.EnergyPerUnit,
			Checks: uint32(a.Measure.Checks)},
		Label: &storev1.Label{Grade: a.Label.Grade, Eei: a.Label.EEI, Scheme: a.Label.Scheme,
			Stars: int32(a.Label.Stars), Release: a.Label.Release},
	}
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
		MeasuredAt:                TimeOf(p.MeasuredAt),
		ThroughputTokensPerSecond: p.ThroughputTokensPerSecond,
	}
	a := p.GetAudit()
	return r, storage.Audit{TokenID: a.GetTokenId(), ReceivedAt: TimeOf(a.GetReceivedAt()), ClientAddr: a.GetClientAddr(), PayloadSHA256: a.GetPayloadSha256()}
}

// HistoryEntry is a stored result as history shows it: with the measure
// and label it was accepted with. A result stored before both were kept is
// measured again, and its label is unknown.
func HistoryEntry(id uint64, rev int64, p *storev1.Result) storage.HistoryEntry {
	l := p.GetLabel()
	return storage.HistoryEntry{
		Current:  Current(id, p),
		Label:    storage.Label{Grade: l.GetGrade(), EEI: l.GetEei(), Scheme: l.GetScheme(), Stars: int(l.GetStars()), Release: l.GetRelease()},
		Revision: rev,
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
		}
	}
	return storage.CurrentOf(id, &storage.Accepted{Result: r, Measure: m, Audit: a})
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
		MeasuredAt: Timestamp(e.MeasuredAt), ReceivedAt: Timestamp(e.ReceivedAt),
		ToolName: e.ToolName, ToolVersion: e.ToolVersion,
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
			WhPer1kQueries: p.WhPer_1KQueries, EnergyPerUnit: p.EnergyPerUnit, Checks: checks,
		},
		GPUCount: int(p.GpuCount), ParamsBillions: p.ParametersBillions,
		MeasuredAt: storage.CanonicalTime(TimeOf(p.MeasuredAt)), ReceivedAt: storage.CanonicalTime(TimeOf(p.ReceivedAt)),
		ToolName: p.ToolName, ToolVersion: p.ToolVersion,
	}, nil
}

// Token is the record of a token.
func Token(t *storage.Token) *storev1.Token {
	return &storev1.Token{
		Id: t.ID, SecretSha256: t.SecretSHA256, Namespaces: t.Namespaces, CreatedAt: Timestamp(t.CreatedAt),
		ExpiresAt: Timestamp(t.ExpiresAt), LastUsedAt: Timestamp(t.LastUsedAt), Revoked: t.Revoked,
	}
}

// TokenOf reads a token record back.
func TokenOf(p *storev1.Token) storage.Token {
	return storage.Token{
		ID: p.Id, SecretSHA256: p.SecretSha256, Namespaces: p.Namespaces, CreatedAt: storage.CanonicalTime(TimeOf(p.CreatedAt)),
		ExpiresAt: canonicalOrZero(p.ExpiresAt), LastUsedAt: canonicalOrZero(p.LastUsedAt), Revoked: p.Revoked,
	}
}

// Accelerator is the record of a registered accelerator.
func Accelerator(a *rating.Accelerator) *storev1.Accelerator {
	return &storev1.Accelerator{Name: a.Name, Family: a.Family, BoardWatts: a.BoardWatts,
		FloorFraction: a.FloorFraction, Aliases: a.Aliases, Source: a.Source}
}

// AcceleratorOf reads an accelerator record back.
func AcceleratorOf(p *storev1.Accelerator) rating.Accelerator {
	return rating.Accelerator{Name: p.Name, Family: p.Family, BoardWatts: p.BoardWatts,
		FloorFraction: p.FloorFraction, Aliases: p.Aliases, Source: p.Source}
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
	p := &storev1.Release{Name: rel.Name, CreatedAt: Timestamp(rel.CreatedAt)}
	for c, b := range rel.Cohorts {
		p.Cohorts = append(p.Cohorts, &storev1.CohortBounds{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass,
			Hardware: c.Hardware, Basis: c.Basis.String(), Lo: b.Lo, Hi: b.Hi, Models: int32(b.Models)})
	}
	slices.SortFunc(p.Cohorts, func(a, b *storev1.CohortBounds) int { return compareCohorts(cohortOfBounds(a), cohortOfBounds(b)) })
	return p
}

// ReleaseOf reads a release record back.
func ReleaseOf(p *storev1.Release) *rating.Release {
	rel := &rating.Release{Name: p.Name, CreatedAt: storage.CanonicalTime(TimeOf(p.CreatedAt)), Cohorts: make(map[rating.Cohort]rating.Bounds, len(p.Cohorts))}
	for _, b := range p.Cohorts {
		rel.Cohorts[cohortOfBounds(b)] = rating.Bounds{Lo: b.Lo, Hi: b.Hi, Models: int(b.Models)}
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

// Timestamp is t as a message; nil for the zero time.
func Timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// TimeOf is a message's time; the zero time for nil.
func TimeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// CohortKey spells a cohort as keys do: task, dataset, size class, hardware
// and basis joined by 0x1f.
func CohortKey(c rating.Cohort) string {
	const sep = "\x1f"
	return c.Task + sep + c.Dataset + sep + c.SizeClass + sep + c.Hardware + sep + c.Basis.String()
}
