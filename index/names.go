package index

import (
	"hash/maphash"
	"strings"
)

// names interns model ids and numbers them, and keeps each model's first
// entry. Each id's text is kept once, in blocks of nameBlock bytes that
// hold many, and is found again through open-addressing tables of numbers
// hashed by text: two million ids are a few hundred blocks and flat
// arrays, none of which the garbage collector walks (only the block
// slices hold pointers, one a block). A Go map keyed by the ids would be a
// pointer per id that every collection looks at.
//
// The ids are spread over nameShards shards by their hash, each with its
// own text, table and numbers, so that Load interns them on every
// processor at once, each shard by one goroutine (data.bulk). A model's
// number is its number in its shard, shifted, with the shard's below.
//
// An id is never forgotten: a model, once rated, stays rated.
type names struct {
	shards [nameShards]nameShard
	seed   maphash.Seed
}

// nameShard is one shard of names.
type nameShard struct {
	// blocks hold the ids' text; the last is being filled, through cur,
	// and is re-read from it after each id. An id never spans two.
	blocks []string
	cur    *strings.Builder
	// at is where each id is, and first the slot + 1 of the model's first
	// entry in cohort order (0 for none), by number in the shard.
	at    []nameAt
	first []uint32
	// slots is the hash table: a number + 1 in each used slot, 0 in an
	// empty one; len(slots) is a power of two, at most half full.
	slots []uint32
}

type nameAt struct {
	block, off, len uint32
}

const (
	shardBits  = 6
	nameShards = 1 << shardBits
	// nameBlock is the size of the text blocks.
	nameBlock = 64 << 10
)

func newNames(capacity int) names {
	var n names
	n.seed = maphash.MakeSeed()
	per := capacity / nameShards
	size := 8
	for size < 2*per {
		size *= 2
	}
	for i := range n.shards {
		n.shards[i] = nameShard{slots: make([]uint32, size), at: make([]nameAt, 0, per), first: make([]uint32, 0, per)}
	}
	return n
}

// hash is an id's hash: its low bits pick its shard.
func (n *names) hash(s string) uint64 { return maphash.String(n.seed, s) }

// each calls fn with the number of every id.
func (n *names) each(fn func(m uint32)) {
	for sh := range n.shards {
		for i := range n.shards[sh].at {
			fn(uint32(i)<<shardBits | uint32(sh))
		}
	}
}

// name is the id numbered m; it shares its block's memory.
func (n *names) name(m uint32) string {
	s := &n.shards[m&(nameShards-1)]
	a := s.at[m>>shardBits]
	return s.blocks[a.block][a.off : a.off+a.len]
}

// first is where model m's first entry is kept.
func (n *names) first(m uint32) *uint32 {
	return &n.shards[m&(nameShards-1)].first[m>>shardBits]
}

// find returns the number of an id, and false when it has none.
func (n *names) find(s string) (uint32, bool) {
	h := n.hash(s)
	sh := uint32(h & (nameShards - 1))
	shard := &n.shards[sh]
	mask := uint64(len(shard.slots) - 1)
	for p := (h >> shardBits) & mask; ; p = (p + 1) & mask {
		v := shard.slots[p]
		if v == 0 {
			return 0, false
		}
		if m := (v-1)<<shardBits | sh; n.name(m) == s {
			return m, true
		}
	}
}

// intern returns the number of an id whose hash is h, numbering it if it
// has none (added true). Interning into different shards may run at once.
func (n *names) intern(h uint64, s string) (m uint32, added bool) {
	sh := uint32(h & (nameShards - 1))
	shard := &n.shards[sh]
	mask := uint64(len(shard.slots) - 1)
	p := (h >> shardBits) & mask
	for ; ; p = (p + 1) & mask {
		v := shard.slots[p]
		if v == 0 {
			break
		}
		if m := (v-1)<<shardBits | sh; n.name(m) == s {
			return m, false
		}
	}
	local := uint32(len(shard.at))
	shard.at = append(shard.at, shard.store(s))
	shard.first = append(shard.first, 0)
	shard.slots[p] = local + 1
	if 2*len(shard.at) > len(shard.slots) {
		n.grow(shard)
	}
	return local<<shardBits | sh, true
}

// store copies an id's text into the current block, or a new one.
func (s *nameShard) store(id string) nameAt {
	if s.cur == nil || s.cur.Cap()-s.cur.Len() < len(id) {
		s.cur = new(strings.Builder)
		s.cur.Grow(max(nameBlock, len(id)))
		s.blocks = append(s.blocks, "")
	}
	off := s.cur.Len()
	s.cur.WriteString(id)
	last := len(s.blocks) - 1
	// The builder only appends: what earlier Strings returned stays.
	s.blocks[last] = s.cur.String()
	return nameAt{block: uint32(last), off: uint32(off), len: uint32(len(id))}
}

// grow doubles a shard's hash table.
func (n *names) grow(s *nameShard) {
	slots := make([]uint32, 2*len(s.slots))
	mask := uint64(len(slots) - 1)
	for i, a := range s.at {
		h := n.hash(s.blocks[a.block][a.off : a.off+a.len])
		p := (h >> shardBits) & mask
		for slots[p] != 0 {
			p = (p + 1) & mask
		}
		slots[p] = uint32(i) + 1
	}
	s.slots = slots
}
