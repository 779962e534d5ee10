package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/internal/wire"
	"github.com/energylabel/energylabel/service"

	"github.com/energylabel/energylabel/rating"
)

// Search finds models by a substring of their id, case-insensitively.
const (
	// maxSearchQuery bounds a query in bytes: a model id is at most 193.
	maxSearchQuery = 193
	// maxSearchResults bounds the models a page of search results lists;
	// page=N lists the next ones.
	maxSearchResults = 50
	// searchModelRatings bounds the ratings listed under each model found:
	// its page lists the rest.
	searchModelRatings = 5
)

// parseSearchQuery reads the q of /search: trimmed and lowercased. A query
// longer than any model id, or with characters no model id has, is refused
// naming the field.
func parseSearchQuery(raw string) (string, error) {
	q := strings.TrimSpace(raw)
	if len(q) > maxSearchQuery {
		return "", rating.Invalid("q", "at most %d bytes, got %d", maxSearchQuery, len(q))
	}
	if !utf8.ValidString(q) {
		return "", rating.Invalid("q", "not UTF-8")
	}
	for _, r := range q {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", rating.Invalid("q", "control characters")
		}
	}
	// A few letters grow when lowered: bound the query as it is searched.
	if q = strings.ToLower(q); len(q) > maxSearchQuery {
		return "", rating.Invalid("q", "at most %d bytes, got %d", maxSearchQuery, len(q))
	}
	return q, nil
}

// modelIDs are the rated models' ids, sorted, with their lowercase forms,
// as of one revision of the index.
type modelIDs struct {
	rev   int64
	ids   []string
	lower []string
}

// modelList rebuilds the model list when the index has moved since.
type modelList struct {
	mu   sync.Mutex
	last *modelIDs
}

func (ml *modelList) models(s *service.Service) *modelIDs {
	rev := s.Index().Revision()
	ml.mu.Lock()
	defer ml.mu.Unlock()
	if ml.last != nil && ml.last.rev == rev {
		return ml.last
	}
	m := &modelIDs{rev: rev}
	s.Index().EachModel(func(id string) { m.ids = append(m.ids, id) })
	slices.Sort(m.ids)
	m.lower = make([]string, len(m.ids))
	for i, id := range m.ids {
		m.lower[i] = strings.ToLower(id)
	}
	ml.last = m
	return m
}

// find returns the ids that contain q, a parsed query, in order: the
// first maxSearchResults, and whether there were more.
func (m *modelIDs) find(q string) (ids []string, more bool) {
	for i, l := range m.lower {
		if strings.Contains(l, q) {
			if len(ids) == maxSearchResults {
				return ids, true
			}
			ids = append(ids, m.ids[i])
		}
	}
	return ids, false
}

// findPage returns at most limit of the ids that contain q, from the
// offset-th in order, and how many contain it in all.
func (m *modelIDs) findPage(q string, offset, limit int) (ids []string, total int) {
	for i, l := range m.lower {
		if strings.Contains(l, q) {
			if total >= offset && len(ids) < limit {
				ids = append(ids, m.ids[i])
			}
			total++
		}
	}
	return ids, total
}

// searchResult is one model a search found, with its first ratings.
type searchResult struct {
	Model   string
	Ratings []ratingView
	// More is how many more ratings the model has than are listed.
	More int
}

// searchPage answers /search?q=&page=: the models whose id contains q, in
// the order of their ids, maxSearchResults a page, each with its first
// searchModelRatings ratings. A page past the last is a 404 that links
// back to the first and the last. Each page is built once per revision
// of the index (see pageCache).
func (h *HTTP) searchPage(w http.ResponseWriter, r *http.Request) {
	params, perr := pageParams(r.URL.RawQuery, "q", "page")
	raw := params["q"]
	shown := errdefs.Clip(strings.TrimSpace(raw), maxSearchQuery)
	data := map[string]any{"Query": shown, "Max": maxSearchResults}
	refuse := func(msg string) {
		data["Error"] = errdefs.Clip(msg, errdefs.MaxMessageBytes)
		h.render(w, http.StatusBadRequest, "search.html", data)
	}
	if perr != nil {
		refuse(perr.Error())
		return
	}
	q, err := parseSearchQuery(raw)
	if err != nil {
		refuse("That query cannot match a model id: " + err.Error())
		return
	}
	page, err := pageNumber(params["page"])
	if err != nil {
		refuse(err.Error())
		return
	}
	if q == "" {
		h.render(w, http.StatusOK, "search.html", data)
		return
	}
	h.servePage(w, r, searchURL(shown, page), func() (int, []byte) { return h.buildSearchPage(q, shown, page, data) })
}

// buildSearchPage renders one page of the models whose id contains q, a
// parsed query; shown is the query as the page echoes it.
func (h *HTTP) buildSearchPage(q, shown string, page int, data map[string]any) (int, []byte) {
	ids, total := h.site.models(h.s).findPage(q, (page-1)*maxSearchResults, maxSearchResults)
	pg := newPager("Pages of results", "models", page, maxSearchResults, total, func(n int) string { return searchURL(shown, n) })
	if page > pg.Pages {
		return h.pastTheEnd("Search “"+shown+"”", "models", pg)
	}
	results := make([]searchResult, 0, len(ids))
	for _, id := range ids {
		rated, n := h.s.Index().ModelRatingsAt(id, 0, searchModelRatings)
		res := searchResult{Model: id, More: n - len(rated)}
		for i := range rated {
			res.Ratings = append(res.Ratings, viewOf(wire.Rating(&rated[i], h.s.CurrentScheme(), h.s.Release())))
		}
		results = append(results, res)
	}
	data["Results"], data["Total"], data["Pager"], data["Searched"] = results, total, pg, true
	return h.page(http.StatusOK, "search.html", data)
}

// searchURL is the address of a page of search results; the first page
// has no page=.
func searchURL(q string, page int) string {
	u := "/search?q=" + url.QueryEscape(q)
	if page > 1 {
		u += "&page=" + strconv.Itoa(page)
	}
	return u
}
