// Package web is energylabel's site: health and metrics, badges, labels
// and history charts, the leaderboard, task, model and search pages, and
// the caches that keep them cheap, over the application service; beside
// them, on the same port, the API's reads over Connect.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/internal/wire"
	"github.com/energylabel/energylabel/limits"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
	"github.com/energylabel/energylabel/service"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// imageMaxAge is how long caches may keep a badge or label.
const imageMaxAge = "max-age=300"

//go:embed templates/*.html
var templateFS embed.FS

// HTTP is the HTTP surface: health, metrics, badges, labels and pages.
type HTTP struct {
	s         *service.Service
	clients   *limits.Clients
	mux       *http.ServeMux
	pages     *template.Template
	images    *imageCache
	responses *responseCache // nil when the store has no Version
	metrics   *httpMetrics
	hits      *cachedRoutes // the response cache's hits' series
	// site is the server's: the model list search scans, and the page cache.
	site     *pageState
	draining atomic.Bool
	stale    atomic.Pointer[stalenessValue]
	rpc      Mounter // the API's reads
}

// Mounter serves more routes on the site's mux: the API's reads over
// Connect and gRPC-Web. Drain ends its streams.
type Mounter interface {
	Mount(mux *http.ServeMux)
	Drain()
}

// New builds the HTTP handler of s: its pages, images and their caches,
// health and metrics, under the per-client limits of clients, with rpc's
// routes beside them. A process has one.
func New(s *service.Service, clients *limits.Clients, rpc Mounter) *HTTP {
	metrics := newHTTPMetrics()
	metrics.register(s.MetricsRegistry())
	h := &HTTP{s: s, clients: clients, rpc: rpc, mux: http.NewServeMux(), images: newImageCache(imageCacheBudget),
		responses: newResponseCache(s.Index(), responseCacheBudget), site: &pageState{cache: newPageCache(s.Index(), pageCacheBudget)},
		metrics: metrics, hits: metrics.cachedRoutes()}
	s.ReportCache("images", h.images.Stats, imageCacheBudget)
	s.ReportCache("responses", h.responses.lru.Stats, responseCacheBudget)
	s.ReportCache("pages", h.site.cache.stats, pageCacheBudget)
	h.pages = template.Must(template.New("").Funcs(pageFuncs).ParseFS(templateFS, "templates/*.html"))
	_, h.site.cache.failed = h.page(http.StatusInternalServerError, "problem.html",
		problemView{Title: http.StatusText(http.StatusInternalServerError), Message: errdefs.InternalMessage})
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(s.MetricsRegistry(), promhttp.HandlerOpts{Registry: s.MetricsRegistry()}))
	h.mux.HandleFunc(badgeRoute, h.badge)
	h.mux.HandleFunc(labelRoute, h.label)
	h.mux.HandleFunc(historyRoute, h.history)
	h.mux.HandleFunc("GET /models/{owner}/{name}", h.modelPage)
	h.mux.HandleFunc("GET /tasks/{task}", h.taskPage)
	h.mux.HandleFunc("GET /{$}", h.indexPage)
	h.mux.HandleFunc("GET /search", h.searchPage)
	h.mux.HandleFunc("GET /favicon.svg", favicon)
	h.mux.HandleFunc("GET /favicon.ico", favicon)
	h.mux.HandleFunc(notFoundPattern, h.notFound)
	rpc.Mount(h.mux)
	return h
}

func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header()[stalenessHeader] = h.staleness()
	// Only images are cached, and only GET requests look: whatever else
	// reaches the handlers as before.
	if r.Method == http.MethodGet && h.responses != nil {
		if sel, ok := selectionOf(r.URL.Path, r.URL.RawQuery, h.s.Registry().Accelerators); ok {
			if img := h.responses.get(sel); img != nil {
				h.hits.hit(sel.kind, img.serve(w, r), time.Since(start))
				return
			}
		}
	}
	sw := &statusWriter{ResponseWriter: w}
	h.mux.ServeHTTP(sw, r)
	route := r.Pattern // the mux set it
	if route == notFoundPattern {
		route = "" // no page's route: unmatched
	}
	h.metrics.observe(route, sw.status(), time.Since(start))
}

// clientOf is the address per-client limits count a request as.
func (h *HTTP) clientOf(r *http.Request) string {
	return h.clients.Addr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}

// admit draws on r's caller's read budget: what a page that must be
// built costs.
func (h *HTTP) admit(r *http.Request) func() error {
	return func() error { return h.clients.SpendReads(h.clientOf(r), 1) }
}

// Drain makes /healthz report 503, so that balancers stop sending traffic
// before shutdown, and ends the streams of the reads.
func (h *HTTP) Drain() {
	h.draining.Store(true)
	h.rpc.Drain()
}

func (h *HTTP) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if h.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("shutting down\n"))
		return
	}
	if err := h.s.Ready(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: " + err.Error() + "\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// imageQuery is what an image URL's query says: which of a model's
// ratings to show, and for badges, how. Other parameters are ignored.
type imageQuery struct {
	// show is what a badge shows, grade or stars; scheme a grade scheme
	// version, "" for the current one; style and label are shields'.
	task, hardware, dataset, show, scheme, style, label string
	// labelSet is set when the query has label=, even empty.
	labelSet bool
}

// parseImageQuery reads the query in one pass, without building a map;
// the first value of a parameter counts, as with url.Values.Get.
func parseImageQuery(raw string) imageQuery {
	var q imageQuery
	var seen [7]bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok := unescape(k)
		if !ok {
			continue
		}
		var dst *string
		var i int
		switch k {
		case "task":
			dst, i = &q.task, 0
		case "hardware":
			dst, i = &q.hardware, 1
		case "dataset":
			dst, i = &q.dataset, 2
		case "show":
			dst, i = &q.show, 3
		case "scheme":
			dst, i = &q.scheme, 4
		case "style":
			dst, i = &q.style, 5
		case "label":
			dst, i = &q.label, 6
		default:
			continue
		}
		if v, ok := unescape(v); ok && !seen[i] {
			*dst, seen[i] = v, true
		}
	}
	q.labelSet = seen[6]
	return q
}

// choice is what an image URL's query chooses of a model's ratings.
func (q imageQuery) choice(accels *rating.Accelerators) (index.Choice, error) {
	return service.ChoiceOf(accels, q.task, q.hardware, q.dataset)
}

// forTask names a task in a message, or nothing.
func forTask(task string) string {
	if task == "" {
		return ""
	}
	return " for task " + task
}

func (h *HTTP) pageURL(model string) string {
	return h.s.BaseURL() + "/models/" + model
}

// badge answers /badge/{owner}/{name}.svg, and .json for shields'
// endpoint.
func (h *HTTP) badge(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	json := false
	if !ok {
		name, json = strings.CutSuffix(r.PathValue("file"), ".json")
	}
	if !ok && !json {
		h.notFound(w, r)
		return
	}
	q := parseImageQuery(r.URL.RawQuery)
	kind, err := badgeKind(q.show)
	if json {
		kind = kind.asJSON()
	}
	if err != nil {
		h.imageError(w, r, kind, badgeLook{}, err)
		return
	}
	h.serveImage(w, r, kind, r.PathValue("owner")+"/"+name, q)
}

func (h *HTTP) label(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	kind := labelSVG
	name, ok := strings.CutSuffix(file, ".svg")
	if !ok {
		kind = labelPNG
		name, ok = strings.CutSuffix(file, ".png")
	}
	if !ok {
		h.notFound(w, r)
		return
	}
	h.serveImage(w, r, kind, r.PathValue("owner")+"/"+name, parseImageQuery(r.URL.RawQuery))
}

// history answers /history/{owner}/{name}.svg: the model's energy over
// time in the cohort the query picks, as a chart.
func (h *HTTP) history(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		h.notFound(w, r)
		return
	}
	h.serveImage(w, r, historySVG, r.PathValue("owner")+"/"+name, parseImageQuery(r.URL.RawQuery))
}

// historyChart draws the history of a rating's model in its cohort: its
// latest results, at most as many as the chart shows.
func (h *HTTP) historyChart(ctx context.Context, rt *index.Rated, scheme *rating.GradeScheme) (*image, error) {
	c := rt.Measure.Cohort
	entries, err := h.s.RecentHistory(ctx, rt.Model, c, maxHistoryChart)
	if err != nil {
		return nil, err
	}
	chart := label.HistoryChart{Unit: c.Basis.Symbol(), Reference: scheme.Grade(rt.Measure).Reference}
	for _, e := range entries {
		if e.Measure.Cohort == c {
			// When it was measured (an imported leaderboard's date), else
			// when it was received.
			at := e.MeasuredAt
			if at.IsZero() {
				at = e.ReceivedAt
			}
			chart.Points = append(chart.Points, label.HistoryPoint{At: at, X: e.Measure.X(), Grade: e.Label.Grade})
		}
	}
	return newImage("image/svg+xml", chart.SVG()), nil
}

// maxHistoryChart bounds the results one chart reads.
const maxHistoryChart = 500

// serveImage answers an image URL, and keeps the image it answered with
// under the URL's selection.
func (h *HTTP) serveImage(w http.ResponseWriter, r *http.Request, kind imageKind, model string, q imageQuery) {
	var look badgeLook
	if kind.isBadge() {
		var err error
		if look, err = q.look(); err != nil {
			h.imageError(w, r, kind, look, err)
			return
		}
	}
	c, err := q.choice(h.s.Registry().Accelerators)
	if err != nil {
		h.imageError(w, r, kind, look, err)
		return
	}
	scheme, err := h.s.Scheme(q.scheme)
	if err != nil {
		h.imageError(w, r, kind, look, err)
		return
	}
	version := h.responses.version() // before reading the store
	rt, found, err := h.s.ChosenRating(model, c)
	if err != nil {
		h.imageError(w, r, kind, look, err)
		return
	}
	var img *image
	switch {
	case !found && kind.isBadge():
		img = look.render(label.NotRatedBadge(model), kind)
	case !found:
		h.imageError(w, r, kind, look, &problem{"not rated", errdefs.New(errdefs.NotFound, fmt.Sprintf("model %s has no rating%s", model, forTask(c.Task)))})
		return
	default:
		if img, err = h.image(r, &rt, kind, scheme, look); err != nil {
			if busy, ok := errors.AsType[limits.RetryLater](err); ok {
				serveBusy(w, r, kind, busy.RetryDelay())
				return
			}
			h.imageError(w, r, kind, look, err)
			return
		}
	}
	h.responses.put(imageSelection{kind: kind, model: model, choice: c, scheme: q.scheme, look: look}, version, img)
	img.serve(w, r)
}

// image returns the image of a rating, drawing it on a miss. Drawing a
// PNG label or a history chart, which reads the store, draws on the
// caller's read budget; badges and SVG labels cost microseconds.
func (h *HTTP) image(r *http.Request, rt *index.Rated, kind imageKind, scheme *rating.GradeScheme, look badgeLook) (*image, error) {
	key := keyOf(rt, h.s.Release().Stars(rt.Shown()), kind, scheme.Version, look)
	if img, ok := h.images.Get(key, nil); ok {
		return img, nil
	}
	if kind == labelPNG || kind == historySVG {
		cost := 1
		if kind == labelPNG {
			cost = limits.PNGRenderCost
		}
		if err := h.clients.SpendReads(h.clientOf(r), cost); err != nil {
			return nil, err
		}
	}
	if kind == labelPNG {
		release, err := h.clients.TakeRenderSlot(r.Context())
		if err != nil {
			return nil, err
		}
		defer release()
	}
	if kind == historySVG {
		img, err := h.historyChart(r.Context(), rt, scheme)
		if err == nil {
			h.images.Put(key, img)
		}
		return img, err
	}
	lr := wire.LabelRating(wire.Rating(rt, scheme, h.s.Release()), h.pageURL(rt.Model))
	var img *image
	switch kind {
	case gradeBadge, gradeJSON:
		img = look.render(label.RatingBadge(lr, label.GradeBadge), kind)
	case starsBadge, starsJSON:
		img = look.render(label.RatingBadge(lr, label.StarsBadge), kind)
	default:
		d, err := label.Label(lr)
		if err != nil {
			return nil, err
		}
		if kind == labelSVG {
			img = newImage("image/svg+xml", d.SVG())
		} else {
			png, err := d.PNG()
			if err != nil {
				return nil, err
			}
			img = newImage("image/png", png)
		}
	}
	h.images.Put(key, img)
	return img, nil
}

// The images that stand in for a label or chart the server is too busy
// to draw for its caller: status 200, as an image proxy caches a failure
// and shows a broken picture, with a short max-age and Retry-After.
var (
	busySVG = newImage("image/svg+xml", label.Busy().SVG())
	busyPNG = sync.OnceValue(func() *image {
		png, err := label.Busy().PNG()
		if err != nil {
			return busySVG // the embedded fonts failed to load: every label fails likewise
		}
		return newImage("image/png", png)
	})
	busyCacheControl = []string{"max-age=10"}
)

func serveBusy(w http.ResponseWriter, r *http.Request, kind imageKind, retryAfter time.Duration) {
	img := busySVG
	if kind == labelPNG {
		img = busyPNG()
	}
	busy := *img
	busy.cacheControl = busyCacheControl
	w.Header().Set("Retry-After", limits.RetryAfter(retryAfter))
	busy.serve(w, r)
}

// faviconImage is a green energy-class arrow, with its ETag made once.
var faviconImage = newImage("image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M2 6h20l8 10-8 10H2z" fill="#00a651"/><text x="11" y="22" font-family="Verdana,sans-serif" font-size="15" font-weight="bold" fill="#fff" text-anchor="middle">A</text></svg>`))

func favicon(w http.ResponseWriter, r *http.Request) { faviconImage.serve(w, r) }

var pageFuncs = template.FuncMap{
	"num":  label.FormatNumber,
	"join": strings.Join,
	// classWidth widens each grade's arrow, A shortest, as the EU label does.
	"classWidth": func(i int) int { return 30 + 8*i },
	"starRow": func(n int32) []bool {
		row := make([]bool, 5)
		for i := range row {
			row[i] = int32(i) < n
		}
		return row
	},
	"dateOf": func(ts *timestamppb.Timestamp) string { return ts.AsTime().UTC().Format("2006-01-02") },

	// energy writes a figure in its unit, in full, by rating/label's one
	// rule: "86.7 Wh/1k queries", "0.00360 J/token".
	"energy": label.FormatEnergy,
	// figure is energy in HTML: the number, then the unit kept whole, so
	// that a narrow cell breaks between them and nowhere else.
	"figure": figureHTML,
	// breakable is a model id that may break after its "/".
	"breakable": func(model string) template.HTML {
		owner, name, ok := strings.Cut(model, "/")
		if !ok {
			return template.HTML(template.HTMLEscapeString(model))
		}
		return template.HTML(template.HTMLEscapeString(owner) + "/<wbr>" + template.HTMLEscapeString(name))
	},
	// perQuery is the unit of Wh per 1,000 queries, "Wh/1k queries".
	"perQuery": func() string { return perQueryUnit },
	"sizeNote": sizeClassNote,
}

// figureHTML writes a figure in its unit as energy does, the unit in a
// span that does not break: "1.31 <span class="unit">Wh/1k queries</span>".
func figureHTML(v float64, unit string) template.HTML {
	n, u := label.SplitEnergy(v, unit)
	if n == label.Dash || u == "" {
		return template.HTML(template.HTMLEscapeString(n))
	}
	return template.HTML(template.HTMLEscapeString(n) + ` <span class="unit">` + template.HTMLEscapeString(u) + `</span>`)
}

// stalenessHeader is service.StalenessHeader in canonical HTTP form.
var stalenessHeader = http.CanonicalHeaderKey(service.StalenessHeader)

// staleness is the staleness header's value now, made once per tenth of
// a second of staleness: under load, most responses share it.
func (h *HTTP) staleness() []string {
	tenths := int64(h.s.Staleness() / (100 * time.Millisecond))
	if v := h.stale.Load(); v != nil && v.tenths == tenths {
		return v.value
	}
	v := &stalenessValue{tenths: tenths, value: []string{service.StalenessText(tenths)}}
	h.stale.Store(v)
	return v.value
}

type stalenessValue struct {
	tenths int64
	value  []string
}
