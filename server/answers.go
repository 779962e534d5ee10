package server

import (
	"hash/maphash"

	"google.golang.org/protobuf/proto"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// answerCache keeps GetRating's answers encoded, per index revision: an
// answer changes only when the revision moves, so a read between two
// writes costs a lookup and the copy of its bytes into the reply, not the
// encoding of a dozen messages. Any new revision retires every entry at
// once. It is bounded in bytes like the image caches.
type answerCache struct {
	lru *lru[answerKey, encodedAnswer]
}

type answerKey struct {
	model, task, scheme, hardware, dataset string
	forBadge                               bool
}

type encodedAnswer struct {
	rev   int64
	bytes []byte
}

// answerCacheBudget bounds the encoded answers kept.
const answerCacheBudget = 16 << 20

func newAnswerCache(budget int) *answerCache {
	seed := maphash.MakeSeed()
	return &answerCache{lru: newLRU(budget, cacheShards,
		func(k answerKey) uint64 { return maphash.String(seed, k.model) },
		func(k answerKey, a encodedAnswer) int {
			return len(k.model) + len(k.task) + len(k.scheme) + len(k.hardware) + len(k.dataset) + len(a.bytes)
		})}
}

// get returns the answer to k as encoded at revision rev, as a response
// whose wire form is those bytes: they are its unknown fields, which
// marshalling copies as they are.
func (c *answerCache) get(k answerKey, rev int64) (*energylabelv1.GetRatingResponse, bool) {
	a, ok := c.lru.get(k, func(a encodedAnswer) bool { return a.rev == rev })
	if !ok {
		return nil, false
	}
	resp := &energylabelv1.GetRatingResponse{}
	resp.ProtoReflect().SetUnknown(a.bytes)
	return resp, true
}

// put encodes and keeps the answer to k at revision rev.
func (c *answerCache) put(k answerKey, rev int64, resp *energylabelv1.GetRatingResponse) {
	b, err := proto.Marshal(resp)
	if err != nil {
		return // not kept; the caller still answers with resp
	}
	c.lru.put(k, encodedAnswer{rev: rev, bytes: b})
}
