package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/energylabel/energylabel/grpcapi"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// floor serves what the measure of target 1 cannot go below: a bare gRPC
// server, with energylabeld's transport options but no interceptors, whose
// GetRating does no work at all: it answers each model of a request set
// with a copy of the real server's answer. ghz against its Health/Check
// and GetRating tells how much of the ratio is the load tool's own work on
// answers of that size.
func floor(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	addr := fs.String("addr", "127.0.0.1:50051", "the real server, to copy answers from")
	listen := fs.String("listen", "127.0.0.1:0", "where to serve")
	requests := fs.String("requests", "getrating.json", "GetRating requests (prepare's getrating.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*requests)
	if err != nil {
		return err
	}
	var reqs []struct{ Model string }
	if err := json.Unmarshal(b, &reqs); err != nil {
		return fmt.Errorf("%s: %w", *requests, err)
	}
	conn, err := dialGRPC(*addr)
	if err != nil {
		return err
	}
	canned := cannedRatings{answers: map[string]*energylabelv1.GetRatingResponse{}}
	for _, r := range reqs {
		resp, err := energylabelv1.NewRatingServiceClient(conn).GetRating(ctx, &energylabelv1.GetRatingRequest{Model: r.Model})
		if err != nil {
			conn.Close()
			return err
		}
		canned.answers[r.Model] = resp
	}
	conn.Close()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	g := grpc.NewServer(grpcapi.TransportOptions()...)
	energylabelv1.RegisterRatingServiceServer(g, canned)
	healthpb.RegisterHealthServer(g, health.NewServer())
	reflection.Register(g)
	fmt.Fprintln(stdout, l.Addr())
	go func() { <-ctx.Done(); g.Stop() }()
	return g.Serve(l)
}

type cannedRatings struct {
	energylabelv1.UnimplementedRatingServiceServer
	answers map[string]*energylabelv1.GetRatingResponse
}

func (c cannedRatings) GetRating(_ context.Context, req *energylabelv1.GetRatingRequest) (*energylabelv1.GetRatingResponse, error) {
	return c.answers[req.GetModel()], nil
}
