// Package lru is a least-recently-used cache bounded in bytes, in shards,
// for the server's answers, images and pages.
package lru

import "sync"

// Cache is a least-recently-used cache bounded in bytes: putting an entry
// evicts the least recently used ones until the cache is within its
// budget. It is split in shards by a hash of the key, each with its own
// lock and an even share of the budget, so that concurrent hits seldom
// wait for one another.
type Cache[K comparable, V any] struct {
	shards []lruShard[K, V]
	hash   func(K) uint64
	// size is what an entry costs, key and value, in bytes.
	size func(K, V) int
}

type lruShard[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*lruNode[K, V]
	// root links the entries in a ring: root.next is the most recently
	// used, root.prev the least.
	root          lruNode[K, V]
	bytes, budget int
	hits, misses  uint64
	_             [64]byte // one cache line between shards' locks
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	size       int
	prev, next *lruNode[K, V]
}

// lruEntryOverhead is what an entry costs besides its key and value: the
// node, its map slot, and the pointers in them.
const lruEntryOverhead = 128

// New makes a cache of budget bytes in shards; hash spreads keys over
// the shards, size says what an entry costs.
func New[K comparable, V any](budget, shards int, hash func(K) uint64, size func(K, V) int) *Cache[K, V] {
	c := &Cache[K, V]{shards: make([]lruShard[K, V], shards), hash: hash, size: size}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.m, sh.budget = map[K]*lruNode[K, V]{}, budget/shards
		sh.root.next, sh.root.prev = &sh.root, &sh.root
	}
	return c
}

func (c *Cache[K, V]) shard(k K) *lruShard[K, V] { return &c.shards[c.hash(k)%uint64(len(c.shards))] }

// Get returns the entry of k if fresh accepts it; an entry it refuses
// counts as a miss, and stays until put replaces it or it ages out.
func (c *Cache[K, V]) Get(k K, fresh func(V) bool) (V, bool) {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := sh.m[k]
	if n == nil || (fresh != nil && !fresh(n.val)) {
		sh.misses++
		var zero V
		return zero, false
	}
	sh.hits++
	sh.unlink(n)
	sh.pushFront(n)
	return n.val, true
}

// Put adds or replaces the entry of k. An entry larger than a shard's
// budget is not kept.
func (c *Cache[K, V]) Put(k K, v V) {
	size := c.size(k, v) + lruEntryOverhead
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old := sh.m[k]; old != nil {
		sh.remove(old)
	}
	if size > sh.budget {
		return
	}
	n := &lruNode[K, V]{key: k, val: v, size: size}
	sh.m[k] = n
	sh.pushFront(n)
	sh.bytes += size
	for sh.bytes > sh.budget {
		sh.remove(sh.root.prev)
	}
}

func (sh *lruShard[K, V]) pushFront(n *lruNode[K, V]) {
	n.prev, n.next = &sh.root, sh.root.next
	n.prev.next, n.next.prev = n, n
}

func (sh *lruShard[K, V]) unlink(n *lruNode[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (sh *lruShard[K, V]) remove(n *lruNode[K, V]) {
	sh.unlink(n)
	delete(sh.m, n.key)
	sh.bytes -= n.size
}

// Stats are a cache's figures, for the metrics.
type Stats struct {
	Bytes, Entries int
	Hits, Misses   uint64
}

func (c *Cache[K, V]) Stats() Stats {
	var s Stats
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		s.Bytes += sh.bytes
		s.Entries += len(sh.m)
		s.Hits += sh.hits
		s.Misses += sh.misses
		sh.mu.Unlock()
	}
	return s
}
