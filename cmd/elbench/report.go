package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// run is one load run as ghz reports it in JSON, or elbench http in the
// same shape.
type loadRun struct {
	Count   int64            `json:"count"`
	Total   int64            `json:"total"` // ns
	Codes   map[string]int64 `json:"statusCodeDistribution"`
	Latency []struct {
		Percentage float64 `json:"percentage"`
		Latency    int64   `json:"latency"` // ns
	} `json:"latencyDistribution"`
}

// rps counts successful calls only: ghz also counts the calls it cancels
// when its time is up.
func (r loadRun) rps() float64 { return float64(r.Codes["OK"]) / (float64(r.Total) / 1e9) }

func (r loadRun) pct(p float64) time.Duration {
	for _, l := range r.Latency {
		if l.Percentage == p {
			return time.Duration(l.Latency)
		}
	}
	return 0
}

// reportDir reads the files scripts/bench.sh writes.
type reportDir struct {
	dir string
	err error
}

func (d *reportDir) read(name string, v any) {
	if d.err != nil {
		return
	}
	b, err := os.ReadFile(filepath.Join(d.dir, name))
	if err != nil {
		d.err = err
		return
	}
	if err := json.Unmarshal(b, v); err != nil {
		d.err = fmt.Errorf("%s: %w", name, err)
	}
}

func (d *reportDir) run(name string) loadRun {
	var r loadRun
	d.read(name, &r)
	if d.err == nil && r.Codes["OK"] == 0 {
		d.err = fmt.Errorf("%s: no successful calls", name)
	}
	return r
}

// pair is a measure taken twice, in ABBA order against its baseline.
func (d *reportDir) pair(name string) (a, b loadRun) {
	return d.run(name + "-1.json"), d.run(name + "-2.json")
}

// bestRPS and bestPct take the better of two runs. Other work on a shared
// machine only ever slows a run down, so the better run is the nearer to
// what the server can do; both sides of every ratio are taken alike.
// cpuPerCall is the server's CPU time per successful call, in µs, over
// both runs of a pair: the ticks scripts/bench.sh read from /proc around
// each run, over the calls ghz counted.
func (d *reportDir) cpuPerCall(name string, a, b loadRun) float64 {
	var ticks float64
	for i := 1; i <= 2; i++ {
		var c struct{ Ticks, Hz float64 }
		d.read(fmt.Sprintf("%s-%d.cpu.json", name, i), &c)
		if c.Hz > 0 {
			ticks += c.Ticks / c.Hz
		}
	}
	calls := float64(a.Codes["OK"] + b.Codes["OK"])
	if calls == 0 {
		return 0
	}
	return ticks / calls * 1e6
}

func bestRPS(a, b loadRun) float64 { return max(a.rps(), b.rps()) }

func bestPct(p float64, a, b loadRun) time.Duration { return min(a.pct(p), b.pct(p)) }

type row struct {
	target, required, measured, baseline, absolute string
	pass                                           bool
	info                                           bool // not a target: context for the one above
}

// benchParams is params.json, which scripts/bench.sh writes.
type benchParams struct {
	N, Small    int
	Duration    string
	Concurrency int
	Seed        uint64
	GoVersion   string `json:"go_version"`
	Filesystem  string
	Commit      string
	EtcdN       int    `json:"etcd_n"`
	Etcd        string // the members' version
}

// memory is what scripts/bench.sh reads of the server's /proc status, in
// KiB: RssAnon is its own memory, VmRSS that with the pages of the mapped
// database file it has read (RssFile), VmHWM the peak of VmRSS. Files
// written before RssAnon was kept read it as 0.
type memory struct {
	VmRSS, VmHWM, RssAnon, RssFile int64
}

func mib(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

// disk is the database file after the bulk load: its size, and the bytes
// the filesystem allocated for it.
type disk struct {
	Bytes, Allocated int64
}

// bulkLoad is what elbench load printed.
type bulkLoad struct {
	Results int64
	Seconds float64
	Rate    float64 `json:"results_per_second"`
	Series  int
}

// report writes the table of targets from a directory of results; with
// -scale, the section of a scale run (scripts/bench.sh scale).
func report(_ context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	dir := fs.String("dir", ".", "results directory written by scripts/bench.sh")
	scaleRun := fs.Bool("scale", false, "the section of a scale run (scripts/bench.sh scale), between its markers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d := &reportDir{dir: *dir}
	var params benchParams
	d.read("params.json", &params)
	if *scaleRun {
		return scaleReport(d, params, stdout)
	}

	var rows []row
	ratio := func(target, required string, min, measured, baseline float64, unit, extra string) {
		r := measured / baseline
		rows = append(rows, row{target, required, fmt.Sprintf("**%.2f×**", r), fmt.Sprintf("%s %s", num(baseline), unit),
			fmt.Sprintf("%s %s%s", num(measured), unit, extra), r >= min, false})
	}
	scale := func(target string, at1M, at1k time.Duration, extra string) {
		r := float64(at1M) / float64(at1k)
		rows = append(rows, row{target, "≤ 1.5×", fmt.Sprintf("**%.2f×**", r), fmt.Sprintf("%s at %s", ms(at1k), count(params.Small)),
			fmt.Sprintf("%s at %s%s", ms(at1M), count(params.N), extra), r <= 1.5, false})
	}

	// 1. GetRating against the gRPC floor.
	h1, h2 := d.pair("large/health")
	g1, g2 := d.pair("large/getrating")
	ratio("1. GetRating throughput vs grpc.health.v1.Health/Check (ghz, 16 concurrent, keep-alive)", "≥ 0.80×", 0.80,
		bestRPS(g1, g2), bestRPS(h1, h2), "calls/s",
		fmt.Sprintf("; p99 %s vs %s", ms(bestPct(99, g1, g2)), ms(bestPct(99, h1, h2))))

	// 1c. Server CPU per call, from energylabeld's own counters.
	hc, gc := d.cpuPerCall("large/health", h1, h2), d.cpuPerCall("large/getrating", g1, g2)
	rows = append(rows, row{"1c. Server CPU time per call: GetRating vs Health/Check (from the process's own CPU counters over the same runs)", "≤ 1.5×",
		fmt.Sprintf("**%.2f×**", gc/hc), fmt.Sprintf("%.1f µs", hc), fmt.Sprintf("%.1f µs", gc), gc/hc <= 1.5, false})

	fh1, fh2 := d.pair("large/floor-health")
	fg1, fg2 := d.pair("large/floor-getrating")
	floorRatio := bestRPS(fg1, fg2) / bestRPS(fh1, fh2)
	rows = append(rows, row{target: "1′. The method's ceiling: the same two runs against a bare grpc-go server (same transport options, no interceptors) whose GetRating answers canned copies of the real answers",
		required: "(information)", measured: fmt.Sprintf("**%.2f×**", floorRatio), baseline: fmt.Sprintf("%s calls/s", num(bestRPS(fh1, fh2))),
		absolute: fmt.Sprintf("%s calls/s; energylabeld reaches %.0f%% of this ceiling", num(bestRPS(fg1, fg2)), 100*(bestRPS(g1, g2)/bestRPS(h1, h2))/floorRatio), info: true})

	// 2. Badges against /healthz.
	z1, z2 := d.pair("large/healthz")
	b1, b2 := d.pair("large/badge")
	n1, n2 := d.pair("large/notmodified")
	ratio("2a. Badge SVG throughput vs /healthz (HTTP/1.1 keep-alive, 16 connections)", "≥ 0.80×", 0.80,
		bestRPS(b1, b2), bestRPS(z1, z2), "req/s", fmt.Sprintf("; p99 %s vs %s", ms(bestPct(99, b1, b2)), ms(bestPct(99, z1, z2))))
	ratio("2b. Badge 304 (If-None-Match) throughput vs /healthz", "≥ 0.90×", 0.90,
		bestRPS(n1, n2), bestRPS(z1, z2), "req/s", fmt.Sprintf("; p99 %s", ms(bestPct(99, n1, n2))))

	// 3. Durable submissions against raw bbolt.
	submit, raw, valueBytes, err := storeBench(filepath.Join(*dir, "store-bench.txt"), "SubmitDurable", "BoltBatchBaseline")
	if err != nil && d.err == nil {
		d.err = err
	}
	ratio("3. A submission's durable write (boltdb Append of one), fsync on, 32 goroutines vs raw bbolt Batch put of same-sized values", "≥ 0.50×", 0.50,
		submit, raw, "writes/s", fmt.Sprintf("; values of %.0f bytes", valueBytes))

	// 4. Scale.
	sg1, sg2 := d.pair("small/getrating")
	vs := count(params.N) + " vs " + count(params.Small) + " results"
	scale("4a. GetRating p99, "+vs, bestPct(99, g1, g2), bestPct(99, sg1, sg2), "")
	var smallPrep, largePrep struct {
		Rows float64 `json:"list_rows_per_page"`
	}
	d.read("small/prepare.json", &smallPrep)
	d.read("large/prepare.json", &largePrep)
	sl1, sl2 := d.pair("small/list")
	l1, l2 := d.pair("large/list")
	scale("4b. ListRatings (page of 50) p99, "+vs, bestPct(99, l1, l2), bestPct(99, sl1, sl2),
		fmt.Sprintf(" (%.0f vs %.0f rows a page)", largePrep.Rows, smallPrep.Rows))
	ss, ls := d.run("small/submit.json"), d.run("large/submit.json")
	scale("4c. Submission latency (median, one client, fsync), "+vs, ls.pct(50), ss.pct(50),
		fmt.Sprintf("; p99 %s vs %s", ms(ls.pct(99)), ms(ss.pct(99))))
	var startup struct{ Seconds float64 }
	d.read("large/startup.json", &startup)
	rows = append(rows, row{"4d. Start-up with " + count(params.N) + " results, index rebuilt", "≤ 5 s",
		fmt.Sprintf("**%.2f s**", startup.Seconds), "", "from exec to the first /healthz 200", startup.Seconds <= 5, false})
	var rss memory
	d.read("large/rss.json", &rss)
	anon := ""
	if rss.RssAnon > 0 {
		anon = fmt.Sprintf("the server's own memory (RssAnon) %s and the mapped database's pages (RssFile) %s; ", mib(rss.RssAnon), mib(rss.RssFile))
	}
	rows = append(rows, row{"4e. Server RSS at " + count(params.N) + " results (VmRSS after the load runs)", "≤ 512 MiB",
		fmt.Sprintf("**%s**", mib(rss.VmRSS)), "", fmt.Sprintf("%speak (VmHWM) %s", anon, mib(rss.VmHWM)), float64(rss.VmRSS)/1024 <= 512, false})

	// 5. Bulk load.
	var load bulkLoad
	d.read("large/load.json", &load)
	var loadRSS struct{ VmHWM int64 }
	d.read("large/load-rss.json", &loadRSS)
	rows = append(rows, row{"5. Bulk load over AdminService.ImportResults, durable at the end", "≥ 20,000/s",
		fmt.Sprintf("**%s/s**", num(load.Rate)), "", fmt.Sprintf("%s results in %.1f s; server peak RSS %.0f MiB", count(int(load.Results)), load.Seconds, float64(loadRSS.VmHWM)/1024),
		load.Rate >= 20000, false})
	if r, ok := diskRow("5′. Disk bytes per result, after the bulk load", d, "large", params.N); ok {
		rows = append(rows, r)
	}
	// E. The etcd run, when there was one.
	etcd := false
	if _, err := os.Stat(filepath.Join(*dir, "etcd")); err == nil {
		etcd = true
		appendRate, rawPut, valueBytes, err := storeBench(filepath.Join(*dir, "etcd", "store-bench.txt"), "AppendDurable", "RawTxnPutBaseline")
		if err != nil && d.err == nil {
			d.err = err
		}
		ratio("E1. Append on etcd (three local members), 32 goroutines on one replica vs a raw etcd transaction put of same-sized values", "≥ 0.50×", 0.50,
			appendRate, rawPut, "writes/s", fmt.Sprintf("; values of %.0f bytes", valueBytes))
		bb1, bb2 := d.pair("etcd/getrating-bbolt")
		rr1, rr2 := d.pair("etcd/getrating-replica")
		ratio(fmt.Sprintf("E2. GetRating throughput of a replica on etcd vs the bbolt server, %s results each (ghz, 16 concurrent)", count(params.EtcdN)), "≥ 0.90×", 0.90,
			bestRPS(rr1, rr2), bestRPS(bb1, bb2), "calls/s", fmt.Sprintf("; p99 %s vs %s", ms(bestPct(99, rr1, rr2)), ms(bestPct(99, bb1, bb2))))
		var replicaStart, bboltStart struct{ Seconds float64 }
		d.read("etcd/replica/startup.json", &replicaStart)
		d.read("etcd/bbolt/startup.json", &bboltStart)
		rows = append(rows, row{fmt.Sprintf("E3. Start-up of a replica over %s results on etcd, index built from a snapshot", count(params.EtcdN)), "(information)",
			fmt.Sprintf("**%.2f s**", replicaStart.Seconds), fmt.Sprintf("%.2f s for the bbolt server", bboltStart.Seconds), "from exec to the first /healthz 200", true, true})
		var etcdLoad struct {
			Results int64
			Seconds float64
			Rate    float64 `json:"results_per_second"`
		}
		d.read("etcd/replica/load.json", &etcdLoad)
		rows = append(rows, row{"E4. Bulk load into etcd over AdminService.ImportResults, through one replica", "(information)",
			fmt.Sprintf("**%s/s**", num(etcdLoad.Rate)), "", fmt.Sprintf("%s results in %.1f s", count(int(etcdLoad.Results)), etcdLoad.Seconds), true, true})
	}
	if d.err != nil {
		return d.err
	}

	w := bufio.NewWriter(stdout)
	fmt.Fprintf(w, "# Benchmarks\n\n")
	fmt.Fprintf(w, "Written by `scripts/bench.sh %d` on %s. Every target is a ratio of two figures measured in the same run on the same machine; absolute figures are for information.\n\n",
		params.N, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	passed, targets := writeRows(w, rows)
	fmt.Fprintf(w, "\n%d of %d targets met.\n\n", passed, targets)
	fmt.Fprintf(w, "## Machine\n\n%s\n", machine(params.GoVersion, params.Filesystem, params.Commit))
	fmt.Fprintf(w, "## How it was measured\n\n")
	fmt.Fprintf(w, "- A real `energylabeld` (`-log-level warn`), loaded with %s synthetic results (%d series of one model in one cohort, 20 cohorts; `internal/synth`, seed %d) through `AdminService.ImportResults`, then restarted to time start-up; a second one loaded with %s for the scale comparisons.\n",
		count(params.N), load.Series, params.Seed, count(params.Small))
	fmt.Fprintf(w, "- gRPC: ghz v0.93.0, `-c %d -z %s`, one keep-alive connection, requests replayed round-robin from `elbench prepare` (GetRating: %s models sampled evenly over the series; ListRatings: the first page and pages deep into two multi-cohort listings of text generation).\n",
		params.Concurrency, params.Duration, "1,000")
	fmt.Fprintf(w, "- HTTP: `elbench http`, %d keep-alive HTTP/1.1 connections for %s after a 1 s warm-up, cycling over the badges of the same models (304: each with its ETag).\n", params.Concurrency, params.Duration)
	fmt.Fprintf(w, "- Every load run is made twice, in ABBA order (baseline, measure, measure, baseline), and each figure is the better of its two runs: other work on a shared machine only slows a run down. All runs are listed below.\n")
	fmt.Fprintf(w, "- Durable writes: `go test ./storage/boltdb -bench 'SubmitDurable|BoltBatchBaseline'`, twice each, alternating.\n")
	fmt.Fprintf(w, "- Submission latency: ghz `-c 1`, new models in one cohort, admin token, each call one fsynced transaction.\n")
	if etcd {
		fmt.Fprintf(w, "- etcd: three members of %s on loopback ports, on the same machine and disk. E1 is `go test ./storage/etcdstore -bench 'AppendDurable|RawTxnPutBaseline'` against them, twice each, alternating. For E2 a replica (`energylabeld -etcd`) and a bbolt server each hold the same %s synthetic results (the replica's loaded through itself, then restarted to time E3), and GetRating runs against them in ABBA order with the same requests.\n",
			params.Etcd, count(params.EtcdN))
	}
	fmt.Fprintf(w, "\n## Every run, in order\n\n| Registry | Run | Successful calls/s | p50 | p99 |\n|---|---|---|---|---|\n")
	for _, size := range []struct {
		dir  string
		n    int
		runs []string
	}{{"small", params.Small, smallRuns}, {"large", params.N, largeRuns}} {
		for _, name := range size.runs {
			r := d.run(filepath.Join(size.dir, name+".json"))
			if d.err != nil {
				return d.err
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", count(size.n), name, num(r.rps()), ms(r.pct(50)), ms(r.pct(99)))
		}
	}
	if etcd {
		for _, name := range etcdRuns {
			r := d.run(filepath.Join("etcd", name+".json"))
			if d.err != nil {
				return d.err
			}
			fmt.Fprintf(w, "| %s (etcd run) | %s | %s | %s | %s |\n", count(params.EtcdN), name, num(r.rps()), ms(r.pct(50)), ms(r.pct(99)))
		}
	}
	return w.Flush()
}

// writeRows writes the table of rows, and counts the targets and those
// met.
func writeRows(w io.Writer, rows []row) (passed, targets int) {
	fmt.Fprintf(w, "| Target | Required | Measured | Baseline | Absolute | Result |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		result := "**FAIL**"
		switch {
		case r.info:
			result = "—"
		case r.pass:
			result, passed = "pass", passed+1
		}
		if !r.info {
			targets++
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.target, r.required, r.measured, r.baseline, r.absolute, result)
	}
	return passed, targets
}

// diskRow is the row of the database's bytes per result, from dir's
// disk.json, which runs from before it was kept lack (ok false).
func diskRow(target string, d *reportDir, dir string, n int) (row, bool) {
	if _, err := os.Stat(filepath.Join(d.dir, dir, "disk.json")); err != nil || n == 0 {
		return row{}, false
	}
	var f disk
	d.read(filepath.Join(dir, "disk.json"), &f)
	return row{target: target, required: "(information)", measured: fmt.Sprintf("**%s bytes**", num(float64(f.Bytes)/float64(n))),
		absolute: fmt.Sprintf("a file of %.2f GiB for %s results, %.2f GiB allocated on disk", float64(f.Bytes)/(1<<30), count(n), float64(f.Allocated)/(1<<30)),
		pass:     true, info: true}, true
}

// The markers of the scale run's section of BENCHMARKS.md, which
// scripts/bench.sh replaces in place and keeps when it writes the rest.
const (
	scaleStart = "<!-- scale:start -->"
	scaleEnd   = "<!-- scale:end -->"
)

// scaleRuns are the runs of a scale run, in order: each kind at the small
// size, at N, at N, at the small size.
var scaleRuns = [][2]string{
	{"small", "getrating-1"}, {"large", "getrating-1"}, {"large", "getrating-2"}, {"small", "getrating-2"},
	{"small", "list-1"}, {"large", "list-1"}, {"large", "list-2"}, {"small", "list-2"},
}

// scaleReport writes the section of a scale run (scripts/bench.sh scale
// N): the targets of a registry of N results on one machine, against a
// registry of d's small size where a target is a ratio.
func scaleReport(d *reportDir, params benchParams, stdout io.Writer) error {
	var rows []row
	scale := func(target string, atN, atSmall time.Duration, extra string) {
		r := float64(atN) / float64(atSmall)
		rows = append(rows, row{target, "≤ 1.5×", fmt.Sprintf("**%.2f×**", r), fmt.Sprintf("%s at %s", ms(atSmall), count(params.Small)),
			fmt.Sprintf("%s at %s%s", ms(atN), count(params.N), extra), r <= 1.5, false})
	}
	// Start-up, the best of the restarts scripts/bench.sh made.
	var starts []string
	best := 0.0
	for i := 1; ; i++ {
		name := fmt.Sprintf("large/startup-%d.json", i)
		if _, err := os.Stat(filepath.Join(d.dir, name)); err != nil {
			break
		}
		var startup struct{ Seconds float64 }
		d.read(name, &startup)
		if i == 1 || startup.Seconds < best {
			best = startup.Seconds
		}
		starts = append(starts, fmt.Sprintf("%.2f s", startup.Seconds))
	}
	if len(starts) == 0 && d.err == nil {
		d.err = fmt.Errorf("%s: no large/startup-1.json", d.dir)
	}
	var prep struct {
		Rows float64 `json:"list_rows_per_page"`
	}
	d.read("large/prepare.json", &prep)
	rows = append(rows, row{"S1. Start-up with " + count(params.N) + " results, index rebuilt", "≤ 5 s",
		fmt.Sprintf("**%.2f s**", best), "", fmt.Sprintf("from exec to the first /healthz 200; the best of %d restarts: %s", len(starts), strings.Join(starts, ", ")),
		best <= 5, false})
	var rss, loadRSS memory
	d.read("large/rss.json", &rss)
	d.read("large/load-rss.json", &loadRSS)
	rows = append(rows, row{"S2. The server's own memory at " + count(params.N) + " results (RssAnon after the load runs)", "≤ 2 GiB",
		fmt.Sprintf("**%s**", mib(rss.RssAnon)), "",
		fmt.Sprintf("VmRSS %s, of it the mapped database's pages (RssFile) %s; peak VmHWM %s since the restart", mib(rss.VmRSS), mib(rss.RssFile), mib(rss.VmHWM)),
		rss.RssAnon > 0 && rss.RssAnon <= 2<<20, false})
	sg1, sg2 := d.pair("small/getrating")
	g1, g2 := d.pair("large/getrating")
	vs := count(params.N) + " vs " + count(params.Small) + " results"
	scale("S3. GetRating p99, "+vs, bestPct(99, g1, g2), bestPct(99, sg1, sg2), "")
	var smallPrep struct {
		Rows float64 `json:"list_rows_per_page"`
	}
	d.read("small/prepare.json", &smallPrep)
	sl1, sl2 := d.pair("small/list")
	l1, l2 := d.pair("large/list")
	scale("S4. ListRatings (page of 50) p99, "+vs, bestPct(99, l1, l2), bestPct(99, sl1, sl2),
		fmt.Sprintf(" (%.0f vs %.0f rows a page)", prep.Rows, smallPrep.Rows))
	var load bulkLoad
	d.read("large/load.json", &load)
	rows = append(rows, row{"S5. Bulk load over AdminService.ImportResults, durable at the end", "≥ 20,000/s",
		fmt.Sprintf("**%s/s**", num(load.Rate)), "",
		fmt.Sprintf("%s results in %.1f s; at its end the server's RssAnon %s, VmRSS %s (peak %s)", count(int(load.Results)), load.Seconds,
			mib(loadRSS.RssAnon), mib(loadRSS.VmRSS), mib(loadRSS.VmHWM)),
		load.Rate >= 20000, false})
	if r, ok := diskRow("S6. Disk bytes per result, after the bulk load", d, "large", params.N); ok {
		rows = append(rows, r)
	}
	if d.err != nil {
		return d.err
	}

	w := bufio.NewWriter(stdout)
	fmt.Fprintf(w, "%s\n## At %s results\n\n", scaleStart, count(params.N))
	fmt.Fprintf(w, "Written by `scripts/bench.sh scale %d` on %s: one energylabeld on this machine loaded with %s synthetic results (%d series, as above), then restarted; GetRating and ListRatings as above, against it and against one of %s results in ABBA order (small, large, large, small), each figure the better of two runs.\n\n",
		params.N, time.Now().UTC().Format("2006-01-02 15:04 UTC"), count(params.N), load.Series, count(params.Small))
	passed, targets := writeRows(w, rows)
	fmt.Fprintf(w, "\n%d of %d targets met.\n\n%s", passed, targets, machine(params.GoVersion, params.Filesystem, params.Commit))
	fmt.Fprintf(w, "\n| Registry | Run | Successful calls/s | p50 | p99 |\n|---|---|---|---|---|\n")
	for _, run := range scaleRuns {
		r := d.run(filepath.Join(run[0], run[1]+".json"))
		if d.err != nil {
			return d.err
		}
		n := params.N
		if run[0] == "small" {
			n = params.Small
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", count(n), run[1], num(r.rps()), ms(r.pct(50)), ms(r.pct(99)))
	}
	fmt.Fprintf(w, "%s\n", scaleEnd)
	return w.Flush()
}

// smallRuns and largeRuns are the runs scripts/bench.sh makes, in order.
var (
	smallRuns = []string{"getrating-1", "list-1", "getrating-2", "list-2", "submit"}
	largeRuns = []string{
		"health-1", "getrating-1", "getrating-2", "health-2", "list-1", "list-2",
		"floor-health-1", "floor-getrating-1", "floor-getrating-2", "floor-health-2",
		"healthz-1", "badge-1", "notmodified-1", "notmodified-2", "badge-2", "healthz-2", "submit",
	}
	etcdRuns = []string{"getrating-bbolt-1", "getrating-replica-1", "getrating-replica-2", "getrating-bbolt-2"}
)

var benchLine = regexp.MustCompile(`^Benchmark(\w+?)(-\d+)?\s+\d+\s+.*?([\d.]+) writes/s`)
var valueBytes = regexp.MustCompile(`([\d.]+) value-bytes`)

// storeBench averages the writes/s of a pair of durable-write benchmarks,
// a measure and its baseline.
func storeBench(path, measure, baseline string) (submit, raw, value float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	sums, ns := map[string]float64{}, map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[3], 64)
		sums[m[1]] += v
		ns[m[1]]++
		if vb := valueBytes.FindStringSubmatch(sc.Text()); vb != nil {
			value, _ = strconv.ParseFloat(vb[1], 64)
		}
	}
	if ns[measure] == 0 || ns[baseline] == 0 {
		return 0, 0, 0, fmt.Errorf("%s: no results of Benchmark%s and Benchmark%s", path, measure, baseline)
	}
	return sums[measure] / float64(ns[measure]), sums[baseline] / float64(ns[baseline]), value, sc.Err()
}

// machine describes the host from /proc.
func machine(goVersion, fs, commit string) string {
	cpu, mem := "unknown CPU", ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				f := strings.Fields(l)
				if len(f) >= 2 {
					kb, _ := strconv.ParseFloat(f[1], 64)
					mem = fmt.Sprintf("%.1f GiB RAM", kb/1024/1024)
				}
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	var b strings.Builder
	fmt.Fprintf(&b, "- %d × %s, %s\n", runtime.NumCPU(), cpu, mem)
	fmt.Fprintf(&b, "- Linux %s, data on %s\n", strings.TrimSpace(string(kernel)), fs)
	fmt.Fprintf(&b, "- %s; commit %s\n", goVersion, commit)
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(&b, "- load average at the end: %s (other work on the machine shares its CPUs)\n", strings.Join(strings.Fields(string(l))[:3], " "))
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

// num writes a figure to three significant digits, with thousands separated.
func num(v float64) string {
	if v >= 1000 {
		return count(int(v + 0.5))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// count writes 1000000 as 1,000,000.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// summarize prints one line about a load run: successful calls a second
// and the median and p99 latencies.
func summarize(_ context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, path := range fs.Args() {
		d := &reportDir{dir: filepath.Dir(path)}
		r := d.run(filepath.Base(path))
		if d.err != nil {
			return d.err
		}
		fmt.Fprintf(stdout, "%-20s %9s/s  p50 %s  p99 %s\n", strings.TrimSuffix(filepath.Base(path), ".json"), num(r.rps()), ms(r.pct(50)), ms(r.pct(99)))
	}
	return nil
}
