package etcdstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// importBytes bounds the values of one import transaction, well under
// etcd's --max-request-bytes (1.5 MiB by default).
const importBytes = 512 << 10

// Empty reports whether the prefix holds nothing but the layout version
// that Open records: whether a move may fill it.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var resp *clientv3.GetResponse
	err := s.do(ctx, "empty", func(ctx context.Context) error {
		var err error
		resp, err = s.cli.Get(ctx, s.prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(2))
		return err
	})
	if err != nil {
		return false, err
	}
	for _, kv := range resp.Kvs {
		if string(kv.Key) != s.key(keyVersion) {
			return false, nil
		}
	}
	return true, nil
}

// EachRecord calls fn on every stored result, as stored, all read at one
// revision, in the order of results/: by model, then id.
func (s *Store) EachRecord(ctx context.Context, fn func(storage.Record) error) error {
	var rev int64
	return s.rangeAll(ctx, dirResults, &rev, func(kv *mvccpb.KeyValue) error {
		k := string(kv.Key)
		id, err := strconv.ParseUint(k[strings.LastIndexByte(k, 0)+1:], 16, 64)
		if err != nil {
			return fmt.Errorf("result key %q: %w", k, err)
		}
		return fn(storage.Record{ID: id, Value: kv.Value})
	})
}

// Import stores results moved from another backend under the ids they had
// there, in id order, in as few transactions as etcd allows: each record,
// its id, its fingerprint's claim, and the latest pointer of each current
// result (current names them; those whose record is not in recs are left
// alone); meta/last-id moves up to the highest id. It is for a prefix a
// move fills, with no replica writing: a transaction finds meta/last-id as
// it left it, or fails, and ids must be higher than any stored.
func (s *Store) Import(ctx context.Context, recs []storage.Record, current []storage.Current) error {
	if err := s.closed("import"); err != nil {
		return err
	}
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(a, b storage.Record) int { return cmp.Compare(a.ID, b.ID) })
	latest := map[uint64]*storage.Current{}
	for i := range current {
		latest[current[i].ID] = &current[i]
	}
	for len(recs) > 0 {
		n, size := 0, 0
		for n < len(recs) && 1+4*(n+1) <= s.opt.MaxTxnOps && (n == 0 || size+len(recs[n].Value) <= importBytes) {
			size += len(recs[n].Value)
			n++
		}
		if err := s.importTxn(ctx, recs[:n], latest); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

func (s *Store) importTxn(ctx context.Context, recs []storage.Record, latest map[uint64]*storage.Current) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	var lastID uint64
	var lastRev int64
	err := s.do(ctx, "import", func(ctx context.Context) error {
		resp, err := s.cli.Get(ctx, s.key(keyLastID))
		if err == nil && len(resp.Kvs) == 1 {
			lastRev = resp.Kvs[0].ModRevision
			lastID, err = strconv.ParseUint(string(resp.Kvs[0].Value), 10, 64)
		}
		return err
	})
	if err != nil {
		return err
	}
	if recs[0].ID <= lastID {
		return fmt.Errorf("import: result %d: ids up to %d are stored already", recs[0].ID, lastID)
	}
	puts := []clientv3.Op{clientv3.OpPut(s.key(keyLastID), strconv.FormatUint(recs[len(recs)-1].ID, 10))}
	claims := map[string]string{}
	var firstModel string
	for i, r := range recs {
		var rec storev1.Result
		if err := proto.Unmarshal(r.Value, &rec); err != nil {
			return fmt.Errorf("import: result %d: %w", r.ID, err)
		}
		if i == 0 {
			firstModel = rec.Model
		}
		puts = append(puts,
			clientv3.OpPut(s.key(dirResults, rec.Model, "\x00", idHex(r.ID)), string(r.Value)),
			clientv3.OpPut(s.key(dirIDs, idHex(r.ID)), rec.Model))
		if fp := rec.GetAudit().GetFingerprint(); fp != "" {
			if m, ok := claims[fp]; ok && m != rec.Model {
				return fmt.Errorf("import: result %d: fingerprint %s… labels models %q and %q: %w", r.ID, short(fp), m, rec.Model, storage.ErrExists)
			} else if !ok { // the first result of a fingerprint keeps it
				claims[fp] = rec.Model
				puts = append(puts, clientv3.OpPut(s.key(dirFingerprints, fp), fingerprintClaim(rec.Model, r.ID)))
			}
		}
		if c, ok := latest[r.ID]; ok {
			v, err := proto.Marshal(records.Latest(c))
			if err != nil {
				return err
			}
			puts = append(puts, clientv3.OpPut(s.key(dirLatest, latestKey(c.Measure.Cohort, c.Model)), string(v)))
		}
	}
	resp, err := s.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(s.key(keyLastID)), "=", lastRev)).Then(puts...).Commit()
	switch {
	case err == nil && resp.Succeeded:
		return nil
	case err == nil:
		return fmt.Errorf("import: another writer stored results meanwhile: stop every replica on prefix %q", s.prefix)
	case transient(err) && ctx.Err() == nil:
		// Whether it committed, its first record says.
		var rev int64
		if err := s.do(ctx, "import", func(ctx context.Context) error {
			var err error
			rev, err = s.committed(ctx, firstModel, recs[0].ID, recs[0].Value)
			return err
		}); err != nil {
			return err
		}
		if rev == 0 {
			return s.importTxn(ctx, recs, latest)
		}
		return nil
	}
	return s.storageError(ctx, "import", err)
}
