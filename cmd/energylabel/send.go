package main

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/energylabel/energylabel/client"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// maxRateWait bounds how long one submission waits out rate limits in all.
const maxRateWait = 2 * time.Minute

// submit sends one result, waiting and retrying when the server says the
// token is over its rate limit, so that a large import by a publisher
// token completes instead of failing half-way.
func submit(ctx context.Context, c *client.Client, r *energylabelv1.BenchmarkResult, payloadSHA256 string) (*energylabelv1.SubmitResultResponse, error) {
	var waited time.Duration
	for {
		resp, err := c.Submit(ctx, r, payloadSHA256)
		d, ok := client.RetryAfter(err)
		if err == nil || !ok || waited+d > maxRateWait {
			return resp, err
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		waited += d
	}
}

// importWorkers is how many submissions an import keeps in flight.
const importWorkers = 4

// submitAll sends results concurrently and returns the responses in the
// order of results. Results of the same model go to the same worker in
// order, so that a model's last result is stored last. On the first failure
// it stops sending and returns its index, error and the partial responses.
func submitAll(ctx context.Context, c *client.Client, results []*energylabelv1.BenchmarkResult) ([]*energylabelv1.SubmitResultResponse, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	shards := make([][]int, importWorkers)
	for i, r := range results {
		h := fnv.New32a()
		h.Write([]byte(r.GetModel()))
		shards[h.Sum32()%importWorkers] = append(shards[h.Sum32()%importWorkers], i)
	}
	resps := make([]*energylabelv1.SubmitResultResponse, len(results))
	var (
		once     sync.Once
		failedAt = -1
		failure  error
		wg       sync.WaitGroup
	)
	for _, shard := range shards {
		wg.Go(func() {
			for _, i := range shard {
				if ctx.Err() != nil {
					return
				}
				resp, err := submit(ctx, c, results[i], "")
				if err != nil {
					// The first failure is the cause; later ones follow from cancel.
					once.Do(func() { failedAt, failure = i, err; cancel() })
					return
				}
				resps[i] = resp
			}
		})
	}
	wg.Wait()
	return resps, failedAt, failure
}
