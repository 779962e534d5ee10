package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/energylabel/energylabel/client"
	"github.com/energylabel/energylabel/errdefs"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// spellingPageSize is how many ratings a look-up for another spelling of
// a model id reads from each task's listing: one page, the server's
// largest.
const spellingPageSize = 1000

// otherSpellings are the rated models whose ids equal model but for
// case, sorted. The API has no search by model id, so it reads one page
// of ListRatings: of task when given, else one of each built-in task,
// at once. It sees each task's default dataset only, and the first
// spellingPageSize ratings of it; a failed page is skipped, as the
// look-up only adds to a not-found error.
func otherSpellings(ctx context.Context, c *client.Client, model, task string) []string {
	tasks := []string{task}
	if task == "" {
		tasks = tasks[:0]
		for _, t := range rating.Tasks() {
			tasks = append(tasks, t.ID)
		}
	}
	var (
		mu    sync.Mutex
		found []string
		wg    sync.WaitGroup
	)
	for _, t := range tasks {
		wg.Go(func() {
			resp, err := c.ListRatings(ctx, &energylabelv1.ListRatingsRequest{Task: t, PageSize: spellingPageSize})
			if err != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range resp.GetRatings() {
				if id := r.GetModel(); id != model && strings.EqualFold(id, model) && !slices.Contains(found, id) {
					found = append(found, id)
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(found)
	return found
}

// spelledOtherwise answers a read of model that found nothing (err is
// the not-found error): when exactly one rated model's id differs from
// it only in case, it says so on stderr and returns that id to read
// instead; when several do, it returns err naming them. Any other error
// is returned as it is.
func (a *app) spelledOtherwise(ctx context.Context, c *client.Client, cmd, model, task string, err error) (string, error) {
	if errdefs.KindOf(err) != errdefs.NotFound {
		return "", err
	}
	names := otherSpellings(ctx, c, model, task)
	switch len(names) {
	case 0:
		return "", err
	case 1:
		fmt.Fprintf(a.stderr, "energylabel: %s: no model %s; reading %s, the one rated model whose id differs from it only in case\n", cmd, model, names[0])
		return names[0], nil
	}
	return "", fmt.Errorf("%w%s", err, didYouMean(names))
}
