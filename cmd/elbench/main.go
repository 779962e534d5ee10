// Command elbench is the load side of scripts/bench.sh: it bulk-loads a
// synthetic registry into a running energylabeld, prepares the request
// sets that ghz and its own HTTP load generator replay, drives HTTP
// keep-alive load, and writes the table of targets.
//
//	elbench load    -addr A -token T -n N [-seed S]        import N synthetic results
//	elbench prepare -addr A -http H -n N -out DIR [-seed S] request sets for ghz and http
//	elbench http    -urls FILE [-etags] -c 16 -d 10s       HTTP keep-alive load
//	elbench wait    -http H [-since UNIXNANO]              time until /healthz answers 200
//	elbench floor   -addr A -listen L -model M             a bare gRPC server answering a canned GetRating
//	elbench reader  -http H -from IP -urls FILE -rate R    a well-behaved badge reader's latencies
//	elbench flood   -kind K -from IP -rate R [-token T]    one kind of costly request at an offered rate
//	elbench floodreport -dir DIR -kinds "K..."             the collateral table of scripts/flood.sh, as Markdown
//	elbench summary FILE...                                one line per load run
//	elbench report  -dir DIR                               the table of targets, as Markdown
//
// load, prepare, http and wait print one JSON object on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

var commands = map[string]func(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error{
	"load":        load,
	"prepare":     prepare,
	"http":        httpLoad,
	"report":      report,
	"wait":        wait,
	"summary":     summarize,
	"floor":       floor,
	"reader":      reader,
	"flood":       flood,
	"floodreport": floodReport,
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || commands[args[0]] == nil {
		fmt.Fprintln(stderr, "usage: elbench load|prepare|http|wait|floor|reader|flood|floodreport|summary|report [flags]")
		return 2
	}
	fs := flag.NewFlagSet("elbench "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := commands[args[0]](ctx, fs, args[1:], stdout); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "elbench %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
