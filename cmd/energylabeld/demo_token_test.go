package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	etcdstore "github.com/energylabel/energylabel/storage/etcdstore"
)

// startDemo runs -demo with args in the background, on free ports, and
// waits until it serves; it stops when the test ends. It returns the gRPC
// address, and what it wrote on stdout and stderr.
func startDemo(t *testing.T, args ...string) (addr string, stdout, stderr *syncBuffer) {
	t.Helper()
	addrs := freeAddrs(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	done := make(chan int)
	go func() {
		done <- run(ctx, append([]string{"-demo", "-grpc", addrs[0], "-http", addrs[1]}, args...), stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("the demo server did not stop")
		}
	})
	conn, err := grpc.NewClient(addrs[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if !serving(conn) {
		t.Fatalf("the demo server did not start:\n%s", stderr)
	}
	return addrs[0], stdout, stderr
}

// isAdmin reports whether token opens the admin API of the server at addr.
func isAdmin(t *testing.T, addr, token string) bool {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	_, err = energylabelv1.NewAdminServiceClient(conn).ListTokens(ctx, &energylabelv1.ListTokensRequest{})
	return err == nil
}

var hexToken = regexp.MustCompile(`^[0-9a-f]{48}\n$`)

// The demo's admin token is the one line on stdout, and it is nowhere in
// the log.
func TestDemoPrintsItsAdminTokenAloneOnStdout(t *testing.T) {
	t.Setenv("ENERGYLABEL_ADMIN_TOKEN", "")
	addr, stdout, stderr := startDemo(t)
	out := stdout.String()
	if !hexToken.MatchString(out) {
		t.Fatalf("stdout %q: want the token alone on one line", out)
	}
	token := strings.TrimSpace(out)
	if strings.Contains(stderr.String(), token) {
		t.Error("the token is in the log")
	}
	if !strings.Contains(stderr.String(), "demo admin token printed on stdout") {
		t.Errorf("the log does not say where the token is:\n%s", stderr)
	}
	if !isAdmin(t, addr, token) {
		t.Error("the printed token does not open the admin API")
	}
}

func TestDemoWritesItsAdminTokenToAFile(t *testing.T) {
	t.Setenv("ENERGYLABEL_ADMIN_TOKEN", "")
	file := filepath.Join(t.TempDir(), "token")
	addr, stdout, _ := startDemo(t, "-demo-token-file", file)
	if stdout.String() != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	data, err := os.ReadFile(file)
	if err != nil || !hexToken.Match(data) {
		t.Fatalf("%s: %q, %v; want the token on one line", file, data, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, %v; want 0600", file, fi.Mode().Perm(), err)
	}
	if !isAdmin(t, addr, strings.TrimSpace(string(data))) {
		t.Error("the token in the file does not open the admin API")
	}
}

// With ENERGYLABEL_ADMIN_TOKEN set, the demo serves with it and makes none.
func TestDemoHonoursTheAdminTokenOfTheEnvironment(t *testing.T) {
	token := strings.Repeat("e", 40)
	t.Setenv("ENERGYLABEL_ADMIN_TOKEN", token)
	addr, stdout, _ := startDemo(t)
	if stdout.String() != "" {
		t.Errorf("stdout %q, want nothing: the token was given", stdout)
	}
	if !isAdmin(t, addr, token) {
		t.Error("ENERGYLABEL_ADMIN_TOKEN does not open the admin API")
	}
	if isAdmin(t, addr, strings.Repeat("f", 40)) {
		t.Error("another token opens the admin API")
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-demo", "-demo-token-file", filepath.Join(t.TempDir(), "t")}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "makes none") {
		t.Errorf("-demo-token-file with the token given: exit %d, %q", code, stderr.String())
	}
}

// A second demo on ports in use fails at once, naming the address, before
// it imports anything.
func TestDemoOnBusyPortsFailsBeforeImporting(t *testing.T) {
	t.Setenv("ENERGYLABEL_ADMIN_TOKEN", "")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free := freeAddrs(t, 2)
	for _, tt := range []struct{ flag, grpcAddr, httpAddr string }{
		{"-grpc", busy.Addr().String(), free[0]},
		{"-http", free[1], busy.Addr().String()},
	} {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := run(context.Background(), []string{"-demo", "-grpc", tt.grpcAddr, "-http", tt.httpAddr}, &stdout, &stderr)
		took := time.Since(start)
		if code != 1 {
			t.Errorf("%s busy: exit %d, want 1", tt.flag, code)
		}
		if msg := stderr.String(); !strings.Contains(msg, tt.flag+": ") || !strings.Contains(msg, busy.Addr().String()) || !strings.Contains(msg, "address already in use") {
			t.Errorf("%s busy: stderr %q does not name the flag and the address in use", tt.flag, msg)
		}
		if strings.Contains(stderr.String(), "imported") || stdout.Len() > 0 {
			t.Errorf("%s busy: it imported, or printed a token:\n%s%s", tt.flag, stdout.String(), stderr.String())
		}
		if took > time.Second {
			t.Errorf("%s busy: took %s to fail", tt.flag, took)
		}
	}
	// The free ports it opened are closed again.
	for _, a := range free {
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("%s is still held: %v", a, err)
			continue
		}
		l.Close()
	}
}

func TestEtcdTimeoutFlags(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, io.Discard, &stderr); code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	help := stderr.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`-etcd-request-timeout duration\n.*\(default 5s\)`),
		regexp.MustCompile(`-etcd-attempt-timeout duration\n.*\(default a quarter of -etcd-request-timeout, at most 1s\)`),
		regexp.MustCompile(`-etcd-watch-timeout duration\n.*\(default 1.5s\)`),
		regexp.MustCompile(`ENERGYLABEL_ADMIN_TOKEN +the admin token`),
		regexp.MustCompile(`-demo-token-file string`),
	} {
		if !want.MatchString(help) {
			t.Errorf("-h does not match %s:\n%s", want, help)
		}
	}

	c := config{etcd: "127.0.0.1:2379", etcdTimeouts: etcdTimeouts{request: 8 * time.Second, attempt: 2 * time.Second, watch: 3 * time.Second}}
	if got := etcdOptions(c); got.RequestTimeout != 8*time.Second || got.AttemptTimeout != 2*time.Second || got.WatchTimeout != 3*time.Second {
		t.Errorf("etcdOptions: request %s, attempt %s, watch %s; want 8s, 2s, 3s", got.RequestTimeout, got.AttemptTimeout, got.WatchTimeout)
	}
	// The defaults -h shows are the backend's: given as they are, or left
	// out, they make the same store.
	var _ etcdstore.Options = etcdOptions(config{})

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-etcd-request-timeout", "3s"}, "-etcd-request-timeout needs -etcd"},
		{[]string{"-etcd-watch-timeout", "3s"}, "-etcd-watch-timeout needs -etcd"},
		{[]string{"-etcd", "127.0.0.1:1", "-etcd-attempt-timeout", "0s"}, "-etcd-attempt-timeout 0s: want a positive duration"},
		{[]string{"-etcd", "127.0.0.1:1", "-etcd-request-timeout", "-1s"}, "-etcd-request-timeout -1s: want a positive duration"},
		{[]string{"-etcd", "127.0.0.1:1", "-etcd-request-timeout", "2s", "-etcd-attempt-timeout", "3s"}, "longer than -etcd-request-timeout"},
		{[]string{"-demo-token-file", "x"}, "-demo-token-file needs -demo"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), tt.args, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}
