// Package etcdtest runs a real etcd cluster inside a test: embedded
// members (go.etcd.io/etcd/server/v3/embed) on loopback ports, each with
// its data and log in the test's temporary directory, which the test can
// stop and restart one by one.
package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	etcdstore "github.com/energylabel/energylabel/storage/etcdstore"
)

// Cluster is a running test cluster.
type Cluster struct {
	Members []*Member
}

// Member is one etcd server of a Cluster.
type Member struct {
	Name      string
	ClientURL url.URL
	dir       string
	cfg       *embed.Config

	mu     sync.Mutex
	etcd   *embed.Etcd   // nil while stopped
	closed chan struct{} // closed once the last Stop has closed it
}

// Start starts a cluster of n members and stops it when the test ends.
// Elections are quicker than etcd's defaults (a 50ms tick, a 500ms
// election timeout), so that a test of a lost leader does not wait long,
// and nothing is fsynced: a test's data may be lost on a crash.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	var err error
	for attempt := range 3 { // a picked port may be taken before etcd binds it
		var c *Cluster
		if c, err = start(t, n, filepath.Join(t.TempDir(), strconv.Itoa(attempt))); err == nil {
			t.Cleanup(c.stopAll)
			return c
		}
	}
	t.Fatal(err)
	return nil
}

func start(t testing.TB, n int, dir string) (*Cluster, error) {
	ports := freePorts(t, 2*n)
	c := &Cluster{}
	var initial []string
	for i := range n {
		m := &Member{Name: fmt.Sprintf("m%d", i), dir: filepath.Join(dir, fmt.Sprintf("m%d", i))}
		if err := os.MkdirAll(m.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		m.ClientURL = url.URL{Scheme: "http", Host: ports[2*i]}
		peer := url.URL{Scheme: "http", Host: ports[2*i+1]}
		cfg := embed.NewConfig()
		cfg.Name, cfg.Dir = m.Name, filepath.Join(m.dir, "data")
		cfg.LogOutputs = []string{filepath.Join(m.dir, "etcd.log")}
		cfg.UnsafeNoFsync = true
		cfg.TickMs, cfg.ElectionMs = 50, 500
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{m.ClientURL}, []url.URL{m.ClientURL}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.InitialClusterToken = "energylabel-test"
		m.cfg = cfg
		initial = append(initial, m.Name+"="+peer.String())
		c.Members = append(c.Members, m)
	}
	var err error
	for _, m := range c.Members {
		m.cfg.InitialCluster = strings.Join(initial, ",")
		if m.etcd, err = embed.StartEtcd(m.cfg); err != nil {
			err = fmt.Errorf("etcd member %s: %w (its log: %s)", m.Name, err, m.cfg.LogOutputs[0])
			break
		}
	}
	for _, m := range c.Members {
		if err == nil && m.etcd != nil {
			err = m.ready()
		}
	}
	if err != nil {
		c.stopAll()
	}
	return c, err
}

func (m *Member) ready() error {
	select {
	case <-m.etcd.Server.ReadyNotify():
		return nil
	case err := <-m.etcd.Err():
		return fmt.Errorf("etcd member %s: %w (its log: %s)", m.Name, err, m.cfg.LogOutputs[0])
	case <-time.After(30 * time.Second):
		return fmt.Errorf("etcd member %s: not ready after 30s (its log: %s)", m.Name, m.cfg.LogOutputs[0])
	}
}

func (c *Cluster) stopAll() {
	for _, m := range c.Members {
		m.Stop()
	}
	for _, m := range c.Members {
		m.wait()
	}
}

// Endpoints are every member's client address, host:port.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, m.ClientURL.Host)
	}
	return eps
}

// Leader is the index of the member that leads, or -1.
func (c *Cluster) Leader() int {
	for i, m := range c.Members {
		m.mu.Lock()
		lead := m.etcd != nil && m.etcd.Server.Leader() == m.etcd.Server.MemberID()
		m.mu.Unlock()
		if lead {
			return i
		}
	}
	return -1
}

// Stop stops the member as a crash would: at once, its raft node is
// stopped, and its clients' requests go unanswered until their
// connections close, which takes the rest of etcd's graceful stop (its
// request timeout). It is safe to call twice.
func (m *Member) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.etcd == nil {
		return
	}
	e, closed := m.etcd, make(chan struct{})
	m.etcd, m.closed = nil, closed
	e.Server.HardStop()
	go func() {
		e.Close()
		close(closed)
	}()
}

// wait waits until a stopped member has closed.
func (m *Member) wait() {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed != nil {
		<-closed
	}
}

// Restart starts a stopped member again on its data and addresses.
func (m *Member) Restart(t testing.TB) {
	t.Helper()
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.etcd != nil {
		return
	}
	var err error
	for range 50 { // its ports may linger a moment after Stop
		if m.etcd, err = embed.StartEtcd(m.cfg); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("restarting etcd member %s: %v", m.Name, err)
	}
	// Ready only once a quorum is back: the caller may restart others.
}

// Open opens the etcd backend on the cluster (on opt.Endpoints when set)
// under prefix, and closes it when the test ends, after whatever was
// registered to stop before.
func (c *Cluster) Open(t testing.TB, prefix string, opt etcdstore.Options) *etcdstore.Store {
	t.Helper()
	opt.Prefix = prefix
	if len(opt.Endpoints) == 0 {
		opt.Endpoints = c.Endpoints()
	}
	s, err := etcdstore.Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("closing the etcd backend: %v", err)
		}
	})
	return s
}

// freePorts are n loopback addresses free a moment ago, all different.
func freePorts(t testing.TB, n int) []string {
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out
}
