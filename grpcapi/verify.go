package grpcapi

import (
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"

	"context"

	"github.com/energylabel/energylabel/internal/pbtime"
	"github.com/energylabel/energylabel/internal/wire"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

func (rs ratingService) VerifyResult(ctx context.Context, req *energylabelv1.VerifyResultRequest) (*energylabelv1.VerifyResultResponse, error) {
	if req.GetResult() == nil {
		return nil, rating.Invalid("result", "required")
	}
	r := wire.Result(req.GetResult())
	out, err := rs.s.svc.VerifyResult(ctx, callerFrom(ctx), &r, auditOf(ctx, ""))
	if err != nil {
		return nil, err
	}
	return &energylabelv1.VerifyResultResponse{
		ResultId: out.Rated.ID, WhPer_1KQueries: out.Measure.WhPer1kQueries, EnergyPerUnit: out.Measure.EnergyPerUnit,
		WithinTolerance: out.Within, Rating: wire.Rating(&out.Rated, rs.s.svc.CurrentScheme(), rs.s.svc.Release()),
	}, nil
}

// verificationHistoryProto is a verification as history shows it: the
// surveyor's figures, the result it checked, and the status it left.
func verificationHistoryProto(v *storage.Verification, scheme *rating.GradeScheme) *energylabelv1.HistoryEntry {
	c := v.Cohort
	p := &energylabelv1.HistoryEntry{
		Kind: historyKindVerification, ResultId: v.ResultID, Revision: v.Revision,
		Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware, Basis: c.Basis.String(),
		WhPer_1KQueries: v.WhPer1k, EnergyPerUnit: v.X, Unit: c.Basis.Symbol(), Scheme: scheme.Version,
		ReceivedAt: pbtime.Timestamp(v.At), TokenId: v.TokenID,
		Verification: &energylabelv1.Verification{
			Status: v.Survey.Status.String(), DeclaredWhPer_1KQueries: v.Declared.WhPer1k, DeclaredEnergyPerUnit: v.Declared.X,
			Measurements: int32(v.Survey.Measurements), CheckedAt: pbtime.Timestamp(v.At), Tolerance: scheme.Tolerance,
		},
	}
	if g := scheme.Grade(rating.Measure{Cohort: c, EnergyPerUnit: v.X}); g.Grade != 0 {
		grade, eei := g.Grade.String(), g.EEI
		p.Grade, p.Eei = &grade, &eei
	}
	if st := v.Survey.Status; st == rating.StatusUnderReview || st == rating.StatusCorrected {
		p.Verification.DeterminedWhPer_1KQueries = &v.Survey.DeterminedWh
		p.Verification.DeterminedEnergyPerUnit = &v.Survey.DeterminedX
	}
	if m := v.Measurement; m != nil {
		p.GpuCount, p.MeasuredAt = int32(m.GPUCount), pbtime.Timestamp(m.MeasuredAt)
	}
	return p
}

// The kinds of history entry.
const (
	historyKindResult       = "result"
	historyKindVerification = "verification"
)
