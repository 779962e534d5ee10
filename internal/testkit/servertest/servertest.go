// Package servertest runs a real energylabel server for tests: real gRPC and
// HTTP over loopback sockets, over a real bbolt file in a temporary
// directory (or a backend the test gives), with the built-in grade scheme.
package servertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/energylabel/energylabel/daemon"
	"github.com/energylabel/energylabel/limits"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
)

// AdminToken is the admin token of every test server.
const AdminToken = "test-admin-token-0123456789abcdef0123456789"

// Server is a running test server.
type Server struct {
	// Addr is the gRPC address, HTTPAddr the HTTP one, both on 127.0.0.1.
	Addr, HTTPAddr string
	AdminToken     string
	DataDir        string
	// Logs collects everything the server logged, for tests that inspect it.
	Logs *SyncBuffer

	Server *service.Service
	// Backend is the bbolt backend the server runs on; nil when it runs on
	// Options.Backend.
	Backend *boltdb.DB
	cancel  context.CancelFunc
	done    chan error
	opt     Options
}

// Options change how a test server runs. The zero value is a plaintext
// server without limits.
type Options struct {
	SubmitLimit limits.RateLimit
	MaxDBSize   int
	TLS         *tls.Config
	// DataDir, when set, starts on an existing data directory.
	DataDir string
	// Limits bound streams and connections; the zero value takes the
	// server's defaults, except the read budget and the connections per
	// address, which are off unless set, as every test client calls from
	// one address.
	Limits limits.Limits
	// Now, when set, is the server's clock.
	Now func() time.Time
	// LogLevel is the least severe level logged; the zero value is info.
	LogLevel slog.Level
	// Backend, when set, is what the server runs on instead of a bbolt
	// file; the test closes it, after the server stops. Two servers on
	// one backend are two replicas.
	Backend storage.Backend
	// StaleAfter is the server's Config.StaleAfter.
	StaleAfter time.Duration
	// Quotas, when set, are the server's namespace quotas.
	Quotas *service.Quotas
	// EventRetention is the bbolt file's boltdb.Options.EventRetention.
	EventRetention int
}

// Start starts a server on a fresh data directory and stops it when the
// test ends, checking the database file's consistency.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith starts a server with options.
func StartWith(t testing.TB, opt Options) *Server {
	t.Helper()
	s := &Server{AdminToken: AdminToken, DataDir: opt.DataDir, Logs: &SyncBuffer{}, Addr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", opt: opt}
	if s.DataDir == "" {
		s.DataDir = t.TempDir()
	}
	s.start(t)
	t.Cleanup(func() { s.Stop(t) })
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	var st storage.Backend = s.opt.Backend
	if st == nil {
		db, err := boltdb.Open(s.DataDir, boltdb.Options{MaxSize: s.opt.MaxDBSize, EventRetention: s.opt.EventRetention})
		if err != nil {
			t.Fatal(err)
		}
		st, s.Backend = db, db
	}
	schemes, err := calibration.Schemes()
	if err != nil {
		t.Fatal(err)
	}
	gl, err := net.Listen("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", s.HTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	s.Addr, s.HTTPAddr = gl.Addr().String(), hl.Addr().String()
	lim := s.opt.Limits
	if lim.ReadBudget.Rate == 0 {
		lim.ReadBudget.Rate = -1
	}
	if lim.ConnsPerAddress == 0 {
		lim.ConnsPerAddress = math.MaxInt
	}
	srv, err := service.New(service.Config{
		Backend: st, Schemes: schemes, AdminToken: s.AdminToken,
		Logger:      slog.New(slog.NewTextHandler(s.Logs, &slog.HandlerOptions{Level: s.opt.LogLevel})),
		BaseURL:     "http://" + s.HTTPAddr,
		SubmitLimit: s.opt.SubmitLimit,
		Now:         s.opt.Now,
		StaleAfter:  s.opt.StaleAfter,
		Quotas:      s.opt.Quotas,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.Server, s.cancel, s.done = srv, cancel, make(chan error, 1)
	go func() {
		s.done <- daemon.Serve(ctx, srv, daemon.Listeners{GRPC: gl, HTTP: hl}, daemon.ServeOptions{TLS: s.opt.TLS, Limits: lim})
	}()
}

// Stop shuts the server down gracefully and checks the database file. It
// is safe to call twice.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	if err := <-s.done; err != nil {
		t.Errorf("serve: %v", err)
	}
	s.Server.Close()
	if s.opt.Backend == nil {
		if err := s.Backend.Check(); err != nil {
			t.Errorf("tx.Check: %v", err)
		}
		if err := s.Backend.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	s.cancel = nil
}

// Restart stops the server and starts it again on the same directory and
// addresses.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.start(t)
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// Len is the number of bytes written so far.
func (b *SyncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
