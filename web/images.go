package web

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"net/http"
	"net/url"
	"strings"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/internal/lru"
	"github.com/energylabel/energylabel/rating"
)

// imageKind is what an image shows of a rating.
type imageKind uint8

const (
	gradeBadge imageKind = iota
	starsBadge
	labelSVG
	labelPNG
	// historySVG is the model's history chart in the rating's cohort.
	historySVG
	// gradeJSON and starsJSON are the badges as shields' endpoint JSON.
	gradeJSON
	starsJSON
	numImageKinds
)

// isBadge reports whether a kind is a badge, SVG or JSON: what a model
// card embeds, which answers even an error with a badge.
func (k imageKind) isBadge() bool {
	return k == gradeBadge || k == starsBadge || k == gradeJSON || k == starsJSON
}

// asJSON is a badge kind's endpoint JSON.
func (k imageKind) asJSON() imageKind {
	switch k {
	case gradeBadge:
		return gradeJSON
	case starsBadge:
		return starsJSON
	}
	return k
}

// imageKey is everything an image of a rating is drawn from: the result
// (its model, task, energies, grade and when it was received), what
// surveyors found of it (the status, and how many measurements: each may
// change the figures shown or the date), the stars and the release they
// are of (both move with releases: a label names its release even where
// the stars stay), and the grade scheme. The server's base URL, which
// labels link to, is fixed for its lifetime.
type imageKey struct {
	result       uint64
	kind         imageKind
	stars        int8
	status       rating.Status
	measurements int32
	release      string
	scheme       string
	look         badgeLook
}

func keyOf(r *index.Rated, stars rating.Starred, kind imageKind, scheme string, look badgeLook) imageKey {
	return imageKey{result: r.ID, kind: kind, stars: int8(stars.Stars), status: r.Survey.Status,
		measurements: int32(r.Survey.Measurements), release: stars.Release, scheme: scheme, look: look}
}

// image is a rendered image with its headers made once: a cache hit, and
// above all a 304, costs a map lookup and no drawing or hashing.
type image struct {
	body         []byte
	etag         string
	etagHeader   []string
	contentType  []string
	cacheControl []string
}

func newImage(contentType string, body []byte) *image {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return &image{body: body, etag: etag, etagHeader: []string{etag}, contentType: []string{contentType}, cacheControl: imageCacheControl}
}

// The caches' budgets, in bytes of keys and images: some 20,000 badges,
// or a few hundred PNG labels, each.
const (
	imageCacheBudget    = 32 << 20
	responseCacheBudget = 16 << 20
	cacheShards         = 16
)

// imageCache keeps rendered images by what they are drawn from, least
// recently used first out. Images of superseded results or moved stars
// are never asked for again and age out.
type imageCache = lru.Cache[imageKey, *image]

func newImageCache(budget int) *imageCache {
	return lru.New(budget, cacheShards,
		func(k imageKey) uint64 { return k.result },
		func(k imageKey, img *image) int {
			return len(k.release) + len(k.scheme) + len(k.look.label) + imageSize(img)
		})
}

func imageSize(img *image) int { return len(img.body) + 2*len(img.etag) + 64 }

// Header values shared by every image response; net/http only reads them.
var (
	imageCacheControl = []string{imageMaxAge}
	noSniff           = []string{"nosniff"}
)

// serve answers with the image, or 304 when the client already has it,
// and returns the status it answered with.
func (img *image) serve(w http.ResponseWriter, r *http.Request) int {
	hdr := w.Header()
	hdr["Etag"] = img.etagHeader
	hdr["Cache-Control"] = img.cacheControl
	if etagMatches(r.Header["If-None-Match"], img.etag) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	hdr["Content-Type"] = img.contentType
	hdr["X-Content-Type-Options"] = noSniff
	w.Write(img.body)
	return http.StatusOK
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

// imageSelection is everything the answer to an image URL depends on: the
// kind of image, the model, and the choice among its ratings (a task id, a
// cohort's hardware, a dataset), as parsed and resolved from the URL.
// Nothing else of the request is in it: not the raw URI, nor parameters
// the server does not read.
type imageSelection struct {
	kind   imageKind
	model  string
	choice index.Choice
	// scheme is the grade scheme version the URL names; "" is the current.
	scheme string
	// look is a badge's style and label, bounded; zero for other images.
	look badgeLook
}

// selectionOf parses an image URL into its selection, for the cache
// lookup before routing; ok is false for anything that is not an image
// URL the handlers would answer with an image.
func selectionOf(path, rawQuery string, accels *rating.Accelerators) (imageSelection, bool) {
	var sel imageSelection
	file, ok := strings.CutPrefix(path, "/badge/")
	if ok {
		if sel.model, ok = strings.CutSuffix(file, ".svg"); !ok {
			sel.kind = gradeJSON
			sel.model, ok = strings.CutSuffix(file, ".json")
		}
	} else if file, ok = strings.CutPrefix(path, "/label/"); ok {
		sel.kind = labelSVG
		if sel.model, ok = strings.CutSuffix(file, ".svg"); !ok {
			sel.kind = labelPNG
			sel.model, ok = strings.CutSuffix(file, ".png")
		}
	} else if file, ok = strings.CutPrefix(path, "/history/"); ok {
		sel.kind = historySVG
		sel.model, ok = strings.CutSuffix(file, ".svg")
	}
	if i := strings.IndexByte(sel.model, '/'); !ok || i <= 0 || strings.IndexByte(sel.model[i+1:], '/') >= 0 {
		return sel, false
	}
	q := parseImageQuery(rawQuery)
	var err error
	if sel.kind.isBadge() {
		kind, err := badgeKind(q.show)
		if err != nil {
			return sel, false
		}
		if sel.kind == gradeJSON {
			kind = kind.asJSON()
		}
		sel.kind = kind
		if sel.look, err = q.look(); err != nil {
			return sel, false
		}
	}
	sel.scheme = q.scheme // a version; the handler resolves "" to the current one
	sel.choice, err = q.choice(accels)
	return sel, err == nil
}

// badgeKind is the kind of badge a show parameter asks for.
func badgeKind(show string) (imageKind, error) {
	switch show {
	case "", "grade":
		return gradeBadge, nil
	case "stars":
		return starsBadge, nil
	}
	return 0, rating.Invalid("show", "a badge shows grade or stars, got %s", rating.Quote(show))
}

// responseCache remembers which image answered a selection, for as long
// as the index's revision has not moved since: a model card's badge,
// fetched again and again between submissions, then costs one lookup,
// before even routing. Any new revision (a result, a release) retires
// every entry at once; the next
// request of each selection takes the full path, which finds its image in
// the image cache unless the image itself changed. It is bounded in bytes
// like the image cache, and counts what it holds twice when both hold an
// image: the bound errs on the safe side.
type responseCache struct {
	index *index.Index
	lru   *lru.Cache[imageSelection, cachedResponse]
}

type cachedResponse struct {
	img     *image
	version uint64
}

func newResponseCache(ix *index.Index, budget int) *responseCache {
	seed := maphash.MakeSeed()
	return &responseCache{index: ix, lru: lru.New(budget, cacheShards,
		func(s imageSelection) uint64 { return maphash.String(seed, s.model) ^ uint64(s.kind) },
		func(s imageSelection, cr cachedResponse) int {
			c := s.choice
			return len(s.model) + len(c.Task) + len(c.Dataset) + len(c.Hardware) + len(s.look.label) + imageSize(cr.img)
		})}
}

// version is what a handler reads before the index, to put with the image.
func (c *responseCache) version() uint64 {
	if c == nil {
		return 0
	}
	return uint64(c.index.Revision())
}

// get returns the image that answered sel, if the index has not moved
// since.
func (c *responseCache) get(sel imageSelection) *image {
	if c == nil {
		return nil
	}
	v := uint64(c.index.Revision())
	cr, ok := c.lru.Get(sel, func(cr cachedResponse) bool { return cr.version == v })
	if !ok {
		return nil
	}
	return cr.img
}

// put records the image that answered sel, from what the index held at
// version v.
func (c *responseCache) put(sel imageSelection, v uint64, img *image) {
	if c == nil {
		return
	}
	c.lru.Put(sel, cachedResponse{img: img, version: v})
}
