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
// transactions share the next.
//
// A caught-up watch asks etcd for progress (RequestProgress) every
// storage.ProgressInterval, on a gRPC stream of its own, and passes it on:
// it is how a replica knows how stale its reads may be. Every request is
// bounded by Options.RequestTimeout; a cluster without a quorum, or out of
// reach, fails it with storage.ErrUnavailable, and what may be repeated
// (reads; a write whose first record shows whether it committed) is,
// meanwhile, so that a leader election costs a delay, not an error.
package etcdstore

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/logutil"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
	// Endpoints are the cluster's client URLs or host:port pairs.
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
	// DialTimeout bounds connecting and Open's first request; 0 means 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds each request after Open; 0 means 5s. A cluster
	// without quorum keeps a request waiting, and one that waited this long
	// fails with storage.ErrUnavailable.
	RequestTimeout time.Duration
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
	cli    *clientv3.Client
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
	watches  atomic.Uint64
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
	opt.WatchBuffer = cmp.Or(opt.WatchBuffer, 1024)
	opt.MaxTxnOps = cmp.Or(opt.MaxTxnOps, 128)
	tlsConfig, err := opt.tlsConfig()
	if err != nil {
		return nil, err
	}
	// The client logs each connection and snapshot at info level.
	lg, err := logutil.CreateDefaultZapLogger(zapcore.WarnLevel)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: opt.Endpoints, DialTimeout: opt.DialTimeout, TLS: tlsConfig,
		Username: opt.Username, Password: opt.Password, Logger: lg,
	})
	if err != nil {
		return nil, fmt.Errorf("etcd %v: %w", opt.Endpoints, err)
	}
	s := &Store{cli: cli, prefix: opt.Prefix, opt: opt, appending: make(chan struct{}, 1),
		noAnswer: fmt.Errorf("etcd %v did not answer within %s: %w", opt.Endpoints, opt.RequestTimeout, storage.ErrUnavailable)}
	if err := s.initialize(ctx); err != nil {
		cli.Close()
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
	dialCtx, cancel := context.WithTimeout(ctx, s.opt.DialTimeout)
	defer cancel()
	k := s.key(keyVersion)
	resp, err := s.cli.Txn(dialCtx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, strconv.Itoa(layoutVersion))).
		Else(clientv3.OpGet(k)).Commit()
	if err != nil {
		return s.storageError(dialCtx, "open", err)
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

// Close ends every watch and closes the connection.
func (s *Store) Close() error {
	err := s.cli.Close()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Revision is the cluster's revision: that of the last write, ours or not.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if err := s.closed("revision"); err != nil {
		return 0, err
	}
	var rev int64
	err := s.do(ctx, "revision", func(ctx context.Context) error {
		resp, err := s.cli.Get(ctx, s.key(keyVersion), clientv3.WithCountOnly())
		if err == nil {
			rev = resp.Header.Revision
		}
		return err
	})
	return rev, err
}

// Size is the database size of the first endpoint's member, which holds
// the whole cluster's keyspace, every prefix's; the last size known while
// it does not answer.
func (s *Store) Size() int64 {
	ctx, cancel := context.WithTimeout(s.cli.Ctx(), 2*time.Second)
	defer cancel()
	if eps := s.cli.Endpoints(); len(eps) > 0 {
		if st, err := s.cli.Status(ctx, eps[0]); err == nil {
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

// closed is ErrClosed once Close was called: the client would otherwise
// retry for a while before it gives up.
func (s *Store) closed(op string) error {
	if s.cli.Ctx().Err() != nil {
		return fmt.Errorf("%s: %w", op, storage.ErrClosed)
	}
	return nil
}

// bounded bounds a request by RequestTimeout.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, s.opt.RequestTimeout, s.noAnswer)
}

// transient reports whether etcd failed a request for want of a leader or
// of a member to answer it: another try, a moment later, may succeed.
func transient(err error) bool {
	var etcdErr rpctypes.EtcdError
	return errors.As(err, &etcdErr) && etcdErr.Code() == codes.Unavailable || status.Code(err) == codes.Unavailable
}

// do runs a request that may be repeated until it succeeds, fails for
// another reason than a transient one, or RequestTimeout has passed: an
// election takes a moment, and a member that is down leaves others to
// answer.
func (s *Store) do(ctx context.Context, op string, req func(context.Context) error) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	pause := 20 * time.Millisecond
	for {
		err := req(ctx)
		if err == nil || !transient(err) || ctx.Err() != nil {
			return s.storageError(ctx, op, err)
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return s.storageError(ctx, op, err)
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// storageError turns the client's errors into the seam's; ctx is the
// request's, which bounded may have ended.
func (s *Store) storageError(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case s.cli.Ctx().Err() != nil:
		return fmt.Errorf("%s: %w", op, storage.ErrClosed)
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), storage.ErrUnavailable):
		return fmt.Errorf("%s: %w", op, context.Cause(ctx))
	case errors.Is(err, rpctypes.ErrNoSpace):
		return fmt.Errorf("%s: %w (%v)", op, storage.ErrFull, err)
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrRequestTooLarge):
		return fmt.Errorf("%s: %w (%v)", op, ErrBatchTooLarge, err)
	case errors.Is(err, rpctypes.ErrCompacted), errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("%s: %w (%v)", op, storage.ErrCompacted, err)
	case transient(err):
		// No leader, a request timed out inside etcd, no member reachable.
		return fmt.Errorf("%s: %w (%v)", op, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func idHex(id uint64) string { return fmt.Sprintf("%016x", id) }
