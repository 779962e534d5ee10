package records

import (
	"slices"
	"testing"

	"github.com/energylabel/energylabel/rating"
)

func TestACohortKeyReadsBack(t *testing.T) {
	for _, c := range []rating.Cohort{
		{Task: "text-generation", Dataset: "AIEnergyScore/text_generation", SizeClass: "B", Hardware: "H100", Basis: rating.OutputToken},
		{Task: "text-classification", Dataset: "acme/eval", Hardware: "Gaudi 3", Basis: rating.Query},
	} {
		if got, err := ParseCohortKey(CohortKey(c)); err != nil || got != c {
			t.Errorf("ParseCohortKey(CohortKey(%+v)) = %+v, %v", c, got, err)
		}
	}
	if _, err := ParseCohortKey("a\x1fb"); err == nil {
		t.Error("a key of two parts parsed")
	}
}

// sliceCursor is an IDCursor over ids, counting what it was asked for.
type sliceCursor struct {
	ids   []uint64
	pulls int
}

func (c *sliceCursor) Next() (uint64, bool, error) {
	c.pulls++
	if len(c.ids) == 0 {
		return 0, false, nil
	}
	id := c.ids[0]
	c.ids = c.ids[1:]
	return id, true, nil
}

func TestMergeIDsTakesAPageAndPullsNoMore(t *testing.T) {
	a, b, c := []uint64{1, 4, 5, 9}, []uint64{2, 3, 10}, []uint64{}
	cursors := func(down bool) ([]IDCursor, []*sliceCursor) {
		var cs []*sliceCursor
		for _, ids := range [][]uint64{a, b, c} {
			ids = slices.Clone(ids)
			if down {
				slices.Reverse(ids)
			}
			cs = append(cs, &sliceCursor{ids: ids})
		}
		return []IDCursor{cs[0], cs[1], cs[2]}, cs
	}
	ic, cs := cursors(false)
	got, err := MergeIDs(ic, false, 4)
	if err != nil || !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Errorf("the lowest 4: %v, %v", got, err)
	}
	// Each cursor gave what it returned and one more at most.
	if cs[0].pulls != 2 || cs[1].pulls != 3 || cs[2].pulls != 1 {
		t.Errorf("pulls %d, %d, %d; want 2, 3, 1", cs[0].pulls, cs[1].pulls, cs[2].pulls)
	}
	ic, _ = cursors(true)
	if got, err := MergeIDs(ic, true, 3); err != nil || !slices.Equal(got, []uint64{10, 9, 5}) {
		t.Errorf("the highest 3: %v, %v", got, err)
	}
	ic, _ = cursors(false)
	if got, err := MergeIDs(ic, false, 100); err != nil || !slices.Equal(got, []uint64{1, 2, 3, 4, 5, 9, 10}) {
		t.Errorf("all: %v, %v", got, err)
	}
	if got, _ := MergeIDs(nil, false, 10); len(got) != 0 {
		t.Errorf("no cursors: %v", got)
	}
}
