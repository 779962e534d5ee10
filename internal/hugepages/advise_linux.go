package hugepages

import "syscall"

// advise sets (huge) or withdraws the advice to back b by huge pages, and
// reports whether the kernel took it.
func advise(b []byte, huge bool) bool {
	advice := syscall.MADV_HUGEPAGE
	if !huge {
		// The kernel's default is no advice; NOHUGEPAGE is the only way
		// back to it under "madvise", the default mode, and under
		// "always" it keeps the pages already huge as they are.
		advice = syscall.MADV_NOHUGEPAGE
	}
	return syscall.Madvise(b, advice) == nil
}
