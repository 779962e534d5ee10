package etcdstore_test

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/energylabel/energylabel/storage"
	etcdstore "github.com/energylabel/energylabel/storage/etcd"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// endpoint is the client URL of the etcd member TestMain starts, shared by
// every test; each test works under a prefix of its own.
var endpoint string

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
	endpoint = e.Clients[0].Addr().String()
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

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Opener {
		prefix := newPrefix(t)
		return func(t *testing.T) storage.Backend { return open(t, etcdstore.Options{Prefix: prefix}) }
	})
}
