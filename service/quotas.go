package service

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// Quota bounds what one namespace's publishers may store in a UTC day,
// so that one publisher cannot fill the disk others need. Accepted
// results stay: they are the audit record; the quota bounds how fast
// they come.
type Quota struct {
	ResultsPerDay int
	// BytesPerDay counts the stored records, run energies and all.
	BytesPerDay int64
}

// DefaultQuota lets a publisher submit a result every nine seconds all
// day long, or a whole benchmark suite in a burst, and stops one token
// at its submission rate from storing 4.7 GB a day.
var DefaultQuota = Quota{ResultsPerDay: 10_000, BytesPerDay: 128 << 20}

// Quotas are the default quota and the namespaces an operator gave
// another. A zero field in either means no limit on that count.
type Quotas struct {
	Default Quota
	By      map[string]Quota
}

func (q Quotas) of(namespace string) Quota {
	if o, ok := q.By[namespace]; ok {
		return o
	}
	return q.Default
}

// ParseQuota reads a -quota flag's value, NAMESPACE=RESULTS/BYTES, where
// BYTES may end in KB, MB or GB (powers of 1,024) and 0 means no limit.
func ParseQuota(v string) (string, Quota, error) {
	ns, limits, ok := strings.Cut(v, "=")
	results, bytes, ok2 := strings.Cut(limits, "/")
	if !ok || !ok2 || rating.ValidateModel(ns+"/x") != nil {
		return "", Quota{}, fmt.Errorf("quota %q: want NAMESPACE=RESULTS/BYTES, as acme=50000/1GB", v)
	}
	n, err := strconv.Atoi(results)
	if err != nil || n < 0 {
		return "", Quota{}, fmt.Errorf("quota %q: results a day: not a count", v)
	}
	b, err := ParseBytes(bytes)
	if err != nil {
		return "", Quota{}, fmt.Errorf("quota %q: %w", v, err)
	}
	return ns, Quota{ResultsPerDay: n, BytesPerDay: b}, nil
}

// ParseBytes reads a size: a count of bytes, or one ending in KB, MB or
// GB (powers of 1,024).
func ParseBytes(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}} {
		if rest, ok := strings.CutSuffix(strings.ToUpper(s), u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("bytes %q: not a size", s)
	}
	return n * mult, nil
}

// usage counts what each namespace's publishers stored on one UTC day.
// Every replica counts the same, from the results the backend's events
// carry; a server that starts, or rebuilds its index, counts the day's
// earlier results from their history (recountUsage).
type usage struct {
	mu sync.Mutex
	// day is the UTC day counted, in days since 1970.
	day int64
	by  map[string]*used
	// lastID is the highest result id counted: a revision applied twice
	// (a watch that resumes in its middle) is counted once.
	lastID uint64
}

type used struct {
	results int
	bytes   int64
}

func dayOf(t time.Time) int64 { return t.Unix() / 86400 }

// count adds the results that events stored.
func (u *usage) count(events []storage.Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := range events {
		h := events[i].Result
		if h == nil || h.ID <= u.lastID {
			continue
		}
		u.lastID = h.ID
		if h.Source == rating.Publisher {
			u.addLocked(h.Model, h.ReceivedAt, int64(h.StoredBytes))
		}
	}
}

// recountUsage counts the publishers' results stored today that the
// usage has not counted yet (all of them when the server starts; on a
// rebuild, those of the events it missed), from the history of the
// models a snapshot shows active today: a model with a result stored
// today has a current result stored today. It reads at most a day's
// quota of each namespace, and a result too many per model.
func (s *Service) recountUsage(ctx context.Context, currents []storage.Current) {
	today := dayOf(s.now())
	u := &s.usage
	u.mu.Lock()
	counted := u.lastID
	u.mu.Unlock()
	models := map[string]bool{}
	newest := counted
	for i := range currents {
		c := &currents[i]
		newest = max(newest, c.ID)
		if c.ID > counted && c.Source == rating.Publisher && dayOf(c.ReceivedAt) == today {
			models[c.Model] = true
		}
	}
	for model := range models {
		owner, _, _ := strings.Cut(model, "/")
		limit := s.quotas.of(owner).ResultsPerDay
		if limit <= 0 {
			limit = DefaultQuota.ResultsPerDay
		}
		entries, err := s.backend.History(ctx, storage.HistoryQuery{Model: model, After: counted, Limit: limit + 1})
		if err != nil {
			s.log.Warn("counting today's results for the quotas: what the history does not give, they do not count", "model", model, "err", err)
			continue
		}
		u.mu.Lock()
		for _, e := range entries {
			if e.Source == rating.Publisher {
				u.addLocked(e.Model, e.ReceivedAt, int64(e.StoredBytes))
			}
		}
		u.mu.Unlock()
	}
	u.mu.Lock()
	u.lastID = max(u.lastID, newest)
	u.mu.Unlock()
}

func (u *usage) addLocked(model string, at time.Time, bytes int64) {
	day := dayOf(at)
	if day < u.day {
		return // an earlier day's: it counts against nothing now
	}
	if day > u.day {
		u.day, u.by = day, map[string]*used{}
	}
	owner, _, _ := strings.Cut(model, "/")
	n := u.by[owner]
	if n == nil {
		n = &used{}
		u.by[owner] = n
	}
	n.results++
	n.bytes += bytes
}

// quotaError says that a namespace spent a day's quota.
type quotaError struct {
	namespace, what string
	resets          time.Duration
}

func (e *quotaError) Error() string {
	return fmt.Sprintf("%v: namespace %s has spent its storage quota for today (%s); it renews at 00:00 UTC, in %s, and an operator can raise it",
		errResourceExhausted, e.namespace, e.what, e.resets.Round(time.Minute))
}

func (e *quotaError) Unwrap() error             { return errResourceExhausted }
func (e *quotaError) RetryDelay() time.Duration { return e.resets }

// check says whether namespace may store n more results on the day of
// now within q. A result's size is known once it is stored: the bytes a
// namespace stored may pass its quota by the last result's, at most a
// request's size.
func (u *usage) check(q Quota, namespace string, n int, now time.Time) error {
	u.mu.Lock()
	var got used
	if dayOf(now) == u.day && u.by[namespace] != nil {
		got = *u.by[namespace]
	}
	u.mu.Unlock()
	resets := time.Unix((dayOf(now)+1)*86400, 0).Sub(now)
	switch {
	case q.ResultsPerDay > 0 && got.results+n > q.ResultsPerDay:
		return &quotaError{namespace, fmt.Sprintf("%d results a day; %d stored", q.ResultsPerDay, got.results), resets}
	case q.BytesPerDay > 0 && got.bytes >= q.BytesPerDay:
		return &quotaError{namespace, fmt.Sprintf("%d bytes a day; %d stored", q.BytesPerDay, got.bytes), resets}
	}
	return nil
}
