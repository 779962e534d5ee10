package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/energylabel/energylabel/service"
	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics count HTTP requests by route, the mux pattern that answered
// them ("GET /badge/{owner}/{file}", never the raw path, so that no client
// can add a series), and status, with their latency.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// unmatchedRoute is the route of a request no pattern matched.
const unmatchedRoute = "unmatched"

func newHTTPMetrics() *httpMetrics {
	return &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "energylabel_http_requests_total",
			Help: "HTTP requests by route (the pattern that answered them; \"unmatched\" for none) and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "energylabel_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by route, until the handler returned.",
			Buckets: prometheus.ExponentialBuckets(20e-6, 3, 12),
		}, []string{"route"}),
	}
}

// register registers the metrics in reg, or takes over those an earlier
// handler of the same server registered there.
func (m *httpMetrics) register(reg prometheus.Registerer) {
	m.requests = service.Registered(reg, m.requests)
	m.duration = service.Registered(reg, m.duration)
}

// observe counts a request that a route answered with code.
func (m *httpMetrics) observe(route string, code int, took time.Duration) {
	if route == "" {
		route = unmatchedRoute
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(took.Seconds())
}

// The routes of the images the response cache answers before routing;
// NewHTTP registers the same patterns.
const (
	badgeRoute   = "GET /badge/{owner}/{file}"
	labelRoute   = "GET /label/{owner}/{file}"
	historyRoute = "GET /history/{owner}/{file}"
)

// cachedRoutes are a response cache hit's series, resolved once, so that a
// hit counts itself without a lookup or an allocation.
type cachedRoutes [numImageKinds]struct {
	ok, notModified prometheus.Counter
	duration        prometheus.Observer
}

func (m *httpMetrics) cachedRoutes() *cachedRoutes {
	var c cachedRoutes
	for k := range c {
		route := badgeRoute
		switch imageKind(k) {
		case labelSVG, labelPNG:
			route = labelRoute
		case historySVG:
			route = historyRoute
		}
		c[k].ok = m.requests.WithLabelValues(route, "200")
		c[k].notModified = m.requests.WithLabelValues(route, "304")
		c[k].duration = m.duration.WithLabelValues(route)
	}
	return &c
}

// hit counts a request the response cache answered.
func (c *cachedRoutes) hit(kind imageKind, code int, took time.Duration) {
	r := &c[kind]
	if code == http.StatusNotModified {
		r.notModified.Inc()
	} else {
		r.ok.Inc()
	}
	r.duration.Observe(took.Seconds())
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 { // 1xx are interim
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// status is the status the client got: 200 when the handler wrote none.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
