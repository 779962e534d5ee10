package web

import (
	"hash/maphash"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/energylabel/energylabel/internal/lru"

	"github.com/energylabel/energylabel/index"
)

// The page cache keeps the HTML pages (the index, task, cohort, search and
// model pages) as they were rendered, each under its canonical address
// (the path and the parameters the page depends on, as taskURL, cohortURL,
// searchURL and modelURL spell them) and the index revision it was built
// from. A page is built once
// per address and revision: concurrent requests for a page being built
// wait for it rather than build it again. Any new revision (a result, a
// verification, a release) retires every page at once, as the response
// cache of images does; the next request of each address builds it anew.
//
// Only pages answered 200 are kept: errors cost a few checks to make
// again, and would only push pages out.
const (
	// pageCacheBudget bounds what the cache holds, keys and bodies, in
	// bytes. Every page is bounded too (see the limits in pages.go), so
	// that it holds some dozens of the largest pages and hundreds of
	// ordinary ones.
	pageCacheBudget = 8 << 20
	// pageCacheShards split the budget: 1 MiB a shard, room for a few
	// of the largest pages each.
	pageCacheShards = 8
)

// pageState is what the pages keep between requests: the model list that
// search scans, and the page cache.
type pageState struct {
	modelList
	cache *pageCache
}

// pageCache is a byte-bounded LRU of rendered pages, fresh while the index
// is at the revision they were built from.
type pageCache struct {
	index *index.Index
	lru   *lru.Cache[string, cachedPage]
	// off, set only by tests and benchmarks, builds every page anew.
	off atomic.Bool

	mu sync.Mutex
	// building are the pages being built, by address and revision.
	building map[pageFlightKey]*pageFlight

	// failed is what the waiters of a build that panicked answer, with
	// status 500: the site's styled error page, once it is set.
	failed []byte
}

// cachedPage is a rendered page and the index revision it was built from.
type cachedPage struct {
	body     []byte
	revision int64
}

type pageFlightKey struct {
	key      string
	revision int64
}

// pageFlight is a page being built; done closes when it is.
type pageFlight struct {
	done   chan struct{}
	status int
	body   []byte
}

func newPageCache(ix *index.Index, budget int) *pageCache {
	seed := maphash.MakeSeed()
	return &pageCache{index: ix, building: map[pageFlightKey]*pageFlight{},
		lru: lru.New(budget, pageCacheShards,
			func(k string) uint64 { return maphash.String(seed, k) },
			func(k string, p cachedPage) int { return len(k) + len(p.body) })}
}

// pageBuilder renders a page from the index: its status and body.
type pageBuilder func() (status int, body []byte)

// get returns the page at key (a canonical address: the path and the
// parsed parameters it depends on, nothing else of the request), from
// the cache or built at most once per index revision. build must read
// the index only after get is called, as get reads the revision first: a
// page is then never older than the revision it is kept under.
//
// A request that would build the page, and only such a request, first
// draws on its caller's read budget (admit): a cached page costs
// microseconds, building one milliseconds. When admit refuses, get
// returns its error.
func (c *pageCache) get(admit func() error, key string, build pageBuilder) (int, []byte, error) {
	if c.off.Load() {
		status, body := build()
		return status, body, nil
	}
	rev := c.index.Revision()
	if p, ok := c.lru.Get(key, func(p cachedPage) bool { return p.revision == rev }); ok {
		return http.StatusOK, p.body, nil
	}
	fk := pageFlightKey{key, rev}
	c.mu.Lock()
	if f := c.building[fk]; f != nil {
		c.mu.Unlock()
		<-f.done
		return f.status, f.body, nil
	}
	c.mu.Unlock()
	if err := admit(); err != nil {
		return 0, nil, err
	}
	c.mu.Lock()
	if f := c.building[fk]; f != nil { // another began while admit ran
		c.mu.Unlock()
		<-f.done
		return f.status, f.body, nil
	}
	// Until build returns, its page is an error: the waiters of a build
	// that panicked answer 500.
	f := &pageFlight{done: make(chan struct{}), status: http.StatusInternalServerError, body: c.failed}
	if f.body == nil {
		f.body = []byte("the page could not be made\n")
	}
	c.building[fk] = f
	c.mu.Unlock()
	defer func() {
		// Whatever happened (a panic is the handler's to report), the
		// waiters are let go and the slot freed.
		c.mu.Lock()
		delete(c.building, fk)
		c.mu.Unlock()
		close(f.done)
	}()
	f.status, f.body = build()
	if f.status == http.StatusOK {
		c.lru.Put(key, cachedPage{body: f.body, revision: rev})
	}
	return f.status, f.body, nil
}

// stats are the cache's figures.
func (c *pageCache) stats() lru.Stats { return c.lru.Stats() }
