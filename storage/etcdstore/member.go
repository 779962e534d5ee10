package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/storage"
)

// The keepalive of every member's connection: a ping after keepAliveTime
// without a frame from the member, and the connection given up when the
// ping goes keepAliveTimeout unanswered. grpc-go pings no more often than
// every 10s, and etcd refuses pings more frequent than its
// --grpc-keepalive-min-time (5s by default); a member that hangs is found
// by the attempts' timeout long before.
const (
	keepAliveTime    = 10 * time.Second
	keepAliveTimeout = 3 * time.Second
)

// redial is how long a member whose client could not be made (with etcd's
// auth on, its token could not be had) is passed over before it is tried
// again.
const redial = time.Second

// member is one etcd member, reached through a client of its own (its
// endpoint only): requests go to one member at a time, and one that
// leaves an attempt unanswered is left for the next. A client balancing
// over every endpoint would go on sending requests to a member that
// hangs, whose connection looks healthy.
type member struct {
	ep  string
	cfg clientv3.Config

	mu  sync.Mutex
	cli *clientv3.Client
	// dialing is closed when the dial under way ends; nil when none is.
	dialing chan struct{}
	err     error     // the last dial's failure
	failed  time.Time // when it failed
	closed  bool
}

// dial makes the member's client in the background, unless it has one
// or is making it. Called with m.mu held.
func (m *member) dial() {
	if m.cli != nil || m.dialing != nil || m.closed {
		return
	}
	d := make(chan struct{})
	m.dialing = d
	go func() {
		defer close(d)
		cli, err := clientv3.New(m.cfg)
		m.mu.Lock()
		defer m.mu.Unlock()
		m.dialing = nil
		if err == nil && m.closed {
			cli.Close()
			cli, err = nil, storage.ErrClosed
		}
		m.cli, m.err = cli, nil
		if err != nil {
			m.err, m.failed = fmt.Errorf("etcd %s: %w", m.ep, err), time.Now()
		}
	}()
}

// client is the member's client, once it is made; within ctx.
func (m *member) client(ctx context.Context) (*clientv3.Client, error) {
	m.mu.Lock()
	switch {
	case m.cli != nil:
		defer m.mu.Unlock()
		return m.cli, nil
	case m.closed:
		m.mu.Unlock()
		return nil, storage.ErrClosed
	case m.dialing == nil && m.err != nil && time.Since(m.failed) < redial:
		defer m.mu.Unlock()
		return nil, m.err
	}
	m.dial()
	d := m.dialing
	m.mu.Unlock()
	select {
	case <-d:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cli != nil {
		return m.cli, nil
	}
	return nil, m.err
}

// down reports whether the member is known not to answer now: its
// connection failed, or its client could not be made a moment ago. A
// member that hangs is not known to be down: its connection looks healthy.
func (m *member) down() bool {
	m.mu.Lock()
	cli := m.cli
	failed := cli == nil && m.dialing == nil && m.err != nil && time.Since(m.failed) < redial
	m.mu.Unlock()
	if cli == nil {
		return failed
	}
	st := cli.ActiveConnection().GetState()
	return st == connectivity.TransientFailure || st == connectivity.Shutdown
}

func (m *member) close() error {
	m.mu.Lock()
	cli := m.cli
	m.closed, m.cli = true, nil
	m.mu.Unlock()
	if cli == nil {
		return nil
	}
	err := cli.Close()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// attemptError is an attempt that a member left unanswered for
// AttemptTimeout: it is tried again on another.
type attemptError struct {
	ep      string
	timeout time.Duration
}

func (e *attemptError) Error() string {
	return fmt.Sprintf("etcd %s did not answer within %s", e.ep, e.timeout)
}

// Unwrap makes an attempt that was not tried again ErrUnavailable.
func (e *attemptError) Unwrap() error { return storage.ErrUnavailable }

// errAttemptTimeout is the cause of an attempt's context that timed out.
var errAttemptTimeout = errors.New("the attempt timed out")

// attempts walk the members for one request: the first goes to the
// member that last answered, each one after a failure to the next.
type attempts struct {
	s     *Store
	next  int // the member the next attempt goes to, unless it is down
	last  int // the member the last attempt went to
	tried int
	pause time.Duration
}

func (s *Store) attempts() *attempts {
	i := s.preferred()
	return &attempts{s: s, next: i, last: i, pause: 20 * time.Millisecond}
}

// preferred is the member requests go to first: the one that last
// answered, as far as the store knows.
func (s *Store) preferred() int { return int(s.cur.Load()) }

// failed moves requests off member i, to the next, unless they moved
// off it already.
func (s *Store) failed(i int) {
	if n := len(s.members); n > 1 {
		s.cur.CompareAndSwap(int32(i), int32((i+1)%n))
	}
}

// pick is the member of the next attempt: a.next, or, when that one is
// known to be down, the next that is not.
func (a *attempts) pick() int {
	n := len(a.s.members)
	for k := range n {
		if i := (a.next + k) % n; !a.s.members[i].down() {
			if k > 0 {
				a.s.failed(a.next)
			}
			return i
		}
	}
	return a.next
}

// run makes one attempt of req on the next member, bounded by
// AttemptTimeout within ctx.
func (a *attempts) run(ctx context.Context, req func(context.Context, *clientv3.Client) error) error {
	a.last = a.pick()
	m := a.s.members[a.last]
	actx, cancel := context.WithTimeoutCause(ctx, a.s.opt.AttemptTimeout, errAttemptTimeout)
	defer cancel()
	cli, err := m.client(actx)
	if err == nil {
		err = req(actx, cli)
	}
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), errAttemptTimeout) {
		return &attemptError{ep: m.ep, timeout: a.s.opt.AttemptTimeout}
	}
	return err
}

// again reports whether a request whose attempt failed with err may be
// tried again, within ctx; if so, the next attempt goes to the next
// member, and a round of members that all failed at once is followed by a
// pause, longer each time: an election takes a moment.
func (a *attempts) again(ctx context.Context, err error) bool {
	if ctx.Err() != nil || a.s.ctx.Err() != nil || !retryable(err) {
		return false
	}
	a.s.failed(a.last)
	a.next = (a.last + 1) % len(a.s.members)
	a.tried++
	var timedOut *attemptError
	if a.tried%len(a.s.members) == 0 && !errors.As(err, &timedOut) {
		select {
		case <-time.After(a.pause):
		case <-ctx.Done():
			return false
		}
		a.pause = min(2*a.pause, 500*time.Millisecond)
	}
	return true
}

// retry runs req until it succeeds, fails for a reason another attempt
// would not change, or ctx ends; see attempts.
func (s *Store) retry(ctx context.Context, a *attempts, op string, req func(context.Context, *clientv3.Client) error) error {
	for {
		err := a.run(ctx, req)
		if err == nil {
			return nil
		}
		if !a.again(ctx, err) {
			return s.storageError(ctx, op, err)
		}
	}
}

// do runs a request that may be repeated, within RequestTimeout: each
// attempt within AttemptTimeout, each on another member than the last
// attempt that failed. An election takes a moment, and a member that is
// down or hangs leaves others to answer.
func (s *Store) do(ctx context.Context, op string, req func(context.Context, *clientv3.Client) error) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	return s.retry(ctx, s.attempts(), op, req)
}

// transient reports whether etcd failed a request for want of a leader or
// of a member to answer it: another try, a moment later, may succeed.
func transient(err error) bool {
	var etcdErr rpctypes.EtcdError
	return errors.As(err, &etcdErr) && etcdErr.Code() == codes.Unavailable || status.Code(err) == codes.Unavailable
}

// retryable reports whether an attempt that failed with err may succeed
// on another member: it found no leader or no member, timed out, or the
// member was too far behind to take it.
func retryable(err error) bool {
	var timedOut *attemptError
	switch code := status.Code(err); {
	case errors.As(err, &timedOut), transient(err):
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		code == codes.DeadlineExceeded, code == codes.Canceled:
		// The member's answer, or the connection's end: the caller's
		// context, which again checks, is alive.
		return true
	}
	return errors.Is(err, rpctypes.ErrTooManyRequests)
}

// fromEtcd reports whether err came from the etcd client or its
// connection, rather than from what the store made of an answer.
func fromEtcd(err error) bool {
	var etcdErr rpctypes.EtcdError
	if errors.As(err, &etcdErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	_, ok := status.FromError(err)
	return ok
}
