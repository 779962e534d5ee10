package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/energylabel/energylabel/internal/synth"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// listFilters are the ListRatings requests of the scale target. Each spans
// several cohorts, so that a page of 50 fills even in a registry of 1,000
// results, where a cohort holds about ten models.
var listFilters = []*energylabelv1.ListRatingsRequest{
	{Task: "text-generation"},                                     // AIES size classes A, B and C
	{Task: "text-generation", Dataset: "ml.energy/lm-arena-chat"}, // H100 A, B, C and B200 A
}

// prepare writes the request sets the load tools replay: getrating.json
// and list.json for ghz (arrays, sent round-robin) and badges.tsv (path,
// then ETag) for the HTTP load. Models are sampled evenly over the
// registry's series.
func prepare(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	addr := fs.String("addr", "127.0.0.1:50051", "gRPC address")
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP address")
	n := fs.Int("n", 10000, "results the registry was loaded with")
	seed := fs.Uint64("seed", 1, "registry seed")
	models := fs.Int("models", 1000, "models to sample")
	out := fs.String("out", ".", "directory for the request sets")
	if err := fs.Parse(args); err != nil {
		return err
	}
	conn, err := dialGRPC(*addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	rs := energylabelv1.NewRatingServiceClient(conn)

	series := synth.New(synth.Config{Results: *n, Seed: *seed}).Series()
	k := min(*models, len(series))
	var gets []map[string]string
	badges, err := os.Create(filepath.Join(*out, "badges.tsv"))
	if err != nil {
		return err
	}
	defer badges.Close()
	bw := bufio.NewWriter(badges)
	for i := range k {
		s := series[i*len(series)/k]
		gets = append(gets, map[string]string{"model": s.Model})
		path := "/badge/" + s.Model + ".svg?task=" + url.QueryEscape(s.Task())
		etag, err := fetchETag(ctx, "http://"+*httpAddr+path)
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, "%s\t%s\n", path, etag)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(*out, "getrating.json"), gets); err != nil {
		return err
	}

	// ListRatings: each filter's first page, and pages deep into it.
	var lists []json.RawMessage
	rows, pages := 0, 0
	for _, f := range listFilters {
		reqs, err := listRequests(ctx, rs, f, 20)
		if err != nil {
			return err
		}
		for _, req := range reqs {
			resp, err := rs.ListRatings(ctx, req)
			if err != nil {
				return err
			}
			rows += len(resp.GetRatings())
			pages++
			b, _ := protojson.Marshal(req)
			lists = append(lists, b)
		}
	}
	if err := writeJSON(filepath.Join(*out, "list.json"), lists); err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{
		"models": k, "series": len(series), "list_requests": pages, "list_rows_per_page": float64(rows) / float64(pages),
	})
}

// listRequests pages through a filter 1,000 at a time and returns its
// first page and up to deep pages spread over its length, each of 50.
func listRequests(ctx context.Context, rs energylabelv1.RatingServiceClient, f *energylabelv1.ListRatingsRequest, deep int) ([]*energylabelv1.ListRatingsRequest, error) {
	page := func(token string, size int32) *energylabelv1.ListRatingsRequest {
		return &energylabelv1.ListRatingsRequest{Task: f.Task, Dataset: f.Dataset, PageSize: size, PageToken: token}
	}
	var tokens []string
	for token := ""; ; {
		resp, err := rs.ListRatings(ctx, page(token, 1000))
		if err != nil {
			return nil, err
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
		tokens = append(tokens, token)
	}
	out := []*energylabelv1.ListRatingsRequest{page("", 50)}
	for i := range min(deep, len(tokens)) {
		out = append(out, page(tokens[i*len(tokens)/min(deep, len(tokens))], 50))
	}
	return out, nil
}

func fetchETag(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
		return "", fmt.Errorf("GET %s: %s without an ETag", u, resp.Status)
	}
	return resp.Header.Get("ETag"), nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
