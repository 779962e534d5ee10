package grpcapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/service"
)

// httpStalenessHeader is service.StalenessHeader in canonical HTTP form.
var httpStalenessHeader = http.CanonicalHeaderKey(service.StalenessHeader)

// stalenessValue is the header of one staleness, in tenths of a second,
// made once: under load, most reads share it.
type stalenessValue struct {
	tenths int64
	md     metadata.MD
	http   []string
}

func (s *API) staleness() *stalenessValue {
	tenths := int64(s.svc.Staleness() / (100 * time.Millisecond))
	if v := s.stale.Load(); v != nil && v.tenths == tenths {
		return v
	}
	text := service.StalenessText(tenths)
	v := &stalenessValue{tenths: tenths, md: metadata.Pairs(service.StalenessHeader, text), http: []string{text}}
	s.stale.Store(v)
	return v
}

// isRead reports whether a gRPC method answers from what the server
// holds: the rating service's, but for submissions.
func isRead(method string) bool {
	return strings.HasPrefix(method, "/"+energylabelv1.RatingService_ServiceDesc.ServiceName+"/") &&
		method != energylabelv1.RatingService_SubmitResult_FullMethodName &&
		method != energylabelv1.RatingService_VerifyResult_FullMethodName
}

// sayStaleness puts the staleness header on a read's response.
func (s *API) sayStaleness(ctx context.Context, method string) {
	if isRead(method) {
		grpc.SetHeader(ctx, s.staleness().md)
	}
}

// readinessPoll is how often health follows Ready.
const readinessPoll = 100 * time.Millisecond

// ReportReadiness keeps gRPC health in step with Ready until ctx ends:
// NOT_SERVING while the index is rebuilt or the backend is silent, so
// that balancers send reads to a replica that is current.
func (s *API) ReportReadiness(ctx context.Context, hs *health.Server, services []string) {
	t := time.NewTicker(readinessPoll)
	defer t.Stop()
	ready := true // NewGRPC starts SERVING
	for {
		err := s.svc.Ready()
		if now := err == nil; now != ready {
			ready = now
			st := healthpb.HealthCheckResponse_SERVING
			if ready {
				s.log.Info("ready: the backend confirms the index current")
			} else {
				st = healthpb.HealthCheckResponse_NOT_SERVING
				s.log.Warn("not ready", "reason", err)
			}
			hs.SetServingStatus("", st)
			for _, name := range services {
				hs.SetServingStatus(name, st)
			}
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
