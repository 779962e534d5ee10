package storagetest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// The optional capabilities: a backend that has one passes its test, and
// one that has not skips it.

// testBatchLimiter: a batch of MaxBatch results, each of a model of its
// own with a fingerprint and its stored token's last use, is taken in one
// write, as one revision.
func testBatchLimiter(t *testing.T, o Opener) {
	b := open(t, o)
	bl, ok := b.(storage.BatchLimiter)
	if !ok {
		t.Skip("the backend is no storage.BatchLimiter: its Append takes a batch of any size")
	}
	n := bl.MaxBatch()
	if n < 1 {
		t.Fatalf("MaxBatch() = %d", n)
	}
	if _, err := b.PutToken(ctx(t), storage.Token{ID: "tok_1", Namespaces: []string{"m"}}); err != nil {
		t.Fatal(err)
	}
	rev0, _ := b.Revision(ctx(t))
	batch := make([]storage.Accepted, n)
	for i := range batch {
		batch[i] = Fingerprinted(fmt.Sprintf("m/%04d", i), float64(1+i%5), 100+i)
	}
	first, rev, err := b.Append(ctx(t), batch)
	if err != nil {
		t.Fatalf("a batch of MaxBatch() = %d: %v", n, err)
	}
	evs, err := Collect(b.Watch(ctx(t), rev0, storage.WatchFilter{}), n)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.Revision != rev || e.Result == nil || e.Result.ID != first+uint64(i) {
			t.Fatalf("event %d of the batch: %+v at revision %d; want result %d at %d", i, e.Result, e.Revision, first+uint64(i), rev)
		}
	}
}

// exported is what an Exporter lists.
type exported struct {
	records map[uint64][]byte
	index   []indexed
}

// indexed is one entry of a history index.
type indexed struct {
	model, cohort string
	id            uint64
}

func compareIndexed(a, b indexed) int {
	return cmp.Or(strings.Compare(a.model, b.model), strings.Compare(a.cohort, b.cohort), cmp.Compare(a.id, b.id))
}

// export reads everything e lists, failing t on a record listed twice.
func export(t *testing.T, e storage.Exporter) exported {
	t.Helper()
	x := exported{records: map[uint64][]byte{}}
	err := e.EachRecord(ctx(t), func(r storage.Record) error {
		if _, ok := x.records[r.ID]; ok {
			return fmt.Errorf("result %d listed twice", r.ID)
		}
		x.records[r.ID] = bytes.Clone(r.Value)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.EachIndexed(ctx(t), func(model, cohort string, id uint64) error {
		x.index = append(x.index, indexed{model, cohort, id})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// testExporter: EachRecord lists every stored result once, as stored (it
// reads as Record returns it); EachIndexed lists one entry per result, its
// model, its cohort's key and its id, in that order; the error fn returns
// ends either listing, and is returned.
func testExporter(t *testing.T, o Opener) {
	b := open(t, o)
	e, ok := b.(storage.Exporter)
	if !ok {
		t.Skip("the backend is no storage.Exporter: nothing moves out of it")
	}
	var want []indexed
	for round := range 3 {
		var batch []storage.Accepted
		for i, m := range []string{"x/b", "x/a", "x/a-2", "x/a"} {
			batch = append(batch, InCohort(m, float64(1+round+i), HistoryCohorts[(round*4+i)%len(HistoryCohorts)]))
		}
		first, _, err := b.Append(ctx(t), batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range batch {
			want = append(want, indexed{a.Result.Model, records.CohortKey(a.Measure.Cohort), first + uint64(i)})
		}
	}
	x := export(t, e)
	if len(x.records) != len(want) {
		t.Errorf("EachRecord listed %d results, want %d", len(x.records), len(want))
	}
	for _, w := range want {
		v, ok := x.records[w.id]
		if !ok {
			t.Errorf("EachRecord did not list result %d", w.id)
			continue
		}
		var p storev1.Result
		if err := proto.Unmarshal(v, &p); err != nil {
			t.Errorf("result %d as listed: %v", w.id, err)
			continue
		}
		got, gotAudit := records.ResultOf(&p)
		r, audit, err := b.Record(ctx(t), w.id)
		if err != nil || !reflect.DeepEqual(got, r) || gotAudit != audit || p.Model != w.model {
			t.Errorf("result %d as listed:\n%+v %+v\nas Record reads it:\n%+v %+v, %v", w.id, got, gotAudit, r, audit, err)
		}
	}
	slices.SortFunc(want, compareIndexed)
	if !slices.Equal(x.index, want) {
		t.Errorf("EachIndexed listed\n%+v\nwant\n%+v", x.index, want)
	}

	stop := errors.New("enough")
	calls := 0
	if err := e.EachRecord(ctx(t), func(storage.Record) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("EachRecord whose fn fails: %v after %d calls; want fn's error after 1", err, calls)
	}
	calls = 0
	if err := e.EachIndexed(ctx(t), func(string, string, uint64) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("EachIndexed whose fn fails: %v after %d calls; want fn's error after 1", err, calls)
	}
}

// testImporter: an empty store says so; records imported under a
// source's ids read back as Append would have stored them (Record, the
// current results, history filtered or not, the index), their
// fingerprints claim their models, and a later Append takes the next id;
// before and after a reopen. Empty then says it is not.
func testImporter(t *testing.T, o Opener) {
	b := o(t)
	defer func() { b.Close() }()
	im, ok := b.(storage.Importer)
	if !ok {
		t.Skip("the backend is no storage.Importer: nothing moves into it")
	}
	if empty, err := im.Empty(ctx(t)); err != nil || !empty {
		t.Fatalf("Empty() of a new store = %v, %v", empty, err)
	}
	const from = 41 // the source's ids
	batch := []storage.Accepted{InCohort("m/a", 3, clf), InCohort("m/b", 2, gen), InCohort("m/a", 1, clfB200),
		InCohort("m/a", 2, clf), Fingerprinted("m/c", 4, 7)}
	recs := make([]storage.Record, len(batch))
	latest := map[string]storage.Current{}
	for i := range batch {
		batch[i].Label.Stars = 1 + i
		v, err := proto.Marshal(records.Result(&batch[i]))
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = storage.Record{ID: from + uint64(i), Value: v}
		c := storage.CurrentOf(recs[i].ID, &batch[i])
		latest[records.CohortKey(c.Measure.Cohort)+"\x00"+c.Model] = c
	}
	var current []storage.Current
	for _, c := range latest {
		current = append(current, c)
	}
	slices.SortFunc(current, func(a, b storage.Current) int { return cmp.Compare(a.ID, b.ID) })
	if err := im.Import(ctx(t), recs, current); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if empty, err := b.(storage.Importer).Empty(ctx(t)); err != nil || empty {
			t.Errorf("%s: Empty() = %v, %v; want false", when, empty, err)
		}
		for i, r := range recs {
			got, audit, err := b.Record(ctx(t), r.ID)
			want, wantAudit := *batch[i].Result, batch[i].Audit
			want.MeasuredAt, wantAudit.ReceivedAt = storage.CanonicalTime(want.MeasuredAt), storage.CanonicalTime(wantAudit.ReceivedAt)
			if err != nil || !reflect.DeepEqual(*got, want) || audit != wantAudit {
				t.Errorf("%s: Record(%d) = %+v, %+v, %v", when, r.ID, got, audit, err)
			}
		}
		if cs := currents(t, b); !reflect.DeepEqual(cs, current) {
			t.Errorf("%s: current results\n%+v\nwant\n%+v", when, cs, current)
		}
		h, err := b.History(ctx(t), storage.HistoryQuery{Model: "m/a", Limit: 10})
		if err != nil || !slices.Equal(historyIDs(h), []uint64{from, from + 2, from + 3}) || h[1].Label.Stars != 3 {
			t.Errorf("%s: history of m/a: %+v, %v", when, h, err)
		}
		CheckHistory(t, b, "m/a")
		if e, ok := b.(storage.Exporter); ok {
			x := export(t, e)
			for _, r := range recs {
				if !bytes.Equal(x.records[r.ID], r.Value) {
					t.Errorf("%s: result %d lists as %x, imported as %x", when, r.ID, x.records[r.ID], r.Value)
				}
			}
		}
	}
	check("imported")
	b.Close()
	b = o(t)
	check("after reopening")
	if _, _, err := b.Append(ctx(t), []storage.Accepted{Fingerprinted("m/other", 4, 7)}); !errors.Is(err, storage.ErrExists) {
		t.Errorf("m/c's imported measurement for another model: %v, want ErrExists", err)
	}
	if id, _ := appendOne(t, b, Accepted("m/d", 1)); id != from+uint64(len(recs)) {
		t.Errorf("an append after the import got id %d, want %d", id, from+uint64(len(recs)))
	}
}
