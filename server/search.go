package server

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Search finds models by a substring of their id, case-insensitively.
const (
	// maxSearchQuery bounds a query in bytes: a model id is at most 193.
	maxSearchQuery = 193
	// maxSearchResults bounds the models a search lists.
	maxSearchResults = 50
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

// searchIndex rebuilds the model list when the index has moved since.
type searchIndex struct {
	mu   sync.Mutex
	last *modelIDs
}

func (si *searchIndex) models(s *Server) *modelIDs {
	rev := s.index.Revision()
	si.mu.Lock()
	defer si.mu.Unlock()
	if si.last != nil && si.last.rev == rev {
		return si.last
	}
	seen := map[string]bool{}
	s.index.EachLatest(func(e *storage.Current) { seen[e.Model] = true })
	m := &modelIDs{rev: rev, ids: make([]string, 0, len(seen))}
	for id := range seen {
		m.ids = append(m.ids, id)
	}
	slices.Sort(m.ids)
	m.lower = make([]string, len(m.ids))
	for i, id := range m.ids {
		m.lower[i] = strings.ToLower(id)
	}
	si.last = m
	return m
}

// search returns the ids that contain q, at most maxSearchResults, and
// whether there were more.
func (si *searchIndex) search(s *Server, q string) (ids []string, more bool) {
	return si.models(s).find(q)
}

// find returns the ids that contain q, a parsed query, in order.
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

// searchResult is one model a search found, with its ratings.
type searchResult struct {
	Model   string
	Ratings []ratingView
}

// searchPage answers /search?q=: the models whose id contains q.
func (h *HTTP) searchPage(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("q")
	q, err := parseSearchQuery(raw)
	data := map[string]any{"Query": clip(strings.TrimSpace(raw), maxSearchQuery), "Max": maxSearchResults}
	if err != nil {
		data["Error"] = clip(err.Error(), maxMessageBytes)
		h.render(w, http.StatusBadRequest, "search.html", data)
		return
	}
	if q == "" {
		h.render(w, http.StatusOK, "search.html", data)
		return
	}
	ids, more := h.search.search(h.s, q)
	var results []searchResult
	for _, id := range ids {
		res := searchResult{Model: id}
		rated := h.s.index.ModelRatings(id)
		for i := range rated {
			res.Ratings = append(res.Ratings, viewOf(h.s.ratingProto(&rated[i], h.s.current)))
		}
		results = append(results, res)
	}
	data["Results"], data["More"], data["Searched"] = results, more, true
	h.render(w, http.StatusOK, "search.html", data)
}
