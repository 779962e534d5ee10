package etcdstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/pbtime"
	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// Append stores a batch of accepted results in one etcd transaction, as
// one revision: the records, their ids, their cohorts/ keys, the latest
// pointers and model-cohorts/ keys of each model and cohort, the
// fingerprint claims, the id counter and the tokens' last use, all or
// none. It returns once a quorum has it. A batch larger than one
// transaction may hold fails with ErrBatchTooLarge. While etcd elects a
// leader, or a member is down or does not answer, it tries again, each
// attempt within AttemptTimeout and after a failed one on another member;
// a write whose answer was lost is found by its first record, so that it
// is never stored twice.
//
// Batches that wait while one of this replica's transactions runs share
// the next, as far as a transaction holds them, as bbolt's Batch shares a
// commit: each stays whole and gets consecutive ids, and a batch the
// shared transaction cannot take (a fingerprint another model claimed,
// or the same model's stored measurement) is tried again alone, so that it
// fails alone. However long it waited for a transaction, and whatever
// that transaction met, Append returns within RequestTimeout (or when ctx
// ends, if sooner): it fails then with storage.ErrUnavailable, and whether
// a batch that a transaction had taken is stored is unknown.
func (s *Store) Append(ctx context.Context, batch []storage.Accepted) (uint64, int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if err := s.closed("append"); err != nil {
		return 0, 0, err
	}
	if len(batch) == 0 {
		return 0, 0, fmt.Errorf("append: an empty batch")
	}
	if _, err := s.plan(batch); err != nil {
		return 0, 0, err
	}
	req := &appendReq{batch: batch, done: make(chan struct{}), deadline: time.Now().Add(s.opt.RequestTimeout)}
	if d, ok := ctx.Deadline(); ok && d.Before(req.deadline) {
		req.deadline = d
	}
	timeout := time.NewTimer(s.opt.RequestTimeout)
	defer timeout.Stop()
	s.mu.Lock()
	s.pending = append(s.pending, req)
	s.mu.Unlock()
	for {
		select {
		case <-req.done:
			return req.first, req.rev, req.err
		case s.appending <- struct{}{}:
			// Commit for every batch waiting, ours among them or not, while
			// this call waits for its own answer or its end.
			s.mu.Lock()
			group := s.takeGroup()
			s.mu.Unlock()
			if len(group) == 0 {
				<-s.appending
				continue
			}
			go func() {
				defer func() { <-s.appending }()
				s.commitGroup(context.WithoutCancel(ctx), group)
			}()
		case <-ctx.Done():
			if s.withdraw(req) {
				return 0, 0, ctx.Err()
			}
			return 0, 0, fmt.Errorf("append: %w (whether it was stored is unknown)", ctx.Err())
		case <-timeout.C:
			if s.withdraw(req) {
				return 0, 0, fmt.Errorf("append: %w (nothing was stored)", s.noAnswer)
			}
			return 0, 0, fmt.Errorf("append: %w (whether it was stored is unknown)", s.noAnswer)
		}
	}
}

// withdraw takes req off the batches waiting; false when a transaction
// took it already.
func (s *Store) withdraw(req *appendReq) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(s.pending, req)
	if i >= 0 {
		s.pending = slices.Delete(s.pending, i, i+1)
	}
	return i >= 0
}

// appendReq is a batch waiting for a transaction, and what became of it.
type appendReq struct {
	batch []storage.Accepted
	// deadline is when its Append gives up: RequestTimeout after it
	// began, or its context's deadline if sooner.
	deadline time.Time
	first    uint64
	rev      int64
	err      error
	done     chan struct{}
}

// takeGroup takes the waiting batches, in order, that one transaction
// holds: each batch takes the operations batchOps counts, each token one
// more, and the id counter one. Called with s.mu held.
func (s *Store) takeGroup() []*appendReq {
	ops, tokens, n := 1, map[string]bool{}, 0
	for _, r := range s.pending {
		more := batchOps(r.batch)
		for i := range r.batch {
			if id := r.batch[i].Audit.TokenID; id != "" && !tokens[id] {
				tokens[id] = true
				more++
			}
		}
		if n > 0 && ops+more > s.opt.MaxTxnOps {
			break
		}
		ops += more
		n++
	}
	group := slices.Clone(s.pending[:n])
	s.pending = slices.Delete(s.pending, 0, n)
	return group
}

// batchOps is the most operations a batch's results take in a
// transaction, its tokens aside: three per result (its record, its id, its
// cohorts/ key), one per fingerprint, and two per model and cohort (its
// latest pointer and model-cohorts/ key). A group of batches takes no more
// than the sum of theirs.
func batchOps(batch []storage.Accepted) int {
	n, pairs := 3*len(batch), map[string]bool{}
	for i := range batch {
		if batch[i].Audit.Fingerprint != "" {
			n++
		}
		pairs[latestKey(batch[i].Measure.Cohort, batch[i].Result.Model)] = true
	}
	return n + 2*len(pairs)
}

// commitGroup stores a group of batches in one transaction, or, when that
// fails for a reason of one batch's, each batch alone. It tries until the
// last of their Appends gives up; each gives up at its own deadline.
func (s *Store) commitGroup(ctx context.Context, group []*appendReq) {
	var all []storage.Accepted
	end := group[0].deadline
	for _, r := range group {
		all = append(all, r.batch...)
		if r.deadline.After(end) {
			end = r.deadline
		}
	}
	gctx, cancel := s.within(ctx, end)
	defer cancel()
	first, rev, err := s.appendOne(gctx, all)
	if err != nil && len(group) > 1 && !errors.Is(err, storage.ErrUnavailable) && !errors.Is(err, storage.ErrClosed) {
		for _, r := range group {
			rctx, cancel := s.within(ctx, r.deadline)
			r.first, r.rev, r.err = s.appendOne(rctx, r.batch)
			cancel()
			close(r.done)
		}
		return
	}
	for _, r := range group {
		r.first, r.rev, r.err = first, rev, err
		first += uint64(len(r.batch))
		close(r.done)
	}
}

// within bounds ctx by a deadline, and by the store's end.
func (s *Store) within(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithDeadlineCause(ctx, deadline, s.noAnswer)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// appendOne stores a batch in one transaction, within ctx, trying again
// as Append says. An attempt whose answer was lost (it timed out, or its
// member went away) may have committed, or may yet: it is uncertain. It
// compared meta/last-id's mod revision with what it read, so it can commit
// only while meta/last-id is unchanged, and then with the ids it was
// given; every later read of the state also reads those ids' first record
// (checks), and finds the batch stored, or the attempt ruled out.
func (s *Store) appendOne(ctx context.Context, batch []storage.Accepted) (uint64, int64, error) {
	p, err := s.plan(batch)
	if err != nil {
		return 0, 0, err
	}
	reads := p.reads(s)
	var st *appendState
	var uncertain []uncertainWrite
	a := s.attempts()
	for conflicts := 0; ; {
		if st == nil {
			var stored uncertainWrite
			err := s.retry(ctx, a, "append", func(ctx context.Context, cli *clientv3.Client) error {
				resp, err := cli.Txn(ctx).Then(append(slices.Clip(reads), p.checks(s, uncertain)...)...).Commit()
				if err == nil {
					st, stored, err = p.state(resp.Responses, uncertain)
				}
				return err
			})
			if err != nil {
				return 0, 0, err
			}
			if stored.rev != 0 {
				return stored.first, stored.rev, nil
			}
			// Those that could still commit: none once meta/last-id moved.
			uncertain = slices.DeleteFunc(uncertain, func(u uncertainWrite) bool { return u.lastIDRev != st.lastIDRev })
		}
		first, cmps, puts, err := p.write(s, st)
		if err != nil {
			return 0, 0, err
		}
		var resp *clientv3.TxnResponse
		err = a.run(ctx, func(ctx context.Context, cli *clientv3.Client) error {
			var err error
			resp, err = cli.Txn(ctx).If(cmps...).Then(puts...).Else(reads...).Commit()
			return err
		})
		switch {
		case err == nil && resp.Succeeded:
			return first, resp.Header.Revision, nil
		case err == nil:
			// Another replica wrote first, or an uncertain write of ours
			// did. Back off a little when it keeps happening, so that no
			// replica starves.
			if conflicts++; conflicts > 2 {
				select {
				case <-time.After(rand.N(time.Duration(min(conflicts, 20)) * time.Millisecond)):
				case <-ctx.Done():
					return 0, 0, s.storageError(ctx, "append", ctx.Err())
				}
			}
			if len(uncertain) > 0 {
				st = nil // read again, with the checks
				continue
			}
			// The state came back in the same round trip.
			if st, _, err = p.state(resp.Responses, nil); err != nil {
				return 0, 0, err
			}
		case a.again(ctx, err):
			// It may or may not have committed: the next read says.
			if u := (uncertainWrite{first: first, lastIDRev: st.lastIDRev}); !slices.Contains(uncertain, u) {
				uncertain = append(uncertain, u)
			}
			st = nil
		default:
			return 0, 0, s.storageError(ctx, "append", err)
		}
	}
}

// uncertainWrite is an attempt of a batch's transaction whose answer was
// lost: the ids it gave the batch start at first, and it required
// meta/last-id's mod revision to be lastIDRev. Once stored, rev is its
// revision.
type uncertainWrite struct {
	first     uint64
	lastIDRev int64
	rev       int64
}

// checks read the first record of each uncertain write.
func (p *appendPlan) checks(s *Store, uncertain []uncertainWrite) []clientv3.Op {
	var ops []clientv3.Op
	for _, u := range uncertain {
		ops = append(ops, clientv3.OpGet(s.key(dirResults, p.batch[0].Result.Model, "\x00", idHex(u.first))))
	}
	return ops
}

// appendPlan is what a batch writes, whatever the state it meets.
type appendPlan struct {
	batch []storage.Accepted
	vals  [][]byte
	// latest are the batch's indices whose latest pointer is written: a
	// later result of the same model and cohort supersedes an earlier one.
	latest  []int
	tokens  []string // sorted
	lastUse map[string]time.Time
	// fingerprints are the batch's, sorted; claims says which result of
	// the batch claims each.
	fingerprints []string
	claims       map[string]int
}

func (s *Store) plan(batch []storage.Accepted) (*appendPlan, error) {
	p := &appendPlan{batch: batch, vals: make([][]byte, len(batch)), lastUse: map[string]time.Time{}, claims: map[string]int{}}
	winner := map[string]int{}
	var order []string
	for i := range batch {
		a := &batch[i]
		v, err := proto.Marshal(records.Result(a))
		if err != nil {
			return nil, err
		}
		p.vals[i] = v
		k := latestKey(a.Measure.Cohort, a.Result.Model)
		if _, ok := winner[k]; !ok {
			order = append(order, k)
		}
		winner[k] = i
		if id := a.Audit.TokenID; id != "" {
			if t, ok := p.lastUse[id]; !ok || a.Audit.ReceivedAt.After(t) {
				p.lastUse[id] = a.Audit.ReceivedAt
			}
		}
		if fp := a.Audit.Fingerprint; fp != "" {
			if j, ok := p.claims[fp]; ok {
				if m := batch[j].Result.Model; m != a.Result.Model {
					return nil, fmt.Errorf("result %d of the batch: fingerprint %s… already labels model %q: %w", i, short(fp), m, storage.ErrExists)
				}
				return nil, fmt.Errorf("result %d of the batch: fingerprint %s… is also the batch's result %d's: %w", i, short(fp), j, storage.ErrExists)
			}
			p.claims[fp] = i
		}
	}
	for _, k := range order {
		p.latest = append(p.latest, winner[k])
	}
	slices.Sort(p.latest)
	for id := range p.lastUse {
		p.tokens = append(p.tokens, id)
	}
	slices.Sort(p.tokens)
	for fp := range p.claims {
		p.fingerprints = append(p.fingerprints, fp)
	}
	slices.Sort(p.fingerprints)
	// At most: the counter, three keys per result, the latest pointer and
	// model-cohorts/ key of each model and cohort, the claims and the
	// tokens; the compares and reads are fewer.
	if n := 1 + 3*len(batch) + 2*len(p.latest) + len(p.fingerprints) + len(p.tokens); n > s.opt.MaxTxnOps {
		return nil, fmt.Errorf("append: %d results need up to %d operations in one transaction, etcd allows %d (--max-txn-ops): %w",
			len(batch), n, s.opt.MaxTxnOps, ErrBatchTooLarge)
	}
	return p, nil
}

// reads fetch the state a write depends on: the id counter, the tokens
// and the fingerprint claims, in that order.
func (p *appendPlan) reads(s *Store) []clientv3.Op {
	ops := []clientv3.Op{clientv3.OpGet(s.key(keyLastID))}
	for _, id := range p.tokens {
		ops = append(ops, clientv3.OpGet(s.key(dirTokens, id)))
	}
	for _, fp := range p.fingerprints {
		ops = append(ops, clientv3.OpGet(s.key(dirFingerprints, fp)))
	}
	return ops
}

// appendState is what the reads found, at one revision.
type appendState struct {
	lastID       uint64
	lastIDRev    int64 // mod revision; 0: no id handed out yet
	tokens       []*mvccpb.KeyValue
	fingerprints []*mvccpb.KeyValue
}

func (p *appendPlan) state(rs []*etcdserverpb.ResponseOp, uncertain []uncertainWrite) (*appendState, uncertainWrite, error) {
	kv := func(i int) *mvccpb.KeyValue {
		if kvs := rs[i].GetResponseRange().GetKvs(); len(kvs) > 0 {
			return kvs[0]
		}
		return nil
	}
	n := 1 + len(p.tokens) + len(p.fingerprints)
	if len(rs) != n+len(uncertain) {
		return nil, uncertainWrite{}, fmt.Errorf("append: %d responses to %d reads", len(rs), n+len(uncertain))
	}
	// A write whose answer was lost committed if its first record is
	// there, byte for byte.
	for i, u := range uncertain {
		if c := kv(n + i); c != nil && bytes.Equal(c.Value, p.vals[0]) {
			u.rev = c.ModRevision
			return nil, u, nil
		}
	}
	st := &appendState{}
	if c := kv(0); c != nil {
		n, err := strconv.ParseUint(string(c.Value), 10, 64)
		if err != nil {
			return nil, uncertainWrite{}, fmt.Errorf("append: %s: %w", keyLastID, err)
		}
		st.lastID, st.lastIDRev = n, c.ModRevision
	}
	for i := range p.tokens {
		st.tokens = append(st.tokens, kv(1+i))
	}
	for i := range p.fingerprints {
		st.fingerprints = append(st.fingerprints, kv(1+len(p.tokens)+i))
	}
	return st, uncertainWrite{}, nil
}

// write builds the transaction for a state: its guards and its puts.
func (p *appendPlan) write(s *Store, st *appendState) (uint64, []clientv3.Cmp, []clientv3.Op, error) {
	first := st.lastID + 1
	last := st.lastID + uint64(len(p.batch))
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.key(keyLastID)), "=", st.lastIDRev)}
	puts := []clientv3.Op{clientv3.OpPut(s.key(keyLastID), strconv.FormatUint(last, 10))}

	for i, fp := range p.fingerprints {
		k, at := s.key(dirFingerprints, fp), p.claims[fp]
		model := p.batch[at].Result.Model
		if kv := st.fingerprints[i]; kv != nil {
			owner, id, err := parseFingerprintClaim(kv.Value)
			switch {
			case err != nil:
				return 0, nil, nil, fmt.Errorf("append: fingerprint %s…: %w", short(fp), err)
			case owner != model:
				return 0, nil, nil, fmt.Errorf("append: result %d of the batch: fingerprint %s… already labels model %q: %w", at, short(fp), owner, storage.ErrExists)
			}
			return 0, nil, nil, fmt.Errorf("append: result %d of the batch: %w", at, &storage.DuplicateError{ResultID: id})
		}
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
		puts = append(puts, clientv3.OpPut(k, fingerprintClaim(model, first+uint64(at))))
	}
	for i := range p.batch {
		a, id := &p.batch[i], first+uint64(i)
		puts = append(puts,
			clientv3.OpPut(s.key(dirResults, a.Result.Model, "\x00", idHex(id)), string(p.vals[i])),
			clientv3.OpPut(s.key(dirIDs, idHex(id)), a.Result.Model),
			clientv3.OpPut(s.cohortKey(a.Result.Model, records.CohortKey(a.Measure.Cohort), id), ""))
	}
	for _, i := range p.latest {
		a := &p.batch[i]
		c := storage.CurrentOf(first+uint64(i), a)
		v, err := proto.Marshal(records.Latest(&c))
		if err != nil {
			return 0, nil, nil, err
		}
		// The model-cohorts/ key is put again by every batch with a result
		// of the model in the cohort: it is the same, and so needs no read
		// and no guard.
		puts = append(puts, clientv3.OpPut(s.key(dirLatest, latestKey(a.Measure.Cohort, a.Result.Model)), string(v)),
			clientv3.OpPut(s.modelCohortKey(a.Result.Model, records.CohortKey(a.Measure.Cohort)), ""))
	}
	for i, id := range p.tokens {
		k, kv := s.key(dirTokens, id), st.tokens[i]
		if kv == nil { // the admin token is not stored
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
			continue
		}
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", kv.ModRevision))
		var t storev1.Token
		if err := proto.Unmarshal(kv.Value, &t); err != nil {
			return 0, nil, nil, fmt.Errorf("append: token %s: %w", id, err)
		}
		// Replicas' clocks differ a little: keep the latest use.
		if at := p.lastUse[id]; at.After(pbtime.Time(t.LastUsedAt)) {
			t.LastUsedAt = pbtime.Timestamp(at)
		}
		v, err := proto.Marshal(&t)
		if err != nil {
			return 0, nil, nil, err
		}
		puts = append(puts, clientv3.OpPut(k, string(v)))
	}
	return first, cmps, puts, nil
}

func latestKey(c rating.Cohort, model string) string {
	return records.CohortKey(c) + "\x00" + model
}

// cohortKey is the cohorts/ key of a model's result id in a cohort.
func (s *Store) cohortKey(model, cohortKey string, id uint64) string {
	return s.key(dirCohorts, model, "\x00", cohortKey, "\x00", idHex(id))
}

// modelCohortKey is the model-cohorts/ key of a model's cohort.
func (s *Store) modelCohortKey(model, cohortKey string) string {
	return s.key(dirModelCohorts, model, "\x00", cohortKey)
}

// fingerprintClaim is a fingerprints/ value: the model, 0x00, and the
// result's id.
func fingerprintClaim(model string, id uint64) string { return model + "\x00" + idHex(id) }

func parseFingerprintClaim(v []byte) (string, uint64, error) {
	model, id, ok := strings.Cut(string(v), "\x00")
	n, err := strconv.ParseUint(id, 16, 64)
	if !ok || err != nil || len(id) != 16 {
		return "", 0, fmt.Errorf("a claim %q, not a model and an id", v)
	}
	return model, n, nil
}

// short is the start of a fingerprint, enough to recognise it in a message.
func short(fp string) string { return fp[:min(12, len(fp))] }
