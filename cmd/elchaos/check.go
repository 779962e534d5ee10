package main

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"time"
)

// The checker: given what the clients did and saw (history.go) and what
// every replica serves at the end, it finds lost, phantom and duplicate
// results, reads that missed the reader's own write, reads that went back
// in time, and staleness headers that claim less than the replica's true
// lag. It is pure, so that the unit tests feed it synthetic histories.

// Hard checks: any violation fails the run.
const (
	CheckLost      = "lost"
	CheckPhantom   = "phantom"
	CheckDuplicate = "duplicate"
	CheckRYW       = "read-your-writes"
	CheckMonotonic = "monotonic-reads"
)

var hardChecks = []string{CheckLost, CheckPhantom, CheckDuplicate, CheckRYW, CheckMonotonic}

// maxExamples is how many violations of each check the report quotes.
const maxExamples = 12

// StalenessTolerance is what an honest header may fall short of a read's
// provable lag by: the header is floored to a tenth, and the client's
// clock reads bracket the server's.
const StalenessTolerance = 150 * time.Millisecond

// Violation is one finding.
type Violation struct {
	Check  string `json:"check"`
	Detail string `json:"detail"`
}

// Understatement is a read whose staleness header was below what it
// provably lagged by.
type Understatement struct {
	Read int // index into the reads
	// Header is what the replica said; Lag the least it lagged by, judged
	// by the newest acknowledged write it was missing (Bound "newest") or,
	// tighter and still sound, by the oldest (TightLag).
	Header   float64
	Lag      time.Duration
	TightLag time.Duration
}

// Report is the checker's verdict.
type Report struct {
	Writes, Acked, Failed, Unknown int
	// Stored counts distinct results in the final histories (replica 0's).
	Stored int
	// Counts of violations per check, and up to maxExamples of each.
	Counts   map[string]int
	Examples map[string][]Violation
	// Staleness: reads that carried a header and could be judged (they
	// missed an acknowledged write), and those that understated.
	StaleJudged      int
	Understated      []Understatement // judged by the newest missing write
	UnderstatedTight int              // judged by the oldest missing write
	// Revisions maps result ids to the revision they were stored at (from
	// the final histories).
	Revisions map[uint64]int64
	// LostOps are the acknowledged writes found missing somewhere.
	LostOps map[int64]bool

	judged map[int]bool // reads the staleness check could judge
	writes []Write
}

// Hard reports whether any hard check failed.
func (r *Report) Hard() bool {
	for _, c := range hardChecks {
		if r.Counts[c] > 0 {
			return true
		}
	}
	return false
}

func (r *Report) add(check, format string, args ...any) {
	r.Counts[check]++
	if len(r.Examples[check]) < maxExamples {
		r.Examples[check] = append(r.Examples[check], Violation{check, fmt.Sprintf(format, args...)})
	}
}

// Check judges a run.
func Check(writes []Write, reads []Read, final Final) *Report {
	rep := &Report{Counts: map[string]int{}, Examples: map[string][]Violation{}, Revisions: map[uint64]int64{},
		LostOps: map[int64]bool{}, judged: map[int]bool{}, writes: writes}
	byID := make(map[int64]*Write, len(writes))
	submitted := map[string]bool{}
	for i := range writes {
		w := &writes[i]
		byID[w.ID] = w
		submitted[w.Model] = true
		rep.Writes++
		switch w.Outcome {
		case OK:
			rep.Acked++
		case Failed:
			rep.Failed++
		default:
			rep.Unknown++
		}
	}
	for i, e := range final.Errors {
		if i == 0 {
			rep.add(CheckLost, "the final reads could not all be made, so acknowledged writes may be unreadable: %d failed, first: %s", len(final.Errors), e)
		}
	}
	nrep := len(final.History)
	for r := 0; r < nrep; r++ {
		for _, es := range final.History[r] {
			for _, e := range es {
				if e.Revision != 0 {
					rep.Revisions[e.ResultID] = e.Revision
				}
			}
		}
	}
	if nrep > 0 {
		for _, es := range final.History[0] {
			rep.Stored += len(es)
		}
	}

	// Lost: every acknowledged write is in every replica's history of its
	// model, under the result id it was acknowledged with.
	for i := range writes {
		w := &writes[i]
		if w.Outcome != OK {
			continue
		}
		for r := 0; r < nrep; r++ {
			es := final.History[r][w.Model]
			j := slices.IndexFunc(es, func(e Entry) bool { return e.Value == w.ID })
			if j < 0 || es[j].ResultID != w.ResultID {
				rep.LostOps[w.ID] = true
			}
			switch {
			case j < 0:
				rep.add(CheckLost, "op %d (%s, result %d, acknowledged by r%d at %s) is not in r%d's history of the model",
					w.ID, w.Model, w.ResultID, w.Replica+1, clock(w.Complete), r+1)
			case es[j].ResultID != w.ResultID:
				rep.add(CheckLost, "op %d (%s) was acknowledged as result %d but r%d's history has it as result %d",
					w.ID, w.Model, w.ResultID, r+1, es[j].ResultID)
			}
		}
	}
	// ... and GetRating on every replica shows each model's newest result.
	for r := 0; r < nrep; r++ {
		for _, model := range sortedKeys(final.History[r]) {
			es := final.History[r][model]
			if len(es) == 0 {
				continue
			}
			newest := es[len(es)-1]
			cur, ok := final.Current[r][model]
			switch {
			case !ok:
				rep.add(CheckLost, "r%d's GetRating does not find %s, whose history ends with result %d", r+1, model, newest.ResultID)
			case cur.ResultID != newest.ResultID:
				rep.add(CheckLost, "r%d's GetRating of %s shows result %d, its history ends with result %d", r+1, model, cur.ResultID, newest.ResultID)
			}
		}
	}

	// Phantom: everything stored encodes an operation some client invoked
	// on that very model and that did not certainly fail. Duplicate: no
	// operation is stored twice.
	for r := 0; r < nrep; r++ {
		seen := map[int64]string{}
		for _, model := range sortedKeys(final.History[r]) {
			for _, e := range final.History[r][model] {
				w := byID[e.Value]
				switch {
				case e.Value <= 0 || w == nil:
					rep.add(CheckPhantom, "r%d: result %d of %s encodes no operation a client invoked (value %d)", r+1, e.ResultID, model, e.Value)
				case w.Model != model:
					rep.add(CheckPhantom, "r%d: result %d is stored for %s, but op %d submitted it for %s", r+1, e.ResultID, model, w.ID, w.Model)
				case w.Outcome == Failed:
					rep.add(CheckPhantom, "r%d: result %d of %s is op %d, which failed for certain (%s %s)", r+1, e.ResultID, model, w.ID, w.Code, w.Err)
				}
				if e.Value > 0 {
					if prev, dup := seen[e.Value]; dup {
						rep.add(CheckDuplicate, "r%d: op %d is stored twice: %s and result %d of %s", r+1, e.Value, prev, e.ResultID, model)
					} else {
						seen[e.Value] = fmt.Sprintf("result %d of %s", e.ResultID, model)
					}
				}
			}
		}
		for _, model := range sortedKeys(final.Listed[r]) {
			if !submitted[model] {
				rep.add(CheckPhantom, "r%d lists model %s, which no client submitted", r+1, model)
			}
		}
	}

	// Read-your-writes: the acknowledging replica's next read of the model
	// shows the acknowledged result or a newer one.
	for i := range reads {
		rd := &reads[i]
		if rd.Kind != ReadRYW || !rd.OK {
			continue
		}
		w := byID[rd.After]
		if w == nil || w.Outcome != OK {
			continue
		}
		if rd.ResultID < w.ResultID {
			rep.add(CheckRYW, "r%d acknowledged op %d (%s) as result %d at %s, then GetRating at %s showed result %d",
				w.Replica+1, w.ID, w.Model, w.ResultID, clock(w.Complete), clock(rd.Invoke), rd.ResultID)
		}
	}

	checkMonotonic(rep, reads)
	checkStaleness(rep, writes, reads)
	return rep
}

// checkMonotonic: on each replica, a read that starts after another has
// finished never shows an older revision (GetServerInfo) or an older
// current result of a model (GetRating), whichever client made them,
// across restarts too.
func checkMonotonic(rep *Report, reads []Read) {
	type key struct {
		replica int
		model   string // "" for the revision
	}
	groups := map[key][]int{}
	for i := range reads {
		rd := &reads[i]
		if !rd.OK {
			continue
		}
		switch rd.Kind {
		case ReadInfo:
			groups[key{rd.Replica, ""}] = append(groups[key{rd.Replica, ""}], i)
		case ReadRating, ReadRYW:
			groups[key{rd.Replica, rd.Model}] = append(groups[key{rd.Replica, rd.Model}], i)
		}
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.replica, b.replica), cmp.Compare(a.model, b.model)) })
	val := func(rd *Read) int64 {
		if rd.Kind == ReadInfo {
			return rd.Revision
		}
		return int64(rd.ResultID)
	}
	for _, k := range keys {
		idx := groups[k]
		byInvoke := slices.Clone(idx)
		byComplete := slices.Clone(idx)
		slices.SortStableFunc(byInvoke, func(a, b int) int { return reads[a].Invoke.Compare(reads[b].Invoke) })
		slices.SortStableFunc(byComplete, func(a, b int) int { return reads[a].Complete.Compare(reads[b].Complete) })
		best, bestAt := int64(-1), -1
		j := 0
		for _, i := range byInvoke {
			rd := &reads[i]
			for j < len(byComplete) && reads[byComplete[j]].Complete.Before(rd.Invoke) {
				if v := val(&reads[byComplete[j]]); v > best {
					best, bestAt = v, byComplete[j]
				}
				j++
			}
			if bestAt >= 0 && val(rd) < best {
				prev := &reads[bestAt]
				what := "revision"
				if k.model != "" {
					what = "current result of " + k.model
				}
				restart := ""
				if prev.Incarnation != rd.Incarnation {
					restart = fmt.Sprintf(" (across a restart: incarnation %d, then %d)", prev.Incarnation, rd.Incarnation)
				}
				rep.add(CheckMonotonic, "r%d: %s went back from %d (read done %s) to %d (read started %s)%s",
					k.replica+1, what, best, clock(prev.Complete), val(rd), clock(rd.Invoke), restart)
			}
		}
	}
}

// checkStaleness: a read that misses an acknowledged write must say it
// may be at least as stale as the time since that write was
// acknowledged. A replica's index that lacks write W was last confirmed
// current before W committed, so before W's acknowledgement: the header
// (seconds since that confirmation) is at least invoke − ack(W) for every
// missing W. We judge by the newest missing W, the weakest bound, and
// count the tighter (oldest) bound's failures beside it.
func checkStaleness(rep *Report, writes []Write, reads []Read) {
	// Acknowledged writes as (key, ack time) per domain: revisions for
	// GetServerInfo, result ids per model for GetRating.
	var revPoints []point
	byModel := map[string][]point{}
	for i := range writes {
		w := &writes[i]
		if w.Outcome != OK {
			continue
		}
		if rev, ok := rep.Revisions[w.ResultID]; ok {
			revPoints = append(revPoints, point{key: rev, at: w.Complete})
		}
		byModel[w.Model] = append(byModel[w.Model], point{key: int64(w.ResultID), at: w.Complete})
	}
	var revQs []query
	modelQs := map[string][]query{}
	for i := range reads {
		rd := &reads[i]
		if !rd.OK || rd.Staleness < 0 {
			continue
		}
		switch rd.Kind {
		case ReadInfo:
			revQs = append(revQs, query{read: i, key: rd.Revision, at: rd.Invoke})
		case ReadRating, ReadRYW:
			modelQs[rd.Model] = append(modelQs[rd.Model], query{read: i, key: int64(rd.ResultID), at: rd.Invoke})
		}
	}
	judge := func(qs []query, res []missing) {
		for n, q := range qs {
			m := res[n]
			if !m.any {
				continue
			}
			rep.StaleJudged++
			rep.judged[q.read] = true
			rd := &reads[q.read]
			header := time.Duration(rd.Staleness * float64(time.Second))
			lag, tight := q.at.Sub(m.newest), q.at.Sub(m.oldest)
			if header+StalenessTolerance < tight {
				rep.UnderstatedTight++
			}
			if header+StalenessTolerance < lag {
				rep.Understated = append(rep.Understated, Understatement{Read: q.read, Header: rd.Staleness, Lag: lag, TightLag: tight})
			}
		}
	}
	judge(revQs, missingBefore(revPoints, revQs))
	for _, model := range sortedKeys(modelQs) {
		judge(modelQs[model], missingBefore(byModel[model], modelQs[model]))
	}
	slices.SortFunc(rep.Understated, func(a, b Understatement) int { return cmp.Compare(a.Read, b.Read) })
}

// point is an acknowledged write: its revision or result id, and when it
// was acknowledged.
type point struct {
	key int64
	at  time.Time
}

// query is a read: the revision or result id it showed, and when it
// started.
type query struct {
	read int
	key  int64
	at   time.Time
}

// missing is, for one read, the newest and oldest acknowledgement among
// the writes it missed (key above the read's, acknowledged before it
// started).
type missing struct {
	any            bool
	newest, oldest time.Time
}

// missingBefore answers, for every query, which acknowledged writes it
// missed, in O((n+m) log m): queries in time order, writes added to two
// Fenwick trees over their keys as they become acknowledged, each
// holding the latest and the earliest acknowledgement above a key.
func missingBefore(points []point, qs []query) []missing {
	out := make([]missing, len(qs))
	if len(points) == 0 || len(qs) == 0 {
		return out
	}
	keys := make([]int64, len(points))
	for i, p := range points {
		keys[i] = p.key
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	n := len(keys)
	// Fenwick over reversed ranks, so that a prefix is "keys above".
	rank := func(k int64) int { return n - sort.Search(n, func(i int) bool { return keys[i] >= k }) } // keys >= k count
	const none = int64(-1 << 62)
	maxT := make([]int64, n+1)
	minT := make([]int64, n+1)
	for i := range maxT {
		maxT[i], minT[i] = none, -none
	}
	add := func(k int64, t int64) {
		// position of key k among keys in reverse: keys >= k count.
		for i := rank(k); i <= n; i += i & -i {
			maxT[i] = max(maxT[i], t)
			minT[i] = min(minT[i], t)
		}
	}
	above := func(k int64) (int64, int64) { // over keys > k
		hi, lo := none, -none
		i := n - sort.Search(n, func(i int) bool { return keys[i] > k }) // count of keys > k
		for ; i > 0; i -= i & -i {
			hi = max(hi, maxT[i])
			lo = min(lo, minT[i])
		}
		return hi, lo
	}
	ps := slices.Clone(points)
	slices.SortFunc(ps, func(a, b point) int { return a.at.Compare(b.at) })
	order := make([]int, len(qs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return qs[a].at.Compare(qs[b].at) })
	var base time.Time = ps[0].at
	j := 0
	for _, qi := range order {
		q := qs[qi]
		for j < len(ps) && ps[j].at.Before(q.at) {
			add(ps[j].key, int64(ps[j].at.Sub(base)))
			j++
		}
		hi, lo := above(q.key)
		if hi != none {
			out[qi] = missing{any: true, newest: base.Add(time.Duration(hi)), oldest: base.Add(time.Duration(lo))}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// clock formats a time of day to the millisecond, as the report quotes.
func clock(t time.Time) string { return t.Format("15:04:05.000") }
