// Command energylabel submits AI model benchmark results to an energylabel
// server and shows the energy ratings it grades from them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand of the CLI.
type command struct {
	name string
	// usage is the synopsis after "energylabel", with the command's flags.
	usage   string
	summary string
	// help describes the command's own flags.
	help string
	run  func(ctx context.Context, a *app, args []string) error
}

// commands is in the order the usage text lists them.
var commands = []*command{
	submitCommand,
	importCommand,
	getCommand,
	listCommand,
	historyCommand,
	watchCommand,
	tasksCommand,
	hardwareCommand,
	datasetsCommand,
	releasesCommand,
	tokenCommand,
	adminCommand,
	badgeCommand,
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

const globalUsage = `usage: energylabel [-addr HOST:PORT] [-token T] [-json] COMMAND [ARGS]

Global flags, also accepted after the command:
  -addr HOST:PORT  server address (env ENERGYLABEL_ADDR, default ` + defaultAddr + `)
  -token T         publisher or admin token (env ENERGYLABEL_TOKEN)
  -json            print one JSON object per line (protojson, proto field names)
  -tls             connect over TLS with the system's roots
  -ca FILE         connect over TLS trusting the PEM certificates in FILE (env ENERGYLABEL_CACERT;
                   -cacert is the same flag)

Commands:
`

// usageText is the whole CLI's usage.
func usageText() string {
	var b strings.Builder
	b.WriteString(globalUsage)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %s\n      %s\n", c.usage, c.summary)
	}
	b.WriteString("\nRun 'energylabel help COMMAND' for a command's flags.\n")
	return b.String()
}

// run is the whole CLI: tests call it the way a user runs the binary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	return a.exit(a.main(ctx, args))
}

func (a *app) main(ctx context.Context, args []string) error {
	name, rest, err := a.parseGlobal(args)
	if err != nil {
		return err
	}
	if name == "help" {
		return helpRequest(rest)
	}
	cmd := lookupCommand(name)
	if cmd == nil {
		return usageErrorf("", "unknown command %q", name)
	}
	return cmd.run(ctx, a, rest)
}

// helpRequest answers "energylabel help [COMMAND]".
func helpRequest(args []string) error {
	if len(args) == 0 {
		return &helpError{}
	}
	cmd := lookupCommand(args[0])
	if cmd == nil {
		return usageErrorf("", "unknown command %q", args[0])
	}
	return &helpError{cmd: cmd.name}
}

// usageError is a mistake in the command line: exit 2 with the usage.
type usageError struct {
	msg string
	// cmd names the command whose usage to show; empty shows the whole CLI's.
	cmd string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(cmd string, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), cmd: cmd}
}

// helpError is an explicit request for help: the usage on stdout, exit 0.
type helpError struct{ cmd string }

func (e *helpError) Error() string { return "help requested" }

func commandUsage(name string) string {
	cmd := lookupCommand(name)
	if cmd == nil {
		return usageText()
	}
	return "usage: energylabel [global flags] " + cmd.usage + "\n\n" + cmd.summary + ".\n" + cmd.help +
		"\nGlobal flags: -addr HOST:PORT, -token T, -json, -tls, -ca FILE (see 'energylabel help').\n"
}

// exit reports err and turns it into the exit code: 0 success, 2 usage
// error, 1 anything else, always with a one-line message.
func (a *app) exit(err error) int {
	var usage *usageError
	var help *helpError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		fmt.Fprint(a.stdout, commandUsage(help.cmd))
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(a.stderr, "energylabel: %s\n\n%s", oneLine(usage.msg), commandUsage(usage.cmd))
		return 2
	}
	fmt.Fprintf(a.stderr, "energylabel: %s\n", oneLine(err.Error()))
	return 1
}

// oneLine keeps an error on one line of stderr, whatever the server said.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
