package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/synth"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

// The collateral cost of a flood: how much slower a well-behaved client
// on one address gets while another address floods the server with
// requests that cost it much. reader is the well-behaved client; flood
// the other, run pinned to one core at a stated offered rate, so that
// the figure measures the server's policy, not the flooder's CPU.

// dialerFrom dials from a local address of its own.
func dialerFrom(from string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
}

func httpClientFrom(from string, conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: dialerFrom(from).DialContext, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
	}}
}

func grpcFrom(from, addr string) (*grpc.ClientConn, error) {
	d := dialerFrom(from)
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) { return d.DialContext(ctx, "tcp", a) }))
}

// reader reads badges at a fixed rate, from its own address, and reports
// its latencies.
func reader(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP address")
	from := fs.String("from", "127.0.0.2", "local address to read from")
	urls := fs.String("urls", "", "file of badge paths, one a line (a tab and an ETag may follow)")
	perSecond := fs.Float64("rate", 100, "reads a second")
	dur := fs.Duration("d", 10*time.Second, "duration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*urls)
	if err != nil {
		return err
	}
	var paths []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		p, _, _ := strings.Cut(l, "\t")
		paths = append(paths, p)
	}
	client := httpClientFrom(*from, 4)
	lim := rate.NewLimiter(rate.Limit(*perSecond), 1)
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	var lat []time.Duration
	failed := 0
	for i := 0; lim.Wait(ctx) == nil; i++ {
		start := time.Now()
		resp, err := client.Get("http://" + *httpAddr + paths[i%len(paths)])
		if err != nil {
			failed++
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			failed++
			continue
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p/100*float64(len(lat))))].Seconds() * 1000
	}
	return printJSON(stdout, map[string]any{"reads": len(lat), "failed": failed, "p50_ms": pct(50), "p99_ms": pct(99)})
}

// floodKinds are the floods, each the cost an outsider found unbounded.
var floodKinds = map[string]string{
	"watch-hold":     "WatchRatings streams held open, as many as the server lets one address",
	"watch-replay":   "WatchRatings from revision 1 with a filter that matches nothing",
	"history":        "GetHistory of a model with 20,000 results, filtered to match nothing",
	"task-page":      "/tasks/text-generation",
	"search":         "/search for one publisher's 50 models in 20 cohorts each",
	"label-png":      "label.png of ever different models",
	"badge-hardware": "badges with hardware= of 128 random characters",
	"unknown-model":  "GetRating of models that do not exist",
	"import":         "an admin import of 16,384 results, no one watching: the baseline of import-watched",
	"import-watched": "64 watches from one address (as many as it may hold are), then an admin import of 16,384 results",
}

// flood sends one kind of costly request at an offered rate, from its own
// address, and counts how the server answered.
func flood(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	addr := fs.String("addr", "127.0.0.1:50051", "gRPC address")
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP address")
	from := fs.String("from", "127.0.0.3", "local address to flood from")
	kind := fs.String("kind", "", "what to flood with: "+strings.Join(slices.Sorted(maps.Keys(floodKinds)), ", "))
	perSecond := fs.Float64("rate", 100, "requests offered a second")
	workers := fs.Int("c", 8, "concurrent requests at most")
	dur := fs.Duration("d", 10*time.Second, "duration")
	token := fs.String("token", "", "admin token, to set up the data a flood needs")
	n := fs.Int("n", 300_000, "results the registry was loaded with (elbench load): label-png cycles over its models")
	seed := fs.Uint64("seed", 1, "registry seed")
	setupOnly := fs.Bool("setup", false, "only store the data the flood reads, and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if floodKinds[*kind] == "" {
		return fmt.Errorf("unknown -kind %q", *kind)
	}
	conn, err := grpcFrom(*from, *addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	rs := energylabelv1.NewRatingServiceClient(conn)
	web := httpClientFrom(*from, *workers)
	if *setupOnly {
		if err := setUp(ctx, *kind, *addr, *token); err != nil {
			return fmt.Errorf("setting up %s: %w", *kind, err)
		}
		return nil
	}
	var labels []string
	if *kind == "label-png" {
		for _, s := range synth.New(synth.Config{Results: *n, Seed: *seed}).Series() {
			labels = append(labels, "/label/"+s.Model+".png?task="+url.QueryEscape(s.Task()))
		}
	}

	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	var mu sync.Mutex
	outcomes := map[string]int{}
	count := func(what string) {
		mu.Lock()
		outcomes[what]++
		mu.Unlock()
	}
	get := func(path string) {
		resp, err := web.Get("http://" + *httpAddr + path)
		if err != nil {
			count("error")
			return
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		what := fmt.Sprint(resp.StatusCode)
		if resp.Header.Get("Cache-Control") == "max-age=10" {
			what += " busy"
		}
		count(what)
		mu.Lock()
		outcomes["bytes"] += int(n)
		mu.Unlock()
	}
	grpcOutcome := func(err error) {
		if err == nil {
			count("OK")
			return
		}
		count(status.Code(err).String())
	}
	var seq atomic.Int64
	one := func() {
		i := seq.Add(1)
		switch *kind {
		case "watch-replay":
			// The server replays every revision, sends nothing (the
			// filter matches nothing), then waits: its cost is the
			// replay, so the client lets go after a quarter second.
			wctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
			defer cancel()
			stream, err := rs.WatchRatings(wctx, &energylabelv1.WatchRatingsRequest{StartRevision: 1, Model: "nobody/none"})
			if err == nil {
				_, err = stream.Recv()
			}
			if ctx.Err() != nil {
				return
			}
			if wctx.Err() != nil {
				err = nil // held until the client let go
			}
			grpcOutcome(err)
		case "history":
			_, err := rs.GetHistory(ctx, &energylabelv1.GetHistoryRequest{Model: deepModel, Task: "image-classification", PageSize: 100})
			if ctx.Err() == nil {
				grpcOutcome(err)
			}
		case "unknown-model":
			_, err := rs.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: fmt.Sprintf("nobody/model-%d", i)})
			if ctx.Err() == nil {
				grpcOutcome(err)
			}
		case "task-page":
			get("/tasks/text-generation")
		case "search":
			get("/search?q=everywhere")
		case "label-png":
			get(labels[int(i)%len(labels)])
		case "badge-hardware":
			get("/badge/acme/x.svg?hardware=" + url.QueryEscape(randomName(128)))
		}
	}

	start := time.Now()
	switch *kind {
	case "watch-hold":
		return holdWatches(ctx, rs, *addr, stdout)
	case "import":
		return importWatched(ctx, rs, *addr, *token, 0, stdout)
	case "import-watched":
		return importWatched(ctx, rs, *addr, *token, 64, stdout)
	}
	lim := rate.NewLimiter(rate.Limit(*perSecond), 1)
	slots := make(chan struct{}, *workers)
	var wg sync.WaitGroup
	offered := 0
	for lim.Wait(ctx) == nil {
		offered++
		select {
		case slots <- struct{}{}:
		default:
			count("not sent: every worker busy")
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			one()
		})
	}
	wg.Wait()
	took := time.Since(start)
	return printJSON(stdout, map[string]any{"kind": *kind, "offered": offered, "offered_per_second": float64(offered) / took.Seconds(), "outcomes": outcomes})
}

// holdWatches opens watches from the flood's address until the server
// refuses one, holds them, and checks that another address still can
// watch.
func holdWatches(ctx context.Context, rs energylabelv1.RatingServiceClient, addr string, stdout io.Writer) error {
	// Watches open 32 at a time; a refused one ends at once, a held one
	// sends nothing.
	opened, refusal := 0, ""
	ended := make(chan error, 2048)
	for opened < 2048 && refusal == "" {
		for range 32 {
			opened++
			stream, err := rs.WatchRatings(ctx, &energylabelv1.WatchRatingsRequest{})
			if err != nil {
				ended <- err
				continue
			}
			go func() { _, err := stream.Recv(); ended <- err }()
		}
		time.Sleep(300 * time.Millisecond)
		if len(ended) > 0 {
			refusal = status.Convert(<-ended).Message()
			ended <- nil // counted below
		}
	}
	held := opened - len(ended)
	other, err := grpcFrom("127.0.0.2", addr)
	if err != nil {
		return err
	}
	defer other.Close()
	stream, err := energylabelv1.NewRatingServiceClient(other).WatchRatings(ctx, &energylabelv1.WatchRatingsRequest{})
	otherOK := "yes"
	if err == nil {
		got := make(chan error, 1)
		go func() { _, err := stream.Recv(); got <- err }()
		select {
		case err = <-got:
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err != nil {
		otherOK = status.Convert(err).Message()
	}
	<-ctx.Done() // hold them while the reader reads
	return printJSON(stdout, map[string]any{"kind": "watch-hold", "held": held, "refused_with": refusal, "another_address_watches": otherOK})
}

// importWatched holds watches that match everything and read all they
// get, while the admin imports 16,384 results in one stream: every
// watcher is sent each of them.
func importWatched(ctx context.Context, rs energylabelv1.RatingServiceClient, addr, token string, watches int, stdout io.Writer) error {
	var events, watching atomic.Int64
	for range watches {
		stream, err := rs.WatchRatings(ctx, &energylabelv1.WatchRatingsRequest{})
		if err != nil {
			break
		}
		go func() {
			counted := false
			for {
				resp, err := stream.Recv()
				if err != nil {
					return // refused, past the address's share, or the end
				}
				if !counted {
					watching.Add(1)
					counted = true
				}
				events.Add(int64(len(resp.GetEvents())))
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	run := time.Now().UnixNano()
	results := make([]*energylabelv1.BenchmarkResult, 16_384)
	for i := range results {
		results[i] = &energylabelv1.BenchmarkResult{
			Model: fmt.Sprintf("flood/import-%d-%d", run, i), Task: "text-classification", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
			Queries: 1000, GpuEnergyWh: 2 + float64(i)*1e-4, DurationSeconds: 60,
		}
	}
	resp, err := importResults(ctx, addr, token, results)
	if err != nil {
		return err
	}
	<-ctx.Done()
	kind := "import-watched"
	if watches == 0 {
		kind = "import"
	}
	return printJSON(stdout, map[string]any{"kind": kind, "watchers": watching.Load(), "imported": resp.GetImported(), "events_received": events.Load()})
}

// deepModel is the model the history flood reads: 20,000 results in one
// cohort.
const deepModel = "flood/deep"

// setUp stores what a flood reads, through the admin token: a deep
// history, or a publisher whose models fill many cohorts.
func setUp(ctx context.Context, kind, addr, token string) error {
	var results []*energylabelv1.BenchmarkResult
	switch kind {
	case "history":
		for i := range 20_000 {
			results = append(results, &energylabelv1.BenchmarkResult{
				Model: deepModel, Task: "text-classification", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
				Queries: 1000, GpuEnergyWh: 2 + float64(i)*1e-4, DurationSeconds: 60,
			})
		}
	case "search":
		// One result of each of the generator's cohorts is a template.
		templates := map[string]*energylabelv1.BenchmarkResult{}
		synth.New(synth.Config{Results: 10_000, Seed: 1}).Each(func(r rating.Result) bool {
			key := r.Task + "\x00" + r.Dataset + "\x00" + r.Accelerator + "\x00" + r.SizeClass
			if templates[key] == nil {
				templates[key] = wire.BenchmarkResult(&r)
			}
			return true
		})
		for m := range 50 {
			for _, t := range templates {
				r := proto.Clone(t).(*energylabelv1.BenchmarkResult)
				r.Model = fmt.Sprintf("everywhere/model-%02d", m)
				r.GpuEnergyWh *= 1 + float64(m)/1000
				results = append(results, r)
			}
		}
	default:
		return nil
	}
	if token == "" {
		return errors.New("-token is needed to set the data up")
	}
	_, err := importResults(ctx, addr, token, results)
	if status.Code(err) == codes.AlreadyExists {
		return nil // set up by an earlier run
	}
	return err
}

// importResults imports results through the admin token, in messages of
// perMessage.
func importResults(ctx context.Context, addr, token string, results []*energylabelv1.BenchmarkResult) (*energylabelv1.ImportResultsResponse, error) {
	conn, err := dialGRPC(addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stream, err := energylabelv1.NewAdminServiceClient(conn).ImportResults(withToken(ctx, token))
	if err != nil {
		return nil, err
	}
	for part := range slices.Chunk(results, perMessage) {
		if err := stream.Send(&energylabelv1.ImportResultsRequest{Results: part}); err != nil {
			break // CloseAndRecv says why
		}
	}
	return stream.CloseAndRecv()
}

func randomName(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}
