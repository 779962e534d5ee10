package hugepages

import "testing"

// Fill runs the fill once, whatever the size of the slice, and the slice
// holds what it wrote.
func TestFillRunsTheFillOnce(t *testing.T) {
	for _, n := range []int{0, 1, 1 << 10, 3 * size / 8, size / 2} { // the last two 3 and 8 MiB: too small, and one to advise
		s := make([]uint64, n)
		runs := 0
		Fill(s, func() {
			runs++
			for i := range s {
				s[i] = uint64(i)
			}
		})
		if runs != 1 {
			t.Fatalf("len %d: the fill ran %d times", n, runs)
		}
		for i := range s {
			if s[i] != uint64(i) {
				t.Fatalf("len %d: s[%d] = %d", n, i, s[i])
			}
		}
	}
}
