// Command energylabel submits AI model benchmark results to an energylabel
// server and shows the energy ratings it grades from them.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/energylabel/energylabel/client"
	"github.com/energylabel/energylabel/errdefs"
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
	// direct says the command prints as it goes rather than all at once
	// on success: watch streams, and version prints the client's version
	// even when no server answers.
	direct bool
}

// commands is in the order the usage text lists them.
var commands = []*command{
	submitCommand,
	verifyCommand,
	measureCommand,
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
	cardCommand,
	versionCommand,
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

Exit status: 0 success, 1 error, 2 usage error, 3 not found, 4 not allowed
(no token, or one that may not do this); the message is one line on stderr.
A command prints its output once it has succeeded (watch as it goes): one that
fails prints its error alone.
Words: a size class is A, B or C by parameters (` + sizeClassesHelp + `;
text-generation and reasoning only); a grade is A-G, against fixed references;
stars are 1-5, relative to a cohort in a star release.

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
		return unknownCommand(name)
	}
	if cmd.direct {
		return cmd.run(ctx, a, rest)
	}
	// Output goes out whole and on success only: a command that fails
	// part-way prints its error and nothing else, never half a table.
	stdout := a.stdout
	var buf bytes.Buffer
	a.stdout = &buf
	err = cmd.run(ctx, a, rest)
	a.stdout = stdout
	if err != nil {
		return err
	}
	_, err = buf.WriteTo(stdout)
	return err
}

// unknownCommand names the commands closest to name.
func unknownCommand(name string) error {
	names := []string{"help"}
	for _, c := range commands {
		names = append(names, c.name)
	}
	return briefUsageErrorf("", "unknown command %s%s ('energylabel help' lists the commands)", quoteShort(name), didYouMean(closest(name, names, 3)))
}

// helpRequest answers "energylabel help [COMMAND]".
func helpRequest(args []string) error {
	if len(args) == 0 {
		return &helpError{}
	}
	cmd := lookupCommand(args[0])
	if cmd == nil {
		return unknownCommand(args[0])
	}
	return &helpError{cmd: cmd.name}
}

// usageError is a mistake in the command line: exit 2, with the usage
// unless the message says all there is to fix.
type usageError struct {
	msg string
	// cmd names the command whose usage to show; empty shows the whole CLI's.
	cmd string
	// brief leaves the usage out: the message names what is missing or
	// wrong, and a page of usage would bury it.
	brief bool
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(cmd string, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), cmd: cmd}
}

// briefUsageErrorf is a usage error that prints its message alone.
func briefUsageErrorf(cmd string, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), cmd: cmd, brief: true}
}

// missingFlags is the brief usage error of a command run without what it
// needs, naming every missing flag or argument at once.
// cmd may be a subcommand ("token create"); the help named is its command's.
func missingFlags(cmd string, missing ...string) error {
	name, _, _ := strings.Cut(cmd, " ")
	return briefUsageErrorf(name, "%s: missing %s (see 'energylabel help %s')", cmd, strings.Join(missing, ", "), name)
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

// Exit codes, as the usage text documents them. An error that came back
// from the server exits with its kind's code (errdefs.Kind.ExitCode): 3
// for not found, 4 for not allowed, 1 otherwise.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// exit reports err and turns it into the exit code, always with a one-line
// message (a brief usage error about several files has one per file).
func (a *app) exit(err error) int {
	var usage *usageError
	var help *helpError
	var unreachable *client.ConnectError
	var status *exitStatusError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &status):
		// measure's command failed: its status is measure's
		fmt.Fprintf(a.stderr, "energylabel: %s\n", oneLine(status.msg))
		return status.code
	case errors.As(err, &help):
		fmt.Fprint(a.stdout, commandUsage(help.cmd))
		return exitOK
	case errors.As(err, &usage) && usage.brief:
		for line := range strings.Lines(usage.msg) {
			fmt.Fprintf(a.stderr, "energylabel: %s\n", oneLine(line))
		}
		return exitUsage
	case errors.As(err, &usage):
		fmt.Fprintf(a.stderr, "energylabel: %s\n\n%s", oneLine(usage.msg), commandUsage(usage.cmd))
		return exitUsage
	case errors.As(err, &unreachable):
		fmt.Fprintf(a.stderr, "energylabel: %s; start energylabeld, or point -addr (or ENERGYLABEL_ADDR) at a running server\n", oneLine(err.Error()))
		return exitError
	}
	kind := errdefs.KindOf(err)
	msg := oneLine(err.Error())
	if kind == errdefs.Unauthenticated && a.cfg.TokenFrom != "" {
		// The server knows no token by that name: say which one was sent.
		msg += fmt.Sprintf(" (the token from %s)", a.cfg.TokenFrom)
	}
	fmt.Fprintf(a.stderr, "energylabel: %s\n", msg)
	return kind.ExitCode()
}

// wrapf prefixes err with the command and its subject, leaving out the
// subject when the error names it already, so that a message says each
// thing once.
func wrapf(cmd, subject string, err error) error {
	if err == nil {
		return nil
	}
	if subject == "" || strings.Contains(err.Error(), subject) {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return fmt.Errorf("%s %s: %w", cmd, subject, err)
}

// oneLine keeps an error on one line of stderr, whatever the server said.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
