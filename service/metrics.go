package service

import (
	"errors"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/internal/lru"
	"github.com/energylabel/energylabel/rating"
)

// metrics are the service's Prometheus metrics, in a registry of its
// own, which the gRPC API and the web add theirs to.
type metrics struct {
	registry *prometheus.Registry
	// caches are the caches reported at scrape time.
	caches *cacheCollector
}

func newMetrics(s *Service) *metrics {
	m := &metrics{registry: prometheus.NewRegistry(), caches: &cacheCollector{}}
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "energylabel_db_size_bytes", Help: "Space the storage backend uses.",
	}, func() float64 { return float64(s.backend.Size()) }))
	m.registry.MustRegister(&gradeCollector{s: s})
	m.registry.MustRegister(m.caches)
	return m
}

// gradeCollector counts current ratings per grade under the current scheme
// at scrape time, so that it never drifts from the index.
type gradeCollector struct {
	s *Service
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
func (s *Service) ReportCache(name string, stats func() lru.Stats, budget int) {
	c := s.metrics.caches
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caches = slices.DeleteFunc(c.caches, func(rc reportedCache) bool { return rc.name == name })
	c.caches = append(c.caches, reportedCache{name, stats, budget})
}

// MetricsRegistry is the registry /metrics serves, which the surfaces add
// their own metrics to.
func (s *Service) MetricsRegistry() *prometheus.Registry { return s.metrics.registry }

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

// Registered registers c in reg, or returns the collector of the same
// description registered before: two surfaces built over one service (a
// test's second) share their metrics.
func Registered[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		return are.ExistingCollector.(C)
	}
	if err != nil {
		panic(err) // two different metrics of one name: a bug
	}
	return c
}
