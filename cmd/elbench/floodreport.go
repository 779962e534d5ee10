package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// floodReport writes the collateral table of scripts/flood.sh as
// Markdown: per flood, the reader's p99 against its quiet run just
// before, the server's memory, and the log bytes the flood caused.
func floodReport(_ context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	dir := fs.String("dir", ".", "results directory")
	kinds := fs.String("kinds", "", "the floods run, space-separated")
	n := fs.Int("n", 0, "results loaded")
	dur := fs.String("d", "", "each run's duration")
	readRate := fs.Float64("read-rate", 0, "the reader's rate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	read := func(name string, v any) error {
		b, err := os.ReadFile(filepath.Join(*dir, name))
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}
	type readerRun struct {
		Reads  int     `json:"reads"`
		Failed int     `json:"failed"`
		P50    float64 `json:"p50_ms"`
		P99    float64 `json:"p99_ms"`
	}
	w := &strings.Builder{}
	fmt.Fprintf(w, "<!-- collateral:start -->\n## Collateral cost of floods\n\n")
	fmt.Fprintf(w, "Written by `scripts/bench.sh flood %d`: a bbolt server with %d synthetic results; a badge reader on 127.0.0.2 reads %.0f badges a second for %s, alone and then while 127.0.0.3, pinned to one core (`taskset -c 1`), floods at the offered rate. Target: the reader's p99 within 2× of its quiet run, and the server's memory under 512 MiB throughout.\n\n", *n, *n, *readRate, *dur)
	fmt.Fprintf(w, "| Flood | Offered | Reader p99 quiet → flooded | Ratio | Reader failures | Server RSS (peak) | Log bytes/s | How the server answered the flood |\n|---|---|---|---|---|---|---|---|\n")
	worst, peak := 0.0, 0
	for _, k := range strings.Fields(*kinds) {
		var quiet, flooded readerRun
		var mem struct {
			RSS int `json:"rss_kib"`
			HWM int `json:"hwm_kib"`
		}
		var log struct {
			Bytes int `json:"log_bytes"`
		}
		var fl map[string]any
		for _, f := range []struct {
			name string
			v    any
		}{{"quiet-" + k + ".json", &quiet}, {"reader-" + k + ".json", &flooded}, {"mem-" + k + ".json", &mem}, {"log-" + k + ".json", &log}, {"flood-" + k + ".json", &fl}} {
			if err := read(f.name, f.v); err != nil {
				return err
			}
		}
		ratio := flooded.P99 / quiet.P99
		worst, peak = max(worst, ratio), max(peak, mem.HWM)
		offered := "—"
		if v, ok := fl["offered_per_second"].(float64); ok {
			offered = fmt.Sprintf("%.0f/s", v)
		}
		secs := parseSeconds(*dur)
		fmt.Fprintf(w, "| %s: %s | %s | %.2f → %.2f ms | **%.2f×** | %d of %d | %d MiB (%d MiB) | %.0f | %s |\n",
			k, floodKinds[k], offered, quiet.P99, flooded.P99, ratio, flooded.Failed, flooded.Reads+flooded.Failed,
			mem.RSS>>10, mem.HWM>>10, float64(log.Bytes)/secs, answers(fl))
	}
	var load struct {
		HWM int `json:"load_hwm_kib"`
	}
	loadPeak := ""
	if read("load-mem.json", &load) == nil && load.HWM > 0 {
		loadPeak = fmt.Sprintf(" (the bulk load of the %d results before them peaked at %d MiB)", *n, load.HWM>>10)
	}
	fmt.Fprintf(w, "\nWorst ratio %.2f×; the server's peak RSS during the floods %d MiB%s.\n<!-- collateral:end -->\n", worst, peak>>10, loadPeak)
	_, err := io.WriteString(stdout, w.String())
	return err
}

// answers is how the server answered a flood, most frequent first.
func answers(fl map[string]any) string {
	if fl["kind"] == "import" {
		return fmt.Sprintf("%v results imported", fl["imported"])
	}
	if fl["kind"] == "import-watched" {
		return fmt.Sprintf("%v watchers served (one address's share) were each sent the %v imported results: %v events received in all", fl["watchers"], fl["imported"], fl["events_received"])
	}
	if fl["kind"] == "watch-hold" {
		return fmt.Sprintf("held %v, then %q; another address watches: %v", fl["held"], fl["refused_with"], fl["another_address_watches"])
	}
	out, _ := fl["outcomes"].(map[string]any)
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return int(out[b].(float64) - out[a].(float64)) })
	var parts []string
	for _, k := range keys {
		if k == "bytes" {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s × %.0f", k, out[k].(float64)))
	}
	if b, ok := out["bytes"].(float64); ok && b > 0 {
		parts = append(parts, fmt.Sprintf("%.0f KB a response", b/1024/max(1, sumOK(out))))
	}
	return strings.Join(parts, ", ")
}

// sumOK counts the responses with a body: status 200, busy or not.
func sumOK(out map[string]any) float64 {
	n := 0.0
	for k, v := range out {
		if strings.HasPrefix(k, "200") {
			n += v.(float64)
		}
	}
	return n
}

func parseSeconds(d string) float64 {
	var s float64
	if _, err := fmt.Sscanf(strings.TrimSuffix(d, "s"), "%g", &s); err != nil || s == 0 {
		return 1
	}
	return s
}
