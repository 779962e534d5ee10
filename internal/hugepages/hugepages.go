// Package hugepages lets a bulk fill of a large, fresh slice fault its
// memory in 2 MiB pages rather than 4 KiB ones.
//
// Start-up fills a few hundred MiB of new memory at once (the snapshot's
// currents, the index's entries). Each 4 KiB page of it costs a page fault
// on first touch, and on a virtual machine a fault costs microseconds:
// at two million entries the faults, not the decoding, were most of the
// fill. Go's heap asks for no transparent huge pages, and the kernel's
// default ("madvise") gives none unasked; so Fill asks, for the slice's
// whole 2 MiB pages, only while the fill runs, and then withdraws the
// advice: the memory the slice leaves behind, reused for small objects,
// is not collapsed into huge pages the process would not fill.
package hugepages

import "unsafe"

// size is the huge page size on the platforms that have them: 2 MiB.
const size = 2 << 20

// Fill runs fill, which writes s, with s's whole huge pages advised to be
// backed by huge pages. Memory already faulted in stays as it is, so it
// helps only a fresh allocation; where huge pages are not to be had, it
// just runs fill.
func Fill[T any](s []T, fill func()) {
	var zero T
	n := uintptr(len(s)) * unsafe.Sizeof(zero)
	if n < 2*size {
		fill()
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	// The whole huge pages within s: advice beyond them would change
	// memory other objects share.
	start := (uintptr(p) + size - 1) &^ (size - 1)
	end := (uintptr(p) + n) &^ (size - 1)
	b := unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start)
	if !advise(b, true) {
		fill()
		return
	}
	defer advise(b, false)
	fill()
}
