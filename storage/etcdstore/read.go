package etcdstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// rangePage is how many keys one range request reads.
const rangePage = 5000

// Snapshot reads latest/, tokens/, the registries, the releases and the
// verifications, every page at the revision of the first: results/, by far the largest, is not
// read. When etcd compacts that revision away meanwhile, it starts again.
func (s *Store) Snapshot(ctx context.Context) (*storage.Snapshot, error) {
	if err := s.closed("snapshot"); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		snap, err := s.snapshot(ctx)
		if errors.Is(err, storage.ErrCompacted) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		return snap, nil
	}
}

func (s *Store) snapshot(ctx context.Context) (*storage.Snapshot, error) {
	snap := &storage.Snapshot{}
	var rev int64 // set by the first page
	var rec storev1.Latest
	err := s.rangeAll(ctx, dirLatest, &rev, func(kv *mvccpb.KeyValue) error {
		rec.Reset()
		if err := proto.Unmarshal(kv.Value, &rec); err != nil {
			return fmt.Errorf("latest %q: %w", kv.Key, err)
		}
		c, err := records.CurrentOfLatest(&rec)
		snap.Currents = append(snap.Currents, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	snap.Revision = rev
	if snap.Tokens, err = s.tokens(ctx, &rev); err != nil {
		return nil, err
	}
	err = s.registered(ctx, dirAccelerators, &rev, func(v []byte, _ int64) error {
		var p storev1.Accelerator
		if err := proto.Unmarshal(v, &p); err != nil {
			return err
		}
		snap.Accelerators = append(snap.Accelerators, records.AcceleratorOf(&p))
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.registered(ctx, dirDatasets, &rev, func(v []byte, _ int64) error {
		var p storev1.Dataset
		if err := proto.Unmarshal(v, &p); err != nil {
			return err
		}
		ds, err := records.DatasetOf(&p)
		snap.Datasets = append(snap.Datasets, ds)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = s.registered(ctx, dirReleases, &rev, func(v []byte, _ int64) error {
		var p storev1.Release
		if err := proto.Unmarshal(v, &p); err != nil {
			return err
		}
		snap.Releases = append(snap.Releases, records.ReleaseOf(&p))
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.registered(ctx, dirVerifications, &rev, func(b []byte, created int64) error {
		var p storev1.Verification
		if err := proto.Unmarshal(b, &p); err != nil {
			return err
		}
		v, err := records.VerificationOf(&p)
		v.Revision = created // verifications are never rewritten
		snap.Verifications = append(snap.Verifications, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// rangeAll calls fn on every key under dir in key order, in pages, all
// read at *rev; a zero *rev becomes the revision of the first page.
func (s *Store) rangeAll(ctx context.Context, dir string, rev *int64, fn func(*mvccpb.KeyValue) error) error {
	from, end := s.key(dir), clientv3.GetPrefixRangeEnd(s.key(dir))
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(rangePage)}
		if *rev != 0 {
			opts = append(opts, clientv3.WithRev(*rev))
		}
		var resp *clientv3.GetResponse
		err := s.do(ctx, "reading "+dir, func(ctx context.Context, cli *clientv3.Client) error {
			var err error
			resp, err = cli.Get(ctx, from, opts...)
			return err
		})
		if err != nil {
			return err
		}
		if *rev == 0 {
			*rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// registered reads a registry, the releases or the verifications in the
// order they were added: by create revision, not by name. fn gets each
// value and its create revision.
func (s *Store) registered(ctx context.Context, dir string, rev *int64, fn func(value []byte, created int64) error) error {
	var kvs []*mvccpb.KeyValue
	if err := s.rangeAll(ctx, dir, rev, func(kv *mvccpb.KeyValue) error { kvs = append(kvs, kv); return nil }); err != nil {
		return err
	}
	slices.SortFunc(kvs, func(a, b *mvccpb.KeyValue) int { return cmp.Compare(a.CreateRevision, b.CreateRevision) })
	for _, kv := range kvs {
		if err := fn(kv.Value, kv.CreateRevision); err != nil {
			return fmt.Errorf("%q: %w", kv.Key, err)
		}
	}
	return nil
}

func (s *Store) tokens(ctx context.Context, rev *int64) ([]storage.Token, error) {
	var out []storage.Token
	err := s.rangeAll(ctx, dirTokens, rev, func(kv *mvccpb.KeyValue) error {
		var t storev1.Token
		if err := proto.Unmarshal(kv.Value, &t); err != nil {
			return fmt.Errorf("token %q: %w", kv.Key, err)
		}
		out = append(out, records.TokenOf(&t))
		return nil
	})
	return out, err
}

// Tokens lists every stored token.
func (s *Store) Tokens(ctx context.Context) ([]storage.Token, error) {
	if err := s.closed("tokens"); err != nil {
		return nil, err
	}
	var rev int64
	ts, err := s.tokens(ctx, &rev)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return ts, nil
}

// History reads a model's results in id order from results/<model>;
// filtered by task, dataset or hardware, from cohorts/ (see
// historyByCohort), which reads about a page whatever the model's history
// holds.
func (s *Store) History(ctx context.Context, q storage.HistoryQuery) ([]storage.HistoryEntry, error) {
	if q.Limit <= 0 || q.After == math.MaxUint64 && !q.Newest {
		return nil, nil
	}
	if err := s.closed("history"); err != nil {
		return nil, err
	}
	if q.Task != "" || q.Dataset != "" || q.Hardware != "" {
		return s.historyByCohort(ctx, q)
	}
	dir := s.key(dirResults, q.Model, "\x00")
	from, end := dir+idHex(q.After+1), clientv3.GetPrefixRangeEnd(dir)
	order := []clientv3.OpOption{}
	if q.Newest {
		from = dir
		order = append(order, clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	}
	var out []storage.HistoryEntry
	if q.Newest {
		defer func() { slices.Reverse(out) }()
	}
	for {
		var resp *clientv3.GetResponse
		err := s.do(ctx, "history", func(ctx context.Context, cli *clientv3.Client) error {
			var err error
			resp, err = cli.Get(ctx, from, append([]clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(int64(max(q.Limit, 64)))}, order...)...)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, kv := range resp.Kvs {
			id, rec, err := s.decodeResult(kv)
			if err != nil {
				return nil, fmt.Errorf("history: %w", err)
			}
			out = append(out, records.HistoryEntry(id, kv.CreateRevision, rec))
			if len(out) == q.Limit {
				return out, nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return out, nil
		}
		if last := string(resp.Kvs[len(resp.Kvs)-1].Key); q.Newest {
			end = last // the range's end is exclusive
		} else {
			from = last + "\x00"
		}
	}
}

// cohortPage bounds the cohorts/ keys a filtered history reads, at first,
// from all the cohorts it matches: each reads min(Limit, max(16,
// cohortPage / cohorts)), and more, twice as many each time, only when
// the merge takes them all.
const cohortPage = 2048

// historyByCohort answers a filtered history query from cohorts/, all at
// one revision: it lists the model's cohorts (model-cohorts/), keeps
// those the query matches, and merges their id-ordered keys up to
// q.Limit, then reads just those results. What it reads is bounded by the
// model's cohorts (a few hundred at most) and the page, not by its
// history: a filter that matches nothing reads the cohort list only.
//
// Oldest first, each cohort is a range read from q.After on, in pages.
// Newest first, etcd would read a whole range to sort it (a limit counts
// only after the sort), so each cohort is read in windows of ids instead,
// from its newest result (its latest/ pointer) down: a window of w ids
// holds w keys at most, and one that turns out to hold more than a page
// is halved, one that holds less than half a page widened. When etcd
// compacts the revision away meanwhile, it starts again.
func (s *Store) historyByCohort(ctx context.Context, q storage.HistoryQuery) ([]storage.HistoryEntry, error) {
	for attempt := 1; ; attempt++ {
		out, err := s.historyByCohortOnce(ctx, q)
		if errors.Is(err, storage.ErrCompacted) && attempt < 3 {
			continue
		}
		return out, err
	}
}

func (s *Store) historyByCohortOnce(ctx context.Context, q storage.HistoryQuery) ([]storage.HistoryEntry, error) {
	// The model's cohorts and the highest id, at one revision.
	list := s.key(dirModelCohorts, q.Model, "\x00")
	resps, rev, err := s.reads(ctx, []clientv3.Op{
		clientv3.OpGet(list, clientv3.WithPrefix(), clientv3.WithKeysOnly()),
		clientv3.OpGet(s.key(keyLastID)),
	})
	if err != nil {
		return nil, err
	}
	var lastID uint64
	if kvs := resps[1].Kvs; len(kvs) == 1 {
		if lastID, err = strconv.ParseUint(string(kvs[0].Value), 10, 64); err != nil {
			return nil, fmt.Errorf("history: %s: %w", keyLastID, err)
		}
	}
	var cohorts []string
	for _, kv := range resps[0].Kvs {
		ck := string(kv.Key[len(list):])
		c, err := records.ParseCohortKey(ck)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		if q.Matches(c) {
			cohorts = append(cohorts, ck)
		}
	}
	if len(cohorts) == 0 {
		return nil, nil
	}

	page := int64(min(q.Limit, max(16, cohortPage/len(cohorts))))
	cursors := make([]*cohortCursor, len(cohorts))
	for i, ck := range cohorts {
		dir := s.key(dirCohorts, q.Model, "\x00", ck, "\x00")
		cursors[i] = &cohortCursor{s: s, ctx: ctx, rev: rev, dir: dir, newest: q.Newest, more: true,
			page: page, maxPage: int64(q.Limit),
			from: dir + idHex(q.After+1), end: clientv3.GetPrefixRangeEnd(dir)}
	}
	if q.Newest {
		// Each cohort's newest result is its latest/ pointer's; without
		// one (it cannot be missing but for a damaged prefix), the
		// highest id of all.
		gets := make([]clientv3.Op, len(cohorts))
		for i, ck := range cohorts {
			gets[i] = clientv3.OpGet(s.key(dirLatest, ck, "\x00", q.Model), clientv3.WithRev(rev))
		}
		resps, _, err := s.reads(ctx, gets)
		if err != nil {
			return nil, err
		}
		for i, r := range resps {
			top := lastID
			if len(r.Kvs) == 1 {
				var l storev1.Latest
				if err := proto.Unmarshal(r.Kvs[0].Value, &l); err != nil {
					return nil, fmt.Errorf("history: latest %q: %w", r.Kvs[0].Key, err)
				}
				top = cmp.Or(l.ResultId, top)
			}
			cursors[i].hi, cursors[i].width = top+1, uint64(page)
			cursors[i].more = top > 0
		}
	}
	// The first read of every cohort, in as few requests as etcd allows;
	// newest first, with a look above the cohort's latest/ pointer, which
	// finds nothing unless a writer of an older layout left it behind:
	// then the cohort is read down from the highest id of all.
	var ops []clientv3.Op
	for _, c := range cursors {
		ops = append(ops, c.op())
		if q.Newest {
			ops = append(ops, clientv3.OpGet(c.dir+idHex(c.hi), clientv3.WithRange(clientv3.GetPrefixRangeEnd(c.dir)),
				clientv3.WithKeysOnly(), clientv3.WithLimit(1), clientv3.WithRev(rev)))
		}
	}
	resps, _, err = s.reads(ctx, ops)
	if err != nil {
		return nil, err
	}
	merged := make([]records.IDCursor, len(cursors))
	for i, c := range cursors {
		merged[i] = c
		first := resps[i]
		if q.Newest {
			if above := resps[2*i+1]; len(above.Kvs) > 0 && c.hi <= lastID {
				c.hi, c.more = lastID+1, true // read on Next
				continue
			}
			first = resps[2*i]
		}
		if err := c.took(first); err != nil {
			return nil, err
		}
	}
	ids, err := records.MergeIDs(merged, q.Newest, q.Limit)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	if q.Newest {
		slices.Reverse(ids)
	}

	// The results merged, and nothing else.
	gets := make([]clientv3.Op, len(ids))
	for i, id := range ids {
		gets[i] = clientv3.OpGet(s.key(dirResults, q.Model, "\x00", idHex(id)), clientv3.WithRev(rev))
	}
	if resps, _, err = s.reads(ctx, gets); err != nil {
		return nil, err
	}
	out := make([]storage.HistoryEntry, len(ids))
	for i, r := range resps {
		if len(r.Kvs) != 1 {
			return nil, fmt.Errorf("history: cohorts/ lists result %d of %q, results/ does not", ids[i], q.Model)
		}
		id, rec, err := s.decodeResult(r.Kvs[0])
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		out[i] = records.HistoryEntry(id, r.Kvs[0].CreateRevision, rec)
	}
	return out, nil
}

// reads runs range reads in as few transactions as --max-txn-ops allows,
// and returns their responses in order, with the revision of the first
// transaction's.
func (s *Store) reads(ctx context.Context, ops []clientv3.Op) ([]*etcdserverpb.RangeResponse, int64, error) {
	out := make([]*etcdserverpb.RangeResponse, 0, len(ops))
	var rev int64
	for len(ops) > 0 {
		chunk := ops[:min(len(ops), max(1, s.opt.MaxTxnOps))]
		ops = ops[len(chunk):]
		var resp *clientv3.TxnResponse
		err := s.do(ctx, "history", func(ctx context.Context, cli *clientv3.Client) error {
			var err error
			resp, err = cli.Txn(ctx).Then(chunk...).Commit()
			return err
		})
		if err != nil {
			return nil, 0, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, r := range resp.Responses {
			out = append(out, r.GetResponseRange())
		}
	}
	return out, rev, nil
}

// cohortCursor reads the cohorts/ keys under dir (a model's results in
// one cohort) at revision rev, a page at a time: rising from `from` to
// `end`, or, newest, falling from hi in windows of ids. It is a
// records.IDCursor.
type cohortCursor struct {
	s      *Store
	ctx    context.Context
	rev    int64
	dir    string
	newest bool
	// more is false once the cohort has no more keys to read.
	more bool
	// page is the limit of the next read; it doubles, up to maxPage, with
	// every read the merge takes all of.
	page, maxPage int64
	buf           []uint64
	// Rising: the range still to read.
	from, end string
	// Falling: the ids still to read are below hi; the next window is
	// width ids wide.
	hi, width uint64
}

// op is the cursor's next read.
func (c *cohortCursor) op() clientv3.Op {
	opts := []clientv3.OpOption{clientv3.WithKeysOnly(), clientv3.WithRev(c.rev), clientv3.WithLimit(c.page)}
	if !c.newest {
		return clientv3.OpGet(c.from, append(opts, clientv3.WithRange(c.end))...)
	}
	lo := c.hi - min(c.width, c.hi-1) // ids start at 1
	return clientv3.OpGet(c.dir+idHex(lo), append(opts, clientv3.WithRange(c.dir+idHex(c.hi)))...)
}

// took takes in the response to op.
func (c *cohortCursor) took(r *etcdserverpb.RangeResponse) error {
	ids := make([]uint64, len(r.Kvs))
	for i, kv := range r.Kvs {
		var err error
		if ids[i], err = idOfKey(kv.Key); err != nil {
			return fmt.Errorf("history: %w", err)
		}
	}
	if !c.newest {
		c.buf, c.more = ids, r.More && len(ids) > 0
		if c.more {
			c.from = string(r.Kvs[len(r.Kvs)-1].Key) + "\x00"
		}
		c.page = min(2*c.page, max(c.maxPage, c.page))
		return nil
	}
	lo := c.hi - min(c.width, c.hi-1)
	if r.More {
		// The window holds more than a page: its newest keys are not
		// among those read. Halve it; one of a page's width cannot.
		c.width = max(1, (c.hi-lo)/2)
		return nil
	}
	slices.Reverse(ids)
	c.buf, c.hi, c.more = ids, lo, lo > 1
	// A window that held less than half a page grows, by as much as its
	// keys say the next needs to hold about a page, eight times at most.
	if n, want := uint64(len(ids)), uint64(c.page); 2*n < want {
		grow := uint64(8)
		if n > 0 {
			grow = min(grow, want/n)
		}
		c.width = min(grow*c.width, math.MaxUint64/16)
	}
	return nil
}

// Next is the cursor's next id, read when the last read's are taken.
func (c *cohortCursor) Next() (uint64, bool, error) {
	for len(c.buf) == 0 {
		if !c.more {
			return 0, false, nil
		}
		if err := c.ctx.Err(); err != nil {
			return 0, false, err
		}
		op := c.op()
		var resp clientv3.OpResponse
		err := c.s.do(c.ctx, "history", func(ctx context.Context, cli *clientv3.Client) error {
			var err error
			resp, err = cli.Do(ctx, op)
			return err
		})
		if err != nil {
			return 0, false, err
		}
		if err := c.took((*etcdserverpb.RangeResponse)(resp.Get())); err != nil {
			return 0, false, err
		}
	}
	id := c.buf[0]
	c.buf = c.buf[1:]
	return id, true, nil
}

// idOfKey reads the id that ends a results/ or cohorts/ key.
func idOfKey(key []byte) (uint64, error) {
	k := string(key)
	i := strings.LastIndexByte(k, 0)
	if i < 0 {
		return 0, fmt.Errorf("key %q: no id", k)
	}
	id, err := strconv.ParseUint(k[i+1:], 16, 64)
	if err != nil {
		return 0, fmt.Errorf("key %q: %w", k, err)
	}
	return id, nil
}

// decodeResult reads a results/ key and value.
func (s *Store) decodeResult(kv *mvccpb.KeyValue) (uint64, *storev1.Result, error) {
	id, err := idOfKey(kv.Key)
	if err != nil {
		return 0, nil, err
	}
	var rec storev1.Result
	if err := proto.Unmarshal(kv.Value, &rec); err != nil {
		return 0, nil, fmt.Errorf("result %d: %w", id, err)
	}
	return id, &rec, nil
}

// Record returns a stored result with its audit trail: ids/ names its
// model, and so its key.
func (s *Store) Record(ctx context.Context, id uint64) (*rating.Result, storage.Audit, error) {
	if err := s.closed(fmt.Sprintf("result %d", id)); err != nil {
		return nil, storage.Audit{}, err
	}
	op := fmt.Sprintf("result %d", id)
	var resp *clientv3.GetResponse
	get := func(k string) error {
		return s.do(ctx, op, func(ctx context.Context, cli *clientv3.Client) error {
			var err error
			resp, err = cli.Get(ctx, k)
			return err
		})
	}
	if err := get(s.key(dirIDs, idHex(id))); err != nil {
		return nil, storage.Audit{}, err
	}
	if len(resp.Kvs) == 0 {
		return nil, storage.Audit{}, fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	}
	if err := get(s.key(dirResults, string(resp.Kvs[0].Value), "\x00", idHex(id))); err != nil {
		return nil, storage.Audit{}, err
	}
	if len(resp.Kvs) == 0 {
		return nil, storage.Audit{}, fmt.Errorf("%s: its record: %w", op, storage.ErrNotFound)
	}
	_, rec, err := s.decodeResult(resp.Kvs[0])
	if err != nil {
		return nil, storage.Audit{}, err
	}
	r, a := records.ResultOf(rec)
	return r, a, nil
}
