package client

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// echoServer is a bare gRPC server on a loopback socket that records each
// call's metadata and answers every method with reply.
type echoServer struct {
	addr  string
	md    chan metadata.MD
	reply error
}

func startEchoServer(t *testing.T, reply error) *echoServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &echoServer{addr: lis.Addr().String(), md: make(chan metadata.MD, 10), reply: reply}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		md, _ := metadata.FromIncomingContext(stream.Context())
		s.md <- md
		return s.reply
	}))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return s
}

func TestWithTokenSendsBearerMetadataOnLoopback(t *testing.T) {
	s := startEchoServer(t, status.Error(codes.PermissionDenied, "token may not write org-b"))
	c, err := Dial(s.addr, WithToken("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Submit(context.Background(), &energylabelv1.BenchmarkResult{Model: "org-b/x"}, "")
	if !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("Submit() = %v, want ErrPermissionDenied", err)
	}
	md := <-s.md
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer s3cret" {
		t.Errorf("authorization metadata = %q, want [Bearer s3cret]", got)
	}
}

func TestWithoutTokenSendsNoAuthorization(t *testing.T) {
	s := startEchoServer(t, status.Error(codes.NotFound, "no ratings"))
	c, err := Dial(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.GetRating(context.Background(), "acme/x", "", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetRating() = %v, want ErrNotFound", err)
	}
	if got := (<-s.md).Get("authorization"); len(got) != 0 {
		t.Errorf("authorization metadata = %q, want none", got)
	}
}

func TestDialRefusesAPlaintextTokenToARemoteHost(t *testing.T) {
	for _, addr := range []string{"energy.example.org:443", "10.0.0.1:50051", "dns:///energy.example.org:443"} {
		if c, err := Dial(addr, WithToken("s3cret")); err == nil {
			c.Close()
			t.Errorf("Dial(%q, WithToken) in plaintext succeeded", addr)
		}
		if c, err := Dial(addr, WithToken("s3cret"), WithTLS(nil)); err != nil {
			t.Errorf("Dial(%q, WithToken, WithTLS) = %v", addr, err)
		} else {
			c.Close()
		}
	}
}

func TestIsLoopback(t *testing.T) {
	tests := map[string]bool{
		"127.0.0.1:50051": true, "127.1.2.3:1": true, "[::1]:50051": true, "localhost:50051": true,
		"LOCALHOST:1": true, "dns:///localhost:50051": true, "passthrough:///127.0.0.1:9": true, "unix:///tmp/s.sock": true,
		"10.0.0.1:50051": false, "energy.example.org:443": false, "[2001:db8::1]:1": false, "0.0.0.0:50051": false,
	}
	for target, want := range tests {
		if got := isLoopback(target); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", target, got, want)
		}
	}
}

func TestWithCAFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Dial("127.0.0.1:1", WithCAFile(filepath.Join(dir, "missing.pem"))); err == nil {
		t.Error("Dial with a missing CA file succeeded")
	}
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial("127.0.0.1:1", WithCAFile(notPEM)); err == nil {
		t.Error("Dial with a CA file holding no certificate succeeded")
	}
	// The last transport option wins.
	c, err := Dial("127.0.0.1:1", WithCAFile(notPEM), WithInsecure())
	if err != nil {
		t.Fatalf("WithInsecure after WithCAFile: %v", err)
	}
	c.Close()
}

func TestWithDialOptionsAreApplied(t *testing.T) {
	s := startEchoServer(t, status.Error(codes.Unavailable, "draining"))
	var called bool
	c, err := Dial(s.addr, WithDialOptions(grpc.WithUnaryInterceptor(
		func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			called = true
			return invoker(ctx, method, req, reply, cc, opts...)
		})))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ListTasks(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("ListTasks() = %v, want ErrUnavailable", err)
	}
	if !called {
		t.Error("the interceptor given with WithDialOptions was not called")
	}
}

func TestInvalidArgumentFromAServer(t *testing.T) {
	s := startEchoServer(t, badRequest(t, "invalid result", "queries", "must be at least 1, got 0"))
	c, err := Dial(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Submit(context.Background(), &energylabelv1.BenchmarkResult{}, "")
	var inv *InvalidArgumentError
	if !errors.As(err, &inv) || len(inv.Violations) != 1 || inv.Violations[0].Field != "queries" {
		t.Fatalf("Submit() = %#v, want an *InvalidArgumentError naming queries", err)
	}
}
