package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/energylabel/energylabel/internal/synth"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// perMessage is how many results one ImportResults message carries, about
// 250 KB: well under the server's 1 MiB request limit.
const perMessage = 1000

func dialGRPC(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// load streams a synthetic registry through AdminService.ImportResults and
// reports the rate, counted until the server's answer, which comes once
// every result is on disk.
func load(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	addr := fs.String("addr", "127.0.0.1:50051", "gRPC address")
	token := fs.String("token", "", "admin token")
	n := fs.Int("n", 10000, "results to load")
	seed := fs.Uint64("seed", 1, "registry seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	conn, err := dialGRPC(*addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	reg := synth.New(synth.Config{Results: *n, Seed: *seed})

	// Generating and encoding results costs the client about as much CPU
	// as validating and storing them costs the server; a producer keeps it
	// off the sending goroutine.
	msgs := make(chan *energylabelv1.ImportResultsRequest, 4)
	go func() {
		defer close(msgs)
		req := &energylabelv1.ImportResultsRequest{}
		reg.Each(func(r rating.Result) bool {
			req.Results = append(req.Results, wire.BenchmarkResult(&r))
			if len(req.Results) == perMessage {
				select {
				case msgs <- req:
				case <-ctx.Done():
					return false
				}
				req = &energylabelv1.ImportResultsRequest{}
			}
			return true
		})
		if len(req.Results) > 0 {
			msgs <- req
		}
	}()

	start := time.Now()
	stream, err := energylabelv1.NewAdminServiceClient(conn).ImportResults(withToken(ctx, *token))
	if err != nil {
		return err
	}
	for m := range msgs {
		if err := stream.Send(m); err != nil {
			break // CloseAndRecv says why
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	took := time.Since(start)
	if resp.GetImported() != int64(*n) {
		return fmt.Errorf("server stored %d of %d results", resp.GetImported(), *n)
	}
	return printJSON(stdout, map[string]any{
		"results": resp.GetImported(), "seconds": took.Seconds(), "results_per_second": float64(*n) / took.Seconds(),
		"series": len(reg.Series()), "first_result_id": resp.GetFirstResultId(), "last_result_id": resp.GetLastResultId(),
	})
}
