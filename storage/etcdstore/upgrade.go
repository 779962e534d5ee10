package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// upgrade brings a prefix from layout version `from` ("1" or "2") to
// layoutVersion, a version at a time.
func (s *Store) upgrade(ctx context.Context, from string) error {
	if from == "1" {
		if err := s.upgradeSources(ctx); err != nil {
			return err
		}
	}
	return s.upgradeCohorts(ctx)
}

// upgradeSources brings a prefix from layout 1 to 2: each latest/ record
// that names no source takes its result's, as history reads it, and
// meta/version becomes "2". It reads latest/ a page at a time and rewrites
// a transaction's worth of records at once, each guarded by its mod
// revision: a record that a writer replaced meanwhile is read again. It
// may run on several replicas at once; each rewrite is the same.
func (s *Store) upgradeSources(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := s.upgradeLatest(ctx)
		if errors.Is(err, storage.ErrCompacted) && attempt < 3 {
			continue // the scan's revision was compacted away: scan again
		}
		if err != nil {
			return fmt.Errorf("upgrading layout version 1: %w", err)
		}
		break
	}
	k := s.key(keyVersion)
	return s.do(ctx, "upgrading layout version 1", func(ctx context.Context, cli *clientv3.Client) error {
		_, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(k), "=", "1")).
			Then(clientv3.OpPut(k, "2")).Commit()
		return err // not succeeded: another replica recorded it
	})
}

// upgradeCohorts brings a prefix from layout 2 to 3: it writes the
// cohorts/ key of every stored result and the model-cohorts/ key of every
// model's cohort, each result under the cohort history reads it in
// (records.CohortOf), then meta/version becomes "3". It reads results/ a
// page at a time, at the revision of meta/last-id's first read, and puts
// a transaction's worth of keys at once, each transaction guarded by
// meta/version still being "2": once a replica has finished, the others'
// writes stop. The keys are the same whoever writes them, so replicas may
// run it at once. The version is recorded only if meta/last-id is as the
// scan found it; results a replica of layout 2 stored meanwhile are
// indexed (from ids/), and it tries again.
func (s *Store) upgradeCohorts(ctx context.Context) error {
	const op = "upgrading layout version 2"
	var lastID uint64
	var lastIDRev, rev int64
	readLastID := func() error {
		return s.do(ctx, op, func(ctx context.Context, cli *clientv3.Client) error {
			resp, err := cli.Get(ctx, s.key(keyLastID))
			if err != nil {
				return err
			}
			rev, lastID, lastIDRev = resp.Header.Revision, 0, 0
			if len(resp.Kvs) == 1 {
				lastIDRev = resp.Kvs[0].ModRevision
				lastID, err = strconv.ParseUint(string(resp.Kvs[0].Value), 10, 64)
			}
			return err
		})
	}
	for attempt := 1; ; attempt++ {
		if err := readLastID(); err != nil {
			return err
		}
		w := s.newIndexWriter(ctx)
		var rec storev1.Result
		err := s.rangeAll(ctx, dirResults, &rev, func(kv *mvccpb.KeyValue) error {
			id, err := idOfKey(kv.Key)
			if err != nil {
				return err
			}
			rec.Reset()
			if err := proto.Unmarshal(kv.Value, &rec); err != nil {
				return fmt.Errorf("result %d: %w", id, err)
			}
			return w.add(rec.Model, records.CohortKey(records.CohortOf(&rec)), id)
		})
		if err == nil {
			err = w.flush()
		}
		if errors.Is(err, storage.ErrCompacted) && attempt < 3 {
			continue // the scan's revision was compacted away: scan again
		}
		if errors.Is(err, errLayoutRecorded) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		break
	}
	for {
		done, err := s.recordLayout3(ctx, lastIDRev)
		if err != nil || done {
			return err
		}
		// Results were stored since the scan: index those, and try again.
		from := lastID
		if err := readLastID(); err != nil {
			return err
		}
		err = s.indexIDs(ctx, from+1, lastID, rev)
		if errors.Is(err, errLayoutRecorded) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
}

// recordLayout3 records layout version 3 if meta/last-id's mod revision is
// still lastIDRev. It is done when it did so, or another replica had.
func (s *Store) recordLayout3(ctx context.Context, lastIDRev int64) (bool, error) {
	k := s.key(keyVersion)
	var resp *clientv3.TxnResponse
	err := s.do(ctx, "upgrading layout version 2", func(ctx context.Context, cli *clientv3.Client) error {
		var err error
		resp, err = cli.Txn(ctx).
			If(clientv3.Compare(clientv3.Value(k), "=", "2"), clientv3.Compare(clientv3.ModRevision(s.key(keyLastID)), "=", lastIDRev)).
			Then(clientv3.OpPut(k, strconv.Itoa(layoutVersion))).
			Else(clientv3.OpGet(k)).Commit()
		return err
	})
	if err != nil {
		return false, err
	}
	if resp.Succeeded {
		return true, nil
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) != 1 {
		return false, fmt.Errorf("upgrading layout version 2: %s is gone", keyVersion)
	}
	return string(kvs[0].Value) != "2", nil
}

// indexIDs indexes the results with ids from..to (ids/ names each one's
// model), as read at revision rev.
func (s *Store) indexIDs(ctx context.Context, from, to uint64, rev int64) error {
	w := s.newIndexWriter(ctx)
	for id := from; id >= from && id <= to; id++ { // id >= from: no wrap past the highest id
		var rec storev1.Result
		err := s.do(ctx, "indexing results", func(ctx context.Context, cli *clientv3.Client) error {
			resp, err := cli.Get(ctx, s.key(dirIDs, idHex(id)), clientv3.WithRev(rev))
			if err != nil || len(resp.Kvs) == 0 {
				return err // no result holds that id
			}
			r, err := cli.Get(ctx, s.key(dirResults, string(resp.Kvs[0].Value), "\x00", idHex(id)), clientv3.WithRev(rev))
			if err != nil || len(r.Kvs) == 0 {
				return err
			}
			return proto.Unmarshal(r.Kvs[0].Value, &rec)
		})
		if err != nil {
			return err
		}
		if rec.Model == "" {
			continue
		}
		if err := w.add(rec.Model, records.CohortKey(records.CohortOf(&rec)), id); err != nil {
			return err
		}
	}
	return w.flush()
}

// errLayoutRecorded stops an upgrade from layout 2 that another replica
// finished: what it would write is there.
var errLayoutRecorded = errors.New("another replica recorded layout version 3")

// indexWriter puts the cohorts/ and model-cohorts/ keys of stored results,
// a transaction's worth at a time, each transaction guarded by
// meta/version being "2": after a replica recorded version 3, whatever it
// would write is there, and its writes stop with errLayoutRecorded.
type indexWriter struct {
	s    *Store
	ctx  context.Context
	puts []clientv3.Op
	// seen are the model-cohorts/ keys put already.
	seen map[string]bool
}

func (s *Store) newIndexWriter(ctx context.Context) *indexWriter {
	return &indexWriter{s: s, ctx: ctx, seen: map[string]bool{}}
}

// add indexes result id of model, in the cohort of key ck.
func (w *indexWriter) add(model, ck string, id uint64) error {
	w.puts = append(w.puts, clientv3.OpPut(w.s.cohortKey(model, ck, id), ""))
	if mk := w.s.modelCohortKey(model, ck); !w.seen[mk] {
		w.seen[mk] = true
		w.puts = append(w.puts, clientv3.OpPut(mk, ""))
	}
	if len(w.puts)+1 >= w.s.opt.MaxTxnOps {
		return w.flush()
	}
	return nil
}

func (w *indexWriter) flush() error {
	if len(w.puts) == 0 {
		return nil
	}
	k := w.s.key(keyVersion)
	var resp *clientv3.TxnResponse
	err := w.s.do(w.ctx, "upgrading layout version 2", func(ctx context.Context, cli *clientv3.Client) error {
		var err error
		resp, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(k), "=", "2")).Then(w.puts...).Commit()
		return err
	})
	w.puts = w.puts[:0]
	if err == nil && !resp.Succeeded {
		return errLayoutRecorded
	}
	return err
}

func (s *Store) upgradeLatest(ctx context.Context) error {
	chunk := max(1, s.opt.MaxTxnOps)
	var rev int64
	var todo []*mvccpb.KeyValue
	var l storev1.Latest
	err := s.rangeAll(ctx, dirLatest, &rev, func(kv *mvccpb.KeyValue) error {
		l.Reset()
		if err := proto.Unmarshal(kv.Value, &l); err != nil {
			return fmt.Errorf("latest %q: %w", kv.Key, err)
		}
		if l.Source != storev1.Source_SOURCE_UNSPECIFIED {
			return nil
		}
		todo = append(todo, kv)
		if len(todo) < chunk {
			return nil
		}
		err := s.upgradeChunk(ctx, todo)
		todo = todo[:0]
		return err
	})
	if err == nil && len(todo) > 0 {
		err = s.upgradeChunk(ctx, todo)
	}
	return err
}

// upgradeChunk gives the latest/ records kvs their results' sources, in
// one transaction guarded by their mod revisions; those that changed
// meanwhile are read again and tried again.
func (s *Store) upgradeChunk(ctx context.Context, kvs []*mvccpb.KeyValue) error {
	for len(kvs) > 0 {
		latest := make([]*storev1.Latest, len(kvs))
		gets := make([]clientv3.Op, len(kvs))
		for i, kv := range kvs {
			latest[i] = &storev1.Latest{}
			if err := proto.Unmarshal(kv.Value, latest[i]); err != nil {
				return fmt.Errorf("latest %q: %w", kv.Key, err)
			}
			gets[i] = clientv3.OpGet(s.key(dirResults, latest[i].Model, "\x00", idHex(latest[i].ResultId)))
		}
		var resp *clientv3.TxnResponse
		err := s.do(ctx, "reading results", func(ctx context.Context, cli *clientv3.Client) error {
			var err error
			resp, err = cli.Txn(ctx).Then(gets...).Commit()
			return err
		})
		if err != nil {
			return err
		}
		var cmps []clientv3.Cmp
		var puts []clientv3.Op
		for i, kv := range kvs {
			rs := resp.Responses[i].GetResponseRange().GetKvs()
			if len(rs) == 0 {
				return fmt.Errorf("latest %q points at result %d: %w", kv.Key, latest[i].ResultId, storage.ErrNotFound)
			}
			var rec storev1.Result
			if err := proto.Unmarshal(rs[0].Value, &rec); err != nil {
				return fmt.Errorf("result %d: %w", latest[i].ResultId, err)
			}
			latest[i].Source = records.SourceRecord(&rec)
			v, err := proto.Marshal(latest[i])
			if err != nil {
				return err
			}
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(string(kv.Key)), "=", kv.ModRevision))
			puts = append(puts, clientv3.OpPut(string(kv.Key), string(v)))
		}
		reads := make([]clientv3.Op, len(kvs))
		for i, kv := range kvs {
			reads[i] = clientv3.OpGet(string(kv.Key))
		}
		err = s.do(ctx, "upgrading latest", func(ctx context.Context, cli *clientv3.Client) error {
			var err error
			resp, err = cli.Txn(ctx).If(cmps...).Then(puts...).Else(reads...).Commit()
			return err
		})
		if err != nil {
			return err
		}
		if resp.Succeeded {
			return nil
		}
		// Some changed: those that still name no source go again.
		var again []*mvccpb.KeyValue
		for i := range kvs {
			for _, kv := range resp.Responses[i].GetResponseRange().GetKvs() {
				var l storev1.Latest
				if err := proto.Unmarshal(kv.Value, &l); err != nil {
					return fmt.Errorf("latest %q: %w", kv.Key, err)
				}
				if l.Source == storev1.Source_SOURCE_UNSPECIFIED {
					again = append(again, kv)
				}
			}
		}
		kvs = again
	}
	return nil
}
