package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/energylabel/energylabel/storage/boltdb"
)

func TestSecondServerOnTheSameDirectoryExitsNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	addrs := freeAddrs(t, 4)
	first, logs := startDaemon(t, dir, addrs[0], addrs[1])
	conn, _ := grpc.NewClient(addrs[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	defer conn.Close()
	if !serving(conn) {
		t.Fatalf("first server did not start:\n%s", logs)
	}
	var stderr bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"-data", dir, "-grpc", addrs[2], "-http", addrs[3]}, io.Discard, &stderr)
	if code != 1 {
		t.Errorf("second server exited %d, want 1", code)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("second server took %s to give up", time.Since(start))
	}
	if msg := stderr.String(); !strings.Contains(msg, filepath.Join(dir, boltdb.FileName)) || !strings.Contains(msg, "locked") {
		t.Errorf("message %q does not name the locked file", msg)
	}
	first.Process.Kill()
}

func TestUsageAndBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		code int
		want string
	}{
		{"unknown flag is a usage error", []string{"-nope"}, "", 2, "flag provided but not defined"},
		{"stray argument is a usage error", []string{"serve"}, "", 2, "unexpected argument"},
		{"short admin token is refused", []string{"-data", "DIR"}, "short", 1, "at least 32 characters"},
		{"half a TLS pair is refused", []string{"-data", "DIR", "-tls-cert", "x.pem"}, "", 1, "-tls-cert and -tls-key go together"},
		{"a move needs etcd", []string{"-import-from", "DIR"}, "", 2, "-import-from needs -etcd"},
		{"etcd flags need etcd", []string{"-etcd-prefix", "/x/"}, "", 2, "-etcd-prefix needs -etcd"},
		{"a data directory means nothing on etcd", []string{"-etcd", "127.0.0.1:1", "-data", "DIR"}, "", 2, "-data is for bbolt"},
		{"the demo is bbolt's", []string{"-etcd", "127.0.0.1:1", "-demo"}, "", 2, "-demo is for bbolt"},
		{"half an etcd client certificate is refused", []string{"-etcd", "127.0.0.1:1", "-etcd-cert", "x.pem"}, "", 1, "needs both a cert and a key file"},
		{"a move from a directory without a database is refused", []string{"-etcd", "127.0.0.1:1", "-import-from", "DIR"}, "", 1, "energylabel.db: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ENERGYLABEL_ADMIN_TOKEN", tt.env)
			for i, a := range tt.args {
				if a == "DIR" {
					tt.args[i] = t.TempDir()
				}
			}
			var stderr bytes.Buffer
			if code := run(context.Background(), tt.args, io.Discard, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.want)
			}
		})
	}
}
