package records

import (
	"container/heap"
	"fmt"
	"strings"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
)

// cohortSep joins the parts of a cohort key. Names are printable ASCII
// (rating's validation), so neither it nor the 0x00 that ends a cohort key
// in the backends' keys occurs inside one.
const cohortSep = "\x1f"

// CohortKey spells a cohort as keys do: task, dataset, size class, hardware
// and basis joined by 0x1f.
func CohortKey(c rating.Cohort) string {
	return c.Task + cohortSep + c.Dataset + cohortSep + c.SizeClass + cohortSep + c.Hardware + cohortSep + c.Basis.String()
}

// ParseCohortKey reads a CohortKey back. A basis this binary does not know
// reads as rating.Query, as a stored record's does; the other parts are as
// stored, which is all that HistoryQuery.Matches looks at.
func ParseCohortKey(k string) (rating.Cohort, error) {
	p := strings.Split(k, cohortSep)
	if len(p) != 5 {
		return rating.Cohort{}, fmt.Errorf("cohort key %q: %d parts, want 5", k, len(p))
	}
	basis, _ := rating.ParseUnit(p[4])
	return rating.Cohort{Task: p[0], Dataset: p[1], SizeClass: p[2], Hardware: p[3], Basis: basis}, nil
}

// CohortOf is the cohort a stored result is in, as Current (and so
// history) reads it: the measure it was accepted with, or, for a result
// stored before measures were kept, the one this binary measures it in.
// The backends' history indexes file each result under it.
func CohortOf(p *storev1.Result) rating.Cohort {
	if pm := p.GetMeasure(); pm != nil {
		basis, _ := rating.ParseUnit(pm.Basis)
		return rating.Cohort{Task: pm.Task, Dataset: pm.Dataset, SizeClass: pm.SizeClass, Hardware: pm.Hardware, Basis: basis}
	}
	r, _ := ResultOf(p)
	return rating.MeasureOf(r).Cohort
}

// IDCursor yields the result ids of one of a model's cohorts, in one
// direction (rising, or falling for a query of the newest), one at a time:
// a backend's cursor over its history index.
type IDCursor interface {
	// Next is the next id; ok is false when the cohort has no more.
	Next() (id uint64, ok bool, err error)
}

// MergeIDs merges cursors, each in the same direction, into the first
// limit ids of their union in that direction: rising ids, or with
// descending set, falling ones. It pulls from each cursor the ids it
// returns from it and one more at most, the one that was not next: what
// a filtered history reads is about a page, however long the model's
// history is.
func MergeIDs(cursors []IDCursor, descending bool, limit int) ([]uint64, error) {
	if limit <= 0 {
		return nil, nil
	}
	h := &idHeap{descending: descending}
	for _, c := range cursors {
		id, ok, err := c.Next()
		if err != nil {
			return nil, err
		}
		if ok {
			h.heads = append(h.heads, head{id, c})
		}
	}
	heap.Init(h)
	var out []uint64
	for h.Len() > 0 {
		top := &h.heads[0]
		if out = append(out, top.id); len(out) == limit {
			break
		}
		id, ok, err := top.c.Next()
		if err != nil {
			return nil, err
		}
		if ok {
			top.id = id
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return out, nil
}

type head struct {
	id uint64
	c  IDCursor
}

// idHeap orders cursors by their next id: the lowest first, or the highest
// when descending.
type idHeap struct {
	heads      []head
	descending bool
}

func (h *idHeap) Len() int { return len(h.heads) }
func (h *idHeap) Less(i, j int) bool {
	if h.descending {
		return h.heads[i].id > h.heads[j].id
	}
	return h.heads[i].id < h.heads[j].id
}
func (h *idHeap) Swap(i, j int) { h.heads[i], h.heads[j] = h.heads[j], h.heads[i] }
func (h *idHeap) Push(x any)    { h.heads = append(h.heads, x.(head)) }
func (h *idHeap) Pop() any {
	x := h.heads[len(h.heads)-1]
	h.heads = h.heads[:len(h.heads)-1]
	return x
}
