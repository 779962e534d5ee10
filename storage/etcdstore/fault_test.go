package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/internal/testkit/etcdtest"
	"github.com/energylabel/energylabel/storage"
	etcdstore "github.com/energylabel/energylabel/storage/etcdstore"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// The tests of a member that hangs: a SIGSTOPped etcd keeps its
// connections open and answers nothing, which an embedded member cannot
// be made to do. A freezer stands in front of a member's client port and,
// frozen, stops passing bytes either way without closing anything; new
// connections are accepted and hang too, as the kernel accepts them for a
// stopped process. Raft between the members goes on.

// freezer is a TCP proxy to one address that can be frozen, both ways or
// only the member's answers.
type freezer struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	// thaw is non-nil while frozen, and closed by Thaw; answersOnly says
	// that the member's requests go through meanwhile.
	thaw        chan struct{}
	answersOnly bool
	conns       []net.Conn
	closed      chan struct{}
}

func newFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{l: l, target: target, closed: make(chan struct{})}
	go f.serve()
	t.Cleanup(f.close)
	return f
}

func (f *freezer) Addr() string { return f.l.Addr().String() }

// Freeze stops every byte, on every connection, old and new.
func (f *freezer) Freeze() { f.freeze(false) }

// FreezeAnswers stops the member's answers, and lets requests through:
// the member does what it is asked, and nobody hears that it did.
func (f *freezer) FreezeAnswers() { f.freeze(true) }

func (f *freezer) freeze(answersOnly bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.thaw == nil {
		f.thaw = make(chan struct{})
	}
	f.answersOnly = answersOnly
}

// Thaw lets them go again.
func (f *freezer) Thaw() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.thaw != nil {
		close(f.thaw)
		f.thaw = nil
	}
}

// wait waits while the freezer is frozen, for an answer or not.
func (f *freezer) wait(answer bool) {
	f.mu.Lock()
	thaw := f.thaw
	if f.answersOnly && !answer {
		thaw = nil
	}
	f.mu.Unlock()
	if thaw != nil {
		select {
		case <-thaw:
		case <-f.closed:
		}
	}
}

func (f *freezer) serve() {
	for {
		c, err := f.l.Accept()
		if err != nil {
			return
		}
		go f.handle(c)
	}
}

func (f *freezer) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
		c.Close()
		return false
	default:
	}
	f.conns = append(f.conns, c)
	return true
}

func (f *freezer) handle(c net.Conn) {
	if !f.track(c) {
		return
	}
	f.wait(false)
	u, err := net.Dial("tcp", f.target)
	if err != nil {
		c.Close()
		return
	}
	if !f.track(u) {
		c.Close()
		return
	}
	go f.pump(u, c, false)
	go f.pump(c, u, true)
}

// pump copies src to dst, holding what it read while frozen.
func (f *freezer) pump(dst, src net.Conn, answers bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f.wait(answers)
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) close() {
	f.mu.Lock()
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
	conns := f.conns
	f.mu.Unlock()
	f.l.Close()
	for _, c := range conns {
		c.Close()
	}
}

// frozenCluster is a three-member cluster with a freezer in front of each
// member's client port.
type frozenCluster struct {
	*etcdtest.Cluster
	freezers []*freezer
	// byAddr is each freezer's member index.
	byAddr map[string]int
}

func startFrozenCluster(t *testing.T) *frozenCluster {
	t.Helper()
	c := &frozenCluster{Cluster: etcdtest.Start(t, 3), byAddr: map[string]int{}}
	for i, ep := range c.Endpoints() {
		f := newFreezer(t, ep)
		c.freezers = append(c.freezers, f)
		c.byAddr[f.Addr()] = i
	}
	return c
}

// open opens a store that reaches the members through their freezers.
func (c *frozenCluster) open(t *testing.T, prefix string, opt etcdstore.Options) *etcdstore.Store {
	t.Helper()
	for _, f := range c.freezers {
		opt.Endpoints = append(opt.Endpoints, f.Addr())
	}
	return c.Open(t, prefix, opt)
}

// preferred is the index of the member s sends requests to first.
func (c *frozenCluster) preferred(t *testing.T, s *etcdstore.Store) int {
	t.Helper()
	i, ok := c.byAddr[etcdstore.PreferredEndpoint(s)]
	if !ok {
		t.Fatalf("the store prefers %s, not a freezer", etcdstore.PreferredEndpoint(s))
	}
	return i
}

func percentile(ds []time.Duration, p float64) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

// With one member of three hung, every submission succeeds, and none waits
// much longer than one attempt: the attempt on the hung member times out
// (AttemptTimeout, 1s by default), and it and every later request go to
// another member. The hung member is the one the store sends requests to,
// the worst there is.
func TestAHungMemberHoldsUpNoWrite(t *testing.T) {
	c := startFrozenCluster(t)
	s := c.open(t, newPrefix(t), etcdstore.Options{})
	ctx := t.Context()
	if _, err := s.PutToken(ctx, storage.Token{ID: "tok_1", Namespaces: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	const writers = 16
	type sample struct {
		start time.Time
		took  time.Duration
	}
	var (
		mu      sync.Mutex
		samples []sample
		failed  []error
	)
	stop := time.Now().Add(4 * time.Second)
	freeze := time.Now().Add(time.Second)
	hung := c.preferred(t, s)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				a := storagetest.Accepted(fmt.Sprintf("w/w%d-%d", w, i), 1)
				a.Audit.TokenID = "tok_1"
				a.Audit.Fingerprint = fmt.Sprintf("%032x%032x", w, i)
				start := time.Now()
				_, _, err := s.Append(ctx, []storage.Accepted{a})
				took := time.Since(start)
				mu.Lock()
				samples = append(samples, sample{start, took})
				if err != nil {
					failed = append(failed, err)
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Until(freeze))
	frozenAt := time.Now()
	c.freezers[hung].Freeze()
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d of %d submissions failed, the first: %v", len(failed), len(samples), failed[0])
	}
	// Those in flight at the freeze, or begun after it.
	var before, whileHung []time.Duration
	for _, x := range samples {
		if x.start.Add(x.took).Before(frozenAt) {
			before = append(before, x.took)
		} else {
			whileHung = append(whileHung, x.took)
		}
	}
	p50, p99, worst := percentile(whileHung, 0.5), percentile(whileHung, 0.99), slices.Max(whileHung)
	t.Logf("member m%d hung for %s: %d submissions, all stored; from the freeze on, %d: p50 %s, p99 %s, max %s (before it, %d: p99 %s)",
		hung, time.Since(frozenAt).Round(time.Millisecond), len(samples), len(whileHung), p50.Round(time.Millisecond), p99.Round(time.Millisecond),
		worst.Round(time.Millisecond), len(before), percentile(before, 0.99).Round(time.Millisecond))
	if p99 >= 2*time.Second {
		t.Errorf("p99 %s with a member hung, want well under 2s", p99)
	}
	if worst >= 3*time.Second {
		t.Errorf("a submission took %s with a member hung, want about one attempt (1s)", worst)
	}
	if got := etcdstore.PreferredEndpoint(s); got == c.freezers[hung].Addr() {
		t.Errorf("the store still prefers the hung member")
	}
}

// When a member does what it is asked but its answers are lost, as behind
// a one-way partition, writes in flight commit unheard of. Each is tried
// again on another member, which finds it stored, by its first record:
// every Append succeeds, each once, and no id is handed out twice or
// skipped. Writers of their own keep a transaction in flight at every
// moment, so that answers are lost whenever the freeze comes.
func TestAWriteWhoseAnswerWasLostIsStoredOnce(t *testing.T) {
	c := startFrozenCluster(t)
	prefix := newPrefix(t)
	s := c.open(t, prefix, etcdstore.Options{})
	ctx := t.Context()
	const writers = 8
	stop := time.Now().Add(3 * time.Second)
	var mu sync.Mutex
	ids := map[uint64]string{}
	var slow int
	hung := c.preferred(t, s)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				a := storagetest.Accepted(fmt.Sprintf("w/w%d-%d", w, i), 1)
				batch := []storage.Accepted{a}
				if i%2 == 1 { // with a fingerprint, which a second commit would find claimed
					batch[0].Audit.Fingerprint = fmt.Sprintf("%032x%032x", w, i)
				}
				start := time.Now()
				id, _, err := s.Append(ctx, batch)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				if time.Since(start) >= time.Second {
					slow++
				}
				if m, ok := ids[id]; ok {
					t.Errorf("id %d handed out to %s and %s", id, m, a.Result.Model)
				}
				ids[id] = a.Result.Model
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Second)
	c.freezers[hung].FreezeAnswers()
	wg.Wait()
	if t.Failed() {
		return
	}
	c.freezers[hung].Thaw()
	// Every result once, under the id its Append returned, and nothing else.
	stored := map[uint64]string{}
	err := s.EachRecord(ctx, func(r storage.Record) error {
		h, err := s.History(ctx, storage.HistoryQuery{Model: ids[r.ID], Limit: 10})
		if err != nil {
			return err
		}
		if len(h) != 1 || h[0].ID != r.ID {
			return fmt.Errorf("result %d: %s's history is %+v, want it alone", r.ID, ids[r.ID], h)
		}
		stored[r.ID] = h[0].Model
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(ids) {
		t.Errorf("%d results stored, %d Appends succeeded", len(stored), len(ids))
	}
	for id, m := range ids {
		if stored[id] != m {
			t.Errorf("result %d is %q, its Append stored %q", id, stored[id], m)
		}
	}
	for id := uint64(1); id <= uint64(len(ids)); id++ {
		if _, ok := ids[id]; !ok {
			t.Errorf("id %d was skipped", id)
		}
	}
	t.Logf("member m%d's answers lost: %d Appends, each stored once; %d of them waited an attempt (1s) or more", hung, len(ids), slow)
	if slow == 0 {
		t.Error("no Append lost its answer: the test tested nothing")
	}
}

// A watch whose member hangs resumes on another within WatchTimeout
// (1.5s) or a failed linearizable read (AttemptTimeout), from the revision
// after the last it handed on: every write, made through other members
// meanwhile, arrives once, in order. Revision, a linearizable read, is as
// fresh as the writes, and does not wait much longer than an attempt.
func TestAWatchLeavesAHungMember(t *testing.T) {
	c := startFrozenCluster(t)
	prefix := newPrefix(t)
	r := c.open(t, prefix, etcdstore.Options{})
	w := c.Open(t, prefix, etcdstore.Options{}) // straight to the members
	ctx := t.Context()
	rev0, err := r.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hung := c.preferred(t, r)
	ch := r.Watch(ctx, rev0, storage.WatchFilter{})
	select { // the watch is on its member
	case resp := <-ch:
		if resp.Err != nil || len(resp.Events) > 0 {
			t.Fatalf("the watch's first response: %+v, want progress", resp)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no progress from the watch within 5s")
	}

	const writes = 40
	// The watch's events, as they arrive.
	type arrival struct {
		storage.Event
		at time.Time
	}
	arrived := make(chan arrival, writes+1)
	ended := make(chan error, 1)
	go func() {
		n := 0
		for resp := range ch {
			if resp.Err != nil {
				ended <- resp.Err
				return
			}
			for _, e := range resp.Events {
				if n++; n > writes+1 {
					return
				}
				arrived <- arrival{e, time.Now()}
			}
		}
		ended <- errors.New("the watch's channel closed")
	}()

	type write struct {
		id  uint64
		rev int64
		at  time.Time
	}
	var stored []write
	var frozenAt time.Time
	for i := range writes {
		if i == 10 {
			c.freezers[hung].Freeze()
			frozenAt = time.Now()
		}
		id, rev := appendOne(t, w, storagetest.Accepted(fmt.Sprintf("w/m%d", i), 1))
		stored = append(stored, write{id, rev, time.Now()})
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	now, err := r.Revision(ctx)
	if took := time.Since(start); err != nil || now < stored[writes-1].rev || took > 2*time.Second {
		t.Errorf("Revision() with the member hung = %d, %v after %s; want at least %d, within about an attempt", now, err, took, stored[writes-1].rev)
	}

	var got []arrival
	deadline := time.After(10 * time.Second)
	for len(got) < writes {
		select {
		case a := <-arrived:
			got = append(got, a)
		case err := <-ended:
			t.Fatalf("the watch ended after %d events: %v", len(got), err)
		case <-deadline:
			t.Fatalf("%d events of %d within 10s", len(got), writes)
		}
	}
	for i, e := range got {
		if e.Kind != storage.ResultAdded || e.Result.ID != stored[i].id || e.Revision != stored[i].rev {
			t.Fatalf("event %d: %+v, want result %d at revision %d, every write once, in order", i, e.Event, stored[i].id, stored[i].rev)
		}
	}
	select {
	case a := <-arrived:
		t.Errorf("an event more: %+v", a.Event)
	case err := <-ended:
		t.Errorf("the watch ended: %v", err)
	case <-time.After(3 * storage.ProgressInterval):
	}
	firstAfter := got[10].at
	t.Logf("member m%d hung: the first write after it reached the watch %s after it was stored (%s after the freeze); %d events, each once, in order",
		hung, firstAfter.Sub(stored[10].at).Round(time.Millisecond), firstAfter.Sub(frozenAt).Round(time.Millisecond), len(got))
	if lag := firstAfter.Sub(frozenAt); lag > 4*time.Second {
		t.Errorf("the watch resumed %s after its member hung, want within about WatchTimeout (1.5s)", lag)
	}
}

// Without a quorum (two members of three hung, and stopped) every request
// fails with ErrUnavailable within RequestTimeout, however many Appends
// wait behind the transaction that has been trying since the quorum was
// lost: each waits for its own deadline, not the transaction's.
func TestWithoutQuorumRequestsFailWithinRequestTimeout(t *testing.T) {
	c := startFrozenCluster(t)
	const timeout = 2 * time.Second
	const slack = 750 * time.Millisecond // two busy cores
	s := c.open(t, newPrefix(t), etcdstore.Options{RequestTimeout: timeout})
	ctx := t.Context()
	id, _ := appendOne(t, s, storagetest.Accepted("w/before", 1))
	hung := c.preferred(t, s)
	other := (hung + 1) % 3
	for _, i := range []int{hung, other} {
		c.freezers[i].Freeze()
		c.Members[i].Stop()
	}

	type outcome struct {
		name string
		took time.Duration
		err  error
	}
	var mu sync.Mutex
	var outcomes []outcome
	var wg sync.WaitGroup
	call := func(name string, f func() error) {
		wg.Go(func() {
			start := time.Now()
			err := f()
			mu.Lock()
			outcomes = append(outcomes, outcome{name, time.Since(start), err})
			mu.Unlock()
		})
	}
	// Appends arriving one after another, each queued behind the last
	// one's transaction.
	for i := range 8 {
		call(fmt.Sprintf("Append %d", i), func() error {
			_, _, err := s.Append(ctx, []storage.Accepted{storagetest.Accepted(fmt.Sprintf("w/during-%d", i), 1)})
			return err
		})
		time.Sleep(150 * time.Millisecond)
	}
	call("Revision", func() error { _, err := s.Revision(ctx); return err })
	call("History", func() error {
		_, err := s.History(ctx, storage.HistoryQuery{Model: "w/before", Limit: 10})
		return err
	})
	call("filtered History", func() error {
		_, err := s.History(ctx, storage.HistoryQuery{Model: "w/before", Task: "text-classification", Limit: 10})
		return err
	})
	call("Record", func() error { _, _, err := s.Record(ctx, id); return err })
	call("Snapshot", func() error { _, err := s.Snapshot(ctx); return err })
	call("Tokens", func() error { _, err := s.Tokens(ctx); return err })
	call("PutToken", func() error { _, err := s.PutToken(ctx, storage.Token{ID: "tok_2"}); return err })
	wg.Wait()
	var worst time.Duration
	for _, o := range outcomes {
		worst = max(worst, o.took)
		if !errors.Is(o.err, storage.ErrUnavailable) || errdefs.KindOf(o.err) != errdefs.Unavailable {
			t.Errorf("%s without a quorum: %v, want ErrUnavailable", o.name, o.err)
		}
		if o.took > timeout+slack {
			t.Errorf("%s failed after %s, want within the %s RequestTimeout", o.name, o.took.Round(time.Millisecond), timeout)
		}
	}
	t.Logf("without a quorum, %d requests (8 Appends queued 150ms apart) failed with ErrUnavailable, the slowest after %s (RequestTimeout %s)",
		len(outcomes), worst.Round(time.Millisecond), timeout)

	// A caller whose own deadline comes first gets its context's error.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := s.History(short, storage.HistoryQuery{Model: "w/before", Limit: 10}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("History with the caller's 300ms deadline: %v, want it", err)
	}
}
