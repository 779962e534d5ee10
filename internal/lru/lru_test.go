package lru

import "testing"

func TestACacheStaysInItsBudgetAndKeepsWhatIsUsed(t *testing.T) {
	const shards = 16
	c := New(shards*10<<10, shards, func(k uint64) uint64 { return k }, func(_ uint64, v []byte) int { return len(v) })
	for i := range 100 * shards {
		c.Put(uint64(i), make([]byte, 1000))
		c.Get(0, nil) // used again and again
		for s := range c.shards {
			if sh := &c.shards[s]; sh.bytes > sh.budget {
				t.Fatalf("after %d puts shard %d holds %d bytes, over its budget of %d", i+1, s, sh.bytes, sh.budget)
			}
		}
	}
	for s := range c.shards {
		if n := len(c.shards[s].m); n < 5 || n > 10 {
			t.Errorf("shard %d holds %d entries of 1 kB in 10 kB", s, n)
		}
	}
	if _, ok := c.Get(100*shards-1, nil); !ok {
		t.Error("the last entry put is not in the cache")
	}
	if _, ok := c.Get(0, nil); !ok {
		t.Error("the entry used after every put was evicted")
	}
	if _, ok := c.Get(shards, nil); ok {
		t.Error("an entry put early and never used again is still there")
	}
	c.Put(1, make([]byte, 20<<10))
	if v, ok := c.Get(1, nil); ok && len(v) > 1000 {
		t.Error("an entry larger than a shard's budget was kept")
	}
	if _, ok := c.Get(2, func([]byte) bool { return false }); ok {
		t.Error("an entry fresh refused was answered")
	}
	st := c.Stats()
	if st.Bytes > shards*10<<10 || st.Hits == 0 || st.Misses == 0 {
		t.Errorf("stats %+v", st)
	}
}
