package grpcapi

import (
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/service"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"

	"strings"
	"time"

	"github.com/energylabel/energylabel/limits"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// metrics are the gRPC API's Prometheus metrics, in the service's registry.
type metrics struct {
	rpcDuration *prometheus.HistogramVec
	submissions *prometheus.CounterVec
	// grpc are go-grpc-middleware's standard gRPC server metrics
	// (grpc_server_handled_total{grpc_type, grpc_service, grpc_method,
	// grpc_code} and the rest), which dashboards and alerts for any gRPC
	// server already know.
	grpc *grpcprom.ServerMetrics
}

func newMetrics(reg *prometheus.Registry, clients *limits.Clients) *metrics {
	m := &metrics{
		rpcDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "energylabel_rpc_duration_seconds",
			Help:    "gRPC calls by method and status code, with their latency.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2.5, 12),
		}, []string{"method", "code"}),
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "energylabel_submissions_total",
			Help: "Submitted results by outcome (accepted, rejected) and reason (the refused field, or the status code).",
		}, []string{"outcome", "reason"}),
		grpc: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets(prometheus.ExponentialBuckets(50e-6, 2.5, 12)))),
	}
	m.grpc = service.Registered(reg, m.grpc)
	m.rpcDuration = service.Registered(reg, m.rpcDuration)
	m.submissions = service.Registered(reg, m.submissions)
	service.Registered(reg, prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "energylabel_connections_refused_total", Help: "Connections closed as accepted, their client address having its cap of open ones.",
	}, func() float64 { return float64(clients.RefusedConnections()) }))
	return m
}

func (m *metrics) observe(method string, err error, took time.Duration) {
	code := status.Code(err)
	m.rpcDuration.WithLabelValues(method, code.String()).Observe(took.Seconds())
	if method != energylabelv1.RatingService_SubmitResult_FullMethodName {
		return
	}
	if err == nil {
		m.submissions.WithLabelValues("accepted", "").Inc()
		return
	}
	reason := code.String()
	if code == codes.InvalidArgument {
		reason = "other" // a malformed request names no field
		for _, d := range status.Convert(err).Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.FieldViolations) > 0 {
				reason = submissionReason(br.FieldViolations[0].Field)
			}
		}
	}
	m.submissions.WithLabelValues("rejected", reason).Inc()
}

// submissionFields are the field paths of SubmitResultRequest and of the
// BenchmarkResult in it, as violations name them: the only values the
// reason label takes besides status codes and "other", so that no caller
// can add a series.
var submissionFields = func() map[string]bool {
	fields := map[string]bool{}
	var walk func(prefix string, md protoreflect.MessageDescriptor)
	walk = func(prefix string, md protoreflect.MessageDescriptor) {
		for i := range md.Fields().Len() {
			f := md.Fields().Get(i)
			path := prefix + string(f.Name())
			fields[path] = true
			if m := f.Message(); m != nil && m.ParentFile().Package() == md.ParentFile().Package() {
				walk(path+".", m)
			}
		}
	}
	req := (&energylabelv1.SubmitResultRequest{}).ProtoReflect().Descriptor()
	walk("", req)
	walk("", (&energylabelv1.BenchmarkResult{}).ProtoReflect().Descriptor())
	return fields
}()

// submissionReason is the reason label for a refused field:
// run_energies_wh[12] counts as run_energies_wh, and a name outside the
// API's fields as "other".
func submissionReason(field string) string {
	if submissionFields[field] {
		return field
	}
	var b strings.Builder
	for field != "" {
		i := strings.IndexByte(field, '[')
		if i < 0 {
			b.WriteString(field)
			break
		}
		b.WriteString(field[:i])
		j := strings.IndexByte(field[i:], ']')
		if j < 0 {
			return "other"
		}
		field = field[i+j+1:]
	}
	if f := b.String(); submissionFields[f] {
		return f
	}
	return "other"
}
