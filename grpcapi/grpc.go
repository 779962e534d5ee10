// Package grpcapi serves the application service as energylabel's API:
// over gRPC, and its reads over Connect and gRPC-Web on the HTTP port.
// Handlers decode, call the service and encode; every call passes one edge
// (deadline, authentication, per-client limits, error mapping, log line,
// metrics), and streams get their limits.
package grpcapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/internal/lru"
	"github.com/energylabel/energylabel/limits"
	"github.com/energylabel/energylabel/service"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/storage"
)

// Limits of every call.
const (
	// MaxRequestBytes bounds a request; larger ones get ResourceExhausted.
	MaxRequestBytes = 1 << 20
	// DefaultRPCTimeout applies to calls that arrive without a deadline.
	DefaultRPCTimeout = 30 * time.Second
)

// streamWorkers serve calls on goroutines that live on, instead of one new
// goroutine per call, which grows its stack by copying it on every call
// (12% of the CPU of a GetRating or a health check, before).
const streamWorkers = 64

// TransportOptions are the gRPC server options of NewGRPC below its
// services and interceptors: the bare transport, which the benchmarks
// measure as a floor.
func TransportOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxRequestBytes), grpc.NumStreamWorkers(streamWorkers)}
}

// API is the service as the API serves it, with what the API keeps of
// its own: its caches, metrics and log sampling.
type API struct {
	svc     *service.Service
	clients *limits.Clients
	limits  limits.Limits
	log     *slog.Logger
	// logSample bounds the call lines logged per method and code.
	logSample *logSampler
	metrics   *metrics
	// events are the watch events of recent results, shared by watchers.
	events *lru.Cache[sharedEventKey, *energylabelv1.RatingEvent]
	// answers are GetRating's encoded answers.
	answers *answerCache
	// stale caches the staleness header.
	stale atomic.Pointer[stalenessValue]
}

// New builds the API of svc, under the per-client limits of clients.
func New(svc *service.Service, clients *limits.Clients) *API {
	s := &API{svc: svc, clients: clients, limits: clients.Limits(), log: svc.Logger(), logSample: newLogSampler(),
		metrics: newMetrics(svc.MetricsRegistry(), clients), answers: newAnswerCache(answerCacheBudget), events: newSharedEvents()}
	svc.ReportCache("answers", s.answers.lru.Stats, answerCacheBudget)
	svc.ReportCache("events", s.events.Stats, sharedEventsBudget)
	return s
}

// NewGRPC builds the gRPC server with the rating and admin services,
// health and reflection registered.
func (s *API) NewGRPC(opts ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	opts = append(append(append(TransportOptions(), connectionOptions(s.limits)...),
		// The standard metrics see each call as its client does: outside
		// the edge, which maps errors to status codes.
		grpc.ChainUnaryInterceptor(s.metrics.grpc.UnaryServerInterceptor(), s.unaryEdge, s.unaryAuth),
		grpc.ChainStreamInterceptor(s.metrics.grpc.StreamServerInterceptor(), s.streamEdge, s.streamAuth),
		grpc.ForceServerCodecV2(newRequestCodec()),
	), opts...)
	g := grpc.NewServer(opts...)
	g.RegisterService(s.decodeGuard(&energylabelv1.RatingService_ServiceDesc), ratingService{s: s})
	g.RegisterService(s.decodeGuard(&energylabelv1.AdminService_ServiceDesc), adminService{s: s})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(g, hs)
	for name := range g.GetServiceInfo() {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	reflection.Register(g)
	s.metrics.grpc.InitializeMetrics(g)
	return g, hs
}

// call is what the edge learns about a call as it passes inward.
type call struct {
	tokenID string
	// protocol is the protocol of a call on the HTTP port (connect,
	// grpcweb, grpc); "" on the gRPC port.
	protocol string
	// edged is set when the call reaches the interceptors, which a
	// request that does not decode never does.
	edged bool
	// client is the address per-client limits count the call as, once
	// clientOf worked it out (the HTTP port's edge does at once).
	client string
}

// clientOf is the address per-client limits count a call as: the HTTP
// port's edge works it out from the request; on the gRPC port, it is
// the connection's peer, or whom a trusted proxy's x-forwarded-for names.
func (s *API) clientOf(ctx context.Context) string {
	c := callFrom(ctx)
	if c != nil && c.client != "" {
		return c.client
	}
	remote := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		remote = p.Addr.String()
	}
	md, _ := metadata.FromIncomingContext(ctx)
	client := s.clients.Addr(remote, md.Get("x-forwarded-for"))
	if c != nil {
		c.client = client
	}
	return client
}

type callKey struct{}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// unaryEdge gives every call a request id and a deadline, maps its error
// to a status, and logs it. Tokens are never logged.
func (s *API) unaryEdge(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	c := callFrom(ctx) // made by decodeGuard, for our own services
	if c == nil {
		c = &call{}
		ctx = context.WithValue(ctx, callKey{}, c)
	}
	c.edged = true
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRPCTimeout)
		defer cancel()
	}
	err := malformedRequest(req)
	if err == nil && costlyReads[info.FullMethod] {
		err = s.clients.SpendReads(s.clientOf(ctx), 1)
	}
	var resp any
	s.sayStaleness(ctx, info.FullMethod)
	if err == nil {
		resp, err = handler(ctx, req)
	}
	st := toStatus(err)
	s.metrics.observe(info.FullMethod, st, time.Since(start))
	s.logCall(ctx, c, info.FullMethod, start, st, err)
	return resp, st
}

// costlyReads are the unary reads that draw on the caller's read budget:
// they read the store, where the others answer from memory. (A watch
// that replays draws on it too.)
var costlyReads = map[string]bool{
	energylabelv1.RatingService_GetHistory_FullMethodName: true,
}

// streamEdge is unaryEdge for streams, which also get the stream limits:
// a deadline, and an end when the client stalls.
func (s *API) streamEdge(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	c := callFrom(ss.Context()) // made by the HTTP port's edge
	if c == nil {
		c = &call{}
	}
	ctx := context.WithValue(ss.Context(), callKey{}, c)
	limits := s.limits
	if isRead(info.FullMethod) {
		ss.SetHeader(s.staleness().md)
	}
	if info.FullMethod == energylabelv1.RatingService_WatchRatings_FullMethodName {
		limits.StreamTimeout = limits.WatchMaxAge // a watch is meant to last; stalling still ends it
	}
	err := guard(ctx, limits, ss, func(gs grpc.ServerStream) error { return handler(srv, gs) })
	st := toStatus(err)
	s.metrics.observe(info.FullMethod, st, time.Since(start))
	s.logCall(ctx, c, info.FullMethod, start, st, err)
	return st
}

// logCall logs a finished call: st is what the client got, cause the error
// it came from. The request id exists for the log line alone, so it is made
// only when the line is written: with -log-level warn, a successful call
// costs the log nothing. Every value is bounded, so a line stays short
// whatever the request held.
func (s *API) logCall(ctx context.Context, c *call, method string, start time.Time, st, cause error) {
	code := status.Code(st)
	level := callLevel(method, code)
	if !s.log.Enabled(ctx, level) {
		return
	}
	ok, suppressed := s.logSample.allow(sampleKey{method, code}, time.Now())
	if !ok {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", newRequestID()), slog.String("method", errdefs.Clip(method, errdefs.MaxFieldBytes)),
		slog.String("code", code.String()), slog.Duration("duration", time.Since(start)),
	}
	if c.tokenID != "" {
		attrs = append(attrs, slog.String("token_id", c.tokenID))
	}
	if c.protocol != "" {
		attrs = append(attrs, slog.String("protocol", c.protocol))
	}
	if st != nil {
		attrs = append(attrs, slog.String("error", errdefs.Clip(status.Convert(st).Message(), errdefs.MaxMessageBytes)))
	}
	if cause != nil && (code == codes.Internal || code == codes.Unavailable || errors.Is(cause, storage.ErrFull)) {
		// The client was told only that something failed; the log says what.
		attrs = append(attrs, slog.String("cause", errdefs.Clip(cause.Error(), errdefs.MaxMessageBytes)))
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed_before", suppressed))
	}
	s.log.LogAttrs(ctx, level, "rpc", attrs...)
}

// callLevel is the level of a finished call's line: info when it
// succeeded; debug for a public read that ended NotFound or
// InvalidArgument, which is the caller's business and which anyone can
// cause at any rate; warn for any other failure.
func callLevel(method string, code codes.Code) slog.Level {
	switch {
	case code == codes.OK:
		return slog.LevelInfo
	case isRead(method) && (code == codes.NotFound || code == codes.InvalidArgument):
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// decodeGuard returns a copy of a service whose unary methods log and
// count a call that fails before the interceptors see it: a request over
// the size limit, or one that does not decompress. grpc has answered it
// already; this only records how.
func (s *API) decodeGuard(sd *grpc.ServiceDesc) *grpc.ServiceDesc {
	out := *sd
	out.Methods = slices.Clone(sd.Methods)
	for i := range out.Methods {
		h, method := out.Methods[i].Handler, "/"+sd.ServiceName+"/"+out.Methods[i].MethodName
		out.Methods[i].Handler = func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			start := time.Now()
			c := &call{}
			ctx = context.WithValue(ctx, callKey{}, c) // unaryEdge takes it over
			resp, err := h(srv, ctx, dec, ic)
			if err == nil || c.edged {
				return resp, err
			}
			st := toStatus(err)
			s.metrics.observe(method, st, time.Since(start))
			s.logCall(ctx, c, method, start, st, err)
			return nil, st
		}
	}
	return &out
}
