package web

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/storage"
)

// countingBuilder builds a page of n bytes with the given status, and
// counts its builds.
func countingBuilder(builds *atomic.Int64, status, n int) pageBuilder {
	return func() (int, []byte) {
		k := builds.Add(1)
		return status, bytes.Repeat([]byte{byte('a' + k%26)}, n)
	}
}

// admitAll lets every build be.
func admitAll() error { return nil }

func TestPageCacheBuildsOncePerRevision(t *testing.T) {
	ix := index.New()
	c := newPageCache(ix, pageCacheBudget)
	var builds atomic.Int64
	build := countingBuilder(&builds, http.StatusOK, 1000)
	_, first, _ := c.get(admitAll, "/tasks/asr", build)
	for range 10 {
		if _, body, _ := c.get(admitAll, "/tasks/asr", build); !bytes.Equal(body, first) {
			t.Fatal("a cached page changed with no new revision")
		}
	}
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds of one page at one revision", n)
	}
	ix.Load(&storage.Snapshot{Revision: 7})
	if _, body, _ := c.get(admitAll, "/tasks/asr", build); bytes.Equal(body, first) || builds.Load() != 2 {
		t.Errorf("after the index moved: %d builds, the page changed %v", builds.Load(), !bytes.Equal(body, first))
	}
	// Errors are built every time.
	var errs atomic.Int64
	for range 3 {
		if status, _, _ := c.get(admitAll, "/tasks/asr?page=9", countingBuilder(&errs, http.StatusNotFound, 10)); status != http.StatusNotFound {
			t.Errorf("status %d, want 404", status)
		}
	}
	if errs.Load() != 3 {
		t.Errorf("a 404 was built %d times in 3 requests, want each", errs.Load())
	}
	// Off, every request builds.
	c.off.Store(true)
	c.get(admitAll, "/tasks/asr", build)
	if builds.Load() != 3 {
		t.Errorf("%d builds with the cache off, want 3", builds.Load())
	}
}

// Concurrent requests of a page being built wait for it.
func TestPageCacheBuildsOnceUnderConcurrency(t *testing.T) {
	c := newPageCache(index.New(), pageCacheBudget)
	release := make(chan struct{})
	var builds atomic.Int64
	build := func() (int, []byte) {
		builds.Add(1)
		<-release
		return http.StatusOK, []byte("the page")
	}
	var wg sync.WaitGroup
	bodies := make([][]byte, 32)
	for i := range bodies {
		wg.Go(func() { _, bodies[i], _ = c.get(admitAll, "/search?q=x", build) })
	}
	time.Sleep(50 * time.Millisecond) // let them all arrive
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds for 32 concurrent requests", n)
	}
	for _, b := range bodies {
		if string(b) != "the page" {
			t.Fatalf("a waiter got %q", b)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.building) != 0 {
		t.Errorf("%d builds still recorded", len(c.building))
	}
}

// A panicking build lets its waiters go with a 500, and the next request
// builds again.
func TestPageCacheSurvivesAPanickingBuild(t *testing.T) {
	c := newPageCache(index.New(), pageCacheBudget)
	started, release := make(chan struct{}), make(chan struct{})
	waiter := make(chan int)
	go func() {
		defer func() { recover() }()
		c.get(admitAll, "/", func() (int, []byte) {
			close(started)
			<-release
			panic("template")
		})
	}()
	<-started
	go func() {
		status, _, _ := c.get(admitAll, "/", func() (int, []byte) { return http.StatusOK, nil })
		waiter <- status
	}()
	time.Sleep(20 * time.Millisecond)
	close(release)
	// The waiter either waited for the build that failed, or came after it
	// and built its own page.
	if status := <-waiter; status != http.StatusInternalServerError && status != http.StatusOK {
		t.Errorf("the waiter of a failed build answered %d", status)
	}
	if status, body, _ := c.get(admitAll, "/", func() (int, []byte) { return http.StatusOK, []byte("ok") }); status != http.StatusOK || string(body) != "ok" {
		t.Errorf("after a failed build: %d %q", status, body)
	}
}

// The cache holds no more than its budget, however many pages are put.
func TestPageCacheKeepsToItsBudget(t *testing.T) {
	const budget = 1 << 20
	c := newPageCache(index.New(), budget)
	var builds atomic.Int64
	for i := range 200 {
		c.get(admitAll, fmt.Sprintf("/models/acme/m%d", i), countingBuilder(&builds, http.StatusOK, 50_000))
	}
	if st := c.stats(); st.Bytes > budget || st.Entries == 0 || st.Entries > budget/50_000 {
		t.Errorf("%d bytes in %d entries, budget %d", st.Bytes, st.Entries, budget)
	}
	// A page larger than a shard's share is served, not kept.
	big := countingBuilder(&builds, http.StatusOK, budget)
	before := builds.Load()
	c.get(admitAll, "/big", big)
	c.get(admitAll, "/big", big)
	if builds.Load()-before != 2 {
		t.Error("a page over a shard's budget was kept")
	}
}
