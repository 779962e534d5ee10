package grpcapi_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// dialFrom dials addr from a given loopback address, as another client.
func dialFrom(t *testing.T, from, addr string) *grpc.ClientConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) { return d.DialContext(ctx, "tcp", a) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// One client holding its share of watches cannot stop another address
// from watching: 1,024 idle watches from one client locked every other
// watcher out before.
func TestOneAddressCannotHoldEveryWatch(t *testing.T) {
	srv := servertest.Start(t)
	greedy := energylabelv1.NewRatingServiceClient(dialFrom(t, "127.0.0.3", srv.Addr))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watch := func(rs energylabelv1.RatingServiceClient) error {
		stream, err := rs.WatchRatings(ctx, &energylabelv1.WatchRatingsRequest{})
		if err != nil {
			return err
		}
		// An idle watch sends nothing; a refused one ends at once.
		got := make(chan error, 1)
		go func() { _, err := stream.Recv(); got <- err }()
		select {
		case err := <-got:
			return err
		case <-time.After(100 * time.Millisecond):
			return nil
		}
	}
	for i := range limits.DefaultWatchesPerAddress {
		if err := watch(greedy); err != nil {
			t.Fatalf("watch %d: %v", i, err)
		}
	}
	if err := watch(greedy); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("one more from the same address: %v, want ResourceExhausted", err)
	}
	other := energylabelv1.NewRatingServiceClient(dialFrom(t, "127.0.0.2", srv.Addr))
	if err := watch(other); err != nil {
		t.Errorf("a watch from another address: %v", err)
	}
}
