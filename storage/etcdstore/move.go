package etcdstore

import (
	"bytes"
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
	if err := s.closed("empty"); err != nil {
		return false, err
	}
	var resp *clientv3.GetResponse
	err := s.do(ctx, "empty", func(ctx context.Context, cli *clientv3.Client) error {
		var err error
		resp, err = cli.Get(ctx, s.prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(2))
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
	if err := s.closed("records"); err != nil {
		return err
	}
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

// EachIndexed calls fn on every cohorts/ key, all read at one revision,
// in key order: a model, the key of a cohort it has results in, and one of
// those results' ids. A move compares it with the source's.
func (s *Store) EachIndexed(ctx context.Context, fn func(model, cohortKey string, id uint64) error) error {
	if err := s.closed("history index"); err != nil {
		return err
	}
	var rev int64
	return s.rangeAll(ctx, dirCohorts, &rev, func(kv *mvccpb.KeyValue) error {
		k := strings.TrimPrefix(string(kv.Key), s.key(dirCohorts))
		model, rest, ok1 := strings.Cut(k, "\x00")
		cohort, id, ok2 := strings.Cut(rest, "\x00")
		n, err := strconv.ParseUint(id, 16, 64)
		if !ok1 || !ok2 || err != nil || len(id) != 16 {
			return fmt.Errorf("cohorts/ key %q is not a model, a cohort and an id", k)
		}
		return fn(model, cohort, n)
	})
}

// Import stores results moved from another backend under the ids they had
// there, in id order, in as few transactions as etcd allows: each record,
// its id, its cohorts/ key and its model's model-cohorts/ key (the history
// index is rebuilt, each result under the cohort history reads it in),
// its fingerprint's claim, and the latest pointer of each current result
// (current names them; those whose record is not in recs are left
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
	imps := make([]imported, len(recs))
	for i, r := range recs {
		var rec storev1.Result
		if err := proto.Unmarshal(r.Value, &rec); err != nil {
			return fmt.Errorf("import: result %d: %w", r.ID, err)
		}
		imps[i] = imported{Record: r, model: rec.Model, cohort: records.CohortKey(records.CohortOf(&rec)),
			fingerprint: rec.GetAudit().GetFingerprint(), current: latest[r.ID]}
	}
	for len(imps) > 0 {
		// Each record takes three operations (its record, its id, its
		// cohorts/ key), and may take three more: its fingerprint's claim,
		// its latest pointer, its model-cohorts/ key; the counter one.
		n, size := 0, 0
		for n < len(imps) && (n == 0 || 1+opsPerResult*(n+1) <= s.opt.MaxTxnOps && size+len(imps[n].Value) <= importBytes) {
			size += len(imps[n].Value)
			n++
		}
		if err := s.importTxn(ctx, imps[:n]); err != nil {
			return err
		}
		imps = imps[n:]
	}
	return nil
}

// imported is a record to import, read.
type imported struct {
	storage.Record
	model, cohort, fingerprint string
	// current is its Current, when it is its model's current result in
	// its cohort.
	current *storage.Current
}

// importTxn stores recs in one transaction, guarded by meta/last-id's mod
// revision, within RequestTimeout. When an attempt's answer is lost, the
// next read of meta/last-id also reads the first record, which says
// whether it committed.
func (s *Store) importTxn(ctx context.Context, recs []imported) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	puts := []clientv3.Op{clientv3.OpPut(s.key(keyLastID), strconv.FormatUint(recs[len(recs)-1].ID, 10))}
	claims, listed := map[string]string{}, map[string]bool{}
	for _, r := range recs {
		puts = append(puts,
			clientv3.OpPut(s.key(dirResults, r.model, "\x00", idHex(r.ID)), string(r.Value)),
			clientv3.OpPut(s.key(dirIDs, idHex(r.ID)), r.model),
			clientv3.OpPut(s.cohortKey(r.model, r.cohort, r.ID), ""))
		if mk := s.modelCohortKey(r.model, r.cohort); !listed[mk] {
			listed[mk] = true
			puts = append(puts, clientv3.OpPut(mk, ""))
		}
		if fp := r.fingerprint; fp != "" {
			if m, ok := claims[fp]; ok && m != r.model {
				return fmt.Errorf("import: result %d: fingerprint %s… labels models %q and %q: %w", r.ID, short(fp), m, r.model, storage.ErrExists)
			} else if !ok { // the first result of a fingerprint keeps it
				claims[fp] = r.model
				puts = append(puts, clientv3.OpPut(s.key(dirFingerprints, fp), fingerprintClaim(r.model, r.ID)))
			}
		}
		if c := r.current; c != nil {
			v, err := proto.Marshal(records.Latest(c))
			if err != nil {
				return err
			}
			puts = append(puts, clientv3.OpPut(s.key(dirLatest, latestKey(c.Measure.Cohort, c.Model)), string(v)))
		}
	}
	firstKey := s.key(dirResults, recs[0].model, "\x00", idHex(recs[0].ID))
	a := s.attempts()
	uncertain := false
	for {
		var lastID uint64
		var lastRev int64
		stored := false
		err := s.retry(ctx, a, "import", func(ctx context.Context, cli *clientv3.Client) error {
			resp, err := cli.Txn(ctx).Then(clientv3.OpGet(s.key(keyLastID)), clientv3.OpGet(firstKey)).Commit()
			if err != nil {
				return err
			}
			lastID, lastRev = 0, 0
			if kvs := resp.Responses[0].GetResponseRange().GetKvs(); len(kvs) == 1 {
				lastRev = kvs[0].ModRevision
				if lastID, err = strconv.ParseUint(string(kvs[0].Value), 10, 64); err != nil {
					return err
				}
			}
			kvs := resp.Responses[1].GetResponseRange().GetKvs()
			stored = uncertain && len(kvs) == 1 && bytes.Equal(kvs[0].Value, recs[0].Value)
			return nil
		})
		switch {
		case err != nil:
			return err
		case stored:
			return nil
		case recs[0].ID <= lastID:
			return fmt.Errorf("import: result %d: ids up to %d are stored already", recs[0].ID, lastID)
		}
		var resp *clientv3.TxnResponse
		err = a.run(ctx, func(ctx context.Context, cli *clientv3.Client) error {
			var err error
			resp, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(s.key(keyLastID)), "=", lastRev)).Then(puts...).Commit()
			return err
		})
		switch {
		case err == nil && resp.Succeeded:
			return nil
		case err == nil && !uncertain:
			return fmt.Errorf("import: another writer stored results meanwhile: stop every replica on prefix %q", s.prefix)
		case err == nil:
			// Ours, whose answer was lost, may have: the next read says.
		case a.again(ctx, err):
			uncertain = true // whether it committed, its first record says
		default:
			return s.storageError(ctx, "import", err)
		}
	}
}
