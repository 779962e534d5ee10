package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The order of a cohort agrees with a sorted slice through insertions and
// removals that split blocks and empty them, from empty and from a bulk
// build, and finds every position.
func TestOrderAgreesWithASortedSlice(t *testing.T) {
	for _, bulk := range []int{0, 1, 1000, 5 * maxBlock} {
		t.Run(fmt.Sprintf("bulk=%d", bulk), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(bulk), 7))
			n := newNames(0)
			var models []uint32
			for i := range 4000 {
				name := fmt.Sprintf("lab-%d/m%d", r.IntN(50), i)
				m, _ := n.intern(n.hash(name), name)
				models = append(models, m)
			}
			x := func() float64 { return float64(r.IntN(40)) / 4 } // many equal x: ties by name
			var want []item
			in := map[uint32]bool{}
			for i := range bulk {
				want = append(want, item{x: x(), model: models[i], slot: uint32(i)})
				in[uint32(i)] = true
			}
			o := build(&n, slices.Clone(want))
			sortItems := func() { slices.SortFunc(want, n.compareItems) }
			sortItems()
			check := func(step int) {
				t.Helper()
				var got []item
				o.ascend(0, 0, func(it item) bool { got = append(got, it); return true })
				if o.n != len(want) || !slices.Equal(got, want) {
					t.Fatalf("step %d: %d items (n %d), want %d, or out of order", step, len(got), o.n, len(want))
				}
				for _, blk := range o.blocks {
					if len(blk) == 0 || len(blk) > maxBlock {
						t.Fatalf("step %d: a block of %d items", step, len(blk))
					}
				}
				for i := 0; i < len(want); i += 1 + r.IntN(97) {
					b, j := o.at(i)
					if o.blocks[b][j] != want[i] {
						t.Fatalf("step %d: at(%d) is not the %d-th item", step, i, i)
					}
					it := want[i]
					if b2, j2 := o.search(&n, it.x, n.name(it.model)); b2 != b || j2 != j {
						t.Fatalf("step %d: search for the %d-th item finds (%d, %d), want (%d, %d)", step, i, b2, j2, b, j)
					}
				}
			}
			check(0)
			for step := range 6000 {
				slot := uint32(r.IntN(len(models)))
				if in[slot] {
					i := slices.IndexFunc(want, func(it item) bool { return it.slot == slot })
					if !o.remove(&n, want[i]) {
						t.Fatalf("step %d: remove did not find %+v", step, want[i])
					}
					want = slices.Delete(want, i, i+1)
					delete(in, slot)
				} else {
					it := item{x: x(), model: models[slot], slot: slot}
					o.insert(&n, it)
					want = append(want, it)
					sortItems()
					in[slot] = true
				}
				if step%500 == 0 {
					check(step)
				}
			}
			check(6000)
			// Removing an item that is not there changes nothing.
			if o.remove(&n, item{x: -1, model: models[0], slot: 99999}) {
				t.Error("removed an item that was not there")
			}
			check(6001)
		})
	}
}

// Names find what they interned, by the same number, across the growth of
// their tables, and each lists every one once.
func TestNamesInternAndFind(t *testing.T) {
	n := newNames(10)
	nums := map[string]uint32{}
	for i := range 20000 {
		s := fmt.Sprintf("owner-%d/%s-%d", i%300, strings.Repeat("x", i%40), i)
		m, added := n.intern(n.hash(s), s)
		if !added {
			t.Fatalf("%q interned twice", s)
		}
		nums[s] = m
	}
	for s, m := range nums {
		if got, ok := n.find(s); !ok || got != m || n.name(m) != s {
			t.Fatalf("find(%q) = %d, %v; want %d", s, got, ok, m)
		}
		if got, added := n.intern(n.hash(s), s); added || got != m {
			t.Fatalf("intern(%q) again = %d, %v", s, got, added)
		}
	}
	if _, ok := n.find("nobody/none"); ok {
		t.Error("found an id never interned")
	}
	seen := 0
	n.each(func(m uint32) {
		if nums[n.name(m)] != m {
			t.Errorf("each lists %d as %q", m, n.name(m))
		}
		seen++
	})
	if seen != len(nums) {
		t.Errorf("each lists %d ids, want %d", seen, len(nums))
	}
}
