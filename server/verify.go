package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/peer"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/internal/pbtime"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// errFailedPrecondition: the request is valid, but the state it acts on
// does not allow it.
var errFailedPrecondition = errors.New("failed precondition")

// verifyTries bounds how often Verify starts again when another surveyor's
// measurement of the same result was stored between its read and its write.
const verifyTries = 3

// Verified is what a surveyor's measurement found.
type Verified struct {
	// Measure is the measurement's own.
	Measure rating.Measure
	// Within says whether it alone is within the tolerance of the
	// declared figure it was compared with.
	Within bool
	// Rated is the model's rating in the cohort now.
	Rated index.Rated
}

// Verify compares a surveyor's measurement of a model with the model's
// current declared result in the same cohort, under the current scheme's
// tolerance, and records it with the surveillance state it leaves (see
// rating.Survey.Measured). A model with no declared result there is
// NotFound; a corrected one is FailedPrecondition until its publisher
// declares a new result.
func (s *Server) Verify(ctx context.Context, r *rating.Result, a storage.Audit) (Verified, error) {
	m, err := s.Registry().Normalise(r, rating.Surveyor)
	if err != nil {
		return Verified{}, err
	}
	if a.ReceivedAt.IsZero() {
		a.ReceivedAt = s.now()
	}
	tol := s.current.Tolerance
	for try := 1; ; try++ {
		cur, ok := s.index.Rating(r.Model, m.Cohort)
		switch {
		case !ok || cur.Survey.Status == rating.StatusPublished:
			return Verified{}, fmt.Errorf("model %s has no declared result to verify in the cohort %s: %w",
				rating.Quote(r.Model), cohortName(m.Cohort), storage.ErrNotFound)
		case cur.Survey.Status == rating.StatusCorrected:
			return Verified{}, fmt.Errorf("%w: result %d of model %s is corrected already; its publisher's next result can be verified",
				errFailedPrecondition, cur.ID, rating.Quote(r.Model))
		}
		v := &storage.Verification{
			Model: r.Model, Cohort: m.Cohort, ResultID: cur.ID, TokenID: a.TokenID, At: storage.CanonicalTime(a.ReceivedAt),
			X: m.X(), WhPer1k: m.WhPer1kQueries,
			Declared:    storage.Reference{ResultID: cur.ID, X: cur.Measure.X(), WhPer1k: cur.Measure.WhPer1kQueries},
			Survey:      cur.Survey.Measured(cur.Measure.X(), m.X(), m.WhPer1kQueries, tol),
			Measurement: r, Audit: a,
		}
		rev, err := s.backend.AddVerification(ctx, v)
		if errors.Is(err, storage.ErrExists) && try < verifyTries {
			// Another surveyor's measurement of the same state landed
			// first: wait for it, and measure against the state it left.
			if rev, rerr := s.backend.Revision(ctx); rerr == nil {
				_ = s.index.WaitFor(ctx, rev)
			}
			continue
		}
		if err != nil {
			return Verified{}, err
		}
		if err := s.index.WaitFor(ctx, rev); err != nil {
			return Verified{}, err
		}
		now, _ := s.index.Rating(r.Model, m.Cohort)
		s.log.Info("verification", "model", r.Model, "result_id", cur.ID, "token_id", a.TokenID, "status", v.Survey.Status.String())
		return Verified{Measure: m, Within: rating.Within(cur.Measure.X(), m.X(), tol), Rated: now}, nil
	}
}

// cohortName spells a cohort for a message.
func cohortName(c rating.Cohort) string {
	parts := []string{c.Task, c.Dataset}
	if c.SizeClass != "" {
		parts = append(parts, "size class "+c.SizeClass)
	}
	return fmt.Sprintf("(%s, on %s)", strings.Join(parts, ", "), c.Hardware)
}

func (rs ratingService) VerifyResult(ctx context.Context, req *energylabelv1.VerifyResultRequest) (*energylabelv1.VerifyResultResponse, error) {
	if req.GetResult() == nil {
		return nil, rating.Invalid("result", "required")
	}
	p := principalFrom(ctx)
	if p == nil || !p.surveyor() {
		return nil, fmt.Errorf("%w: VerifyResult needs a surveyor token (token create -role surveyor)", errPermissionDenied)
	}
	// A surveyor's writes cost storage and memory as a publisher's do:
	// the same per-token rate bounds them.
	if err := rs.s.limiter.allow(p.tokenID, rs.s.now()); err != nil {
		return nil, err
	}
	r := wire.Result(req.GetResult())
	a := storage.Audit{TokenID: p.tokenID}
	if pr, ok := peer.FromContext(ctx); ok {
		a.ClientAddr = pr.Addr.String()
	}
	out, err := rs.s.Verify(ctx, &r, a)
	if err != nil {
		return nil, err
	}
	return &energylabelv1.VerifyResultResponse{
		ResultId: out.Rated.ID, WhPer_1KQueries: out.Measure.WhPer1kQueries, EnergyPerUnit: out.Measure.EnergyPerUnit,
		WithinTolerance: out.Within, Rating: rs.s.RatingProto(&out.Rated, rs.s.current),
	}, nil
}

// historyWith merges a model's verifications into a page of its results:
// each verification of a result on the page (on the last page, of any
// later result too), in time order, so that history says who checked
// what and when.
func (s *Server) historyWith(model string, q storage.HistoryQuery, entries []storage.HistoryEntry, last bool) []historyItem {
	items := make([]historyItem, 0, len(entries))
	for i := range entries {
		items = append(items, historyItem{result: &entries[i]})
	}
	vs := s.index.Verifications(model)
	if len(vs) == 0 {
		return items
	}
	hi := uint64(0)
	if len(entries) > 0 {
		hi = entries[len(entries)-1].ID
	}
	for i := range vs {
		v := &vs[i]
		if v.ResultID <= q.After || (!last && v.ResultID > hi) || !q.Matches(v.Cohort) {
			continue
		}
		items = append(items, historyItem{verification: v})
	}
	slices.SortStableFunc(items, func(a, b historyItem) int { return a.at().Compare(b.at()) })
	return items
}

// historyItem is one entry of a history page: a result or a verification.
type historyItem struct {
	result       *storage.HistoryEntry
	verification *storage.Verification
}

func (h historyItem) at() time.Time {
	if h.result != nil {
		return h.result.ReceivedAt
	}
	return h.verification.At
}

// verificationHistoryProto is a verification as history shows it: the
// surveyor's figures, the result it checked, and the status it left.
func (s *Server) verificationHistoryProto(v *storage.Verification) *energylabelv1.HistoryEntry {
	c := v.Cohort
	p := &energylabelv1.HistoryEntry{
		Kind: historyKindVerification, ResultId: v.ResultID, Revision: v.Revision,
		Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware, Basis: c.Basis.String(),
		WhPer_1KQueries: v.WhPer1k, EnergyPerUnit: v.X, Unit: c.Basis.Symbol(), Scheme: s.current.Version,
		ReceivedAt: pbtime.Timestamp(v.At), TokenId: v.TokenID,
		Verification: &energylabelv1.Verification{
			Status: v.Survey.Status.String(), DeclaredWhPer_1KQueries: v.Declared.WhPer1k, DeclaredEnergyPerUnit: v.Declared.X,
			Measurements: int32(v.Survey.Measurements), CheckedAt: pbtime.Timestamp(v.At), Tolerance: s.current.Tolerance,
		},
	}
	if g := s.current.Grade(rating.Measure{Cohort: c, EnergyPerUnit: v.X}); g.Grade != 0 {
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
