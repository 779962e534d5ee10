// Package wire converts benchmark results between the public protobuf API
// and the rating domain, so that neither has to know the other.
package wire

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/energylabel/energylabel/internal/pbtime"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
)

// Result converts an API result to the domain. A nil message gives the zero
// Result, which validation refuses field by field.
func Result(p *energylabelv1.BenchmarkResult) rating.Result {
	o := p.GetOutput()
	r := rating.Result{
		Model:           p.GetModel(),
		Task:            p.GetTask(),
		Dataset:         p.GetDataset(),
		Accelerator:     p.GetHardware().GetAccelerator(),
		GPUCount:        int(p.GetHardware().GetCount()),
		Queries:         p.GetQueries(),
		FailedQueries:   p.GetFailedQueries(),
		GPUEnergyWh:     p.GetGpuEnergyWh(),
		DurationSeconds: p.GetDurationSeconds(),
		RunEnergiesWh:   append([]float64(nil), p.GetRunEnergiesWh()...),
		Output: rating.Output{
			Tokens:       o.GetTokens(),
			Images:       o.GetImages(),
			ImageWidth:   int(o.GetImageWidth()),
			ImageHeight:  int(o.GetImageHeight()),
			VideoFrames:  o.GetVideoFrames(),
			VideoWidth:   int(o.GetVideoWidth()),
			VideoHeight:  int(o.GetVideoHeight()),
			AudioSeconds: o.GetAudioSeconds(),
		},
		ParamsBillions:            p.GetParametersBillions(),
		ActiveParamsBillions:      p.GetActiveParametersBillions(),
		SizeClass:                 p.GetSizeClass(),
		Precision:                 p.GetPrecision(),
		BatchSize:                 int(p.GetBatchSize()),
		ToolName:                  p.GetTool().GetName(),
		ToolVersion:               p.GetTool().GetVersion(),
		ThroughputTokensPerSecond: p.GetThroughputTokensPerSecond(),
	}
	if p.GetMeasuredAt() != nil {
		r.MeasuredAt = p.GetMeasuredAt().AsTime()
	}
	if m := p.GetMeasurement(); m != nil {
		r.Measurement = Measurement(m)
	}
	return r
}

// Measurement converts an API measurement to the domain.
func Measurement(p *energylabelv1.Measurement) *rating.Measurement {
	m := &rating.Measurement{
		Source: p.GetSource(), IntervalSeconds: p.GetIntervalSeconds(),
		DriverVersion: p.GetDriverVersion(), CUDAVersion: p.GetCudaVersion(),
		IdleWatts: p.GetIdleWatts(), IdleSeconds: p.GetIdleSeconds(),
	}
	for _, d := range p.GetDevices() {
		m.Devices = append(m.Devices, rating.MeasuredDevice{
			Index: int(d.GetIndex()), Name: d.GetName(), UUID: d.GetUuid(), PowerLimitWatts: d.GetPowerLimitWatts(),
			EnergySource: d.GetEnergySource(), EnergyStartMJ: d.GetEnergyStartMj(), EnergyEndMJ: d.GetEnergyEndMj(),
			EnergyWh: d.GetEnergyWh(),
		})
	}
	if n := len(p.GetTrace()); n > 0 {
		m.Trace = make([]rating.PowerSample, n)
		for i, s := range p.GetTrace() {
			m.Trace[i] = rating.PowerSample{T: s.GetT(), Watts: s.GetWatts()}
		}
	}
	return m
}

// MeasurementMessage converts a domain measurement to the API message.
func MeasurementMessage(m *rating.Measurement) *energylabelv1.Measurement {
	p := &energylabelv1.Measurement{
		Source: m.Source, IntervalSeconds: m.IntervalSeconds,
		DriverVersion: m.DriverVersion, CudaVersion: m.CUDAVersion,
		IdleWatts: m.IdleWatts, IdleSeconds: m.IdleSeconds,
	}
	for _, d := range m.Devices {
		p.Devices = append(p.Devices, &energylabelv1.MeasuredDevice{
			Index: int32(d.Index), Name: d.Name, Uuid: d.UUID, PowerLimitWatts: d.PowerLimitWatts,
			EnergySource: d.EnergySource, EnergyStartMj: d.EnergyStartMJ, EnergyEndMj: d.EnergyEndMJ,
			EnergyWh: d.EnergyWh,
		})
	}
	for _, s := range m.Trace {
		p.Trace = append(p.Trace, &energylabelv1.PowerSample{T: s.T, Watts: s.Watts})
	}
	return p
}

// BenchmarkResult converts a domain result to the API message.
func BenchmarkResult(r *rating.Result) *energylabelv1.BenchmarkResult {
	p := &energylabelv1.BenchmarkResult{
		Model:           r.Model,
		Task:            r.Task,
		Dataset:         r.Dataset,
		Hardware:        &energylabelv1.Hardware{Accelerator: r.Accelerator, Count: int32(r.GPUCount)},
		Queries:         r.Queries,
		FailedQueries:   r.FailedQueries,
		GpuEnergyWh:     r.GPUEnergyWh,
		DurationSeconds: r.DurationSeconds,
		RunEnergiesWh:   append([]float64(nil), r.RunEnergiesWh...),
		Output: &energylabelv1.Output{
			Tokens:       r.Output.Tokens,
			Images:       r.Output.Images,
			ImageWidth:   int32(r.Output.ImageWidth),
			ImageHeight:  int32(r.Output.ImageHeight),
			VideoFrames:  r.Output.VideoFrames,
			VideoWidth:   int32(r.Output.VideoWidth),
			VideoHeight:  int32(r.Output.VideoHeight),
			AudioSeconds: r.Output.AudioSeconds,
		},
		ParametersBillions:        r.ParamsBillions,
		ActiveParametersBillions:  r.ActiveParamsBillions,
		SizeClass:                 r.SizeClass,
		Precision:                 r.Precision,
		BatchSize:                 int32(r.BatchSize),
		ThroughputTokensPerSecond: r.ThroughputTokensPerSecond,
	}
	if r.ToolName != "" || r.ToolVersion != "" {
		p.Tool = &energylabelv1.Tool{Name: r.ToolName, Version: r.ToolVersion}
	}
	if !r.MeasuredAt.IsZero() {
		p.MeasuredAt = timestamppb.New(r.MeasuredAt)
	}
	if r.Measurement != nil {
		p.Measurement = MeasurementMessage(r.Measurement)
	}
	return p
}

// LabelRating converts an API rating into what badges and labels draw.
// pageURL is the model's page, which the label's QR code encodes. The date
// is when the result was measured (for a published leaderboard's row, the
// leaderboard's date); a result that does not say shows none rather than
// the day it was imported, and the label says when the service received
// it instead. Release names
// the star release the stars are of. The server's images and the CLI's
// both convert here, so that they draw the same label.
func LabelRating(r *energylabelv1.Rating, pageURL string) label.Rating {
	return label.Rating{
		Model: r.GetModel(), Task: r.GetTask(), Dataset: r.GetDataset(), SizeClass: r.GetSizeClass(),
		Hardware: r.GetHardware(), GPUCount: int(r.GetGpuCount()),
		Date: pbtime.Time(r.GetMeasuredAt()), Received: pbtime.Time(r.GetReceivedAt()),
		WhPer1kQueries: r.GetWhPer_1KQueries(), EnergyPerUnit: r.GetEnergyPerUnit(),
		Unit: r.GetUnit(), Basis: r.GetBasis(), Stars: int(r.GetStars()), Release: r.GetRelease(), Grade: r.GetGrade(),
		EEI: r.GetEei(), Scheme: r.GetScheme(), PageURL: pageURL,
		Verification: LabelVerification(r.GetVerification()),
		MeasuredWith: r.GetMeasuredWith(),
	}
}

// LabelVerification is what a label and a badge say of a rating's
// verification: its status, when a surveyor last measured it, and the
// declared and determined figures.
func LabelVerification(v *energylabelv1.Verification) label.Verification {
	return label.Verification{
		Status: v.GetStatus(), CheckedAt: pbtime.Time(v.GetCheckedAt()), DeclaredGrade: v.GetDeclaredGrade(),
		DeclaredWhPer1kQueries: v.GetDeclaredWhPer_1KQueries(), DeclaredEnergyPerUnit: v.GetDeclaredEnergyPerUnit(),
		DeterminedWhPer1kQueries: v.GetDeterminedWhPer_1KQueries(), DeterminedEnergyPerUnit: v.GetDeterminedEnergyPerUnit(),
	}
}
