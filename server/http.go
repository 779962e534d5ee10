package server

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strings"
	"sync/atomic"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
)

// imageMaxAge is how long caches may keep a badge or label.
const imageMaxAge = "max-age=300"

//go:embed templates/*.html
var templateFS embed.FS

// HTTP is the HTTP surface: health, metrics, badges, labels and pages.
type HTTP struct {
	s        *Server
	mux      *http.ServeMux
	pages    *template.Template
	draining atomic.Bool
}

// NewHTTP builds the HTTP handler.
func (s *Server) NewHTTP() *HTTP {
	h := &HTTP{s: s, mux: http.NewServeMux()}
	h.pages = template.Must(template.New("").Funcs(pageFuncs).ParseFS(templateFS, "templates/*.html"))
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.Handle("GET /metrics", s.metrics.handler())
	h.mux.HandleFunc("GET /badge/{owner}/{file}", h.badge)
	h.mux.HandleFunc("GET /label/{owner}/{file}", h.label)
	h.mux.HandleFunc("GET /models/{owner}/{name}", h.modelPage)
	h.mux.HandleFunc("GET /tasks/{task}", h.taskPage)
	h.mux.HandleFunc("GET /{$}", h.indexPage)
	h.mux.HandleFunc("GET /favicon.svg", favicon)
	h.mux.HandleFunc("GET /favicon.ico", favicon)
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

// modelRating finds the rating an image shows: the model's rating for the
// task, or its only rating when no task is given. ok is false when the
// model has no such rating.
func (h *HTTP) modelRating(model, task string) (r *energylabelv1.Rating, ok bool, err error) {
	rated, err := h.s.ModelRatings(model, task)
	if err != nil {
		return nil, false, err
	}
	switch {
	case len(rated) == 0:
		return nil, false, nil
	case len(rated) > 1 && task == "":
		tasks := make([]string, len(rated))
		for i := range rated {
			tasks[i] = rated[i].Measure.Cohort.Task
		}
		return nil, false, rating.Invalid("task", "model %s has %d ratings (%s): add ?task=", model, len(rated), strings.Join(tasks, ", "))
	}
	// Several cohorts of one task (e.g. H100 and B200): the first, in cohort order.
	return h.s.ratingProto(&rated[0], h.s.current), true, nil
}

func (h *HTTP) pageURL(model string) string {
	return h.s.baseURL + "/models/" + model
}

func (h *HTTP) badge(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		http.NotFound(w, r)
		return
	}
	model := r.PathValue("owner") + "/" + name
	kind := label.GradeBadge
	switch r.URL.Query().Get("scheme") {
	case "", "grade":
	case "stars":
		kind = label.StarsBadge
	default:
		httpError(w, rating.Invalid("scheme", "badge scheme must be grade or stars"))
		return
	}
	rt, found, err := h.modelRating(model, r.URL.Query().Get("task"))
	if err != nil {
		httpError(w, err)
		return
	}
	if !found {
		serveImage(w, r, "image/svg+xml", label.NotRated(model))
		return
	}
	serveImage(w, r, "image/svg+xml", label.Badge(wire.LabelRating(rt, h.pageURL(model)), kind))
}

func (h *HTTP) label(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, format := file, ""
	for _, ext := range []string{".svg", ".png"} {
		if n, ok := strings.CutSuffix(file, ext); ok {
			name, format = n, ext
		}
	}
	if format == "" {
		http.NotFound(w, r)
		return
	}
	model := r.PathValue("owner") + "/" + name
	rt, found, err := h.modelRating(model, r.URL.Query().Get("task"))
	if err != nil {
		httpError(w, err)
		return
	}
	if !found {
		http.Error(w, fmt.Sprintf("model %s has no rating%s", model, forTask(r.URL.Query().Get("task"))), http.StatusNotFound)
		return
	}
	d, err := label.Label(wire.LabelRating(rt, h.pageURL(model)))
	if err != nil {
		httpError(w, err)
		return
	}
	if format == ".svg" {
		serveImage(w, r, "image/svg+xml", d.SVG())
		return
	}
	png, err := d.PNG()
	if err != nil {
		httpError(w, err)
		return
	}
	serveImage(w, r, "image/png", png)
}

// faviconSVG is a green energy-class arrow.
const faviconSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M2 6h20l8 10-8 10H2z" fill="#00a651"/><text x="11" y="22" font-family="Verdana,sans-serif" font-size="15" font-weight="bold" fill="#fff" text-anchor="middle">A</text></svg>`

func favicon(w http.ResponseWriter, r *http.Request) {
	serveImage(w, r, "image/svg+xml", []byte(faviconSVG))
}

// serveImage answers with a strong ETag from the content, and 304 when the
// client already has it.
func serveImage(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	hdr := w.Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", imageMaxAge)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		c := strings.TrimSpace(candidate)
		if c == etag || c == "*" {
			return true
		}
	}
	return false
}

// httpError answers with the status the domain error maps to. The message
// may echo a hostile path, so it is escaped even though it is plain text.
func httpError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if isInvalid(err) {
		code = http.StatusBadRequest
	}
	http.Error(w, html.EscapeString(err.Error()), code)
}

func isInvalid(err error) bool { return errors.Is(err, rating.ErrInvalid) }

var pageFuncs = template.FuncMap{
	"num": label.FormatNumber,
	"inc": func(i int) int { return i + 1 },
	"starRow": func(n int32) []bool {
		row := make([]bool, 5)
		for i := range row {
			row[i] = int32(i) < n
		}
		return row
	},
	"dateOf": func(ts *timestamppb.Timestamp) string { return ts.AsTime().UTC().Format("2006-01-02") },
}
