package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"time"
)

// wait polls /healthz until the server answers 200 and reports the time
// since -since: start-up, when -since is when the server was started.
func wait(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	addr := fs.String("http", "127.0.0.1:8080", "HTTP address")
	since := fs.Int64("since", 0, "start, in Unix nanoseconds (default now)")
	timeout := fs.Duration("timeout", time.Minute, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	if *since != 0 {
		start = time.Unix(0, *since)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+*addr+"/healthz", nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return printJSON(stdout, map[string]any{"seconds": time.Since(start).Seconds()})
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("the server did not become healthy in time")
		case <-time.After(5 * time.Millisecond):
		}
	}
}
