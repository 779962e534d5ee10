package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// httpLoad is a small wrk: c keep-alive HTTP/1.1 connections, each sending
// the next request as soon as the last answer is read, for d. Requests are
// written and answers parsed by hand, so that the load generator costs
// the shared CPUs as little as possible; it reads Content-Length bodies
// only, which is what the server sends for health, badges and 304s.
func httpLoad(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP address")
	path := fs.String("path", "", "request this path (else -urls)")
	urls := fs.String("urls", "", "file of paths, one a line, each optionally followed by a tab and its ETag")
	etags := fs.Bool("etags", false, "send each path's ETag in If-None-Match (expects 304)")
	status := fs.Int("status", 0, "expected status (default 200, or 304 with -etags)")
	conns := fs.Int("c", 16, "connections")
	dur := fs.Duration("d", 10*time.Second, "duration")
	warmup := fs.Duration("warmup", time.Second, "load before measuring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	reqs, err := requests(*addr, *path, *urls, *etags)
	if err != nil {
		return err
	}
	want := 200
	if *etags {
		want = 304
	}
	if *status != 0 {
		want = *status
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	measuring, stop := start.Add(*warmup), start.Add(*warmup+*dur)

	type result struct {
		lat []time.Duration
		err error
	}
	results := make([]result, *conns)
	var wg sync.WaitGroup
	for w := range *conns {
		wg.Go(func() {
			lat, err := drive(ctx, *addr, reqs, w*len(reqs) / *conns, want, measuring, stop)
			results[w] = result{lat, err}
			if err != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	var all []time.Duration
	for _, r := range results {
		if r.err != nil && !errors.Is(r.err, context.Canceled) {
			return r.err
		}
		all = append(all, r.lat...)
	}
	if err := ctx.Err(); err != nil && len(all) == 0 {
		return err
	}
	slices.Sort(all)
	pct := func(p float64) int64 {
		if len(all) == 0 {
			return 0
		}
		return int64(all[min(len(all)-1, int(p/100*float64(len(all))))])
	}
	// The shape of ghz's JSON, so that one reader takes both.
	return printJSON(stdout, map[string]any{
		"count": len(all), "total": dur.Nanoseconds(), "rps": float64(len(all)) / dur.Seconds(), "status": want,
		"statusCodeDistribution": map[string]int{"OK": len(all)},
		"latencyDistribution": []map[string]any{
			{"percentage": 50, "latency": pct(50)}, {"percentage": 90, "latency": pct(90)},
			{"percentage": 99, "latency": pct(99)},
		},
	})
}

// requests builds the raw request bytes, one per path.
func requests(addr, path, file string, etags bool) ([][]byte, error) {
	var lines []string
	switch {
	case path != "":
		lines = []string{path}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
	default:
		return nil, errors.New("give -path or -urls")
	}
	var out [][]byte
	for _, l := range lines {
		p, etag, _ := strings.Cut(l, "\t")
		var b bytes.Buffer
		fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: elbench\r\n", p, addr)
		if etags {
			if etag == "" {
				return nil, fmt.Errorf("%s: no ETag in %s", p, file)
			}
			fmt.Fprintf(&b, "If-None-Match: %s\r\n", etag)
		}
		b.WriteString("\r\n")
		out = append(out, b.Bytes())
	}
	return out, nil
}

// drive runs one connection until stop, recording the latency of each
// answer received after measuring.
func drive(ctx context.Context, addr string, reqs [][]byte, next, want int, measuring, stop time.Time) ([]time.Duration, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	go func() { <-ctx.Done(); conn.SetDeadline(time.Now()) }()
	r := bufio.NewReaderSize(conn, 16<<10)
	lat := make([]time.Duration, 0, 1<<16)
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(stop) {
			return lat, nil
		}
		if _, err := conn.Write(reqs[next%len(reqs)]); err != nil {
			return lat, err
		}
		next++
		code, err := readResponse(r)
		if err != nil {
			return lat, err
		}
		if code != want {
			return lat, fmt.Errorf("status %d, want %d", code, want)
		}
		if t0.After(measuring) {
			lat = append(lat, time.Since(t0))
		}
	}
	return lat, ctx.Err()
}

// readResponse reads one response and returns its status code.
func readResponse(r *bufio.Reader) (int, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length := 0
	for {
		h, err := r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, errors.New("chunked answers are not supported")
		}
	}
	_, err = r.Discard(length)
	return code, err
}
