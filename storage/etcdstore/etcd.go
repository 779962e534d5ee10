// Package etcdstore is the storage backend on an etcd cluster (etcd 3.4 or
// later), shared by stateless energylabeld replicas: etcd's revisions are
// the seam's revisions and etcd's watch carries its events. It is the only
// package that imports the etcd client.
//
// Key layout (layout version 3), under a prefix, "/energylabel/" by
// default; values are the energylabel.store.v1 messages of the bbolt file:
//
//	meta/version                        -> "3": the layout version
//	meta/last-id                        -> the highest result id handed out, in decimal
//	results/<model> 0x00 <id>           -> Result (with its Audit, Measure and Label), never rewritten
//	ids/<id>                            -> the model of result <id>
//	cohorts/<model> 0x00 <cohort key> 0x00 <id>
//	                                    -> "": the model's results by cohort, in id order
//	model-cohorts/<model> 0x00 <cohort key>
//	                                    -> "": each cohort the model has results in
//	latest/<cohort key> 0x00 <model>    -> Latest: the model's current result in the cohort
//	fingerprints/<fingerprint, hex>     -> <model> 0x00 <id>: the model a measurement labels, and its result
//	tokens/<token id>                   -> Token (SHA-256 of the secret only, and its last use)
//	accelerators/<name>                 -> Accelerator: an operator's addition to the registry
//	datasets/<name>                     -> Dataset: likewise
//	releases/<name>                     -> Release (every cohort's star bounds)
//	verifications/<result id>/<count>   -> Verification (a surveyor's measurement and the state it left),
//	                                       under storage.VerificationName: the second of a name is ErrExists
//
// An id is 16 lower-case hex digits, so that results/<model> 0x00 lists a
// model's history in id order, and cohorts/<model> 0x00 <cohort key> 0x00
// its history in a cohort. A cohort key is task, dataset, size class,
// hardware and basis joined by 0x1f, as in the bbolt file; names are
// printable ASCII, so neither a model id nor a cohort key holds 0x00. A
// result's cohorts/ key files it under the cohort history reads it in
// (records.CohortOf); model-cohorts/ lists a model's cohorts in one range
// read, so that history filtered by task, dataset or hardware reads the
// cohorts that match and merges their id-ordered keys, reading about a
// page of keys and only the results it returns (see historyByCohort).
// A result's create revision is the revision it was accepted at;
// registries, releases and verifications list in the order of theirs,
// and a verification's is its revision. Keys under payloads/,
// where earlier versions claimed clients' payload hashes, claim nothing
// and are ignored.
//
// Layout version 2 differs in one thing: it has no cohorts/ or
// model-cohorts/. Open upgrades such a prefix (see upgradeCohorts): it
// writes both for every stored result, a transaction's worth at a time,
// then meta/version becomes "3", once no result was stored meanwhile that
// it did not index. Layout version 1 differs from 2 in one thing more:
// latest/ records written before sources were kept name none, and would
// read as declared; Open upgrades it to 2 first, each of them taking its
// result's source (published when the admin submitted it). Replicas that
// open an older layout at once share the work; older replicas should be
// stopped first, as what they write from then on names no source, claims
// no fingerprint, or is missing from filtered history.
//
// There is no events key: etcd's own history is the event log. Every write
// is one transaction, so one revision, and Watch turns the puts of a
// revision under results/, tokens/, accelerators/, datasets/, releases/
// and verifications/ into events. A token put in a revision that also stores results is the
// token's last use, not an event. How far back a watch can resume is up to
// etcd's compaction (--auto-compaction-*).
//
// Append is one transaction guarded by compares: meta/last-id's mod
// revision, so that an id is handed out once whichever replica writes; each
// stored token's, whose last use it records; and each new fingerprint's
// absence. On a conflict the transaction's else branch reads the state
// again, in the same round trip, and Append retries. A transaction holds at
// most etcd's --max-txn-ops operations (128 by default), which bounds a
// batch: see MaxBatch. Batches that wait for one of this replica's
// transactions share the next; each waits no longer than its own
// RequestTimeout, whatever the transaction before it meets.
//
// Members and requests. The store keeps a client, so a connection, per
// endpoint (per member), rather than one client that balances over all:
// a member that hangs (stopped, or cut off with its connection open)
// still looks healthy to a balancer, which goes on sending it requests.
// Requests go to one member, the one that last answered (each replica
// starts at one picked at random); an attempt that member leaves
// unanswered for Options.AttemptTimeout (1s by default), or fails for
// want of a leader or of a connection, is tried again on the next member,
// which requests then go to. A member whose connection is known to have
// failed is passed over. Every request, however many attempts it takes,
// is bounded by Options.RequestTimeout (5s by default): a cluster
// without quorum, or out of reach, fails it with storage.ErrUnavailable,
// as it does whatever else etcd or the connection fails with (no leader,
// a timeout inside etcd, too many requests, a refused token), unless the
// error says more (storage.ErrFull, ErrBatchTooLarge,
// storage.ErrCompacted) or the caller's own context ended, when it is
// that context's error. What may be repeated is repeated: reads, and
// writes whose guards or content make a second try harmless (Append's
// and Import's transactions, whose first record shows whether an attempt
// whose answer was lost committed; a name's creation, whose value shows
// whose it was; a token's put). Each connection also pings its member
// after 10s without a frame and gives it up after 3s more without an
// answer (keepalive: grpc-go pings no more often than every 10s, and etcd
// refuses pings more frequent than its --grpc-keepalive-min-time, 5s by
// default), which ends a watch stream or a snapshot on a member that
// hangs; the attempts' timeout finds one far sooner.
//
// A caught-up watch asks etcd for progress (RequestProgress) every
// storage.ProgressInterval, on a gRPC stream of its own, and passes it on:
// it is how a replica knows how stale its reads may be. A watch follows
// one member at a time, and resumes on the next, from the revision after
// the last it handed on whole, when its member hears nothing for
// Options.WatchTimeout (3 × storage.ProgressInterval by default), loses
// its leader, or fails a linearizable read (see Watch). Revision is a
// linearizable read, as fresh as a write.
package etcdstore

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/logutil"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/energylabel/energylabel/storage"
)

// layoutVersion is bumped with every change of the key layout. Version 1
// kept latest/ records without their result's source, which version 2's
// name; version 2 had no cohorts/ or model-cohorts/: Open upgrades a
// prefix in either (see upgrade).
const layoutVersion = 3

// DefaultPrefix is the key prefix when Options.Prefix is empty.
const DefaultPrefix = "/energylabel/"

// Keys under the prefix; see the package comment.
const (
	keyVersion = "meta/version"
	keyLastID  = "meta/last-id"
	dirResults = "results/"
	dirIDs     = "ids/"
	// dirCohorts indexes each model's results by cohort, and
	// dirModelCohorts lists each model's cohorts.
	dirCohorts      = "cohorts/"
	dirModelCohorts = "model-cohorts/"
	dirLatest       = "latest/"
	dirFingerprints = "fingerprints/"
	dirTokens       = "tokens/"
	dirAccelerators = "accelerators/"
	dirDatasets     = "datasets/"
	dirReleases     = "releases/"
	// dirVerifications holds surveyors' measurements under
	// storage.VerificationName.
	dirVerifications = "verifications/"
)

// ErrBatchTooLarge means a batch needs more operations than one etcd
// transaction may hold; split it into batches of at most MaxBatch.
var ErrBatchTooLarge = errors.New("batch too large for one etcd transaction")

// Options say how to reach etcd. Endpoints is required.
type Options struct {
	// Endpoints are the cluster's client URLs or host:port pairs, one per
	// member: the store keeps a connection to each.
	Endpoints []string
	// Prefix is put before every key; "" means DefaultPrefix. Replicas of
	// one registry use the same prefix; a prefix should end in "/".
	Prefix string
	// CAFile verifies the servers' certificates; CertFile and KeyFile are
	// the client's certificate, for etcd's --client-cert-auth. Any of them
	// turns TLS on.
	CAFile, CertFile, KeyFile string
	// Username and Password authenticate to etcd when its auth is on.
	Username, Password string
	// DialTimeout bounds connecting to a member and Open's first request;
	// 0 means 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds each request after Open, however many attempts
	// it takes, and however long an Append waited for this replica's
	// transaction; 0 means 5s. A cluster without quorum keeps a request
	// waiting, and one that waited this long fails with
	// storage.ErrUnavailable.
	RequestTimeout time.Duration
	// AttemptTimeout bounds each attempt of a request on one member: one
	// that member leaves unanswered this long is tried again on another,
	// within RequestTimeout. 0 means a quarter of RequestTimeout, at most
	// 1s.
	AttemptTimeout time.Duration
	// WatchTimeout is how long a watch may hear nothing from its member,
	// neither an event nor a progress notice, before it resumes on
	// another; 0 means 3 × storage.ProgressInterval (1.5s).
	WatchTimeout time.Duration
	// WatchBuffer is how many writes a watcher may fall behind live ones by
	// before it is cut off with ErrCompacted; 0 means 1024.
	WatchBuffer int
	// MaxTxnOps is the etcd servers' --max-txn-ops; 0 means its default, 128.
	MaxTxnOps int
	// BackupDir holds Backup's temporary copy; "" means os.TempDir().
	BackupDir string
}

// Store is the etcd backend.
type Store struct {
	// members are one per endpoint, each with a client of its own; cur is
	// the index of the one requests go to first (see attempts).
	members []*member
	cur     atomic.Int32
	// ctx ends when the store is closed.
	ctx    context.Context
	cancel context.CancelFunc
	prefix string
	opt    Options
	// appending lets one transaction of this replica's appends run at a
	// time: others would only conflict with it on meta/last-id. Batches
	// pending meanwhile share the next.
	appending chan struct{}
	mu        sync.Mutex
	pending   []*appendReq
	size      atomic.Int64
	// noAnswer ends a request that waited RequestTimeout.
	noAnswer error
}

// A Store is a Backend whose batches are bounded, and both the source and
// the target of a move (see move.go).
var (
	_ storage.Backend      = (*Store)(nil)
	_ storage.BatchLimiter = (*Store)(nil)
	_ storage.Exporter     = (*Store)(nil)
	_ storage.Importer     = (*Store)(nil)
)

// Open connects to etcd and checks, or on an empty prefix records, the
// layout version.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if len(opt.Endpoints) == 0 {
		return nil, errors.New("etcd: no endpoints")
	}
	opt.Prefix = cmp.Or(opt.Prefix, DefaultPrefix)
	opt.DialTimeout = cmp.Or(opt.DialTimeout, 5*time.Second)
	opt.RequestTimeout = cmp.Or(opt.RequestTimeout, 5*time.Second)
	opt.AttemptTimeout = cmp.Or(opt.AttemptTimeout, min(opt.RequestTimeout/4, time.Second))
	opt.WatchTimeout = cmp.Or(opt.WatchTimeout, 3*storage.ProgressInterval)
	opt.WatchBuffer = cmp.Or(opt.WatchBuffer, 1024)
	opt.MaxTxnOps = cmp.Or(opt.MaxTxnOps, 128)
	tlsConfig, err := opt.tlsConfig()
	if err != nil {
		return nil, err
	}
	// The client logs each connection and snapshot at info level, and
	// each failed attempt, which the store tries again, as a warning.
	lg, err := logutil.CreateDefaultZapLogger(zapcore.ErrorLevel)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Store{ctx: sctx, cancel: cancel, prefix: opt.Prefix, opt: opt, appending: make(chan struct{}, 1),
		noAnswer: fmt.Errorf("etcd %v did not answer within %s: %w", opt.Endpoints, opt.RequestTimeout, storage.ErrUnavailable)}
	for _, ep := range opt.Endpoints {
		s.members = append(s.members, &member{ep: ep, cfg: clientv3.Config{
			Endpoints: []string{ep}, DialTimeout: opt.DialTimeout, TLS: tlsConfig,
			DialKeepAliveTime: keepAliveTime, DialKeepAliveTimeout: keepAliveTimeout,
			Username: opt.Username, Password: opt.Password, Logger: lg, Context: sctx,
			// At most one more try on the same member (after refreshing an
			// expired auth token, or a read the client may repeat): the
			// store tries again itself, on another member.
			MaxUnaryRetries: 2,
			DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
				Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
				MinConnectTimeout: opt.DialTimeout,
			})},
		}})
	}
	// Spread replicas over the members: each starts at one of them.
	s.cur.Store(int32(rand.N(len(s.members))))
	for _, m := range s.members {
		m.mu.Lock()
		m.dial()
		m.mu.Unlock()
	}
	if err := s.initialize(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("etcd %v, prefix %q: %w", opt.Endpoints, opt.Prefix, err)
	}
	return s, nil
}

func (o *Options) tlsConfig() (*tls.Config, error) {
	if o.CAFile == "" && o.CertFile == "" && o.KeyFile == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd CA %s: no PEM certificate", o.CAFile)
		}
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("etcd: a client certificate needs both a cert and a key file")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// initialize records the layout version on an empty prefix, or checks
// it, upgrading layout 1.
func (s *Store) initialize(ctx context.Context) error {
	dialCtx, cancel := context.WithTimeoutCause(ctx, s.opt.DialTimeout,
		fmt.Errorf("etcd %v did not answer within %s: %w", s.opt.Endpoints, s.opt.DialTimeout, storage.ErrUnavailable))
	defer cancel()
	k := s.key(keyVersion)
	var resp *clientv3.TxnResponse
	err := s.retry(dialCtx, s.attempts(), "open", func(ctx context.Context, cli *clientv3.Client) error {
		var err error
		resp, err = cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
			Then(clientv3.OpPut(k, strconv.Itoa(layoutVersion))).
			Else(clientv3.OpGet(k)).Commit()
		return err
	})
	if err != nil {
		return err
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	v := "?"
	if len(kvs) == 1 {
		v = string(kvs[0].Value)
	}
	switch v {
	case strconv.Itoa(layoutVersion):
		return nil
	case "1", "2":
		return s.upgrade(ctx, v)
	}
	return fmt.Errorf("layout version %s, this binary knows %d", v, layoutVersion)
}

// Prefix is the prefix of every key the store uses.
func (s *Store) Prefix() string { return s.prefix }

// Close ends every watch and closes the connections.
func (s *Store) Close() error {
	s.cancel()
	var errs []error
	for _, m := range s.members {
		errs = append(errs, m.close())
	}
	return errors.Join(errs...)
}

// Revision is the cluster's current revision, that of the last write, ours
// or not, from a linearizable read: etcd answers it once the member that
// answers has applied everything committed before the request was sent
// (a read index confirmed by the leader with a quorum). So the revision
// returned was the newest at some moment between the call and its return:
// a caller that notes the time before it calls, and has applied every
// revision up to the one returned, was current at that time. The read is
// of a count only, of one key: one round trip to a member, and one of the
// leader's heartbeats. It is tried as every request is (see the package
// comment), on another member when one leaves an attempt unanswered.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if err := s.closed("revision"); err != nil {
		return 0, err
	}
	var rev int64
	err := s.do(ctx, "revision", func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.Get(ctx, s.key(keyVersion), clientv3.WithCountOnly())
		if err == nil {
			rev = resp.Header.Revision
		}
		return err
	})
	return rev, err
}

// Size is the database size of the member requests go to first, which
// holds the whole cluster's keyspace, every prefix's; the last size known
// while it does not answer within AttemptTimeout.
func (s *Store) Size() int64 {
	ctx, cancel := context.WithTimeout(s.ctx, s.opt.AttemptTimeout)
	defer cancel()
	m := s.members[s.preferred()]
	if cli, err := m.client(ctx); err == nil {
		if st, err := cli.Status(ctx, m.ep); err == nil {
			s.size.Store(st.DbSize)
		}
	}
	return s.size.Load()
}

// MaxBatch is the largest batch Append always takes in one transaction,
// when its results use one token: each result takes up to six operations
// (its record, its id, its cohorts/ key, its fingerprint claim, and, when
// it is the batch's only result of its model in its cohort, the latest
// pointer and the model-cohorts/ key), and the id counter and the token one
// each: (128 - 2) / 6 = 21 with etcd's default --max-txn-ops. A batch
// of one model in one cohort takes four per result and two in all, and
// holds (128 - 4) / 4 = 31.
func (s *Store) MaxBatch() int { return (s.opt.MaxTxnOps - 2) / opsPerResult }

// opsPerResult is the most operations one result of a batch takes: see
// MaxBatch.
const opsPerResult = 6

func (s *Store) key(parts ...string) string {
	k := s.prefix
	for _, p := range parts {
		k += p
	}
	return k
}

// closed is ErrClosed once Close was called.
func (s *Store) closed(op string) error {
	if s.ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, storage.ErrClosed)
	}
	return nil
}

// bounded bounds a request by RequestTimeout.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, s.opt.RequestTimeout, s.noAnswer)
}

// storageError turns the client's errors into the seam's; ctx is the
// request's, which bounded may have ended. Whatever etcd or the connection
// to it failed with is storage.ErrUnavailable, unless it says more (no
// space, too many operations, a compacted revision) or the caller's own
// context ended: then it is that context's error. An error that is not the
// client's (a record that does not decode) is passed on as it is.
func (s *Store) storageError(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case s.ctx.Err() != nil:
		return fmt.Errorf("%s: %w", op, storage.ErrClosed)
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), storage.ErrUnavailable):
		return fmt.Errorf("%s: %w (%v)", op, context.Cause(ctx), err)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", op, ctx.Err()) // the caller's own
	case errors.Is(err, rpctypes.ErrNoSpace):
		return fmt.Errorf("%s: %w (%v)", op, storage.ErrFull, err)
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrRequestTooLarge):
		return fmt.Errorf("%s: %w (%v)", op, ErrBatchTooLarge, err)
	case errors.Is(err, rpctypes.ErrCompacted), errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("%s: %w (%v)", op, storage.ErrCompacted, err)
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, storage.ErrClosed):
		return fmt.Errorf("%s: %w", op, err)
	case fromEtcd(err):
		// No leader, a request timed out inside etcd, no member reachable,
		// or anything else etcd answered that another try would not change.
		return fmt.Errorf("%s: %w (%v)", op, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func idHex(id uint64) string { return fmt.Sprintf("%016x", id) }
