package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHTTPLoadCountsAnswersOfTheExpectedStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"x"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	urls := filepath.Join(t.TempDir(), "urls.tsv")
	os.WriteFile(urls, []byte("/a\t\"x\"\n/b\t\"x\"\n"), 0o644)

	for _, args := range [][]string{
		{"-path", "/healthz"},
		{"-urls", urls},
		{"-urls", urls, "-etags"},
	} {
		var out bytes.Buffer
		args = append([]string{"-addr", addr, "-c", "2", "-d", "200ms", "-warmup", "50ms"}, args...)
		if err := httpLoad(context.Background(), flag.NewFlagSet("http", flag.ContinueOnError), args, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var r loadRun
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Codes["OK"] == 0 || r.rps() <= 0 || r.pct(99) <= 0 {
			t.Errorf("%v: %s", args, out.String())
		}
	}
	// A status other than the expected one stops the run with an error.
	err := httpLoad(context.Background(), flag.NewFlagSet("http", flag.ContinueOnError),
		[]string{"-addr", addr, "-c", "1", "-d", "100ms", "-warmup", "0s", "-path", "/", "-status", "204"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "status 200") {
		t.Errorf("unexpected status: %v", err)
	}
}

func TestStoreBenchAveragesWritesPerSecond(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store-bench.txt")
	os.WriteFile(path, []byte(`goos: linux
BenchmarkSubmitDurable-2       	    3400	    353726 ns/op	      2800 writes/s	    5301 B/op	      40 allocs/op
BenchmarkBoltBatchBaseline-2   	    3542	    343417 ns/op	       290.0 value-bytes	      3000 writes/s
BenchmarkSubmitDurable-2       	    3400	    353726 ns/op	      2600 writes/s	    5301 B/op	      40 allocs/op
BenchmarkBoltBatchBaseline-2   	    3542	    343417 ns/op	       290.0 value-bytes	      2800 writes/s
PASS
`), 0o644)
	submit, raw, value, err := storeBench(path, "SubmitDurable", "BoltBatchBaseline")
	if err != nil || submit != 2700 || raw != 2900 || value != 290 {
		t.Errorf("storeBench = %v, %v, %v, %v; want 2700, 2900, 290", submit, raw, value, err)
	}
	// The etcd pair, from the same kind of file; a missing one is an error.
	os.WriteFile(path, []byte(`BenchmarkAppendDurable-2   	   10000	    302836 ns/op	      3302 writes/s
BenchmarkRawTxnPutBaseline-2   	    9237	    465729 ns/op	       303.0 value-bytes	      2147 writes/s
`), 0o644)
	if a, r, v, err := storeBench(path, "AppendDurable", "RawTxnPutBaseline"); err != nil || a != 3302 || r != 2147 || v != 303 {
		t.Errorf("storeBench of the etcd pair = %v, %v, %v, %v", a, r, v, err)
	}
	if _, _, _, err := storeBench(path, "SubmitDurable", "BoltBatchBaseline"); err == nil {
		t.Error("storeBench found bbolt's benchmarks in the etcd ones")
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1000000: "1,000,000", 20147: "20,147"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
