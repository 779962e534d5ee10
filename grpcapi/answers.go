package grpcapi

import (
	"hash/maphash"

	"github.com/energylabel/energylabel/internal/lru"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/service"
)

// answerCache keeps GetRating's answers, per index revision, with their
// encoding: an answer changes only when the revision moves, so a read
// between two writes costs a lookup, and the codec writes the bytes
// encoded once instead of encoding a dozen messages again (see
// preEncoded in codec.go). Every interceptor and transcoder sees the
// answer as the message it is. Any new revision retires every entry at
// once. It is bounded in bytes like the image caches.
type answerCache struct {
	lru *lru.Cache[answerKey, cachedAnswer]
}

// answerKey is the query answered: every field of it is comparable.
type answerKey = service.RatingQuery

type cachedAnswer struct {
	rev  int64
	resp *energylabelv1.GetRatingResponse
	size int
}

// answerCacheBudget bounds the answers kept, counted by their encoding,
// in answerShards.
const (
	answerCacheBudget = 16 << 20
	answerShards      = 16
)

func newAnswerCache(budget int) *answerCache {
	seed := maphash.MakeSeed()
	return &answerCache{lru: lru.New(budget, answerShards,
		func(k answerKey) uint64 { return maphash.String(seed, k.Model) },
		func(k answerKey, a cachedAnswer) int {
			// The message and its encoding are each about the size of
			// the encoding.
			return len(k.Model) + len(k.Task) + len(k.Scheme) + len(k.Hardware) + len(k.Dataset) + 2*a.size
		})}
}

// get returns the answer to k as it was at revision rev. It is shared:
// nothing may change it.
func (c *answerCache) get(k answerKey, rev int64) (*energylabelv1.GetRatingResponse, bool) {
	a, ok := c.lru.Get(k, func(a cachedAnswer) bool { return a.rev == rev })
	return a.resp, ok
}

// put keeps the answer to k at revision rev, encoded once. resp must not
// change from now on.
func (c *answerCache) put(k answerKey, rev int64, resp *energylabelv1.GetRatingResponse) {
	size, ok := preEncode(resp)
	if !ok {
		return // not kept; the caller still answers with resp
	}
	c.lru.Put(k, cachedAnswer{rev: rev, resp: resp, size: size})
}
