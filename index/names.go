package index

import (
	"hash/maphash"
	"strings"
)

// names interns model ids and numbers them 0, 1, 2… in the order they
// come. Each id's text is kept once, in blocks of nameBlock bytes that hold
// many, and is found again through an open-addressing table of numbers
// hashed by text: two million ids are a few dozen blocks and three flat
// arrays, none of which the garbage collector walks (only the blocks
// slice holds pointers, one a block). A Go map keyed by the ids would be a
// pointer per id that every collection looks at.
//
// An id is never forgotten: a model, once rated, stays rated.
type names struct {
	// blocks hold the ids' text; the last is being filled, through cur,
	// and is re-read from it after each id. An id never spans two.
	blocks []string
	cur    *strings.Builder
	// at is where each id is, by number.
	at []nameAt
	// slots is the hash table: a number + 1 in each used slot, 0 in an
	// empty one; len(slots) is a power of two, at most half full.
	slots []uint32
	seed  maphash.Seed
}

type nameAt struct {
	block, off, len uint32
}

// nameBlock is the size of the text blocks.
const nameBlock = 256 << 10

func newNames(capacity int) names {
	size := 16
	for size < 2*capacity {
		size *= 2
	}
	return names{slots: make([]uint32, size), at: make([]nameAt, 0, capacity), seed: maphash.MakeSeed()}
}

// len is the number of ids.
func (n *names) len() int { return len(n.at) }

// name is the id numbered i; it shares its block's memory.
func (n *names) name(i uint32) string {
	a := n.at[i]
	return n.blocks[a.block][a.off : a.off+a.len]
}

// find returns the number of an id, and false when it has none.
func (n *names) find(s string) (uint32, bool) {
	mask := uint64(len(n.slots) - 1)
	for h := maphash.String(n.seed, s) & mask; ; h = (h + 1) & mask {
		v := n.slots[h]
		if v == 0 {
			return 0, false
		}
		if n.name(v-1) == s {
			return v - 1, true
		}
	}
}

// intern returns the number of an id, numbering it if it has none (added
// true).
func (n *names) intern(s string) (i uint32, added bool) {
	mask := uint64(len(n.slots) - 1)
	h := maphash.String(n.seed, s) & mask
	for ; ; h = (h + 1) & mask {
		v := n.slots[h]
		if v == 0 {
			break
		}
		if n.name(v-1) == s {
			return v - 1, false
		}
	}
	i = uint32(len(n.at))
	n.at = append(n.at, n.store(s))
	n.slots[h] = i + 1
	if 2*len(n.at) > len(n.slots) {
		n.grow()
	}
	return i, true
}

// store copies an id's text into the current block, or a new one.
func (n *names) store(s string) nameAt {
	if n.cur == nil || n.cur.Cap()-n.cur.Len() < len(s) {
		n.cur = new(strings.Builder)
		n.cur.Grow(max(nameBlock, len(s)))
		n.blocks = append(n.blocks, "")
	}
	off := n.cur.Len()
	n.cur.WriteString(s)
	last := len(n.blocks) - 1
	// The builder only appends: what earlier Strings returned stays.
	n.blocks[last] = n.cur.String()
	return nameAt{block: uint32(last), off: uint32(off), len: uint32(len(s))}
}

// grow doubles the hash table.
func (n *names) grow() {
	slots := make([]uint32, 2*len(n.slots))
	mask := uint64(len(slots) - 1)
	for i := range n.at {
		h := maphash.String(n.seed, n.name(uint32(i))) & mask
		for slots[h] != 0 {
			h = (h + 1) & mask
		}
		slots[h] = uint32(i) + 1
	}
	n.slots = slots
}
