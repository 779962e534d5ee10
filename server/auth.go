package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/energylabel/energylabel/auth"
	"github.com/energylabel/energylabel/errdefs"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/storage"
)

// The server's own failures, each of its errdefs kind.
var (
	errUnauthenticated  = errdefs.New(errdefs.Unauthenticated, "unauthenticated")
	errPermissionDenied = errdefs.New(errdefs.PermissionDenied, "permission denied")
	errUnsupported      = errdefs.New(errdefs.Unimplemented, "not supported by this store")
	// errResourceExhausted and errOutOfRange end a watch that fell behind,
	// or that asked for a revision the backend no longer keeps.
	errResourceExhausted = errdefs.New(errdefs.Exhausted, "resource exhausted")
	errOutOfRange        = errdefs.New(errdefs.OutOfRange, "out of range")
)

// adminTokenID stands for the admin token in audit records.
const adminTokenID = "admin"

// adminSecret holds the SHA-256 of the admin token; nil closes the admin API.
type adminSecret []byte

func newAdminSecret(token string) adminSecret {
	if token == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func (a adminSecret) matches(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return a != nil && subtle.ConstantTimeCompare(a, sum[:]) == 1
}

// principal is who made a call.
type principal struct {
	tokenID string
	admin   bool
	token   storage.Token
}

func (p *principal) mayWrite(namespace string) bool {
	return p.admin || auth.Allows(p.token, namespace)
}

// surveyor reports whether the caller holds a surveyor token.
func (p *principal) surveyor() bool { return !p.admin && auth.IsSurveyor(p.token) }

type principalKey struct{}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
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
func (s *Server) authenticate(ctx context.Context, method string) (context.Context, error) {
	ctx, err := s.resolve(ctx, method)
	if p, c := principalFrom(ctx), callFrom(ctx); p != nil && c != nil {
		c.tokenID = p.tokenID
	}
	return ctx, err
}

func (s *Server) resolve(ctx context.Context, method string) (context.Context, error) {
	admin := strings.HasPrefix(method, adminServicePrefix)
	if !admin && !publisherMethods[method] {
		return ctx, nil
	}
	token := bearer(ctx)
	if token == "" {
		return ctx, fmt.Errorf("%w: %s needs an \"authorization: Bearer <token>\" header", errUnauthenticated, method)
	}
	if s.admin.matches(token) {
		return context.WithValue(ctx, principalKey{}, &principal{tokenID: adminTokenID, admin: true}), nil
	}
	if admin {
		if s.admin == nil {
			return ctx, fmt.Errorf("%w: the admin API is closed (no admin token configured)", errPermissionDenied)
		}
		return ctx, fmt.Errorf("%w: %s needs the admin token", errUnauthenticated, method)
	}
	t, err := s.tokens.Authenticate(token, s.now())
	if err != nil {
		return ctx, fmt.Errorf("%w: %w", errUnauthenticated, err)
	}
	return context.WithValue(ctx, principalKey{}, &principal{tokenID: t.ID, token: t}), nil
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

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
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
