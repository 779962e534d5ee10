package grpcapi

import (
	"context"

	"google.golang.org/grpc/peer"

	"github.com/energylabel/energylabel/internal/pbtime"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/storage"
)

// ratingService is the RatingService: decode, call the service, encode.
type ratingService struct {
	energylabelv1.UnimplementedRatingServiceServer
	s *API
}

// auditOf is what a write's audit record says of its call.
func auditOf(ctx context.Context, payloadSHA256 string) storage.Audit {
	a := storage.Audit{PayloadSHA256: payloadSHA256}
	if pr, ok := peer.FromContext(ctx); ok {
		a.ClientAddr = pr.Addr.String()
	}
	return a
}

func (rs ratingService) SubmitResult(ctx context.Context, req *energylabelv1.SubmitResultRequest) (*energylabelv1.SubmitResultResponse, error) {
	if req.GetResult() == nil {
		return nil, rating.Invalid("result", "required")
	}
	r := wire.Result(req.GetResult())
	out, err := rs.s.svc.SubmitResult(ctx, callerFrom(ctx), &r, auditOf(ctx, req.GetPayloadSha256()))
	if err != nil {
		return nil, err
	}
	resp := &energylabelv1.SubmitResultResponse{ResultId: out.ResultID, AlreadyStored: out.AlreadyStored}
	scheme, rel := rs.s.svc.CurrentScheme(), rs.s.svc.Release()
	for i := range out.Ratings {
		resp.Ratings = append(resp.Ratings, wire.Rating(&out.Ratings[i], scheme, rel))
	}
	return resp, nil
}

func (rs ratingService) GetRating(_ context.Context, req *energylabelv1.GetRatingRequest) (*energylabelv1.GetRatingResponse, error) {
	q := service.RatingQuery{Model: req.GetModel(), Task: req.GetTask(), Scheme: req.GetScheme(),
		Hardware: req.GetHardware(), Dataset: req.GetDataset(), ForBadge: req.GetForBadge()}
	rev := rs.s.svc.Revision() // before reading the read model
	if resp, ok := rs.s.answers.get(q, rev); ok {
		return resp, nil
	}
	ex, err := rs.s.svc.GetRating(q)
	if err != nil {
		return nil, err
	}
	resp := &energylabelv1.GetRatingResponse{Ratings: make([]*energylabelv1.Rating, len(ex.Ratings))}
	for i := range ex.Ratings {
		resp.Ratings[i] = wire.Rating(&ex.Ratings[i], ex.Scheme, ex.Release)
	}
	rs.s.answers.put(q, rev, resp)
	return resp, nil
}

func (rs ratingService) ListRatings(_ context.Context, req *energylabelv1.ListRatingsRequest) (*energylabelv1.ListRatingsResponse, error) {
	page, err := rs.s.svc.ListRatings(service.ListQuery{Task: req.GetTask(), Dataset: req.GetDataset(), SizeClass: req.GetSizeClass(),
		Hardware: req.GetHardware(), PageToken: req.GetPageToken(), PageSize: int(req.GetPageSize())})
	if err != nil {
		return nil, err
	}
	scheme, rel := rs.s.svc.CurrentScheme(), rs.s.svc.Release()
	resp := &energylabelv1.ListRatingsResponse{NextPageToken: page.Next, Ratings: make([]*energylabelv1.Rating, len(page.Ratings))}
	for i := range page.Ratings {
		resp.Ratings[i] = wire.Rating(&page.Ratings[i], scheme, rel)
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

// adminService is the AdminService.
type adminService struct {
	energylabelv1.UnimplementedAdminServiceServer
	s *API
}

func (as adminService) CreateToken(ctx context.Context, req *energylabelv1.CreateTokenRequest) (*energylabelv1.CreateTokenResponse, error) {
	id, secret, err := as.s.svc.CreateToken(ctx, req.GetNamespaces(), req.GetRole(), pbtime.Time(req.GetExpiresAt()))
	if err != nil {
		return nil, err
	}
	return &energylabelv1.CreateTokenResponse{Id: id, Token: secret}, nil
}

func (as adminService) RevokeToken(ctx context.Context, req *energylabelv1.RevokeTokenRequest) (*energylabelv1.RevokeTokenResponse, error) {
	if err := as.s.svc.RevokeToken(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &energylabelv1.RevokeTokenResponse{}, nil
}

func (as adminService) ListTokens(ctx context.Context, _ *energylabelv1.ListTokensRequest) (*energylabelv1.ListTokensResponse, error) {
	ts, err := as.s.svc.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	resp := &energylabelv1.ListTokensResponse{}
	for _, t := range ts {
		resp.Tokens = append(resp.Tokens, &energylabelv1.TokenInfo{
			Id: t.ID, Namespaces: t.Namespaces, CreatedAt: pbtime.Timestamp(t.CreatedAt),
			LastUsedAt: pbtime.Timestamp(t.LastUsedAt), ExpiresAt: pbtime.Timestamp(t.ExpiresAt), Revoked: t.Revoked, Role: t.Role,
		})
	}
	return resp, nil
}
