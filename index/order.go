package index

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

// item is an entry's place in its cohort's order: best first by the x it
// shows (sortX), then by model id. A model is in a cohort once, so no two
// items of a cohort are equal.
type item struct {
	x     float64
	model uint32 // its number in names
	slot  uint32 // its entry in the slab
}

// order is a cohort's items, best first, in a list of sorted blocks of at
// most maxBlock items (a B-tree of one level, whose only pointers are one
// a block): insertion and removal move at most a block's items, finding
// an item is a binary search over the blocks' last items and then within
// one block, and the i-th item is found by stepping over whole blocks. A
// cohort of 300,000 entries is about 800 blocks.
type order struct {
	blocks [][]item
	n      int
}

// maxBlock is the most items a block holds, and bulkBlock how many a block
// built from sorted items gets, so that insertions find room.
const (
	maxBlock  = 512
	bulkBlock = maxBlock * 3 / 4
)

// compareItem orders an item against the key (x, model).
func (n *names) compareItem(it item, x float64, model string) int {
	if c := cmp.Compare(it.x, x); c != 0 {
		return c
	}
	return strings.Compare(n.name(it.model), model)
}

// compareItems orders two items.
func (n *names) compareItems(a, b item) int {
	if c := cmp.Compare(a.x, b.x); c != 0 {
		return c
	}
	if a.model == b.model {
		return 0
	}
	return strings.Compare(n.name(a.model), n.name(b.model))
}

// search returns the position (block, index in it) of the first item not
// before (x, model); (len(blocks), 0) when every item is.
func (o *order) search(n *names, x float64, model string) (int, int) {
	b := sort.Search(len(o.blocks), func(j int) bool {
		blk := o.blocks[j]
		return n.compareItem(blk[len(blk)-1], x, model) >= 0
	})
	if b == len(o.blocks) {
		return b, 0
	}
	blk := o.blocks[b]
	return b, sort.Search(len(blk), func(j int) bool { return n.compareItem(blk[j], x, model) >= 0 })
}

// insert adds an item.
func (o *order) insert(n *names, it item) {
	o.n++
	if len(o.blocks) == 0 {
		o.blocks = append(o.blocks, append(make([]item, 0, maxBlock), it))
		return
	}
	b, i := o.search(n, it.x, n.name(it.model))
	if b == len(o.blocks) { // after every item: at the end of the last block
		b--
		i = len(o.blocks[b])
	}
	blk := o.blocks[b]
	if len(blk) == maxBlock {
		// Split the full block in two, each with room for maxBlock.
		half := maxBlock / 2
		right := append(make([]item, 0, maxBlock), blk[half:]...)
		blk = blk[:half]
		o.blocks[b] = blk
		o.blocks = slices.Insert(o.blocks, b+1, right)
		if i > half {
			b, i, blk = b+1, i-half, right
		}
	}
	o.blocks[b] = slices.Insert(blk, i, it)
}

// remove takes an item out; it reports whether the item was there.
func (o *order) remove(n *names, it item) bool {
	b, i := o.search(n, it.x, n.name(it.model))
	if b == len(o.blocks) || o.blocks[b][i].slot != it.slot {
		return false
	}
	o.n--
	if blk := slices.Delete(o.blocks[b], i, i+1); len(blk) > 0 {
		o.blocks[b] = blk
	} else {
		o.blocks = slices.Delete(o.blocks, b, b+1)
	}
	return true
}

// at returns the position of the i-th item (0 is the best), stepping over
// whole blocks; (len(blocks), 0) past the last.
func (o *order) at(i int) (int, int) {
	for b, blk := range o.blocks {
		if i < len(blk) {
			return b, i
		}
		i -= len(blk)
	}
	return len(o.blocks), 0
}

// ascend calls fn with each item from position (b, i) on, best first,
// until fn returns false.
func (o *order) ascend(b, i int, fn func(item) bool) {
	for ; b < len(o.blocks); b, i = b+1, 0 {
		for _, it := range o.blocks[b][i:] {
			if !fn(it) {
				return
			}
		}
	}
}

// build makes the order of items, which it sorts and keeps: it cuts them
// into blocks of bulkBlock items, each with no room beyond its own items,
// so that the first insertion into one moves it into an array of its own
// and never writes the next block's.
func build(n *names, items []item) order {
	slices.SortFunc(items, n.compareItems)
	o := order{n: len(items), blocks: make([][]item, 0, (len(items)+bulkBlock-1)/bulkBlock)}
	for len(items) > 0 {
		k := min(bulkBlock, len(items))
		o.blocks = append(o.blocks, items[:k:k])
		items = items[k:]
	}
	return o
}
