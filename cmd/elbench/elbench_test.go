package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
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

// The section of a scale run holds its targets between the scale markers,
// from the files scripts/bench.sh scale writes.
func TestScaleReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(p99ms float64) string {
		return fmt.Sprintf(`{"count": 1000, "total": 1000000000, "statusCodeDistribution": {"OK": 1000},
			"latencyDistribution": [{"percentage": 50, "latency": 1000000}, {"percentage": 99, "latency": %d}]}`, int64(p99ms*1e6))
	}
	write("params.json", `{"n": 10000000, "small": 1000, "duration": "10s", "concurrency": 16, "seed": 1, "go_version": "go", "filesystem": "ext4", "commit": "abc"}`)
	for _, size := range []string{"small", "large"} {
		write(size+"/prepare.json", `{"list_rows_per_page": 50}`)
		for i, p99 := range []float64{3, 2} {
			if size == "large" {
				p99 *= 1.2
			}
			write(fmt.Sprintf("%s/getrating-%d.json", size, i+1), run(p99))
			write(fmt.Sprintf("%s/list-%d.json", size, i+1), run(10*p99))
		}
	}
	write("large/startup-1.json", `{"seconds": 4.5}`)
	write("large/startup-2.json", `{"seconds": 3.5}`)
	write("large/startup-3.json", `{"seconds": 3.9}`)
	write("large/rss.json", `{"VmRSS": 2500000, "VmHWM": 3000000, "RssAnon": 1000000, "RssFile": 1500000}`)
	write("large/load-rss.json", `{"VmRSS": 2000000, "VmHWM": 2100000, "RssAnon": 900000, "RssFile": 1100000}`)
	write("large/load.json", `{"results": 10000000, "seconds": 400, "results_per_second": 25000, "series": 2000000}`)
	write("large/disk.json", `{"bytes": 7500000000, "allocated": 7400000000}`)
	var out bytes.Buffer
	if err := report(context.Background(), flag.NewFlagSet("report", flag.ContinueOnError), []string{"-scale", "-dir", dir}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{scaleStart + "\n## At 10,000,000 results", "| S1. Start-up with 10,000,000 results, index rebuilt | ≤ 5 s | **3.50 s** |", "the best of 3 restarts: 4.50 s, 3.50 s, 3.90 s",
		"**977 MiB**", "**1.20×**", "**25,000/s**", "**750 bytes**", "5 of 5 targets met.", "| 1,000 | list-2 |", scaleEnd + "\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("the section lacks %q:\n%s", want, s)
		}
	}
	if !strings.HasSuffix(s, scaleEnd+"\n") {
		t.Error("the section does not end with its marker")
	}
}
