package boltdb

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// TestASchema3FileOpensWithoutLoss opens a file the store wrote before the
// storage seam (testdata/README.md) and finds everything in it.
func TestASchema3FileOpensWithoutLoss(t *testing.T) {
	dir := copyOf(t, "testdata/schema3.db")
	for range 2 { // the second open finds nothing to migrate
		d, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		s, err := d.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Currents) != 165 || len(s.Tokens) != 1 || len(s.Accelerators) != 1 || len(s.Releases) != 1 ||
			s.Releases[0].Name != "aies-2025-02" || len(s.Releases[0].Cohorts) != 12 || s.Revision != 0 {
			t.Fatalf("snapshot: %d currents, %d tokens, %d accelerators, %d releases, revision %d",
				len(s.Currents), len(s.Tokens), len(s.Accelerators), len(s.Releases), s.Revision)
		}
		h, err := d.History(ctx, storage.HistoryQuery{Model: "acme/clf", Limit: 10})
		if err != nil || len(h) != 2 || h[0].Measure.X() != 0.9 || h[1].Measure.X() != 0.6 || h[0].Label.Grade != "" {
			t.Fatalf("history of acme/clf: %+v, %v", h, err)
		}
		if !h[0].Measure.PowerChecked() || h[0].Measure.Cohort.Hardware != "H100" {
			t.Errorf("a schema 3 result measured again: %+v", h[0].Measure)
		}
		// The leaderboard's rows, imported by the admin, are published
		// figures, in the snapshot as in history; acme/clf's are declared.
		sources := map[rating.Source]int{}
		for _, c := range s.Currents {
			sources[c.Source]++
			if (c.Source == rating.Publisher) != (c.Model == "acme/clf") {
				t.Errorf("%s reads as %v", c.Model, c.Source)
			}
		}
		if sources[rating.Published] != 164 || h[1].Source != rating.Publisher {
			t.Errorf("sources %v; acme/clf's history %v", sources, h[1].Source)
		}
		n, _ := d.CountResults()
		if n != 168 {
			t.Errorf("%d results, want 168", n)
		}
		if err := d.Check(); err != nil {
			t.Error(err)
		}
		d.Close()
	}
	d := openTest(t, dir)
	ctx := context.Background()
	other := storagetest.Accepted("b/other", 1)
	other.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 1)
	if _, rev, err := d.Append(ctx, []storage.Accepted{other}); err != nil || rev != 1 {
		t.Errorf("a payload hash stored under schema 3, for another model: revision %d, %v; it claims nothing", rev, err)
	}
}

// copyOf copies a database file into a new data directory.
func copyOf(t *testing.T, file string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// buckets lists the file's top-level buckets.
func buckets(t *testing.T, d *DB) []string {
	t.Helper()
	var out []string
	err := d.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			out = append(out, string(name))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestASchema4FileOpensWithoutLoss opens a file the bbolt backend wrote at
// schema 4, before the trust wave (testdata/README.md): it keeps every
// result, and migrates to schema 5: payload hashes claim nothing, the
// admin's results read as published, and fingerprints claim from then on.
func TestASchema4FileOpensWithoutLoss(t *testing.T) {
	dir := copyOf(t, "testdata/schema4.db")
	ctx := context.Background()
	for range 2 { // the second open finds nothing to migrate
		d, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Currents) != 5 || len(s.Tokens) != 1 || len(s.Accelerators) != 1 || len(s.Releases) != 1 || s.Revision != 7 ||
			len(s.Verifications) != 0 {
			t.Fatalf("snapshot: %d currents, %d tokens, %d accelerators, %d releases, %d verifications, revision %d",
				len(s.Currents), len(s.Tokens), len(s.Accelerators), len(s.Releases), len(s.Verifications), s.Revision)
		}
		for _, c := range s.Currents {
			if want := map[bool]rating.Source{true: rating.Published, false: rating.Publisher}[strings.HasPrefix(c.Model, "org/")]; c.Source != want {
				t.Errorf("%s (result %d) reads as %v, want %v", c.Model, c.ID, c.Source, want)
			}
		}
		n, _ := d.CountResults()
		if n != 6 {
			t.Errorf("%d results, want 6", n)
		}
		h, err := d.History(ctx, storage.HistoryQuery{Model: "acme/clf", Limit: 10})
		if err != nil || len(h) != 2 || h[0].ID != 4 || h[1].ID != 5 || h[1].Measure.X() != 0.6 || h[1].Label.Grade != "E" {
			t.Fatalf("history of acme/clf: %+v, %v", h, err)
		}
		r, a, err := d.Record(ctx, 4)
		if err != nil || r.Model != "acme/clf" || a.PayloadSHA256 != fmt.Sprintf("%064x", 1) || a.TokenID != "tok_1" {
			t.Errorf("result 4: %+v, %+v, %v", r, a, err)
		}
		// The replay of the file's events reads its results with their sources.
		wctx, cancel := context.WithCancel(ctx)
		resp := <-d.Watch(wctx, 0, storage.WatchFilter{})
		cancel()
		if resp.Err != nil || len(resp.Events) == 0 || resp.Events[1].Kind != storage.ResultAdded || resp.Events[1].Result.Source != rating.Published {
			t.Errorf("the replay: %+v", resp)
		}
		if bs := buckets(t, d); slices.Contains(bs, "payloads") || !slices.Contains(bs, "fingerprints") || !slices.Contains(bs, "verification-names") {
			t.Errorf("buckets after the migration: %q", bs)
		}
		if err := d.Check(); err != nil {
			t.Error(err)
		}
		d.Close()
	}
	d := openTest(t, dir)
	// acme/clf's payload hash labels another model now: it claims nothing.
	other := storagetest.Fingerprinted("b/other", 1, 1)
	other.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 1)
	if _, rev, err := d.Append(ctx, []storage.Accepted{other}); err != nil || rev != 8 {
		t.Errorf("a payload hash stored under schema 4, for another model: revision %d, %v; want 8", rev, err)
	}
	// Its fingerprint does.
	if _, _, err := d.Append(ctx, []storage.Accepted{storagetest.Fingerprinted("acme/clf", 1, 1)}); !errors.Is(err, storage.ErrExists) {
		t.Errorf("b/other's measurement for acme/clf: %v, want ErrExists", err)
	}
}

// TestASchema4FileWithVerificationsOpens opens a schema 4 file that
// recorded fingerprints without claiming them and kept verifications under
// sequence numbers (testdata/README.md): the first result of a fingerprint
// claims it, and each verification moves under the revision that stored
// it, its name taken.
func TestASchema4FileWithVerificationsOpens(t *testing.T) {
	dir := copyOf(t, "testdata/schema4-surveyed.db")
	ctx := context.Background()
	d := openTest(t, dir)
	s, err := d.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Currents) != 4 || len(s.Tokens) != 3 || s.Revision != 10 || len(s.Verifications) != 2 {
		t.Fatalf("snapshot: %d currents, %d tokens, %d verifications, revision %d", len(s.Currents), len(s.Tokens), len(s.Verifications), s.Revision)
	}
	v0, v1 := s.Verifications[0], s.Verifications[1]
	if v0.Revision != 8 || v0.Survey.Measurements != 1 || v1.Revision != 10 || v1.Survey.Measurements != 2 || v1.Survey.SumX != 1.7 ||
		v0.Model != "acme/two" || v0.ResultID != 5 || v0.Measurement == nil || v0.Audit.Fingerprint != fmt.Sprintf("%064x", 101) {
		t.Errorf("verifications %+v", s.Verifications)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var evs []storage.Event
	for resp := range d.Watch(wctx, 7, storage.WatchFilter{}) {
		if resp.Err != nil {
			t.Fatal(resp.Err)
		}
		evs = append(evs, resp.Events...)
		if len(evs) >= 3 {
			break
		}
	}
	if evs[0].Kind != storage.VerificationAdded || evs[0].Revision != 8 || !reflect.DeepEqual(*evs[0].Verification, v0) ||
		evs[1].Kind != storage.TokenPut || evs[2].Kind != storage.VerificationAdded || !reflect.DeepEqual(*evs[2].Verification, v1) {
		t.Errorf("the replay from revision 7: %+v", evs)
	}
	cancel()
	again := v1
	if _, err := d.AddVerification(ctx, &again); !errors.Is(err, storage.ErrExists) {
		t.Errorf("the second verification's name: %v, want ErrExists", err)
	}
	third := v1
	third.Survey.Measurements = 3
	if rev, err := d.AddVerification(ctx, &third); err != nil || rev != 11 {
		t.Errorf("a third verification: revision %d, %v; want 11", rev, err)
	}
	// Fingerprint 0…01 labels acme/clf, as result 2, its first; evil/squat's
	// copy of it, stored before claims, stays, and claims nothing.
	_, _, err = d.Append(ctx, []storage.Accepted{storagetest.Fingerprinted("acme/clf", 1, 1)})
	if dup := (*storage.DuplicateError)(nil); !errors.As(err, &dup) || dup.ResultID != 2 {
		t.Errorf("acme/clf's measurement again: %v, want a DuplicateError naming result 2", err)
	}
	if _, _, err := d.Append(ctx, []storage.Accepted{storagetest.Fingerprinted("evil/squat", 1, 1)}); !errors.Is(err, storage.ErrExists) ||
		!strings.Contains(err.Error(), "acme/clf") {
		t.Errorf("evil/squat's copy again: %v, want ErrExists naming acme/clf", err)
	}
	_, _, err = d.Append(ctx, []storage.Accepted{storagetest.Fingerprinted("acme/two", 1, 2)})
	if dup := (*storage.DuplicateError)(nil); !errors.As(err, &dup) || dup.ResultID != 5 {
		t.Errorf("acme/two's measurement again: %v, want a DuplicateError naming result 5", err)
	}
}

// TestSchema5And6FilesOpenWithoutLoss opens the files the bbolt backend
// wrote at schema 5, before the history index by cohort, and at schema 6,
// which kept that index apart from history/ under whole cohort keys
// (testdata/README.md). Both hold the same results; each finds
// model-history/ filled and the old buckets gone: history, filtered or
// not, paged or newest first, is the whole history filtered; results
// appended then are filed too.
func TestSchema5And6FilesOpenWithoutLoss(t *testing.T) {
	for _, schema := range []int{5, 6} {
		t.Run(fmt.Sprintf("schema%d", schema), func(t *testing.T) {
			testASchema5Or6FileOpensWithoutLoss(t, fmt.Sprintf("testdata/schema%d.db", schema))
		})
	}
}

func testASchema5Or6FileOpensWithoutLoss(t *testing.T, fixture string) {
	dir := copyOf(t, fixture)
	ctx := context.Background()
	// acme/multi's results in each of its cohorts: text-classification on
	// H100 and on B200, text-generation on H100.
	want := map[storage.HistoryQuery][]uint64{
		{Model: "acme/multi", Hardware: "B200"}:                          {5, 6, 9, 11, 12, 13, 14, 15, 17, 20, 21, 24, 26, 27, 28, 29, 30, 32},
		{Model: "acme/multi", Task: "text-generation"}:                   {8, 18, 23, 33},
		{Model: "acme/multi", Task: "text-classification"}:               {4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32},
		{Model: "acme/multi", Task: "text-generation", Hardware: "B200"}: nil,
		{Model: "acme/multi-other", Hardware: "B200"}:                    {34, 35, 36, 37},
		{Model: "org/pub", Hardware: "H100"}:                             {1, 3},
		{Model: "acme/multi-other"}:                                      {34, 35, 36, 37},
	}
	for range 2 { // the second open finds nothing to migrate
		d, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Currents) != 7 || len(s.Tokens) != 1 || s.Revision != 36 {
			t.Fatalf("snapshot: %d currents, %d tokens, revision %d", len(s.Currents), len(s.Tokens), s.Revision)
		}
		if n, _ := d.CountResults(); n != 37 {
			t.Errorf("%d results, want 37", n)
		}
		for q, ids := range want {
			q.Limit = 100
			h, err := d.History(ctx, q)
			var got []uint64
			for _, e := range h {
				got = append(got, e.ID)
			}
			if err != nil || !slices.Equal(got, ids) {
				t.Errorf("%+v: %v, %v; want %v", q, got, err, ids)
			}
		}
		storagetest.CheckHistory(t, d, "acme/multi")
		storagetest.CheckHistory(t, d, "org/pub")
		checkHistoryIndex(t, d)
		// Each result keeps the revision that stored it: the token is
		// revision 1, the import 2, then one result a revision.
		h, err := d.History(ctx, storage.HistoryQuery{Model: "acme/multi", Limit: 100})
		if err != nil || len(h) != 30 {
			t.Fatalf("history of acme/multi: %d entries, %v", len(h), err)
		}
		for _, e := range h {
			if e.Revision != int64(e.ID)-1 {
				t.Errorf("result %d at revision %d, want %d", e.ID, e.Revision, e.ID-1)
			}
		}
		var version uint64
		d.db.View(func(tx *bolt.Tx) error {
			version = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyVersion))
			return nil
		})
		if version != schemaVersion {
			t.Errorf("schema version %d after opening, want %d", version, schemaVersion)
		}
		d.db.View(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketHistory, bucketHistoryCohorts} {
				if tx.Bucket(b) != nil {
					t.Errorf("bucket %s is still there after the migration", b)
				}
			}
			return nil
		})
		if err := d.Check(); err != nil {
			t.Error(err)
		}
		d.Close()
	}
	d := openTest(t, dir)
	first, _, err := d.Append(ctx, []storage.Accepted{storagetest.InCohort("acme/multi", 1, rating.Cohort{Task: "text-generation",
		Dataset: "AIEnergyScore/text_generation", SizeClass: "A", Hardware: "B200", Basis: rating.OutputToken})})
	if err != nil {
		t.Fatal(err)
	}
	h, err := d.History(ctx, storage.HistoryQuery{Model: "acme/multi", Task: "text-generation", Hardware: "B200", Limit: 10})
	if err != nil || len(h) != 1 || h[0].ID != first {
		t.Errorf("a result appended after the migration: %+v, %v; want result %d", h, err, first)
	}
	storagetest.CheckHistory(t, d, "acme/multi")
}

// oldFixture is what testdata/oldstore wrote into a schema 1 or schema 2
// file, read from the .json beside it.
type oldFixture struct {
	Schema  int
	Results []struct {
		ID     uint64
		Result rating.Result
		Audit  storage.Audit
	}
	Tokens []storage.Token
}

func readOldFixture(t *testing.T, file string) *oldFixture {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f oldFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &f
}

// TestSchema1And2FilesMigrate opens files written by the store at schema
// 1 (latest/ holds result ids) and at schema 2 (latest/ holds Latest
// records; no registries, releases, revisions, history or events), made
// by testdata/oldstore as testdata/README.md says, and migrates them to
// the current schema: every result reads back as it was submitted, with
// its audit trail; each model's latest result in each cohort is current,
// as history and a later result agree; both tokens keep their hash,
// scopes, last use and revocation; and history, filtered or not, lists
// every result of each model at revision 0, its label unknown.
func TestSchema1And2FilesMigrate(t *testing.T) {
	for _, schema := range []int{1, 2} {
		t.Run(fmt.Sprintf("schema%d", schema), func(t *testing.T) {
			testAnOldSchemaMigrates(t, schema)
		})
	}
}

func testAnOldSchemaMigrates(t *testing.T, schema int) {
	fix := readOldFixture(t, fmt.Sprintf("testdata/schema%d.json", schema))
	if fix.Schema != schema || len(fix.Results) == 0 || len(fix.Tokens) != 2 {
		t.Fatalf("testdata/schema%d.json: schema %d, %d results, %d tokens", schema, fix.Schema, len(fix.Results), len(fix.Tokens))
	}
	dir := copyOf(t, fmt.Sprintf("testdata/schema%d.db", schema))
	ctx := t.Context()

	// What the file must read as: every result re-measured by this code,
	// the admin's published; the latest of each model in each cohort
	// current; each model's history in id order.
	type modelCohort struct {
		model  string
		cohort rating.Cohort
	}
	var want struct {
		currents map[modelCohort]storage.Current
		history  map[string][]storage.HistoryEntry
		lastID   uint64
	}
	want.currents, want.history = map[modelCohort]storage.Current{}, map[string][]storage.HistoryEntry{}
	for _, r := range fix.Results {
		res := r.Result
		res.MeasuredAt = storage.CanonicalTime(res.MeasuredAt)
		src := rating.Publisher
		if r.Audit.TokenID == "admin" {
			src = rating.Published
		}
		c := storage.CurrentOf(r.ID, &storage.Accepted{Result: &res, Measure: rating.MeasureOf(&res), Audit: r.Audit, Source: src})
		want.currents[modelCohort{c.Model, c.Measure.Cohort}] = c
		want.history[c.Model] = append(want.history[c.Model], storage.HistoryEntry{Current: c})
		want.lastID = max(want.lastID, r.ID)
	}

	check := func(d *DB, when string) {
		t.Helper()
		var version uint64
		d.db.View(func(tx *bolt.Tx) error {
			version = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyVersion))
			return nil
		})
		if version != schemaVersion {
			t.Errorf("%s: schema version %d, want %d", when, version, schemaVersion)
		}
		for _, r := range fix.Results {
			got, audit, err := d.Record(ctx, r.ID)
			if err != nil {
				t.Errorf("%s: result %d: %v", when, r.ID, err)
				continue
			}
			res, a := r.Result, r.Audit
			res.MeasuredAt, a.ReceivedAt = storage.CanonicalTime(res.MeasuredAt), storage.CanonicalTime(a.ReceivedAt)
			got.MeasuredAt, audit.ReceivedAt = storage.CanonicalTime(got.MeasuredAt), storage.CanonicalTime(audit.ReceivedAt)
			if !reflect.DeepEqual(*got, res) || audit != a {
				t.Errorf("%s: result %d reads\n%+v %+v\nwant, as submitted,\n%+v %+v", when, r.ID, *got, audit, res, a)
			}
		}
		if _, _, err := d.Record(ctx, want.lastID+1); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: result %d, never stored: %v, want ErrNotFound", when, want.lastID+1, err)
		}
		if n, _ := d.CountResults(); n != len(fix.Results) {
			t.Errorf("%s: %d results, want %d", when, n, len(fix.Results))
		}

		s, err := d.Snapshot(ctx)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if s.Revision != 0 || len(s.Accelerators)+len(s.Datasets)+len(s.Releases)+len(s.Verifications) != 0 {
			t.Errorf("%s: snapshot at revision %d with %d accelerators, %d datasets, %d releases, %d verifications; want none at 0",
				when, s.Revision, len(s.Accelerators), len(s.Datasets), len(s.Releases), len(s.Verifications))
		}
		got := map[modelCohort]storage.Current{}
		for _, c := range s.Currents {
			got[modelCohort{c.Model, c.Measure.Cohort}] = c
		}
		if len(s.Currents) != len(want.currents) || !reflect.DeepEqual(got, want.currents) {
			t.Errorf("%s: current results\n%+v\nwant\n%+v", when, s.Currents, want.currents)
		}
		tokens := s.Tokens
		slices.SortFunc(tokens, func(a, b storage.Token) int { return strings.Compare(a.ID, b.ID) })
		wantTokens := slices.Clone(fix.Tokens)
		slices.SortFunc(wantTokens, func(a, b storage.Token) int { return strings.Compare(a.ID, b.ID) })
		for i := range wantTokens {
			w := &wantTokens[i]
			w.CreatedAt, w.ExpiresAt, w.LastUsedAt = storage.CanonicalTime(w.CreatedAt), storage.CanonicalTime(w.ExpiresAt), storage.CanonicalTime(w.LastUsedAt)
		}
		if listed, err := d.Tokens(ctx); err != nil || !reflect.DeepEqual(tokens, wantTokens) || len(listed) != len(tokens) {
			t.Errorf("%s: tokens\n%+v\n(Tokens: %d, %v)\nwant\n%+v", when, tokens, len(listed), err, wantTokens)
		}

		for model, entries := range want.history {
			h, err := d.History(ctx, storage.HistoryQuery{Model: model, Limit: 100})
			if err != nil || !reflect.DeepEqual(withoutSizes(h), entries) {
				t.Errorf("%s: history of %s\n%+v, %v\nwant\n%+v", when, model, h, err, entries)
			}
			for _, e := range h {
				if e.StoredBytes <= 0 {
					t.Errorf("%s: result %d stores %d bytes", when, e.ID, e.StoredBytes)
				}
			}
			storagetest.CheckHistory(t, d, model)
		}
		checkHistoryIndex(t, d)
		// Nothing to replay: no events were recorded before schema 4.
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if r := <-d.Watch(wctx, 0, storage.WatchFilter{}); r.Err != nil || len(r.Events) != 0 {
			t.Errorf("%s: a watch from revision 0: %+v, want progress", when, r)
		}
		if err := d.Check(); err != nil {
			t.Errorf("%s: %v", when, err)
		}
	}

	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(d, "migrated")
	d.Close()
	d = openTest(t, dir) // nothing left to migrate
	check(d, "reopened")

	// A later result of a migrated model in a migrated cohort takes its
	// place: latest/ keys are this code's.
	var last storage.Current
	for _, c := range want.currents {
		if c.ID > last.ID && c.Source == rating.Publisher {
			last = c
		}
	}
	r, a, err := d.Record(ctx, last.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.ReceivedAt = a.ReceivedAt.Add(time.Hour)
	id, rev, err := d.Append(ctx, []storage.Accepted{{Result: r, Measure: rating.MeasureOf(r), Audit: a, Source: rating.Publisher,
		Label: storage.Label{Grade: "C", Scheme: "grade/2025.1"}}})
	if err != nil || id != want.lastID+1 || rev != 1 {
		t.Fatalf("a result after the migration: id %d at revision %d, %v; want id %d at 1", id, rev, err, want.lastID+1)
	}
	s, err := d.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range s.Currents {
		if c.Model == last.Model && c.Measure.Cohort == last.Measure.Cohort {
			n++
			if c.ID != id {
				t.Errorf("%s's current result in %v is %d, want %d", c.Model, c.Measure.Cohort, c.ID, id)
			}
		}
	}
	if n != 1 || len(s.Currents) != len(want.currents) {
		t.Errorf("%d current results of %s in its cohort, %d in all; want 1 of %d", n, last.Model, len(s.Currents), len(want.currents))
	}
	h, err := d.History(ctx, storage.HistoryQuery{Model: last.Model, Hardware: last.Measure.Cohort.Hardware, Limit: 1, Newest: true})
	if err != nil || len(h) != 1 || h[0].ID != id || h[0].Revision != 1 || h[0].Label.Grade != "C" {
		t.Errorf("the newest of %s on %s: %+v, %v", last.Model, last.Measure.Cohort.Hardware, h, err)
	}
	ts, _ := d.Tokens(ctx)
	for _, tok := range ts {
		if tok.ID == a.TokenID && !tok.LastUsedAt.Equal(a.ReceivedAt) {
			t.Errorf("token %s last used %v, want %v", tok.ID, tok.LastUsedAt, a.ReceivedAt)
		}
	}
}

// withoutSizes is h with StoredBytes zero, which a test cannot know.
func withoutSizes(h []storage.HistoryEntry) []storage.HistoryEntry {
	out := slices.Clone(h)
	for i := range out {
		out[i].StoredBytes = 0
	}
	return out
}
