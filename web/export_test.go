package web

// SetPageCache turns the page cache of h on or off; off, every page is
// built anew. The page benchmarks compare the two.
func SetPageCache(h *HTTP, on bool) { h.site.cache.off.Store(!on) }
