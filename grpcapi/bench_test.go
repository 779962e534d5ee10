package grpcapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/energylabel/energylabel/grpcapi"
	"github.com/energylabel/energylabel/internal/synth"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
	"github.com/energylabel/energylabel/web"
)

// benchServer is a server over a store loaded with n synthetic results,
// serving gRPC on loopback, logging warnings only, as the benchmark script
// runs energylabeld.
type benchServer struct {
	conn   *grpc.ClientConn
	http   http.Handler
	series []synth.Series
}

func startBench(b *testing.B, n int) *benchServer {
	b.Helper()
	st, err := boltdb.Open(b.TempDir(), boltdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	reg := synth.New(synth.Config{Results: n, Seed: 1})
	var batch []storage.Accepted
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, _, err := st.Append(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	reg.Each(func(r rating.Result) bool {
		m, err := rating.Normalise(&r)
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, storage.Accepted{Result: &r, Measure: m, Audit: storage.Audit{TokenID: "admin", ReceivedAt: time.Now()}})
		if len(batch) == 10000 {
			flush()
		}
		return true
	})
	flush()
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
	g, _ := grpcapi.New(srv, limits.New(limits.Limits{}, nil)).NewGRPC()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go g.Serve(l)
	b.Cleanup(g.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return &benchServer{conn: conn, http: web.New(srv, limits.New(limits.Limits{ReadBudget: limits.RateLimit{Rate: -1}}, nil), grpcapi.New(srv, limits.New(limits.Limits{}, nil)).HTTPReads()), series: reg.Series()}
}

var benchSizes = []int{1000, 100000}

// parallel runs fn from 16 goroutines, the concurrency of the ghz runs.
func parallel(b *testing.B, fn func(i int)) {
	var next atomic.Int64
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			fn(int(next.Add(1)))
		}
	})
}

// BenchmarkGetRating is GetRating over loopback gRPC, against its floor,
// BenchmarkHealthCheck, at two registry sizes.
func BenchmarkGetRating(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("results=%d", n), func(b *testing.B) {
			s := startBench(b, n)
			rs := energylabelv1.NewRatingServiceClient(s.conn)
			parallel(b, func(i int) {
				model := s.series[i*7919%len(s.series)].Model
				if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: model}); err != nil {
					b.Error(err)
				}
			})
		})
	}
}

func BenchmarkHealthCheck(b *testing.B) {
	s := startBench(b, 1000)
	hc := healthpb.NewHealthClient(s.conn)
	parallel(b, func(int) {
		if _, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			b.Error(err)
		}
	})
}

// BenchmarkListRatings lists the first page of 50 of text generation.
func BenchmarkListRatings(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("results=%d", n), func(b *testing.B) {
			s := startBench(b, n)
			rs := energylabelv1.NewRatingServiceClient(s.conn)
			parallel(b, func(int) {
				if _, err := rs.ListRatings(context.Background(), &energylabelv1.ListRatingsRequest{Task: "text-generation", PageSize: 50}); err != nil {
					b.Error(err)
				}
			})
		})
	}
}

// BenchmarkBadge is the badge handler alone, against /healthz's; with an
// If-None-Match that matches, it answers 304.
func BenchmarkBadge(b *testing.B) {
	s := startBench(b, 100000)
	paths := make([]string, 1000)
	cards := make([]string, len(paths)) // as a model page's snippet names them
	etags := make([]string, len(paths))
	rs := energylabelv1.NewRatingServiceClient(s.conn)
	for i := range paths {
		sr := s.series[i*len(s.series)/len(paths)]
		paths[i] = "/badge/" + sr.Model + ".svg?task=" + url.QueryEscape(sr.Task())
		w := httptest.NewRecorder()
		s.http.ServeHTTP(w, httptest.NewRequest("GET", paths[i], nil))
		etags[i] = w.Header().Get("ETag")
		resp, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: sr.Model, Task: sr.Task()})
		if err != nil {
			b.Fatal(err)
		}
		r := resp.Ratings[0]
		cards[i] = "/badge/" + sr.Model + ".svg?task=" + r.Task + "&hardware=" + r.Hardware + "&dataset=" + r.Dataset
	}
	serve := func(b *testing.B, path func(i int) (string, string), want int) {
		b.ReportAllocs()
		parallel(b, func(i int) {
			p, etag := path(i)
			r := httptest.NewRequest("GET", p, nil)
			if etag != "" {
				r.Header.Set("If-None-Match", etag)
			}
			w := httptest.NewRecorder()
			s.http.ServeHTTP(w, r)
			if w.Code != want {
				b.Errorf("%s: %d", p, w.Code)
			}
		})
	}
	b.Run("healthz", func(b *testing.B) {
		serve(b, func(int) (string, string) { return "/healthz", "" }, 200)
	})
	b.Run("svg", func(b *testing.B) {
		serve(b, func(i int) (string, string) { return paths[i%len(paths)], "" }, 200)
	})
	b.Run("svg-card-url", func(b *testing.B) {
		serve(b, func(i int) (string, string) { return cards[i%len(cards)], "" }, 200)
	})
	b.Run("not-modified", func(b *testing.B) {
		serve(b, func(i int) (string, string) { return paths[i%len(paths)], etags[i%len(paths)] }, 304)
	})
}
