package boltdb

import (
	"bytes"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

func recordOf(a *storage.Accepted) *storev1.Result {
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
		MeasuredAt:                timestamp(r.MeasuredAt),
		ThroughputTokensPerSecond: r.ThroughputTokensPerSecond,
		Audit: &storev1.Audit{
			TokenId: a.Audit.TokenID, ReceivedAt: timestamp(a.Audit.ReceivedAt),
			ClientAddr: a.Audit.ClientAddr, PayloadSha256: a.Audit.PayloadSHA256,
		},
		Measure: &storev1.Measure{Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware,
			Basis: c.Basis.String(), WhPer_1KQueries: a.Measure.WhPer1kQueries, EnergyPerUnit: a.Measure.EnergyPerUnit,
			Checks: uint32(a.Measure.Checks)},
		Label: &storev1.Label{Grade: a.Label.Grade, Eei: a.Label.EEI, Scheme: a.Label.Scheme,
			Stars: int32(a.Label.Stars), Release: a.Label.Release},
	}
}

func resultOf(p *storev1.Result) (*rating.Result, storage.Audit) {
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
		MeasuredAt:                timeOf(p.MeasuredAt),
		ThroughputTokensPerSecond: p.ThroughputTokensPerSecond,
	}
	a := p.GetAudit()
	return r, storage.Audit{TokenID: a.GetTokenId(), ReceivedAt: timeOf(a.GetReceivedAt()), ClientAddr: a.GetClientAddr(), PayloadSHA256: a.GetPayloadSha256()}
}

// historyEntryOf is a stored result as history shows it: with the measure
// and label it was accepted with. A result stored before schema 4 is
// measured again, and its label is unknown.
func historyEntryOf(id uint64, rev int64, p *storev1.Result) storage.HistoryEntry {
	l := p.GetLabel()
	return storage.HistoryEntry{
		Current:  currentOfRecord(id, p),
		Label:    storage.Label{Grade: l.GetGrade(), EEI: l.GetEei(), Scheme: l.GetScheme(), Stars: int(l.GetStars()), Release: l.GetRelease()},
		Revision: rev,
	}
}

func currentOfRecord(id uint64, p *storev1.Result) storage.Current {
	r, a := resultOf(p)
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

func latestOf(e *storage.Current) *storev1.Latest {
	c := e.Measure.Cohort
	return &storev1.Latest{
		ResultId: e.ID, Model: e.Model,
		Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware, Basis: c.Basis.String(),
		WhPer_1KQueries: e.Measure.WhPer1kQueries, EnergyPerUnit: e.Measure.EnergyPerUnit,
		PowerChecked: e.Measure.PowerChecked(), Checks: uint32(e.Measure.Checks),
		GpuCount: int32(e.GPUCount), ParametersBillions: e.ParamsBillions,
		MeasuredAt: timestamp(e.MeasuredAt), ReceivedAt: timestamp(e.ReceivedAt),
		ToolName: e.ToolName, ToolVersion: e.ToolVersion,
	}
}

func currentOfLatest(p *storev1.Latest) (storage.Current, error) {
	basis, ok := rating.ParseUnit(p.Basis)
	if !ok {
		return storage.Current{}, fmt.Errorf("result %d: unknown basis %q", p.ResultId, p.Basis)
	}
	checks := rating.Checks(p.Checks)
	if p.PowerChecked { // schema 2 records have only this
		checks |= rating.CheckPower
	}
	return storage.Current{
		ID: p.ResultId, Model: p.Model,
		Measure: rating.Measure{
			Cohort:         rating.Cohort{Task: p.Task, Dataset: p.Dataset, SizeClass: p.SizeClass, Hardware: p.Hardware, Basis: basis},
			WhPer1kQueries: p.WhPer_1KQueries, EnergyPerUnit: p.EnergyPerUnit, Checks: checks,
		},
		GPUCount: int(p.GpuCount), ParamsBillions: p.ParametersBillions,
		MeasuredAt: storage.CanonicalTime(timeOf(p.MeasuredAt)), ReceivedAt: storage.CanonicalTime(timeOf(p.ReceivedAt)),
		ToolName: p.ToolName, ToolVersion: p.ToolVersion,
	}, nil
}

func tokenRecord(t *storage.Token) *storev1.Token {
	return &storev1.Token{
		Id: t.ID, SecretSha256: t.SecretSHA256, Namespaces: t.Namespaces, CreatedAt: timestamp(t.CreatedAt),
		ExpiresAt: timestamp(t.ExpiresAt), LastUsedAt: timestamp(t.LastUsedAt), Revoked: t.Revoked,
	}
}

func tokenOf(p *storev1.Token) storage.Token {
	return storage.Token{
		ID: p.Id, SecretSHA256: p.SecretSha256, Namespaces: p.Namespaces, CreatedAt: storage.CanonicalTime(timeOf(p.CreatedAt)),
		ExpiresAt: canonicalOrZero(p.ExpiresAt), LastUsedAt: canonicalOrZero(p.LastUsedAt), Revoked: p.Revoked,
	}
}

func canonicalOrZero(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return storage.CanonicalTime(ts.AsTime())
}

func latestKey(c rating.Cohort, model string) []byte {
	var b bytes.Buffer
	b.WriteString(cohortKey(c))
	b.WriteByte(0)
	b.WriteString(model)
	return b.Bytes()
}

func cohortKey(c rating.Cohort) string {
	const sep = "\x1f"
	return c.Task + sep + c.Dataset + sep + c.SizeClass + sep + c.Hardware + sep + c.Basis.String()
}

// historyKey orders a model's results by id; a model id holds no 0x00.
func historyKey(model string, id uint64) []byte {
	return append(append([]byte(model), 0), u64(id)...)
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
