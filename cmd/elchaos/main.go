// Command elchaos is energylabel's own fault-injection suite: it starts
// three etcd members and three energylabeld replicas, each in a network
// namespace of its own, drives concurrent clients against them over gRPC
// and HTTP while it kills, pauses, compacts, starves of quorum and
// partitions, and then checks the clients' history: no acknowledged write
// lost, no phantom, no duplicate, read-your-writes, monotonic reads,
// honest staleness, and linearizability of each model's current result
// (porcupine). It writes report.md into -dir and exits 1 when a hard
// check fails (or, with -strict, a soft target).
//
//	elchaos -etcd BIN -energylabeld BIN -dir DIR [-short] [-strict]
//
// scripts/chaos.sh builds it and runs it in one command. It needs root
// (ip netns). The unit tests (go test ./cmd/elchaos) test only the
// checker, on synthetic histories.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	dir      string
	etcd     string
	eld      string
	short    bool
	strict   bool
	think    time.Duration
	linTime  time.Duration
	keepData bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("elchaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.dir, "dir", "", "directory for the report, the history, logs and etcd's data (required)")
	fs.StringVar(&o.etcd, "etcd", "etcd", "etcd binary (3.4 or later)")
	fs.StringVar(&o.eld, "energylabeld", "", "energylabeld binary (required)")
	fs.BoolVar(&o.short, "short", false, "the short schedule (about 3 minutes), for CI")
	fs.BoolVar(&o.strict, "strict", false, "fail the run when a soft target fails too")
	fs.DurationVar(&o.think, "think", 100*time.Millisecond, "how often each writer starts a submission")
	fs.BoolVar(&o.keepData, "keep-data", false, "keep etcd's data directories (DIR/data) at the end")
	fs.DurationVar(&o.linTime, "lin-timeout", 2*time.Minute, "how long porcupine may search")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: elchaos -etcd BIN -energylabeld BIN -dir DIR [-short] [-strict]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.dir == "" || o.eld == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "elchaos: needs root, for network namespaces (ip netns)")
		return 2
	}
	code, err := chaos(ctx, o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "elchaos: %v\n", err)
		if code == 0 {
			code = 2
		}
	}
	return code
}

func chaos(ctx context.Context, o options, stdout io.Writer) (int, error) {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return 2, err
	}
	for _, d := range []string{"logs", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return 2, err
		}
	}
	logFile, err := os.Create(filepath.Join(dir, "elchaos.log"))
	if err != nil {
		return 2, err
	}
	defer logFile.Close()
	t0 := time.Now()
	logf := func(format string, args ...any) {
		line := fmt.Sprintf("[%6.1fs] %s", time.Since(t0).Seconds(), fmt.Sprintf(format, args...))
		fmt.Fprintln(stdout, line)
		fmt.Fprintln(logFile, line)
	}
	sched := fullSchedule()
	if o.short {
		sched = shortSchedule()
	}
	etcdVersion, _ := exec.Command(o.etcd, "--version").Output()
	c, err := newCluster(dir, o.etcd, o.eld, logf)
	if err != nil {
		return 2, err
	}
	// Whatever happens from here, the processes, namespaces and bridge go.
	defer func() {
		logf("cleaning up: processes, network namespaces, bridges %s and %s", c.bridge, c.pbridge)
		c.teardown()
		if !o.keepData {
			os.RemoveAll(filepath.Join(dir, "data"))
		}
	}()
	logf("%s schedule, about %s of faults; clients on %s.0/24 (bridge %s), etcd peers on %s.0/24 (bridge %s)",
		sched.Name, sched.Duration().Round(time.Second), c.subnet, c.bridge, c.psubnet, c.pbridge)
	if err := c.network(); err != nil {
		return 2, err
	}
	c.configure()
	if err := c.startEtcd(ctx); err != nil {
		return 2, err
	}
	logf("etcd members up: %s", strings.Join(c.endpoints(), " "))
	for _, r := range c.replicas {
		if _, err := c.startReplica(ctx, r, 60*time.Second); err != nil {
			return 2, err
		}
	}
	logf("replicas up: r1 %s, r2 %s, r3 %s", c.replicas[0].grpcAddr(), c.replicas[1].grpcAddr(), c.replicas[2].grpcAddr())

	epoch := 10 * time.Second
	w, err := newWorkload(c, o.think, epoch)
	if err != nil {
		return 2, err
	}
	defer w.close()
	if err := w.createTokens(ctx); err != nil {
		return 2, err
	}

	wctx, stopWorkload := context.WithCancel(ctx)
	workDone := make(chan struct{})
	go func() { w.run(wctx); close(workDone) }()
	defer func() { stopWorkload(); <-workDone }()

	logf("workload: %d writers (%d groups of two sharing %d models every %s), %d readers a replica, %d history readers, /healthz polls",
		writers, groups, modelsPerGroup, epoch, infoReaders, historyReaders)
	baseline := &Event{N: 0, Kind: "baseline", Target: "none", Start: time.Now()}
	sleep(ctx, sched.Warmup)
	baseline.Heal = time.Now()
	baseline.End = baseline.Heal
	events := []*Event{baseline}
	for i, st := range sched.Steps {
		if ctx.Err() != nil {
			break
		}
		ev := c.inject(ctx, i+1, st)
		if len(events) > 0 {
			events[len(events)-1].End = ev.Start
		}
		events = append(events, ev)
		logf("fault #%d %s on %s: held %s; %s", ev.N, ev.Kind, ev.Target, ev.Hold, strings.Join(ev.Notes, "; "))
		sleep(ctx, st.Settle)
	}
	if ctx.Err() != nil {
		return 2, errors.New("interrupted")
	}
	events[len(events)-1].End = time.Now()

	// Quiesce: everything back, then the writers stop.
	c.heal(ctx)
	for _, r := range c.replicas {
		if err := waitHealthy(ctx, r, 60*time.Second); err != nil {
			logf("%s not healthy 60s after the last fault: %v", r.name, err)
		}
	}
	stopWorkload()
	<-workDone
	stopped := time.Now()
	logf("writers stopped: %d submissions, %d reads", len(w.writes), len(w.reads))

	conv, convRev, convErr := converge(ctx, c, 60*time.Second)
	if convErr != nil {
		logf("convergence: %v", convErr)
	} else {
		logf("every replica at etcd's revision %d %.2fs after the writers stopped", convRev, conv.Sub(stopped).Seconds())
	}
	var models []string
	for _, wr := range w.writes {
		models = append(models, wr.Model)
	}
	final := collect(ctx, c, dedupe(models))
	logf("final reads: %d models on r1, %d errors", len(final.History[0]), len(final.Errors))

	// The cluster is no longer needed; free the machine for the checks.
	stopWorkload()
	c.teardown()

	logf("checking")
	rep := Check(w.writes, w.reads, final)
	lin := CheckLinearizable(w.writes, w.reads, o.linTime)
	var figs []*Figures
	for _, ev := range events {
		figs = append(figs, windowFigures(ev, w.writes, w.reads, w.health, rep, rep.LostOps, len(c.replicas)))
	}
	targets := softTargets(figs[1:], w.reads, rep)

	res := &runResult{
		Schedule: sched, Started: t0, Took: time.Since(t0), Dir: dir, EtcdVersion: firstLine(string(etcdVersion)),
		Events: events, Figures: figs, Report: rep, Lin: lin, Targets: targets, Strict: o.strict, Think: o.think,
		WritersStopped: stopped, ConvergedAt: conv, ConvergedRev: convRev, ConvergeErr: convErr,
		Writes: len(w.writes), Reads: len(w.reads), ReadsList: w.reads, FinalErrors: final.Errors,
	}
	for _, e := range []struct {
		name string
		v    any
	}{{"writes.json", w.writes}, {"reads.json", w.reads}, {"health.json", w.health}, {"final.json", final}, {"events.json", events}} {
		if err := writeJSON(filepath.Join(dir, e.name), e.v); err != nil {
			return 2, err
		}
	}
	md := res.markdown()
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md), 0o644); err != nil {
		return 2, err
	}
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, res.summary())
	fmt.Fprintf(stdout, "\nreport: %s\n", filepath.Join(dir, "report.md"))
	return res.exitCode(), nil
}

// converge waits until every replica answers /healthz 200 and reports
// etcd's head revision.
func converge(ctx context.Context, c *cluster, timeout time.Duration) (time.Time, int64, error) {
	deadline := time.Now().Add(timeout)
	var rss []energylabelv1.RatingServiceClient
	for _, r := range c.replicas {
		conn, err := grpc.NewClient(r.grpcAddr(), dialOpts...)
		if err != nil {
			return time.Now(), 0, err
		}
		defer conn.Close()
		rss = append(rss, energylabelv1.NewRatingServiceClient(conn))
	}
	var last string
	for time.Now().Before(deadline) && ctx.Err() == nil {
		head, err := c.headRevision(ctx)
		if err != nil {
			last = err.Error()
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		all := true
		var revs []string
		for i, r := range c.replicas {
			ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
			info, err := rss[i].GetServerInfo(ictx, &energylabelv1.GetServerInfoRequest{})
			cancel()
			rev := info.GetRevision()
			revs = append(revs, fmt.Sprintf("%s %d", r.name, rev))
			if err != nil || rev < head || healthz(ctx, r) != 200 {
				all = false
			}
		}
		if all {
			return time.Now(), head, nil
		}
		last = fmt.Sprintf("etcd at %d; %s", head, strings.Join(revs, ", "))
		sleep(ctx, 50*time.Millisecond)
	}
	return time.Now(), 0, fmt.Errorf("%w within %s: %s", errNotConverged, timeout, last)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}

func writeJSON(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	if err := enc.Encode(v); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
