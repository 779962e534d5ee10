package etcdstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
		err := s.do(ctx, "reading "+dir, func(ctx context.Context) error {
			var err error
			resp, err = s.cli.Get(ctx, from, opts...)
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

// History reads a model's results in id order from results/<model>.
func (s *Store) History(ctx context.Context, q storage.HistoryQuery) ([]storage.HistoryEntry, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	if err := s.closed("history"); err != nil {
		return nil, err
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
		err := s.do(ctx, "history", func(ctx context.Context) error {
			var err error
			resp, err = s.cli.Get(ctx, from, append([]clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(int64(max(q.Limit, 64)))}, order...)...)
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
			h := records.HistoryEntry(id, kv.CreateRevision, rec)
			if !q.Matches(h.Measure.Cohort) {
				continue
			}
			out = append(out, h)
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

// decodeResult reads a results/ key and value.
func (s *Store) decodeResult(kv *mvccpb.KeyValue) (uint64, *storev1.Result, error) {
	k := string(kv.Key)
	i := strings.LastIndexByte(k, 0)
	if i < 0 {
		return 0, nil, fmt.Errorf("result key %q: no id", k)
	}
	id, err := strconv.ParseUint(k[i+1:], 16, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("result key %q: %w", k, err)
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
		return s.do(ctx, op, func(ctx context.Context) error {
			var err error
			resp, err = s.cli.Get(ctx, k)
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
