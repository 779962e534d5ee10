package server

// SetPageCache turns the page cache of h on or off; off, every page is
// built anew, as the benchmarks compare.
func SetPageCache(h *HTTP, on bool) { h.site.cache.off.Store(!on) }
