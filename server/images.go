package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/energylabel/energylabel/store"
)

// imageKind is what an image shows of a rating.
type imageKind uint8

const (
	gradeBadge imageKind = iota
	starsBadge
	labelSVG
	labelPNG
)

// imageKey is everything an image of a rating is drawn from: the result
// (its model, task, energies and grade), the stars (the only part that
// moves with the cohort) and the grade scheme. The server's base URL,
// which labels link to, is fixed for its lifetime.
type imageKey struct {
	result uint64
	kind   imageKind
	stars  int8
	scheme string
}

func keyOf(r *store.Rated, kind imageKind, scheme string) imageKey {
	return imageKey{result: r.ID, kind: kind, stars: int8(r.Stars()), scheme: scheme}
}

// image is a rendered image with its headers made once: a cache hit, and
// above all a 304, costs a map lookup and no drawing or hashing.
type image struct {
	body        []byte
	etag        string
	etagHeader  []string
	contentType []string
}

func newImage(contentType string, body []byte) *image {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return &image{body: body, etag: etag, etagHeader: []string{etag}, contentType: []string{contentType}}
}

// imageCache keeps rendered images up to a byte budget, dropping entries
// at random when full. Keys of superseded results or moved stars are never
// asked for again and age out the same way. It is split in shards by
// result, each with its own lock, so that concurrent hits do not contend
// for one lock word.
type imageCache struct {
	shards [imageShards]imageShard
}

const imageShards = 16

type imageShard struct {
	mu     sync.RWMutex
	m      map[imageKey]*image
	bytes  int
	budget int
	_      [64]byte // one cache line between shards' locks
}

// imageCacheBudget bounds the cache: some 20,000 badges, or a few hundred
// PNG labels.
const imageCacheBudget = 32 << 20

func newImageCache(budget int) *imageCache {
	c := &imageCache{}
	for i := range c.shards {
		c.shards[i] = imageShard{m: map[imageKey]*image{}, budget: budget / imageShards}
	}
	return c
}

func (c *imageCache) shard(k imageKey) *imageShard { return &c.shards[k.result%imageShards] }

func (c *imageCache) get(k imageKey) *image {
	sh := c.shard(k)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.m[k]
}

func imageSize(img *image) int { return len(img.body) + len(img.etag) + 64 }

func (c *imageCache) put(k imageKey, img *image) {
	sh := c.shard(k)
	size := imageSize(img)
	if size > sh.budget {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old := sh.m[k]; old != nil {
		sh.bytes -= imageSize(old)
	}
	for k, old := range sh.m { // map order is random: a random eviction
		if sh.bytes+size <= sh.budget {
			break
		}
		sh.bytes -= imageSize(old)
		delete(sh.m, k)
	}
	sh.m[k] = img
	sh.bytes += size
}

// Header values shared by every image response; net/http only reads them.
var (
	imageCacheControl = []string{imageMaxAge}
	noSniff           = []string{"nosniff"}
)

// serve answers with the image, or 304 when the client already has it.
func (img *image) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr["Etag"] = img.etagHeader
	hdr["Cache-Control"] = imageCacheControl
	if etagMatches(r.Header["If-None-Match"], img.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr["Content-Type"] = img.contentType
	hdr["X-Content-Type-Options"] = noSniff
	w.Write(img.body)
}

// etagMatches reports whether an If-None-Match header names etag, or is
// "*". It compares weakly, as RFC 9110 (13.1.2) asks of If-None-Match:
// W/"x" matches "x".
func etagMatches(header []string, etag string) bool {
	for _, h := range header {
		for h != "" {
			var c string
			c, h, _ = strings.Cut(h, ",")
			c = strings.TrimSpace(c)
			if c == "*" || strings.TrimPrefix(c, "W/") == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
	}
	return false
}

func unescape(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// Versioned is a store that says when its ratings change.
type Versioned interface{ Version() uint64 }

// responseCache remembers which image answered a request URI, for as long
// as the store has not changed since: a model card's badge, fetched again
// and again between submissions, then costs one map lookup, before even
// routing. Any change of the store retires every entry at once; the next
// request of each URI takes the full path, which finds its image in the
// imageCache unless the image itself changed.
type responseCache struct {
	store Versioned
	mu    sync.RWMutex
	m     map[string]cachedResponse
	max   int
}

type cachedResponse struct {
	img     *image
	version uint64
}

// responseCacheSize bounds the entries; a few hundred bytes each.
const responseCacheSize = 1 << 16

func newResponseCache(store Store, max int) *responseCache {
	v, ok := store.(Versioned)
	if !ok {
		return nil
	}
	return &responseCache{store: v, m: map[string]cachedResponse{}, max: max}
}

// version is what a handler reads before the store, to put with the image.
func (c *responseCache) version() uint64 {
	if c == nil {
		return 0
	}
	return c.store.Version()
}

// get returns the image that answered uri, if the store has not changed
// since.
func (c *responseCache) get(uri string) *image {
	if c == nil || uri == "" { // "": a request made in process, not read from a client
		return nil
	}
	v := c.store.Version()
	c.mu.RLock()
	cr, ok := c.m[uri]
	c.mu.RUnlock()
	if !ok || cr.version != v {
		return nil
	}
	return cr.img
}

// put records the image that answered uri, from what the store held at
// version v.
func (c *responseCache) put(uri string, v uint64, img *image) {
	if c == nil || uri == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[uri]; !ok && len(c.m) >= c.max {
		for k := range c.m { // map order is random: a random eviction
			delete(c.m, k)
			break
		}
	}
	c.m[uri] = cachedResponse{img: img, version: v}
}
