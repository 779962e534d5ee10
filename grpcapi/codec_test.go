package grpcapi_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// The codec's two tricks (codec.go) hide nothing from an interceptor: a
// cached GetRating answer is a whole message to every interceptor and the
// same bytes to the client, and a request that does not decode is refused
// before any interceptor after the edge, or the handler, sees it.
func TestNoInterceptorSeesATrick(t *testing.T) {
	srv := servertest.Start(t)
	admin := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := admin.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/x", 1)}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []proto.Message
	spy := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		mu.Lock()
		seen = append(seen, req.(proto.Message))
		if resp != nil {
			seen = append(seen, resp.(proto.Message))
		}
		mu.Unlock()
		return resp, err
	}
	api, _ := servertest.Surfaces(srv.Server, limits.Limits{})
	g, _ := api.NewGRPC(grpc.ChainUnaryInterceptor(spy))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	t.Cleanup(g.Stop)
	conn := servertest.Dial(t, l.Addr().String())
	rs := energylabelv1.NewRatingServiceClient(conn)

	var answers []*energylabelv1.GetRatingResponse
	for range 3 { // a miss, then hits
		a, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "acme/x"})
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, a)
	}
	for i, a := range answers {
		if !proto.Equal(a, answers[0]) || len(a.GetRatings()) != 1 {
			t.Errorf("answer %d differs from the first: %v", i, a)
		}
	}
	mu.Lock()
	for _, m := range seen {
		if r, ok := m.(*energylabelv1.GetRatingResponse); ok && !proto.Equal(r, answers[0]) {
			t.Errorf("an interceptor saw %v, the client %v", r, answers[0])
		}
		if len(m.ProtoReflect().GetUnknown()) > 0 {
			t.Errorf("an interceptor saw unknown fields in %v", m)
		}
	}
	n := len(seen)
	mu.Unlock()
	if n != 6 {
		t.Errorf("the interceptor saw %d messages of 3 calls, want 6", n)
	}

	// A request that does not decode: a string field 5 bytes long, of 1.
	req, resp := []byte{0x0a, 0x05, 'a'}, []byte(nil)
	err = conn.Invoke(context.Background(), energylabelv1.RatingService_GetRating_FullMethodName, &req, &resp, grpc.ForceCodec(rawCodec{}))
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("a malformed request: %v, want InvalidArgument", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Errorf("an interceptor after the edge saw a malformed request: %v", seen[n:])
	}
}
