//go:build !linux

package hugepages

// advise takes no advice where the kernel has none to take.
func advise([]byte, bool) bool { return false }
