package server

import (
	"net/http"
	"sync/atomic"
)

// HTTP is the HTTP surface: health, metrics, badges, labels and pages.
type HTTP struct {
	s        *Server
	mux      *http.ServeMux
	draining atomic.Bool
}

// NewHTTP builds the HTTP handler.
func (s *Server) NewHTTP() *HTTP {
	h := &HTTP{s: s, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.Handle("GET /metrics", s.metrics.handler())
	return h
}

func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Drain makes /healthz report 503, so that balancers stop sending traffic
// before shutdown.
func (h *HTTP) Drain() { h.draining.Store(true) }

func (h *HTTP) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if h.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("shutting down\n"))
		return
	}
	w.Write([]byte("ok\n"))
}
