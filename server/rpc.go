package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/peer"

	"github.com/energylabel/energylabel/auth"
	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/internal/pbtime"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// ratingService adapts Server to the RatingService API: decode, call the
// domain, encode.
type ratingService struct {
	energylabelv1.UnimplementedRatingServiceServer
	s *Server
}

func (rs ratingService) SubmitResult(ctx context.Context, req *energylabelv1.SubmitResultRequest) (*energylabelv1.SubmitResultResponse, error) {
	if req.GetResult() == nil {
		return nil, rating.Invalid("result", "required")
	}
	r := wire.Result(req.GetResult())
	// A model id that is no model id is invalid, whoever sends it: only a
	// valid one names a namespace to check the token against.
	if err := rating.ValidateModel(r.Model); err != nil {
		return nil, err
	}
	p := principalFrom(ctx)
	owner, _, _ := strings.Cut(r.Model, "/")
	if p != nil && p.surveyor() {
		return nil, fmt.Errorf("%w: a surveyor token submits no declared results; send a re-measurement with VerifyResult (energylabel verify)", errPermissionDenied)
	}
	if p == nil || !p.mayWrite(owner) {
		return nil, fmt.Errorf("%w: token may not write namespace %q", errPermissionDenied, owner)
	}
	if !p.admin {
		if err := rs.s.limiter.allow(p.tokenID, rs.s.now()); err != nil {
			return nil, err
		}
	}
	a := storage.Audit{TokenID: p.tokenID, PayloadSHA256: req.GetPayloadSha256()}
	if pr, ok := peer.FromContext(ctx); ok {
		a.ClientAddr = pr.Addr.String()
	}
	// The admin token imports published leaderboards; publishers vouch
	// for their own measurements, which must carry everything.
	src := rating.Publisher
	if p.admin {
		src = rating.Published
	}
	own, err := rs.s.Submit(ctx, &r, src, a)
	if dup := (*storage.DuplicateError)(nil); errors.As(err, &dup) {
		// The same measurement, already stored for this model: nothing
		// was written, and the stored result answers.
		stored, err := rs.s.AlreadyStored(ctx, &r, dup.ResultID)
		if err != nil {
			return nil, err
		}
		resp := &energylabelv1.SubmitResultResponse{ResultId: dup.ResultID, AlreadyStored: true}
		for i := range stored {
			resp.Ratings = append(resp.Ratings, rs.s.RatingProto(&stored[i], rs.s.current))
		}
		return resp, nil
	}
	if errors.Is(err, storage.ErrExists) {
		return nil, fmt.Errorf("one measurement labels one model: the same figures (to 4 significant digits, on the same hardware) were submitted for another model: %w", err)
	}
	if err != nil {
		return nil, err
	}
	return &energylabelv1.SubmitResultResponse{ResultId: own.ID, Ratings: []*energylabelv1.Rating{rs.s.RatingProto(&own, rs.s.current)}}, nil
}

func (rs ratingService) GetRating(_ context.Context, req *energylabelv1.GetRatingRequest) (*energylabelv1.GetRatingResponse, error) {
	key := answerKey{req.GetModel(), req.GetTask(), req.GetScheme(), req.GetHardware(), req.GetDataset(), req.GetForBadge()}
	rev := rs.s.index.Revision() // before reading the index
	if resp, ok := rs.s.answers.get(key, rev); ok {
		return resp, nil
	}
	scheme, err := rs.s.Scheme(req.GetScheme())
	if err != nil {
		return nil, err
	}
	rated, err := rs.s.chosenRatings(req)
	if err != nil {
		return nil, err
	}
	if len(rated) == 0 {
		return nil, fmt.Errorf("model %q has no rating%s: %w", req.GetModel(), forChoice(req), storage.ErrNotFound)
	}
	resp := &energylabelv1.GetRatingResponse{Ratings: make([]*energylabelv1.Rating, len(rated))}
	for i := range rated {
		resp.Ratings[i] = rs.s.RatingProto(&rated[i], scheme)
	}
	rs.s.answers.put(key, rev, resp)
	return resp, nil
}

// chosenRatings are the ratings a GetRating asks for: those of the model
// on the task, hardware and dataset given, or the one a badge shows.
func (s *Server) chosenRatings(req *energylabelv1.GetRatingRequest) ([]index.Rated, error) {
	if err := rating.ValidateModel(req.GetModel()); err != nil {
		return nil, err
	}
	c, err := ChoiceOf(s.Registry().Accelerators, req.GetTask(), req.GetHardware(), req.GetDataset())
	if err != nil {
		return nil, err
	}
	if req.GetForBadge() {
		r, ok, err := s.ChosenRating(req.GetModel(), c)
		if !ok || err != nil {
			return nil, err
		}
		return []index.Rated{r}, nil
	}
	all := s.index.ModelRatings(req.GetModel())
	out := all[:0] // all is ours: filter it in place
	for _, r := range all {
		if c.Matches(r.Measure.Cohort) {
			out = append(out, r)
		}
	}
	return out, nil
}

// forChoice says what a GetRating narrowed its ratings to, for a message.
func forChoice(req *energylabelv1.GetRatingRequest) string {
	var parts []string
	for _, p := range [][2]string{{"task", req.GetTask()}, {"hardware", req.GetHardware()}, {"dataset", req.GetDataset()}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " for " + strings.Join(parts, ", ")
}

func forTask(task string) string {
	if task == "" {
		return ""
	}
	return " for task " + task
}

func (rs ratingService) ListRatings(_ context.Context, req *energylabelv1.ListRatingsRequest) (*energylabelv1.ListRatingsResponse, error) {
	f, err := parseFilter(rs.s.Registry(), req.GetTask(), req.GetDataset(), req.GetSizeClass(), req.GetHardware())
	if err != nil {
		return nil, err
	}
	page, err := rs.s.List(f, req.GetPageToken(), int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	resp := &energylabelv1.ListRatingsResponse{NextPageToken: page.Next, Ratings: make([]*energylabelv1.Rating, len(page.Ratings))}
	for i := range page.Ratings {
		resp.Ratings[i] = rs.s.RatingProto(&page.Ratings[i], rs.s.current)
		resp.Ratings[i].Classes = nil // the same for every row of a cohort; GetRating gives them
	}
	return resp, nil
}

func (rs ratingService) ListTasks(context.Context, *energylabelv1.ListTasksRequest) (*energylabelv1.ListTasksResponse, error) {
	resp := &energylabelv1.ListTasksResponse{}
	for _, t := range rating.Tasks() {
		resp.Tasks = append(resp.Tasks, &energylabelv1.Task{
			Id: t.ID, AiesAlias: t.AIESAlias, FunctionalUnit: t.Unit.String(), Unit: t.Unit.Symbol(),
			HasSizeClasses: t.SizeClasses, DefaultDataset: t.DefaultDataset,
		})
	}
	return resp, nil
}

// adminService adapts Server to the AdminService API.
type adminService struct {
	energylabelv1.UnimplementedAdminServiceServer
	s *Server
}

// maxTokenNamespaces bounds the namespaces of one token.
const maxTokenNamespaces = 64

func (as adminService) CreateToken(ctx context.Context, req *energylabelv1.CreateTokenRequest) (*energylabelv1.CreateTokenResponse, error) {
	role := req.GetRole()
	switch n := len(req.GetNamespaces()); {
	case role != "" && role != storage.RolePublisher && role != storage.RoleSurveyor:
		return nil, rating.Invalid("role", "want %q or %q, got %s", storage.RolePublisher, storage.RoleSurveyor, rating.Quote(role))
	case role == storage.RoleSurveyor && n > 0:
		return nil, rating.Invalid("namespaces", "a surveyor token takes none: it verifies every namespace's models and writes none")
	case role == storage.RoleSurveyor:
	case n == 0:
		return nil, rating.Invalid("namespaces", "at least one namespace (or \"*\") is required")
	case n > maxTokenNamespaces:
		return nil, rating.Invalid("namespaces", "at most %d namespaces a token, got %d", maxTokenNamespaces, n)
	}
	if err := as.s.checkNamespaces(req.GetNamespaces()); err != nil {
		return nil, err
	}
	expires := pbtime.Time(req.GetExpiresAt())
	if now := as.s.now(); !expires.IsZero() && !expires.After(now) {
		return nil, rating.Invalid("expires_at", "%s is not in the future (the server's time is %s)",
			expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	t, secret := auth.NewToken(req.GetNamespaces(), role, as.s.now(), expires)
	if err := as.s.wait(ctx)(as.s.backend.PutToken(ctx, t)); err != nil {
		return nil, err
	}
	as.s.log.Info("token created", "token_id", t.ID, "namespaces", t.Namespaces, "role", cmp.Or(role, storage.RolePublisher))
	return &energylabelv1.CreateTokenResponse{Id: t.ID, Token: secret}, nil
}

func (as adminService) RevokeToken(ctx context.Context, req *energylabelv1.RevokeTokenRequest) (*energylabelv1.RevokeTokenResponse, error) {
	t, ok := as.s.tokens.Get(req.GetId())
	if !ok {
		return nil, fmt.Errorf("token %s: %w", rating.Quote(req.GetId()), storage.ErrNotFound)
	}
	t.Revoked = true
	if err := as.s.wait(ctx)(as.s.backend.PutToken(ctx, t)); err != nil {
		return nil, err
	}
	as.s.log.Info("token revoked", "token_id", req.GetId())
	return &energylabelv1.RevokeTokenResponse{}, nil
}

func (as adminService) ListTokens(ctx context.Context, _ *energylabelv1.ListTokensRequest) (*energylabelv1.ListTokensResponse, error) {
	ts, err := as.s.backend.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ts, func(a, b storage.Token) int { return a.CreatedAt.Compare(b.CreatedAt) })
	resp := &energylabelv1.ListTokensResponse{}
	for _, t := range ts {
		resp.Tokens = append(resp.Tokens, &energylabelv1.TokenInfo{
			Id: t.ID, Namespaces: t.Namespaces, CreatedAt: pbtime.Timestamp(t.CreatedAt),
			LastUsedAt: pbtime.Timestamp(t.LastUsedAt), ExpiresAt: pbtime.Timestamp(t.ExpiresAt), Revoked: t.Revoked,
			Role: cmp.Or(t.Role, storage.RolePublisher),
		})
	}
	return resp, nil
}
