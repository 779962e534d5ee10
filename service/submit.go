package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Submitted is what a submission stored, or found stored already.
type Submitted struct {
	ResultID uint64
	// AlreadyStored says that the same measurement was stored for the
	// model before: nothing was written, and Ratings are the model's
	// current ones in its cohort.
	AlreadyStored bool
	Ratings       []index.Rated
}

// SubmitResult stores a result a caller submits: a publisher's
// declared result in a namespace its token may write, within its rate;
// the admin's is a published one (an import of a leaderboard). Checks
// run in the order a caller can fix them: the result's model, then the
// caller's right to it, then its rate, then the result itself.
func (s *Service) SubmitResult(ctx context.Context, c *Caller, r *rating.Result, a storage.Audit) (Submitted, error) {
	// A model id that is no model id is invalid, whoever sends it: only a
	// valid one names a namespace to check the token against.
	if err := rating.ValidateModel(r.Model); err != nil {
		return Submitted{}, err
	}
	owner, _, _ := strings.Cut(r.Model, "/")
	switch {
	case c == nil:
		return Submitted{}, fmt.Errorf("%w: submitting needs a publisher token", errUnauthenticated)
	case c.surveyor():
		return Submitted{}, fmt.Errorf("%w: a surveyor token submits no declared results; send a re-measurement with VerifyResult (energylabel verify)", errPermissionDenied)
	case !c.mayWrite(owner):
		return Submitted{}, fmt.Errorf("%w: token may not write namespace %q", errPermissionDenied, owner)
	}
	// The admin token imports published leaderboards, unlimited;
	// publishers vouch for their own measurements, which must carry
	// everything.
	src := rating.Published
	if !c.Admin {
		src = rating.Publisher
		if err := s.limiter.allow(c.TokenID, s.now()); err != nil {
			return Submitted{}, err
		}
	}
	a.TokenID = c.TokenID
	own, err := s.Submit(ctx, r, src, a)
	if dup := (*storage.DuplicateError)(nil); errors.As(err, &dup) {
		stored, err := s.AlreadyStored(ctx, r, dup.ResultID)
		if err != nil {
			return Submitted{}, err
		}
		return Submitted{ResultID: dup.ResultID, AlreadyStored: true, Ratings: stored}, nil
	}
	if errors.Is(err, storage.ErrExists) {
		return Submitted{}, fmt.Errorf("one measurement labels one model: the same figures (to 4 significant digits, on the same hardware) were submitted for another model: %w", err)
	}
	if err != nil {
		return Submitted{}, err
	}
	return Submitted{ResultID: own.ID, Ratings: []index.Rated{own}}, nil
}

// VerifyResult records a surveyor's re-measurement (see Verify), within
// the surveyor token's rate.
func (s *Service) VerifyResult(ctx context.Context, c *Caller, r *rating.Result, a storage.Audit) (Verified, error) {
	if c == nil || !c.surveyor() {
		return Verified{}, fmt.Errorf("%w: VerifyResult needs a surveyor token (token create -role surveyor)", errPermissionDenied)
	}
	// A surveyor's writes cost storage and memory as a publisher's do:
	// the same per-token rate bounds them.
	if err := s.limiter.allow(c.TokenID, s.now()); err != nil {
		return Verified{}, err
	}
	a.TokenID = c.TokenID
	return s.Verify(ctx, r, a)
}
