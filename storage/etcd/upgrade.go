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
	return s.do(ctx, "upgrading layout version 1", func(ctx context.Context) error {
		_, err := s.cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(k), "=", "1")).
			Then(clientv3.OpPut(k, strconv.Itoa(layoutVersion))).Commit()
		return err // not succeeded: another replica recorded it
	})
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
		err := s.do(ctx, "reading results", func(ctx context.Context) error {
			var err error
			resp, err = s.cli.Txn(ctx).Then(gets...).Commit()
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
		err = s.do(ctx, "upgrading latest", func(ctx context.Context) error {
			var err error
			resp, err = s.cli.Txn(ctx).If(cmps...).Then(puts...).Else(reads...).Commit()
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
