package etcdstore_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	etcdstore "github.com/energylabel/energylabel/storage/etcdstore"
	"github.com/energylabel/energylabel/storage/internal/records"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// endpoint is the client URL of the etcd member TestMain starts, shared by
// every test; each test works under a prefix of its own.
var endpoint string

// embeddedTxnOps is the embedded member's --max-txn-ops: room for a batch
// of more results than one watch response holds, which the conformance
// suite's WatchSplitsALargeRevision needs (it is skipped on an etcd with
// the default 128).
const embeddedTxnOps = 2048

// conformanceTxnOps is the MaxTxnOps the conformance suite's stores use:
// embeddedTxnOps on the embedded member, etcd's default otherwise.
var conformanceTxnOps int

// TestMain starts an embedded etcd, or, when ENERGYLABEL_TEST_ETCD names
// one (host:port), uses a running etcd: Debian's etcd-server is 3.4, the
// oldest the backend supports. The tests write under /test/ and compact.
func TestMain(m *testing.M) {
	if endpoint = os.Getenv("ENERGYLABEL_TEST_ETCD"); endpoint != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "energylabel-etcd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e, err := startEtcd(dir)
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "embedded etcd:", err)
		os.Exit(1)
	}
	endpoint, conformanceTxnOps = e.Clients[0].Addr().String(), embeddedTxnOps
	code := m.Run()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startEtcd starts a one-member cluster on loopback ports, with its data
// in dir/data and its log in dir/etcd.log; tls, when set, serves clients
// over TLS only.
func startEtcd(dir string, tls ...transport.TLSInfo) (*embed.Etcd, error) {
	var err error
	for range 3 { // a picked port may be taken before etcd binds it
		var e *embed.Etcd
		if e, err = startEtcdOnce(dir, tls); err == nil {
			return e, nil
		}
		os.RemoveAll(filepath.Join(dir, "data"))
	}
	return nil, fmt.Errorf("%w (its log: %s)", err, filepath.Join(dir, "etcd.log"))
}

func startEtcdOnce(dir string, tls []transport.TLSInfo) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "data")
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	cfg.UnsafeNoFsync = true // a test's data may be lost on a crash
	cfg.MaxTxnOps = embeddedTxnOps
	client, peer := url.URL{Scheme: "http", Host: freePort()}, url.URL{Scheme: "http", Host: freePort()}
	if len(tls) > 0 {
		client.Scheme, cfg.ClientTLSInfo = "https", tls[0]
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, errors.New("not ready after 30s")
	}
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var (
	run      = time.Now().UnixNano() // an etcd of one's own may have seen earlier runs
	prefixes atomic.Int64
)

// newPrefix is a key prefix no other test uses.
func newPrefix(t *testing.T) string {
	return fmt.Sprintf("/test/%x/%d-%s/", run, prefixes.Add(1), strings.ReplaceAll(t.Name(), "/", "-"))
}

func open(t *testing.T, opt etcdstore.Options) *etcdstore.Store {
	t.Helper()
	opt.Endpoints = []string{endpoint}
	s, err := etcdstore.Open(t.Context(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openTest opens a store that the test's end closes.
func openTest(t *testing.T, opt etcdstore.Options) *etcdstore.Store {
	t.Helper()
	s := open(t, opt)
	t.Cleanup(func() { s.Close() })
	return s
}

// rawClient is a plain etcd client, for what the backend does not do.
func rawClient(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// TestConformance runs the suite on prefixes of their own. Its slow
// watchers are Options.WatchBuffer, and its compaction etcd's own,
// through a plain client: it compacts the whole cluster, every prefix's
// history with it, which no other test reads back.
func TestConformance(t *testing.T) {
	opener := func(t *testing.T, opt etcdstore.Options) storagetest.Opener {
		opt.Prefix, opt.MaxTxnOps = newPrefix(t), conformanceTxnOps
		return func(t *testing.T) storage.Backend { return open(t, opt) }
	}
	storagetest.Run(t, storagetest.Factory{
		New: func(t *testing.T) storagetest.Opener { return opener(t, etcdstore.Options{}) },
		SlowWatchers: func(t *testing.T, n int) storagetest.Opener {
			return opener(t, etcdstore.Options{WatchBuffer: n})
		},
		Compact: func(t *testing.T, _ storage.Backend, rev int64) {
			if _, err := rawClient(t).Compact(t.Context(), rev); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func appendOne(t *testing.T, b storage.Backend, a storage.Accepted) (uint64, int64) {
	t.Helper()
	id, rev, err := b.Append(t.Context(), []storage.Accepted{a})
	if err != nil {
		t.Fatal(err)
	}
	return id, rev
}

// Two replicas write at once, each from several goroutines: ids are handed
// out once, in order, and each replica's watch sees every write, its own
// and the other's.
func TestTwoReplicasAppendAtOnce(t *testing.T) {
	const writers, appends = 4, 25
	prefix := newPrefix(t)
	replicas := []*etcdstore.Store{openTest(t, etcdstore.Options{Prefix: prefix}), openTest(t, etcdstore.Options{Prefix: prefix})}
	ctx := t.Context()
	if _, err := replicas[0].PutToken(ctx, storage.Token{ID: "tok_1", Namespaces: []string{"w"}}); err != nil {
		t.Fatal(err)
	}
	rev0, err := replicas[0].Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	watches := []<-chan storage.WatchResponse{replicas[0].Watch(ctx, rev0, storage.WatchFilter{}), replicas[1].Watch(ctx, rev0, storage.WatchFilter{})}
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

	type write struct {
		id  uint64
		rev int64
	}
	got := make([][]write, len(replicas)*writers)
	var wg sync.WaitGroup
	for r, b := range replicas {
		for w := range writers {
			n := r*writers + w
			wg.Go(func() {
				for i := range appends {
					a := storagetest.Accepted(fmt.Sprintf("w/r%d-w%d", r, w), float64(i+1))
					a.Audit.ReceivedAt = start.Add(time.Duration(n*appends+i) * time.Second)
					a.Audit.Fingerprint = fmt.Sprintf("%064x", n*appends+i+1)
					id, rev, err := b.Append(ctx, []storage.Accepted{a})
					if err != nil {
						t.Errorf("replica %d, writer %d: %v", r, w, err)
						return
					}
					got[n] = append(got[n], write{id, rev})
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	total := len(replicas) * writers * appends
	var ids []uint64
	for n, ws := range got {
		for i := 1; i < len(ws); i++ {
			if ws[i].id <= ws[i-1].id || ws[i].rev <= ws[i-1].rev {
				t.Fatalf("writer %d: write %d got id %d at revision %d after id %d at %d", n, i, ws[i].id, ws[i].rev, ws[i-1].id, ws[i-1].rev)
			}
		}
		for _, w := range ws {
			ids = append(ids, w.id)
		}
	}
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			t.Fatalf("ids %d then %d: want every id once, with no gap", ids[i-1], ids[i])
		}
	}
	for r, ch := range watches {
		evs, err := storagetest.Collect(ch, total)
		if err != nil {
			t.Fatalf("replica %d's watch: %v", r, err)
		}
		for i, e := range evs {
			// A replica's writers that wait for one transaction share the next.
			if e.Kind != storage.ResultAdded || e.Result.ID != ids[i] || (i > 0 && e.Revision < evs[i-1].Revision) {
				t.Fatalf("replica %d's event %d: %+v, want result %d at a revision no lower than the last", r, i, e, ids[i])
			}
		}
	}
	ts, err := replicas[1].Tokens(ctx)
	if err != nil || len(ts) != 1 || !ts[0].LastUsedAt.Equal(start.Add(time.Duration(total-1)*time.Second)) {
		t.Errorf("Tokens() = %+v, %v; want the last use of all %d", ts, err, total)
	}
}

// A batch that one etcd transaction cannot hold is refused whole; MaxBatch
// says what fits.
func TestABatchLargerThanATransaction(t *testing.T) {
	s := openTest(t, etcdstore.Options{Prefix: newPrefix(t)})
	ctx := t.Context()
	if _, err := s.PutToken(ctx, storage.Token{ID: "tok_1"}); err != nil {
		t.Fatal(err)
	}
	batch := func(n int) []storage.Accepted {
		var b []storage.Accepted
		for i := range n {
			a := storagetest.Accepted(fmt.Sprintf("a/m%d", i), 1)
			a.Audit.Fingerprint = fmt.Sprintf("%064x", len(b)+1000*n)
			b = append(b, a)
		}
		return b
	}
	rev, _ := s.Revision(ctx)
	if _, _, err := s.Append(ctx, batch(s.MaxBatch()+1)); !errors.Is(err, etcdstore.ErrBatchTooLarge) {
		t.Errorf("a batch of %d: %v, want ErrBatchTooLarge", s.MaxBatch()+1, err)
	}
	if got, _ := s.Revision(ctx); got != rev {
		t.Errorf("revision %d after a refused batch, %d before", got, rev)
	}
	first, _, err := s.Append(ctx, batch(s.MaxBatch()))
	if err != nil || first != 1 {
		t.Errorf("a batch of MaxBatch() = %d: first id %d, %v", s.MaxBatch(), first, err)
	}
}

// The keys are the package comment's.
func TestTheKeyLayout(t *testing.T) {
	prefix := newPrefix(t)
	s := openTest(t, etcdstore.Options{Prefix: prefix})
	ctx := t.Context()
	a := storagetest.Fingerprinted("a/one", 1, 1)
	a.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 2) // claims nothing
	id, _ := appendOne(t, s, a)
	writes := []func() (int64, error){
		func() (int64, error) { return s.PutToken(ctx, storage.Token{ID: "tok_1"}) },
		func() (int64, error) {
			return s.AddAccelerator(ctx, rating.Accelerator{Name: "Gaudi 3", Family: "Gaudi 3", BoardWatts: 900})
		},
		func() (int64, error) {
			return s.AddDataset(ctx, rating.Dataset{Name: "acme/eval", Task: "text-generation", Basis: rating.OutputToken})
		},
		func() (int64, error) { return s.CreateRelease(ctx, &rating.Release{Name: "r1"}) },
		func() (int64, error) {
			return s.AddVerification(ctx, &storage.Verification{Model: "a/one", Cohort: a.Measure.Cohort, ResultID: id,
				Survey: rating.Survey{Status: rating.StatusVerified, Measurements: 1}})
		},
	}
	for _, w := range writes {
		if _, err := w(); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := rawClient(t).Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, strings.TrimPrefix(string(kv.Key), prefix))
	}
	want := []string{
		"accelerators/Gaudi 3",
		"cohorts/a/one\x00text-classification\x1fAIEnergyScore/text_classification\x1f\x1fH100\x1f" + rating.Query.String() + "\x000000000000000001",
		"datasets/acme/eval",
		"fingerprints/" + a.Audit.Fingerprint,
		"ids/0000000000000001",
		"latest/text-classification\x1fAIEnergyScore/text_classification\x1f\x1fH100\x1f" + rating.Query.String() + "\x00a/one",
		"meta/last-id",
		"meta/version",
		"model-cohorts/a/one\x00text-classification\x1fAIEnergyScore/text_classification\x1f\x1fH100\x1f" + rating.Query.String(),
		"releases/r1",
		"results/a/one\x000000000000000001",
		"tokens/tok_1",
		"verifications/00000000000000000001/000001",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("keys\n%q\nwant\n%q", keys, want)
	}
}

func TestOpenRefusesAnotherLayoutVersion(t *testing.T) {
	prefix := newPrefix(t)
	if _, err := rawClient(t).Put(t.Context(), prefix+"meta/version", "4"); err != nil {
		t.Fatal(err)
	}
	s, err := etcdstore.Open(t.Context(), etcdstore.Options{Endpoints: []string{endpoint}, Prefix: prefix})
	if err == nil {
		s.Close()
		t.Fatal("Open of a prefix in layout version 4 succeeded")
	}
	if !strings.Contains(err.Error(), "layout version 4") {
		t.Errorf("Open: %v, want it to name the layout version", err)
	}
}

// A prefix in layout version 1, whose records name no source, is upgraded
// when a replica opens it: each current result takes its record's source,
// published for the admin's, as history reads it; its payload claims are
// ignored; and, as from layout 2, its results are indexed by cohort.
func TestALayout1PrefixIsUpgraded(t *testing.T) {
	prefix := newPrefix(t)
	ctx := t.Context()
	s := open(t, etcdstore.Options{Prefix: prefix})
	var batch []storage.Accepted
	for i := range 10 {
		a := storagetest.Accepted(fmt.Sprintf("org/m%d", i), float64(i+1))
		if i%3 == 0 {
			a.Source, a.Audit.TokenID = rating.Published, "admin"
		}
		batch = append(batch, a)
	}
	if _, _, err := s.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// What layout 1 wrote: no sources, a payload claim.
	cli := rawClient(t)
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		var m proto.Message
		switch k := strings.TrimPrefix(string(kv.Key), prefix); {
		case strings.HasPrefix(k, "latest/"):
			m = &storev1.Latest{}
		case strings.HasPrefix(k, "results/"):
			m = &storev1.Result{}
		default:
			continue
		}
		if err := proto.Unmarshal(kv.Value, m); err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *storev1.Latest:
			m.Source = storev1.Source_SOURCE_UNSPECIFIED
		case *storev1.Result:
			m.Source = storev1.Source_SOURCE_UNSPECIFIED
		}
		v, _ := proto.Marshal(m)
		if _, err := cli.Put(ctx, string(kv.Key), string(v)); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{"meta/version": "1", "payloads/" + fmt.Sprintf("%064x", 1): "org/m1"} {
		if _, err := cli.Put(ctx, prefix+k, v); err != nil {
			t.Fatal(err)
		}
	}

	// Replicas opening it at once, each rewriting 4 records at a time.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			s, err := etcdstore.Open(ctx, etcdstore.Options{Endpoints: []string{endpoint}, Prefix: prefix, MaxTxnOps: 4})
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if v, err := cli.Get(ctx, prefix+"meta/version"); err != nil || string(v.Kvs[0].Value) != "3" {
		t.Fatalf("meta/version after the upgrade: %+v, %v", v, err)
	}
	s = openTest(t, etcdstore.Options{Prefix: prefix})
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Currents) != 10 {
		t.Fatalf("%d currents after the upgrade, want 10", len(snap.Currents))
	}
	for _, c := range snap.Currents {
		h, err := s.History(ctx, storage.HistoryQuery{Model: c.Model, Limit: 1})
		if err != nil || len(h) != 1 || !reflect.DeepEqual(h[0].Current, c) {
			t.Errorf("%s: the snapshot's current %+v, history's %+v, %v", c.Model, c, h, err)
		}
		if want := map[bool]rating.Source{true: rating.Published, false: rating.Publisher}[c.ID%3 == 1]; c.Source != want {
			t.Errorf("%s (result %d) reads as %v, want %v", c.Model, c.ID, c.Source, want)
		}
	}
	free := storagetest.Accepted("org/other", 1)
	free.Audit.PayloadSHA256 = fmt.Sprintf("%064x", 1)
	appendOne(t, s, free)
	for _, c := range snap.Currents {
		h, err := s.History(ctx, storage.HistoryQuery{Model: c.Model, Hardware: c.Measure.Cohort.Hardware, Limit: 10})
		if err != nil || len(h) != 1 || h[0].ID != c.ID {
			t.Errorf("%s on %s: %+v, %v; want result %d", c.Model, c.Measure.Cohort.Hardware, h, err, c.ID)
		}
	}
}

// TLS with a client certificate, and etcd's own users: what a production
// cluster asks of a client.
func TestTLSAndAuth(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCert(t, dir, "ca", nil, nil)
	newCert(t, dir, "server", ca, caKey)
	newCert(t, dir, "client", ca, caKey)
	e, err := startEtcd(dir, transport.TLSInfo{
		CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server-key.pem"),
		TrustedCAFile: filepath.Join(dir, "ca.pem"), ClientCertAuth: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	opt := etcdstore.Options{
		Endpoints: []string{"https://" + e.Clients[0].Addr().String()}, Prefix: "/energylabel/",
		CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client-key.pem"),
	}
	ctx := t.Context()

	// Turn etcd's auth on, as the root user.
	root, err := clientv3.New(clientv3.Config{Endpoints: opt.Endpoints, TLS: mustTLS(t, opt), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, step := range []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}

	bad := opt
	bad.Username, bad.Password, bad.DialTimeout = "root", "wrong", 2*time.Second
	if s, err := etcdstore.Open(ctx, bad); err == nil {
		s.Close()
		t.Error("Open with a wrong password succeeded")
	}
	opt.Username, opt.Password = "root", "root-pw"
	s, err := etcdstore.Open(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, _, err := s.Append(ctx, []storage.Accepted{storagetest.Accepted("a/one", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, err := s.Record(ctx, id); err != nil || r.Model != "a/one" {
		t.Errorf("Record(%d) over TLS = %+v, %v", id, r, err)
	}
}

// newCert writes name.pem and name-key.pem into dir: a CA when parent is
// nil, else a certificate for 127.0.0.1 that the CA signed.
func newCert(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for file, block := range map[string]*pem.Block{
		name + ".pem":     {Type: "CERTIFICATE", Bytes: der},
		name + "-key.pem": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func mustTLS(t *testing.T, opt etcdstore.Options) *tls.Config {
	t.Helper()
	c, err := (transport.TLSInfo{CertFile: opt.CertFile, KeyFile: opt.KeyFile, TrustedCAFile: opt.CAFile}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// When etcd does not answer, requests fail with ErrUnavailable once
// RequestTimeout has passed, not when the caller gives up, and a watch
// stops reporting progress.
func TestAnUnreachableClusterIsUnavailable(t *testing.T) {
	e, err := startEtcd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(e.Close)
	defer stop()
	s, err := etcdstore.Open(t.Context(), etcdstore.Options{
		Endpoints: []string{e.Clients[0].Addr().String()}, RequestTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	rev, _ := s.Revision(ctx)
	ch := s.Watch(ctx, rev, storage.WatchFilter{})
	stop()
	drain := time.After(2 * storage.ProgressInterval) // what was on its way
	for done := false; !done; {
		select {
		case <-ch:
		case <-drain:
			done = true
		}
	}

	start := time.Now()
	_, _, err = s.Append(ctx, []storage.Accepted{storagetest.Accepted("a/one", 1)})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Append: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Append failed after %s, want about the 1s RequestTimeout", took)
	}
	var wg sync.WaitGroup
	for name, f := range map[string]func() error{
		"Revision": func() error { _, err := s.Revision(ctx); return err },
		"PutToken": func() error { _, err := s.PutToken(ctx, storage.Token{ID: "tok_1"}); return err },
		"History":  func() error { _, err := s.History(ctx, storage.HistoryQuery{Model: "a/one", Limit: 1}); return err },
		"Snapshot": func() error { _, err := s.Snapshot(ctx); return err },
	} {
		wg.Go(func() {
			if err := f(); !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("%s: %v, want ErrUnavailable", name, err)
			}
		})
	}
	wg.Wait()
	select {
	case r, ok := <-ch:
		if ok && r.Err == nil && len(r.Events) == 0 {
			t.Error("the watch reported progress with etcd stopped")
		}
	case <-time.After(3 * storage.ProgressInterval):
	}
}

// Appends that wait for one of the replica's transactions share the next:
// fewer transactions than appends. A batch the shared transaction cannot
// take, its measurement claimed by another model or stored by its own, is
// tried again alone, and fails alone; the suite's ConcurrentAppends checks
// what every backend promises of concurrent appends.
func TestConcurrentAppendsShareTransactions(t *testing.T) {
	s := openTest(t, etcdstore.Options{Prefix: newPrefix(t)})
	ctx := t.Context()
	claimed := storagetest.Fingerprinted("a/first", 1, 1)
	appendOne(t, s, claimed)
	mine := storagetest.Fingerprinted("a/w9", 1, 2)
	mineID, _ := appendOne(t, s, mine)

	const writers = 32
	type result struct {
		rev int64
		err error
	}
	results := make([]result, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			a := storagetest.Accepted(fmt.Sprintf("a/w%d", i), 1)
			a.Audit.Fingerprint = fmt.Sprintf("%064x", 100+i)
			batch := []storage.Accepted{a, storagetest.Accepted(fmt.Sprintf("a/w%d-second", i), 2)}
			switch i {
			case 7:
				batch[0].Audit.Fingerprint = claimed.Audit.Fingerprint
			case 9:
				batch[0].Audit.Fingerprint = mine.Audit.Fingerprint
			}
			r := &results[i]
			_, r.rev, r.err = s.Append(ctx, batch)
		})
	}
	wg.Wait()
	revs := map[int64]bool{}
	for i, r := range results {
		switch {
		case i == 7:
			if !errors.Is(r.err, storage.ErrExists) || !strings.Contains(r.err.Error(), "a/first") {
				t.Errorf("the batch with another model's measurement: %v, want ErrExists naming a/first", r.err)
			}
		case i == 9:
			if dup := (*storage.DuplicateError)(nil); !errors.As(r.err, &dup) || dup.ResultID != mineID {
				t.Errorf("the batch with its model's stored measurement: %v, want a DuplicateError naming result %d", r.err, mineID)
			}
		case r.err != nil:
			t.Fatalf("writer %d: %v", i, r.err)
		default:
			revs[r.rev] = true
		}
	}
	if len(revs) >= writers-2 {
		t.Errorf("%d appends took %d transactions: none shared one", writers-2, len(revs))
	}
	t.Logf("%d appends in %d transactions", writers-2, len(revs))
}

// A prefix in layout version 2, without cohorts/ or model-cohorts/, is
// upgraded when replicas open it, a few keys per transaction: every
// result is indexed, those a replica of layout 2 stores while the upgrade
// runs too, and filtered history, paged or newest first, reads as the
// whole history filtered.
func TestALayout2PrefixIsUpgraded(t *testing.T) {
	prefix := newPrefix(t)
	ctx := t.Context()
	s := open(t, etcdstore.Options{Prefix: prefix})
	cohorts := storagetest.HistoryCohorts
	n := 0
	for range 12 {
		var batch []storage.Accepted
		for range 10 {
			batch = append(batch, storagetest.InCohort("org/m", float64(n+1), cohorts[(n*n+n/4)%len(cohorts)]))
			n++
		}
		batch = append(batch, storagetest.InCohort("org/m-2", 1, cohorts[n%len(cohorts)]))
		if _, _, err := s.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// What layout 2 wrote: no index.
	cli := rawClient(t)
	for _, dir := range []string{"cohorts/", "model-cohorts/"} {
		if resp, err := cli.Delete(ctx, prefix+dir, clientv3.WithPrefix()); err != nil || resp.Deleted == 0 {
			t.Fatalf("deleting %s: %+v, %v", dir, resp, err)
		}
	}
	if _, err := cli.Put(ctx, prefix+"meta/version", "2"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, prefix+"meta/last-id")
	if err != nil {
		t.Fatal(err)
	}
	last, _ := strconv.ParseUint(string(resp.Kvs[0].Value), 10, 64)

	// A replica of layout 2 stores results of org/m for as long as the
	// version is 2.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written atomic.Int64
	wg.Go(func() {
		for id := last + 1; ; id++ {
			select {
			case <-stop:
				return
			default:
			}
			v, err := proto.Marshal(records.Result(new(storagetest.InCohort("org/m", float64(id), cohorts[id%uint64(len(cohorts))]))))
			if err != nil {
				t.Error(err)
				return
			}
			hex := fmt.Sprintf("%016x", id)
			resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(prefix+"meta/version"), "=", "2")).Then(
				clientv3.OpPut(prefix+"results/org/m\x00"+hex, string(v)),
				clientv3.OpPut(prefix+"ids/"+hex, "org/m"),
				clientv3.OpPut(prefix+"meta/last-id", strconv.FormatUint(id, 10))).Commit()
			if err != nil {
				t.Error(err)
				return
			}
			if !resp.Succeeded {
				return
			}
			written.Add(1)
		}
	})
	// Replicas opening it at once, each putting 8 keys at a time.
	for range 2 {
		wg.Go(func() {
			s, err := etcdstore.Open(ctx, etcdstore.Options{Endpoints: []string{endpoint}, Prefix: prefix, MaxTxnOps: 8})
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	time.Sleep(10 * time.Millisecond)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	if v, err := cli.Get(ctx, prefix+"meta/version"); err != nil || string(v.Kvs[0].Value) != "3" {
		t.Fatalf("meta/version after the upgrade: %+v, %v", v, err)
	}
	t.Logf("%d results stored by the replica of layout 2 during the upgrade", written.Load())
	s = openTest(t, etcdstore.Options{Prefix: prefix})
	h, err := s.History(ctx, storage.HistoryQuery{Model: "org/m", Limit: 1000})
	if err != nil || len(h) != n+int(written.Load()) {
		t.Fatalf("history of org/m: %d entries, %v; want %d", len(h), err, n+int(written.Load()))
	}
	storagetest.CheckHistory(t, s, "org/m")
	storagetest.CheckHistory(t, s, "org/m-2")
}
