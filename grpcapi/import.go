package grpcapi

import (
	"errors"
	"io"

	"google.golang.org/grpc"

	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// ImportResults stores the streamed results as the service's import
// takes them: each message's results are validated as they come, and
// stored in batches while the next arrive.
func (as adminService) ImportResults(stream grpc.ClientStreamingServer[energylabelv1.ImportResultsRequest, energylabelv1.ImportResultsResponse]) error {
	ctx := stream.Context()
	imp, err := as.s.svc.NewImport(ctx, callerFrom(ctx), auditOf(ctx, ""))
	if err != nil {
		return err
	}
	for err == nil {
		var req *energylabelv1.ImportResultsRequest
		if req, err = stream.Recv(); err != nil {
			break
		}
		// A new slice each message: the stored results point into it.
		results := make([]rating.Result, 0, len(req.GetResults()))
		for _, p := range req.GetResults() {
			results = append(results, wire.Result(p))
		}
		err = imp.Add(results)
	}
	done, ferr := imp.Finish() // what was taken is stored, whatever ended the stream
	if ferr != nil {
		return ferr
	}
	if !errors.Is(err, io.EOF) {
		return err // the stream's own failure; the results before it are stored
	}
	return stream.SendAndClose(&energylabelv1.ImportResultsResponse{Imported: done.Results, FirstResultId: done.FirstID, LastResultId: done.LastID})
}
