package move_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/energylabel/energylabel/internal/testkit/etcdtest"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
	etcdstore "github.com/energylabel/energylabel/storage/etcdstore"
	"github.com/energylabel/energylabel/storage/move"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// A bbolt store moved into etcd reads the same from etcd: every result
// under its id, every history, filtered by cohort or not, the current
// ratings, tokens, registries, releases and verifications; fingerprints
// claim their models there; and new results continue its ids.
func TestAMoveFromBboltToEtcdLosesNothing(t *testing.T) {
	ctx := t.Context()
	from, err := boltdb.Open(t.TempDir(), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	for i, m := range []string{"a/one", "a/two", "a/one", "b/three", "a/one"} {
		a := storagetest.Accepted(m, float64(i+1))
		a.Audit.PayloadSHA256 = fmt.Sprintf("%064x", i+1)
		a.Audit.Fingerprint = fmt.Sprintf("%064x", 100+i)
		a.Label.Stars = i%5 + 1
		if _, _, err := from.Append(ctx, []storage.Accepted{a}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := from.Append(ctx, []storage.Accepted{storagetest.Accepted("b/four", 7), storagetest.Accepted("b/five", 8)}); err != nil {
		t.Fatal(err)
	}
	// c/many has results in every cohort the history checks tell apart,
	// more than one import transaction's worth.
	var many []storage.Accepted
	for i := range 60 {
		many = append(many, storagetest.InCohort("c/many", float64(i+1), storagetest.HistoryCohorts[(i*i+i/7)%len(storagetest.HistoryCohorts)]))
	}
	if _, _, err := from.Append(ctx, many); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	writes := []func() (int64, error){
		func() (int64, error) {
			return from.PutToken(ctx, storage.Token{ID: "tok_1", SecretSHA256: []byte{1, 2}, Namespaces: []string{"a"}, CreatedAt: at, LastUsedAt: at.Add(time.Hour)})
		},
		func() (int64, error) {
			return from.PutToken(ctx, storage.Token{ID: "tok_2", Namespaces: []string{"*"}, CreatedAt: at, Revoked: true})
		},
		func() (int64, error) {
			return from.PutToken(ctx, storage.Token{ID: "tok_s", CreatedAt: at, Role: storage.RoleSurveyor})
		},
		func() (int64, error) { return from.AddVerification(ctx, verification("a/two", 2, 1, 2.5)) },
		func() (int64, error) { return from.AddVerification(ctx, verification("a/one", 1, 1, 1.05)) },
		func() (int64, error) { return from.AddVerification(ctx, verification("a/two", 2, 2, 2.4)) },
		func() (int64, error) {
			return from.AddAccelerator(ctx, rating.Accelerator{Name: "Gaudi 3", Family: "Gaudi 3", BoardWatts: 900, Aliases: []string{"HL-325L"}})
		},
		func() (int64, error) {
			return from.AddDataset(ctx, rating.Dataset{Name: "acme/eval", Task: "text-generation", Basis: rating.OutputToken})
		},
		func() (int64, error) {
			return from.CreateRelease(ctx, &rating.Release{Name: "r1", CreatedAt: at, Cohorts: map[rating.Cohort]rating.Bounds{storagetest.Accepted("a/x", 1).Measure.Cohort: {Lo: 1, Hi: 8, Models: 5}}})
		},
		func() (int64, error) {
			return from.CreateRelease(ctx, &rating.Release{Name: "r2", CreatedAt: at.Add(time.Hour)})
		},
	}
	for _, w := range writes {
		if _, err := w(); err != nil {
			t.Fatal(err)
		}
	}

	c := etcdtest.Start(t, 1)
	to := c.Open(t, "/moved/", etcdstore.Options{})
	var progress []int
	if err := move.Copy(ctx, from, to, func(n int) { progress = append(progress, n) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(progress, []int{67}) {
		t.Errorf("progress %v, want [67]", progress)
	}
	schemes, err := calibration.Schemes()
	if err != nil {
		t.Fatal(err)
	}
	sf, err := move.Summarize(ctx, from, schemes[len(schemes)-1])
	if err != nil {
		t.Fatal(err)
	}
	st, err := move.Summarize(ctx, to, schemes[len(schemes)-1])
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := move.Report(&out, sf, st); err != nil {
		t.Errorf("%v\n%s", err, out.String())
	}
	if sf.Results != 67 || sf.Indexed != 67 || sf.Ratings != 10 || sf.Tokens != 3 || sf.Accelerators != 1 || sf.Datasets != 1 || sf.Releases != 2 || sf.Release != "r2" ||
		sf.Verifications != 3 {
		t.Errorf("source summary %+v", sf)
	}
	if !strings.Contains(out.String(), "the copy matches the source") {
		t.Errorf("report:\n%s", out.String())
	}

	// Read back through the seam, the two agree; filtered, etcd's history
	// is its whole history filtered, and bbolt's.
	storagetest.CheckHistory(t, to, "c/many")
	for _, q := range []storage.HistoryQuery{
		{Model: "c/many", Hardware: "B200", Limit: 100},
		{Model: "c/many", Task: "text-generation", Limit: 5, Newest: true},
		{Model: "c/many", Task: "text-generation", After: 30, Limit: 5},
		{Model: "a/one", Hardware: "H100", Limit: 100},
	} {
		hf, err1 := from.History(ctx, q)
		ht, err2 := to.History(ctx, q)
		if err1 != nil || err2 != nil || len(hf) == 0 || len(hf) != len(ht) {
			t.Fatalf("%+v: %d entries from bbolt (%v), %d from etcd (%v)", q, len(hf), err1, len(ht), err2)
		}
		for i := range hf {
			if hf[i].ID != ht[i].ID || hf[i].Measure != ht[i].Measure || hf[i].Label != ht[i].Label {
				t.Errorf("%+v: entry %d\nbbolt %+v\netcd  %+v", q, i, hf[i], ht[i])
			}
		}
	}
	for _, model := range []string{"a/one", "a/two", "b/three", "b/four", "b/five", "c/many"} {
		hf, err1 := from.History(ctx, storage.HistoryQuery{Model: model, Limit: 100})
		ht, err2 := to.History(ctx, storage.HistoryQuery{Model: model, Limit: 100})
		if err1 != nil || err2 != nil || len(hf) == 0 || len(hf) != len(ht) {
			t.Fatalf("%s: history %d entries from bbolt (%v), %d from etcd (%v)", model, len(hf), err1, len(ht), err2)
		}
		for i := range hf {
			hf[i].Revision, ht[i].Revision = 0, 0 // each backend's own
			if !reflect.DeepEqual(hf[i], ht[i]) {
				t.Errorf("%s: history entry %d\nbbolt %+v\netcd  %+v", model, i, hf[i], ht[i])
			}
		}
	}
	for id := uint64(1); id <= 7; id++ {
		rf, af, _ := from.Record(ctx, id)
		rt, at, err := to.Record(ctx, id)
		if err != nil || !reflect.DeepEqual(rf, rt) || af != at {
			t.Errorf("result %d: %+v %+v from bbolt, %+v %+v from etcd (%v)", id, rf, af, rt, at, err)
		}
	}
	snapF, _ := from.Snapshot(ctx)
	snapT, err := to.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := func(a, b storage.Current) int { return int(a.ID) - int(b.ID) }
	slices.SortFunc(snapF.Currents, byID)
	slices.SortFunc(snapT.Currents, byID)
	if !reflect.DeepEqual(snapF.Currents, snapT.Currents) || !reflect.DeepEqual(snapF.Tokens, snapT.Tokens) ||
		!reflect.DeepEqual(snapF.Accelerators, snapT.Accelerators) || !reflect.DeepEqual(snapF.Datasets, snapT.Datasets) ||
		!reflect.DeepEqual(snapF.Releases, snapT.Releases) {
		t.Errorf("snapshots differ:\nbbolt %+v\netcd  %+v", snapF, snapT)
	}
	if len(snapT.Verifications) != 3 {
		t.Fatalf("%d verifications moved, want 3", len(snapT.Verifications))
	}
	for i := range snapT.Verifications {
		vf, vt := snapF.Verifications[i], snapT.Verifications[i]
		if vt.Revision == 0 || i > 0 && vt.Revision <= snapT.Verifications[i-1].Revision {
			t.Errorf("verification %d moved to revision %d", i, vt.Revision)
		}
		vf.Revision, vt.Revision = 0, 0 // each backend's own
		if !reflect.DeepEqual(vf, vt) {
			t.Errorf("verification %d:\nbbolt %+v\netcd  %+v", i, vf, vt)
		}
	}
	// A verification's name is taken there too.
	if _, err := to.AddVerification(ctx, verification("a/two", 2, 2, 2.6)); !errors.Is(err, storage.ErrExists) {
		t.Errorf("a second measurement of a moved state: %v, want ErrExists", err)
	}
	// The fingerprint claims came along, with their results; payload
	// hashes claim nothing. Ids go on from the last.
	dup := storagetest.Fingerprinted("b/other", 1, 100)
	if _, _, err := to.Append(ctx, []storage.Accepted{dup}); !errors.Is(err, storage.ErrExists) || !strings.Contains(err.Error(), "a/one") {
		t.Errorf("a measurement a/one's result holds, for another model: %v, want ErrExists naming a/one", err)
	}
	again := storagetest.Fingerprinted("a/two", 9, 101)
	if _, _, err := to.Append(ctx, []storage.Accepted{again}); !errors.As(err, new(*storage.DuplicateError)) || !strings.Contains(err.Error(), "result 2") {
		t.Errorf("a/two's stored measurement again: %v, want a DuplicateError naming result 2", err)
	}
	free := storagetest.Accepted("b/other", 1)
	free.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 1)
	if _, _, err := to.Append(ctx, []storage.Accepted{free}); err != nil {
		t.Errorf("a payload hash a/one's result holds, for another model: %v", err)
	}
	if id, _, err := to.Append(ctx, []storage.Accepted{storagetest.Accepted("b/next", 1)}); err != nil || id != 69 {
		t.Errorf("the next result after the move: id %d, %v; want 69", id, err)
	}

	if err := move.Copy(ctx, from, to, nil); !errors.Is(err, move.ErrNotEmpty) {
		t.Errorf("a second move into the same prefix: %v, want ErrNotEmpty", err)
	}
}

// verification is a surveyor's measurement of model's result id, the
// count'th.
func verification(model string, id uint64, count int, x float64) *storage.Verification {
	at := time.Date(2026, 12, 5, 10, count, 0, 0, time.UTC)
	a := storagetest.Accepted(model, x)
	return &storage.Verification{Model: model, Cohort: a.Measure.Cohort, ResultID: id, TokenID: "tok_s",
		At: at, X: x, WhPer1k: x, Declared: storage.Reference{ResultID: id, X: 1, WhPer1k: 1},
		Survey:      rating.Survey{Status: rating.StatusUnderReview, Measurements: count, DeterminedX: x, DeterminedWh: x},
		Measurement: a.Result, Audit: storage.Audit{TokenID: "tok_s", ReceivedAt: at, ClientAddr: "192.0.2.1:1", Fingerprint: fmt.Sprintf("%064x", 900+id)}}
}
