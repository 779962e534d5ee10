package grpcapi

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/energylabel/energylabel/errdefs"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/service"
)

// The API's own refusals, each of its errdefs kind.
var (
	errUnsupported = errdefs.New(errdefs.Unimplemented, "not supported by this store")
	// errResourceExhausted and errOutOfRange end a watch that fell behind,
	// or that asked for a revision the backend no longer keeps.
	errResourceExhausted = errdefs.New(errdefs.Exhausted, "resource exhausted")
	errOutOfRange        = errdefs.New(errdefs.OutOfRange, "out of range")
)

type callerKey struct{}

// callerFrom is the caller the edge authenticated, nil for a public read.
func callerFrom(ctx context.Context) *service.Caller {
	c, _ := ctx.Value(callerKey{}).(*service.Caller)
	return c
}

// Calls that need a token. Everything else is a public read.
var (
	publisherMethods = map[string]bool{
		energylabelv1.RatingService_SubmitResult_FullMethodName: true,
		energylabelv1.RatingService_VerifyResult_FullMethodName: true,
	}
	adminServicePrefix = "/" + energylabelv1.AdminService_ServiceDesc.ServiceName + "/"
)

// authenticate resolves the caller of a method that needs a token.
func (s *API) authenticate(ctx context.Context, method string) (context.Context, error) {
	admin := strings.HasPrefix(method, adminServicePrefix)
	if !admin && !publisherMethods[method] {
		return ctx, nil
	}
	caller, err := s.svc.Authenticate(bearer(ctx), method, admin)
	if err != nil {
		return ctx, err
	}
	if c := callFrom(ctx); c != nil {
		c.tokenID = caller.TokenID
	}
	return context.WithValue(ctx, callerKey{}, caller), nil
}

func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
	}
	return ""
}

func (s *API) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *API) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
}

type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *contextStream) Context() context.Context { return c.ctx }
