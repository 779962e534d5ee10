package server

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/internal/lru"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// metrics are the server's Prometheus metrics, in a registry of its own.
type metrics struct {
	registry    *prometheus.Registry
	rpcDuration *prometheus.HistogramVec
	submissions *prometheus.CounterVec
	// grpc are go-grpc-middleware's standard gRPC server metrics
	// (grpc_server_handled_total{grpc_type, grpc_service, grpc_method,
	// grpc_code} and the rest), which dashboards and alerts for any gRPC
	// server already know.
	grpc *grpcprom.ServerMetrics
	// caches are the caches reported at scrape time.
	caches *cacheCollector
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
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
		caches: &cacheCollector{},
	}
	m.registry.MustRegister(m.grpc, m.rpcDuration, m.submissions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "energylabel_db_size_bytes", Help: "Space the storage backend uses.",
	}, func() float64 { return float64(s.backend.Size()) }))
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "energylabel_connections_refused_total", Help: "Connections closed as accepted, their client address having its cap of open ones.",
	}, func() float64 { return float64(s.refusedConns.Load()) }))
	m.registry.MustRegister(&gradeCollector{s: s})
	m.registry.MustRegister(m.caches)
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

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// gradeCollector counts current ratings per grade under the current scheme
// at scrape time, so that it never drifts from the index.
type gradeCollector struct {
	s *Server
}

var ratingsDesc = prometheus.NewDesc("energylabel_ratings", "Current ratings by grade under the current scheme (\"none\": cohort without a reference).", []string{"grade"}, nil)

func (g *gradeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- ratingsDesc }

func (g *gradeCollector) Collect(ch chan<- prometheus.Metric) {
	var counts [8]int // A..G, then none
	g.s.index.EachRated(func(r *index.Rated) {
		// The grade the rating shows: a corrected one's determined grade.
		if gr := g.s.current.Grade(r.Shown()).Grade; gr != 0 {
			counts[gr-'A']++
		} else {
			counts[7]++
		}
	})
	for i, n := range counts {
		label := "none"
		if i < 7 {
			label = rating.Grade('A' + i).String()
		}
		ch <- prometheus.MustNewConstMetric(ratingsDesc, prometheus.GaugeValue, float64(n), label)
	}
}

// cacheCollector reports the caches at scrape time: GetRating's answers,
// and the web's images, image responses and pages (ReportCache).
type cacheCollector struct {
	mu     sync.Mutex
	caches []reportedCache
}

type reportedCache struct {
	name   string
	stats  func() lru.Stats
	budget int
}

// ReportCache adds a cache to those the metrics report, as
// energylabel_cache_*{cache="name"}, in place of an earlier one of the
// name.
func (s *Server) ReportCache(name string, stats func() lru.Stats, budget int) {
	c := s.metrics.caches
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caches = slices.DeleteFunc(c.caches, func(rc reportedCache) bool { return rc.name == name })
	c.caches = append(c.caches, reportedCache{name, stats, budget})
}

// MetricsRegistry is the registry /metrics serves, for the web's own.
func (s *Server) MetricsRegistry() *prometheus.Registry { return s.metrics.registry }

// MetricsHandler serves the metrics.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

var (
	cacheBytesDesc   = prometheus.NewDesc("energylabel_cache_bytes", "Bytes a cache of rendered images holds, keys and overhead included, within its budget (images: by what they are drawn from; responses: by the selection of an image URL).", []string{"cache"}, nil)
	cacheBudgetDesc  = prometheus.NewDesc("energylabel_cache_budget_bytes", "The bound in bytes of a cache of rendered images.", []string{"cache"}, nil)
	cacheEntriesDesc = prometheus.NewDesc("energylabel_cache_entries", "Entries a cache of rendered images holds.", []string{"cache"}, nil)
	cacheHitsDesc    = prometheus.NewDesc("energylabel_cache_hits_total", "Lookups a cache of rendered images answered.", []string{"cache"}, nil)
	cacheMissesDesc  = prometheus.NewDesc("energylabel_cache_misses_total", "Lookups a cache of rendered images could not answer (for responses, also those the store changed since).", []string{"cache"}, nil)
	cacheRatioDesc   = prometheus.NewDesc("energylabel_cache_hit_ratio", "Hits over lookups of a cache of rendered images since start; rate(hits)/rate(hits+misses) gives it over a window.", []string{"cache"}, nil)
)

func (*cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cacheBytesDesc, cacheBudgetDesc, cacheEntriesDesc, cacheHitsDesc, cacheMissesDesc, cacheRatioDesc} {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	report := func(name string, st lru.Stats, budget int) {
		ch <- prometheus.MustNewConstMetric(cacheBytesDesc, prometheus.GaugeValue, float64(st.Bytes), name)
		ch <- prometheus.MustNewConstMetric(cacheBudgetDesc, prometheus.GaugeValue, float64(budget), name)
		ch <- prometheus.MustNewConstMetric(cacheEntriesDesc, prometheus.GaugeValue, float64(st.Entries), name)
		ch <- prometheus.MustNewConstMetric(cacheHitsDesc, prometheus.CounterValue, float64(st.Hits), name)
		ch <- prometheus.MustNewConstMetric(cacheMissesDesc, prometheus.CounterValue, float64(st.Misses), name)
		ratio := 0.0
		if n := st.Hits + st.Misses; n > 0 {
			ratio = float64(st.Hits) / float64(n)
		}
		ch <- prometheus.MustNewConstMetric(cacheRatioDesc, prometheus.GaugeValue, ratio, name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rc := range c.caches {
		report(rc.name, rc.stats(), rc.budget)
	}
}
