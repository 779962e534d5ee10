package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
)

// soundDatabase makes a data directory with 3,000 results and returns its
// file's bytes.
func soundDatabase(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	st, err := boltdb.Open(dir, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var batch []storage.Accepted
	for i := range 3000 {
		r := &rating.Result{Model: fmt.Sprintf("acme/m%d", i), Task: "text-classification", Accelerator: "H100", GPUCount: 1, Queries: 1000, GPUEnergyWh: 0.1 + float64(i%89)/100}
		m, err := rating.Normalise(r)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, storage.Accepted{Result: r, Measure: m, Audit: storage.Audit{TokenID: "admin", ReceivedAt: time.Now()}})
	}
	if _, _, err := st.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	st.Close()
	b, err := os.ReadFile(filepath.Join(dir, boltdb.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runDaemon runs the test binary as energylabeld with args, and returns its
// exit code and stdout and stderr; it fails the test if it runs on.
func runDaemon(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ENERGYLABELD_TEST_MAIN=1", "ENERGYLABEL_ADMIN_TOKEN="+crashAdminToken)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("energylabeld %s did not exit:\n%s", strings.Join(args, " "), errOut.String())
	}
	return code, out.String(), errOut.String()
}

func TestDamagedDatabasesStopTheServerWithOneLine(t *testing.T) {
	sound := soundDatabase(t)
	const pageSize = 4096
	randomPages := append([]byte(nil), sound...)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 2 * pageSize; i < len(randomPages); i++ {
		randomPages[i] = byte(r.Uint32())
	}
	tests := []struct {
		name string
		file []byte
		says string
	}{
		{"a copy truncated to 8 KB", sound[:8<<10], "truncated"},
		{"a copy truncated to half", sound[:len(sound)/2], "truncated"},
		{"a copy whose pages after the two meta pages are random", randomPages, "damaged database"},
		{"a 0-byte file without -init", nil, "empty (0 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, boltdb.FileName)
			if err := os.WriteFile(path, tt.file, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"-data", dir, "-grpc", "127.0.0.1:0", "-http", "127.0.0.1:0"},
				{"-check", "-data", dir},
			} {
				code, _, stderr := runDaemon(t, args...)
				t.Logf("energylabeld %s: exit %d: %s", args[0], code, stderr)
				if code != 1 {
					t.Errorf("energylabeld %s exited %d, want 1", args[0], code)
				}
				if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 {
					t.Errorf("energylabeld %s wrote %d lines, want one:\n%s", args[0], len(lines), stderr)
				}
				for _, trace := range []string{"goroutine", "panic", "SIGSEGV", "SIGBUS", "fault"} {
					if strings.Contains(stderr, trace) {
						t.Errorf("energylabeld %s wrote %q: %s", args[0], trace, stderr)
					}
				}
				if !strings.Contains(stderr, path) || !strings.Contains(stderr, tt.says) {
					t.Errorf("energylabeld %s: %q does not name the file and say %q", args[0], stderr, tt.says)
				}
			}
		})
	}
}

func TestCheckReportsASoundDatabase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, boltdb.FileName), soundDatabase(t), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runDaemon(t, "-check", "-data", dir)
	if code != 0 || !strings.Contains(stdout, "3000 results") || !strings.Contains(stdout, "ok: tx.Check found no problem") {
		t.Errorf("energylabeld -check on a sound database: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestAnEmptyFileServesOnlyWithInit(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, boltdb.FileName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	addrs := freeAddrs(t, 2)
	proc, logs := startDaemon(t, dir, addrs[0], addrs[1], "-init")
	conn, err := grpc.NewClient(addrs[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if !serving(conn) {
		t.Fatalf("energylabeld -init on an empty file does not serve:\n%s", logs)
	}
	proc.Process.Kill()
}
