package store

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
)

func recordOf(r *rating.Result, a Audit) *storev1.Result {
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
			TokenId: a.TokenID, ReceivedAt: timestamp(a.ReceivedAt),
			ClientAddr: a.ClientAddr, PayloadSha256: a.PayloadSHA256,
		},
	}
}

func resultOf(p *storev1.Result) (*rating.Result, Audit) {
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
	return r, Audit{TokenID: a.GetTokenId(), ReceivedAt: timeOf(a.GetReceivedAt()), ClientAddr: a.GetClientAddr(), PayloadSHA256: a.GetPayloadSha256()}
}

func entryOf(id uint64, p *storev1.Result) *Entry {
	r, a := resultOf(p)
	return entryOfMeasure(id, r, rating.MeasureOf(r), a.ReceivedAt)
}

func latestOf(e *Entry) *storev1.Latest {
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

func entryOfLatest(p *storev1.Latest) (*Entry, error) {
	basis, ok := rating.ParseUnit(p.Basis)
	if !ok {
		return nil, fmt.Errorf("result %d: unknown basis %q", p.ResultId, p.Basis)
	}
	checks := rating.Checks(p.Checks)
	if p.PowerChecked { // schema 2 records have only this
		checks |= rating.CheckPower
	}
	return &Entry{
		ID: p.ResultId, Model: p.Model,
		Measure: rating.Measure{
			Cohort:         rating.Cohort{Task: p.Task, Dataset: p.Dataset, SizeClass: p.SizeClass, Hardware: p.Hardware, Basis: basis},
			WhPer1kQueries: p.WhPer_1KQueries, EnergyPerUnit: p.EnergyPerUnit, Checks: checks,
		},
		GPUCount: int(p.GpuCount), ParamsBillions: p.ParametersBillions,
		MeasuredAt: canonicalTime(timeOf(p.MeasuredAt)), ReceivedAt: canonicalTime(timeOf(p.ReceivedAt)),
		ToolName: p.ToolName, ToolVersion: p.ToolVersion,
	}, nil
}

func entryOfMeasure(id uint64, r *rating.Result, m rating.Measure, received time.Time) *Entry {
	return &Entry{
		ID: id, Model: r.Model, Measure: m, GPUCount: r.GPUCount, ParamsBillions: r.ParamsBillions,
		MeasuredAt: canonicalTime(r.MeasuredAt), ReceivedAt: canonicalTime(received), ToolName: r.ToolName, ToolVersion: r.ToolVersion,
	}
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

// canonicalTime is how a time reads back from the file: UTC, without a
// monotonic reading, so that a rebuilt index equals the one it replaces.
func canonicalTime(t time.Time) time.Time { return t.UTC().Round(0) }
