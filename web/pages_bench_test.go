package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/energylabel/energylabel/internal/synth"
	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
	"github.com/energylabel/energylabel/web"
)

// pageBenchResults is the size of the synthetic registry the page
// benchmarks read, as elbench loads one.
const pageBenchResults = 300_000

// startPageBench is the HTTP handler of a server over a bbolt store with
// pageBenchResults synthetic results and one publisher's 50 models rated
// in every rateable cohort (see rateableCohorts), named
// everywhere/model-NN.
func startPageBench(b *testing.B) *web.HTTP {
	b.Helper()
	st, err := boltdb.Open(b.TempDir(), boltdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	var batch []storage.Accepted
	add := func(r rating.Result) {
		m, err := rating.Normalise(&r)
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, storage.Accepted{Result: &r, Measure: m, Audit: storage.Audit{TokenID: "admin", ReceivedAt: time.Now()}})
		if len(batch) == 10000 {
			if _, _, err := st.Append(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	synth.New(synth.Config{Results: pageBenchResults, Seed: 1}).Each(func(r rating.Result) bool { add(r); return true })
	for _, r := range spreadResults(b, func(i int) string { return fmt.Sprintf("everywhere/model-%02d", i) }, 50) {
		add(r)
	}
	if _, _, err := st.Append(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	scheme, err := calibration.Grade2025_1()
	if err != nil {
		b.Fatal(err)
	}
	srv, err := service.New(service.Config{
		Backend: st, Schemes: []*rating.GradeScheme{scheme}, BaseURL: "http://127.0.0.1:8080",
		Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	// Every request comes from one address: the per-address budget of
	// costly reads would soon answer 429.
	_, site := servertest.Surfaces(srv, limits.Limits{ReadBudget: limits.RateLimit{Rate: -1}})
	return site
}

// BenchmarkPage serves the heaviest pages of a large registry, each built
// anew (uncached) and from the page cache (cached), one request at a time:
// ns/op is the time, and about the CPU, of one request. B/page is the
// size of the page.
//
//	go test ./server -run '^$' -bench Page
func BenchmarkPage(b *testing.B) {
	h := startPageBench(b)
	pages := []struct{ name, path string }{
		{"task", "/tasks/text-generation"},
		{"cohort", "/tasks/text-generation?cohort=AIEnergyScore%2Ftext_generation%2FH100%2FA&page=3"},
		{"search", "/search?q=everywhere"},
		{"model", "/models/everywhere/model-00"},
	}
	for _, p := range pages {
		for _, cached := range []bool{false, true} {
			name := p.name + "/uncached"
			if cached {
				name = p.name + "/cached"
			}
			b.Run(name, func(b *testing.B) {
				web.SetPageCache(h, cached)
				size := 0
				b.ReportAllocs()
				for b.Loop() {
					w := &countingWriter{header: http.Header{}}
					h.ServeHTTP(w, httptest.NewRequest("GET", p.path, nil))
					if w.status != http.StatusOK {
						b.Fatalf("%s: %d", p.path, w.status)
					}
					size = w.bytes
				}
				b.ReportMetric(float64(size), "B/page")
			})
		}
	}
}

// countingWriter is a ResponseWriter that keeps the status and counts the
// body's bytes, as a socket takes them, without copying them.
type countingWriter struct {
	header http.Header
	status int
	bytes  int
}

func (w *countingWriter) Header() http.Header { return w.header }

func (w *countingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.bytes += len(p)
	return len(p), nil
}
