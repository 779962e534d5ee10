package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/energylabel/energylabel/storage"
)

// testConcurrentAppends: appends from many goroutines at once, of one
// result or two, each with its token's last use and a fingerprint, are
// all stored, each whole: no id is handed out twice or skipped, a batch's
// ids are consecutive, each writer's revisions increase, and the watch,
// history, Record, the snapshot and the token's last use have every one.
// Two of them cannot be stored (a measurement another model holds, one
// the same model stored already) and fail alone, as they would one at a
// time, storing nothing. Appends that ran at once may share a revision
// (etcd's share a transaction); bbolt's each have their own.
func testConcurrentAppends(t *testing.T, o Opener) {
	const writers, appends = 8, 6
	b := open(t, o)
	claimed := Fingerprinted("c/first", 1, 1)
	appendOne(t, b, claimed)
	mine := Fingerprinted("c/w3", 1, 2)
	mineID, _ := appendOne(t, b, mine)
	if _, err := b.PutToken(ctx(t), storage.Token{ID: "tok_c", Namespaces: []string{"c"}}); err != nil {
		t.Fatal(err)
	}
	rev0, _ := b.Revision(ctx(t))
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

	type appended struct {
		batch []storage.Accepted
		first uint64
		rev   int64
		err   error
	}
	got := make([][]appended, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range appends {
				batch := make([]storage.Accepted, 1+(w+i)%2)
				for j := range batch {
					a := Accepted(fmt.Sprintf("c/w%d", w), float64(1+i+j))
					a.Audit.TokenID = "tok_c"
					a.Audit.ReceivedAt = start.Add(time.Duration(w*appends+i) * time.Second)
					a.Audit.Fingerprint = fmt.Sprintf("%064x", 1000*(w+1)+10*i+j)
					batch[j] = a
				}
				switch {
				case w == 1 && i == 2:
					batch[0].Audit.Fingerprint = claimed.Audit.Fingerprint
				case w == 3 && i == 4:
					batch[0].Audit.Fingerprint = mine.Audit.Fingerprint
				}
				r := appended{batch: batch}
				r.first, r.rev, r.err = b.Append(ctx(t), batch)
				got[w] = append(got[w], r)
			}
		})
	}
	wg.Wait()

	type stored struct {
		rev   int64
		model string
	}
	byID := map[uint64]stored{}
	var ids []uint64
	var lastUse time.Time
	var lastRev int64
	for w, rs := range got {
		var prev int64
		for i, r := range rs {
			switch {
			case w == 1 && i == 2:
				if !errors.Is(r.err, storage.ErrExists) || !strings.Contains(r.err.Error(), "c/first") {
					t.Errorf("writer 1's batch with c/first's measurement: %v, want ErrExists naming c/first", r.err)
				}
				continue
			case w == 3 && i == 4:
				if dup := (*storage.DuplicateError)(nil); !errors.As(r.err, &dup) || dup.ResultID != mineID {
					t.Errorf("writer 3's batch with its model's stored measurement: %v, want a DuplicateError naming result %d", r.err, mineID)
				}
				continue
			case r.err != nil:
				t.Fatalf("writer %d, append %d: %v", w, i, r.err)
			}
			if r.rev <= prev || r.rev <= rev0 {
				t.Errorf("writer %d, append %d at revision %d, after %d (and %d before them all)", w, i, r.rev, prev, rev0)
			}
			prev = r.rev
			lastRev = max(lastRev, r.rev)
			for j := range r.batch {
				id := r.first + uint64(j)
				if _, ok := byID[id]; ok {
					t.Fatalf("id %d handed out twice", id)
				}
				byID[id] = stored{r.rev, r.batch[j].Result.Model}
				ids = append(ids, id)
				if at := r.batch[j].Audit.ReceivedAt; at.After(lastUse) {
					lastUse = at
				}
			}
		}
	}
	slices.Sort(ids)
	for i, id := range ids {
		if id != mineID+1+uint64(i) {
			t.Fatalf("ids %v: want every id from %d on once, with no gap", ids, mineID+1)
		}
	}
	if rev, err := b.Revision(ctx(t)); err != nil || rev != lastRev {
		t.Errorf("Revision() = %d, %v after the appends; the last was at %d", rev, err, lastRev)
	}

	// The watch has each result once, in id order, at its append's
	// revision, and nothing of the refused batches.
	evs, err := Collect(b.Watch(ctx(t), rev0, storage.WatchFilter{}), len(ids))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.Kind != storage.ResultAdded || e.Result.ID != ids[i] || e.Revision != byID[ids[i]].rev || e.Result.Model != byID[ids[i]].model {
			t.Fatalf("event %d: %+v at revision %d; want result %d of %s at %d", i, e.Result, e.Revision, ids[i], byID[ids[i]].model, byID[ids[i]].rev)
		}
	}
	// History, Record and the snapshot have each; each writer's latest
	// result is its model's current one.
	s, err := b.Snapshot(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	current := map[string]uint64{}
	for _, c := range s.Currents {
		current[c.Model] = c.ID
	}
	for w := range writers {
		model := fmt.Sprintf("c/w%d", w)
		var want []uint64
		if w == 3 {
			want = append(want, mineID)
		}
		for _, id := range ids {
			if byID[id].model == model {
				want = append(want, id)
			}
		}
		if h := wholeHistory(t, b, model); !slices.Equal(historyIDs(h), want) {
			t.Errorf("history of %s: %v, want %v", model, historyIDs(h), want)
		}
		if current[model] != want[len(want)-1] {
			t.Errorf("the current result of %s is %d, want %d", model, current[model], want[len(want)-1])
		}
	}
	for _, id := range ids {
		if r, _, err := b.Record(ctx(t), id); err != nil || r.Model != byID[id].model {
			t.Errorf("Record(%d) = %+v, %v; want a result of %s", id, r, err, byID[id].model)
		}
	}
	if len(s.Tokens) != 1 || !s.Tokens[0].LastUsedAt.Equal(lastUse) {
		t.Errorf("tokens %+v: want tok_c, last used at %v", s.Tokens, lastUse)
	}
}
