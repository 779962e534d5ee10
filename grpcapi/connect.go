package grpcapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"connectrpc.com/connect/v2/connectproto"
	connectcors "connectrpc.com/cors"
	"github.com/rs/cors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/energylabel/energylabel/errdefs"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/proto/energylabel/v1/energylabelv1connect"
)

// The RatingService's reads are served on the HTTP port too: in the Connect
// protocol (JSON or protobuf over HTTP/1.1 or HTTP/2, and GET for the
// reads, which have no side effects) and in gRPC-Web. The methods are the
// gRPC port's, and every call passes the gRPC port's edge (unaryEdge,
// streamEdge), so it gets the same deadline, limits, error mapping, log
// line and metrics.

// httpReads are the procedures served over HTTP. SubmitResult, which needs
// a publisher token, and the AdminService stay on the gRPC port.
var httpReads = map[string]bool{
	energylabelv1connect.RatingServiceGetRatingProcedure:        true,
	energylabelv1connect.RatingServiceListRatingsProcedure:      true,
	energylabelv1connect.RatingServiceListTasksProcedure:        true,
	energylabelv1connect.RatingServiceListAcceleratorsProcedure: true,
	energylabelv1connect.RatingServiceListDatasetsProcedure:     true,
	energylabelv1connect.RatingServiceListReleasesProcedure:     true,
	energylabelv1connect.RatingServiceGetServerInfoProcedure:    true,
	energylabelv1connect.RatingServiceGetHistoryProcedure:       true,
	energylabelv1connect.RatingServiceWatchRatingsProcedure:     true,
}

// maxHTTPRequestBytes bounds a request body on the wire: one message of at
// most MaxRequestBytes, as on the gRPC port, in its 5-byte envelope.
const maxHTTPRequestBytes = MaxRequestBytes + 5

// endStreamGrace is how long the end of a stream may take to write once
// its handler has returned.
const endStreamGrace = 5 * time.Second

// openAPIMaxAge is how long caches may keep the OpenAPI document.
const openAPIMaxAge = "max-age=300"

// errShuttingDown ends the streams of a server that drains.
var errShuttingDown = errdefs.New(errdefs.Unavailable, "the server is shutting down; resume from the last revision received")

// errNotOverHTTP answers a call of a method that HTTP does not serve.
var errNotOverHTTP = connect.NewError(connect.CodeUnimplemented, "this method is served on the gRPC port only; HTTP serves the RatingService's reads")

// RPCHTTP serves the reads on the HTTP port.
type RPCHTTP struct {
	s *API
	// stopping is done when the server drains; it ends the streams.
	stopping context.Context
	stop     context.CancelFunc
}

// HTTPReads are the reads as the HTTP port serves them (see Mount).
func (s *API) HTTPReads() *RPCHTTP {
	r := &RPCHTTP{s: s}
	r.stopping, r.stop = context.WithCancel(context.Background())
	return r
}

// Mount serves the reads on mux, under the service's path, and the
// OpenAPI document of the reads at /openapi.json.
func (r *RPCHTTP) Mount(mux *http.ServeMux) {
	s := r.s
	cs := connect.NewServer(r.edge)
	energylabelv1connect.RegisterRatingServiceHandler(cs, connectRatings{ratingService{s: s}})
	routes := http.NewServeMux()
	connecthttp.Mount(routes, cs,
		connecthttp.WithReadMaxBytes(MaxRequestBytes),
		connecthttp.WithCodecs(connectproto.NewBinaryCodec(), newJSONCodec()))
	bounded := http.MaxBytesHandler(routes, maxHTTPRequestBytes)
	readsCORS := corsForReads()
	reads := readsCORS.Handler(bounded)
	mux.Handle("/"+energylabelv1connect.RatingServiceName+"/", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !httpReads[req.URL.Path] {
			bounded.ServeHTTP(w, req) // the edge refuses it, or Connect answers 404
			return
		}
		hc := &httpCall{header: w.Header(), rc: http.NewResponseController(w), client: s.clients.Addr(req.RemoteAddr, req.Header.Values("X-Forwarded-For"))}
		hc.w = refusalWriter{ResponseWriter: w, req: req}
		reads.ServeHTTP(&hc.w, req.WithContext(context.WithValue(req.Context(), httpCallKey{}, hc)))
	}))
	mux.Handle("GET /openapi.json", readsCORS.Handler(newOpenAPIDoc(s.svc.BaseURL())))
}

// Drain ends the streams, now and from now on.
func (r *RPCHTTP) Drain() { r.stop() }

// corsForReads lets pages on any origin call the reads: they are public,
// and take no credentials.
func corsForReads() *cors.Cors {
	return cors.New(cors.Options{
		AllowedOrigins: []string{"*"},
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: connectcors.AllowedHeaders(),
		ExposedHeaders: append(connectcors.ExposedHeaders(), httpStalenessHeader),
		MaxAge:         7200,
	})
}

// connectRatings is the RatingService as Connect calls it: the gRPC
// port's methods, except the stream's signature and SubmitResult.
type connectRatings struct{ ratingService }

func (connectRatings) SubmitResult(context.Context, *energylabelv1.SubmitResultRequest) (*energylabelv1.SubmitResultResponse, error) {
	return nil, errNotOverHTTP // the edge refuses it before this
}

func (c connectRatings) WatchRatings(ctx context.Context, req *energylabelv1.WatchRatingsRequest, stream energylabelv1connect.RatingServiceWatchRatingsServerStream) error {
	// HTTP clients wait for the response's headers before they read
	// events, which may be a long time coming.
	if err := stream.SendHeaders(); err != nil {
		return err
	}
	return c.ratingService.WatchRatings(req, watchStream{RatingServiceWatchRatingsServerStream: stream, ctx: ctx})
}

// edge runs each call through the gRPC port's edge. A call that is not a
// read is refused before its request is read.
func (r *RPCHTTP) edge(next connect.ServerFunc) connect.ServerFunc {
	return func(ctx context.Context, spec connect.Spec, stream connect.ServerStream) error {
		if !httpReads[spec.Procedure] {
			return errNotOverHTTP
		}
		info, _ := connect.CallInfoForServerContext(ctx)
		hc, _ := ctx.Value(httpCallKey{}).(*httpCall)
		ctx = context.WithValue(ctx, callKey{}, &call{protocol: info.Protocol, client: hc.client}) // the edge takes it over
		md := metadataHeaders{method: spec.Procedure, header: hc.header, info: info}
		ctx = grpc.NewContextWithServerTransportStream(ctx, md)
		if spec.StreamType == connect.StreamTypeUnary {
			_, err := r.s.unaryEdge(ctx, nil, &grpc.UnaryServerInfo{FullMethod: spec.Procedure}, func(ctx context.Context, _ any) (any, error) {
				return nil, fromConnect(next(ctx, spec, stream))
			})
			setRetryAfter(hc.header, err)
			return connectError(err)
		}
		return r.serveStream(ctx, spec, stream, md, hc.rc, next)
	}
}

// serveStream runs a server stream through streamEdge. Its guard runs the
// handler on a goroutine of its own, and returns when the stream times out
// or its client stalls, maybe while the handler is still writing; but an
// HTTP response must not outlive its handler. So each write has a deadline
// of the stall limit, and the call waits for the handler. The server's
// WriteTimeout, which would end the stream early, gives way to the
// stream's own limits once its request is in.
func (r *RPCHTTP) serveStream(ctx context.Context, spec connect.Spec, stream connect.ServerStream, md metadataHeaders, rc *http.ResponseController, next connect.ServerFunc) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopWhenDrained := context.AfterFunc(r.stopping, func() { cancel(errShuttingDown) })
	defer stopWhenDrained()
	gs := &grpcStream{metadataHeaders: md, ctx: ctx, stream: stream, rc: rc, idle: r.s.limits.StreamIdle}
	done := make(chan struct{})
	info := &grpc.StreamServerInfo{FullMethod: spec.Procedure, IsServerStream: true}
	err := r.s.streamEdge(nil, gs, info, func(_ any, guarded grpc.ServerStream) error {
		defer close(done)
		return fromConnect(next(guarded.Context(), spec, connectStream{guarded}))
	})
	<-done
	rc.SetWriteDeadline(time.Now().Add(endStreamGrace))
	return connectError(err)
}

// httpCall is the HTTP exchange of a read.
type httpCall struct {
	header http.Header
	rc     *http.ResponseController
	// client is the address per-client limits count the call as.
	client string
	// w is the response writer the call is served through.
	w refusalWriter
}

// refusalWriter gives the bodiless refusals of Connect's handlers a body
// that says what to send instead: a request whose Content-Type no
// protocol reads (curl -d sends application/x-www-form-urlencoded, Go's
// http.Post what it is told, a bare POST none), a GET with a body, or
// another method. The status stays Connect's. Everything else passes.
type refusalWriter struct {
	http.ResponseWriter
	req *http.Request
}

func (w *refusalWriter) WriteHeader(code int) {
	var msg string
	switch code {
	case http.StatusUnsupportedMediaType:
		msg = unsupportedMediaType(w.req, w.Header().Get("Accept-Post"))
	case http.StatusMethodNotAllowed:
		msg = fmt.Sprintf("method %s is not allowed for %s; allowed: %s\n",
			errdefs.Clip(w.req.Method, errdefs.MaxFieldBytes), errdefs.Clip(w.req.URL.Path, errdefs.MaxFieldBytes), w.Header().Get("Allow"))
	default:
		w.ResponseWriter.WriteHeader(code)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(msg)))
	w.ResponseWriter.WriteHeader(code)
	io.WriteString(w.ResponseWriter, msg)
}

// unsupportedMediaType says which content types the reads take, from the
// Accept-Post header Connect's handler set.
func unsupportedMediaType(req *http.Request, acceptPost string) string {
	if req.Method == http.MethodGet {
		return "a GET carries its request in its URL, ?encoding=json&message=<the request as URL-encoded JSON>, and has no body\n"
	}
	got := "no Content-Type"
	if ct := req.Header.Get("Content-Type"); ct != "" {
		got = "Content-Type " + strconv.Quote(errdefs.Clip(ct, errdefs.MaxFieldBytes))
	}
	// Connect's types first, then gRPC-Web's and gRPC's; a type with a
	// charset is the same type.
	var types []string
	for t := range strings.SplitSeq(acceptPost, ",") {
		if t = strings.TrimSpace(t); t != "" && !strings.Contains(t, ";") {
			types = append(types, t)
		}
	}
	rank := func(t string) int {
		switch {
		case strings.HasPrefix(t, "application/grpc-web"):
			return 1
		case strings.HasPrefix(t, "application/grpc"):
			return 2
		}
		return 0
	}
	slices.SortStableFunc(types, func(a, b string) int { return rank(a) - rank(b) })
	if len(types) == 0 {
		types = []string{"application/json", "application/proto"}
	}
	example := "curl -H 'Content-Type: application/json' -d '{...}'"
	if slices.Contains(types, "application/connect+json") {
		example = "buf curl --schema proto --data '{...}'" // a stream's messages are enveloped
	}
	scheme := "http://"
	if req.TLS != nil {
		scheme = "https://"
	}
	return fmt.Sprintf("%s: POST the request with a Content-Type the API reads: %s (see /openapi.json); for JSON: %s %s\n",
		got, strings.Join(types, ", "), example, errdefs.Clip(scheme+req.Host+req.URL.Path, errdefs.MaxMessageBytes))
}

// Flush, and Unwrap for http.ResponseController, keep the streams
// working through the wrapper.
func (w *refusalWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

func (w *refusalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type httpCallKey struct{}

// fromConnect turns an error of Connect's transport (a request that does
// not decode, or is too large) into a status, as the gRPC port reports
// them. The methods' own errors pass as they are, for the edge to map.
func fromConnect(err error) error {
	ce, ok := errors.AsType[*connect.Error](err)
	if !ok {
		return err
	}
	if ce.Code() == connect.CodeInvalidArgument {
		return malformed(ce.Message())
	}
	return status.Error(codes.Code(ce.Code()), errdefs.Clip(ce.Message(), errdefs.MaxMessageBytes))
}

// connectError is the edge's status as a Connect error: the same code,
// message and details. A detail's debug form, which the Connect protocol
// shows in JSON, uses proto field names as the responses do.
func connectError(err error) error {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	ce := connect.NewError(connect.Code(st.Code()), st.Message())
	for _, a := range st.Proto().GetDetails() {
		d, derr := connectproto.NewErrorDetail(a)
		if derr != nil {
			continue
		}
		if m, uerr := a.UnmarshalNew(); uerr == nil {
			d.Debug, _ = protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		}
		ce = ce.WithDetail(d)
	}
	return ce
}

// responseJSON is protojson as the CLI's -json prints it: proto field
// names, and every field, set or not.
var responseJSON = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// jsonCodec is Connect's JSON codec, writing responseJSON.
type jsonCodec struct{ *connectproto.JSONCodec }

func newJSONCodec() jsonCodec {
	c := connectproto.NewJSONCodec()
	c.MarshalOptions.UseProtoNames = responseJSON.UseProtoNames
	c.MarshalOptions.EmitUnpopulated = responseJSON.EmitUnpopulated
	return jsonCodec{c}
}

// metadataHeaders is where the edge's gRPC metadata goes on HTTP: into the
// response's headers, replacing what the HTTP surface said of the same
// name, and into its trailers.
type metadataHeaders struct {
	method string
	header http.Header
	info   *connect.CallInfo
}

func (m metadataHeaders) Method() string { return m.method }

func (m metadataHeaders) SetHeader(md metadata.MD) error {
	for k, vs := range md {
		m.header[http.CanonicalHeaderKey(k)] = headerValues(k, vs)
	}
	return nil
}

func (m metadataHeaders) SendHeader(md metadata.MD) error { return m.SetHeader(md) }

func (m metadataHeaders) SetTrailer(md metadata.MD) error {
	for k, vs := range md {
		m.info.ResponseTrailer().SetValues(k, headerValues(k, vs))
	}
	return nil
}

// headerValues are metadata values as HTTP carries them: binary ones in
// base64.
func headerValues(key string, vs []string) []string {
	if !strings.HasSuffix(key, "-bin") {
		return vs
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = connect.EncodeBinaryHeader([]byte(v))
	}
	return out
}

// grpcStream is a Connect server stream as streamEdge takes it.
type grpcStream struct {
	metadataHeaders
	ctx    context.Context
	stream connect.ServerStream
	rc     *http.ResponseController
	idle   time.Duration
}

func (g *grpcStream) Context() context.Context { return g.ctx }

func (g *grpcStream) SendHeader(md metadata.MD) error {
	g.SetHeader(md)
	return g.stream.SendHeaders()
}

func (g *grpcStream) SetTrailer(md metadata.MD) { g.metadataHeaders.SetTrailer(md) }

func (g *grpcStream) RecvMsg(m any) error {
	err := g.stream.Receive(m)
	g.writeDeadline(time.Time{}) // the request is in: the guard bounds the rest
	return err
}

func (g *grpcStream) SendMsg(m any) error {
	g.writeDeadline(time.Now().Add(g.idle))
	defer g.writeDeadline(time.Time{})
	return g.stream.Send(m)
}

// writeDeadline replaces the server's WriteTimeout, which counts from the
// request's start, and which HTTP/2 enforces even between writes.
func (g *grpcStream) writeDeadline(t time.Time) { g.rc.SetWriteDeadline(t) }

// connectStream is the guarded gRPC stream as Connect's handlers use it.
type connectStream struct{ grpc.ServerStream }

func (c connectStream) Receive(m any) error { return c.RecvMsg(m) }
func (c connectStream) SendHeaders() error  { return c.SendHeader(nil) }
func (c connectStream) Send(m any) error    { return c.SendMsg(m) }

// watchStream is a Connect WatchRatings stream as the gRPC method sends to
// it; its context is the guarded stream's.
type watchStream struct {
	energylabelv1connect.RatingServiceWatchRatingsServerStream
	ctx context.Context
}

func (w watchStream) Context() context.Context { return w.ctx }

func (w watchStream) SetHeader(md metadata.MD) error { return grpc.SetHeader(w.ctx, md) }

func (w watchStream) SendHeader(md metadata.MD) error {
	if err := grpc.SetHeader(w.ctx, md); err != nil {
		return err
	}
	return w.SendHeaders()
}

func (w watchStream) SetTrailer(md metadata.MD) { grpc.SetTrailer(w.ctx, md) }

func (w watchStream) SendMsg(m any) error {
	resp, ok := m.(*energylabelv1.WatchRatingsResponse)
	if !ok {
		return errors.New("watch: not a WatchRatingsResponse")
	}
	return w.Send(resp)
}

func (w watchStream) RecvMsg(any) error { return io.EOF } // a server stream's one request is in already

// openAPI is the OpenAPI 3.1 document of the reads and the images, which
// scripts/generate.sh generates from the proto and openapi.base.yaml.
//
//go:embed openapi.json
var openAPI []byte

// openAPIDoc is the OpenAPI document as a server serves it: naming the
// server's public URL as its one server, with an ETag of that.
type openAPIDoc struct {
	body []byte
	etag string
}

func newOpenAPIDoc(baseURL string) *openAPIDoc {
	body := withServer(openAPI, baseURL)
	sum := sha256.Sum256(body)
	return &openAPIDoc{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

func (d *openAPIDoc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", openAPIMaxAge)
	w.Header().Set("ETag", d.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(d.body))
}

// withServer returns doc with its top-level servers replaced by one, the
// public base URL, leaving every other byte as it is; doc itself when
// baseURL is empty or doc has no servers.
func withServer(doc []byte, baseURL string) []byte {
	baseURL = strings.TrimRight(baseURL, "/")
	if baseURL == "" {
		return doc
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return doc
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return doc
		}
		afterKey := dec.InputOffset()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return doc
		}
		if key != "servers" {
			continue
		}
		end := dec.InputOffset()
		start := afterKey + int64(bytes.IndexByte(doc[afterKey:end], '['))
		servers, err := json.MarshalIndent([]openAPIServer{{URL: baseURL, Description: "this server's public URL (energylabeld -base-url)"}}, "  ", "  ")
		if err != nil || start < afterKey {
			return doc
		}
		out := make([]byte, 0, len(doc)+len(servers))
		out = append(out, doc[:start]...)
		out = append(out, servers...)
		return append(out, doc[end:]...)
	}
	return doc
}

type openAPIServer struct {
	URL         string `json:"url"`
	Description string `json:"description"`
}
