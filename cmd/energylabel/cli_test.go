package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/energylabel/energylabel/errdefs"
)

// The exit codes of errors the server sends, by kind.
var (
	exitNotFound   = errdefs.NotFound.ExitCode()
	exitNotAllowed = errdefs.PermissionDenied.ExitCode()
)

// cli runs the CLI as a user would and returns its exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// wantOneLineError checks exit code 1 and a single stderr line holding every
// fragment.
func wantOneLineError(t *testing.T, code int, stderr string, fragments ...string) {
	t.Helper()
	wantOneLineExit(t, exitError, code, stderr, fragments...)
}

// wantOneLineExit checks the exit code and a single stderr line holding
// every fragment.
func wantOneLineExit(t *testing.T, want, code int, stderr string, fragments ...string) {
	t.Helper()
	if code != want {
		t.Errorf("exit code = %d, want %d (stderr %q)", code, want, stderr)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.HasPrefix(stderr, "energylabel: ") {
		t.Errorf("stderr = %q, want one line starting with \"energylabel: \"", stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(stderr, f) {
			t.Errorf("stderr = %q, want it to mention %q", stderr, f)
		}
	}
}

func TestUsageErrorsExitTwoWithUsage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"no command", nil, "no command"},
		{"unknown global flag", []string{"-bogus", "tasks"}, "-bogus"},
		{"unknown command flag", []string{"list", "-task", "asr", "-bogus"}, "-bogus"},
		{"flag without its value", []string{"list", "-task"}, "-task"},
		{"list with a stray argument", []string{"list", "-task", "asr", "extra"}, `"extra"`},
		{"get with two models", []string{"get", "a/b", "c/d"}, `"c/d"`},
		{"submit with a zero duration", []string{"submit", "-duration", "0", "r.json"}, "-duration 0: want a positive number of seconds"},
		{"submit with a negative duration", []string{"submit", "-duration", "-5", "r.json"}, "-duration -5: want a positive number of seconds"},
		{"submit with an infinite duration", []string{"submit", "-duration", "Inf", "r.json"}, "-duration +Inf: want a positive number of seconds"},
		{"submit with a duration that is no number", []string{"submit", "-duration", "NaN", "r.json"}, "-duration NaN: want a positive number of seconds"},
		{"submit with a duration in minutes", []string{"submit", "-duration", "20m", "r.json"}, "-duration"},
		{"import without anything", []string{"import"}, "missing"},
		{"import of an unknown source", []string{"import", "mlperf", "dir"}, `unknown import source "mlperf"`},
		{"import without DIR", []string{"import", "aienergyscore"}, "missing DIR"},
		{"tasks with an argument", []string{"tasks", "asr"}, `"asr"`},
		{"token with an unknown subcommand", []string{"token", "mint"}, `"mint"`},
		{"token create with a bad lifetime", []string{"token", "create", "-namespace", "org-a", "-expires", "soon"}, "-expires"},
		{"token revoke without id", []string{"token", "revoke"}, "token ID"},
		{"bad boolean", []string{"-json=maybe", "tasks"}, "-json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, tt.args...)
			if code != 2 {
				t.Errorf("exit code = %d, want 2 (stderr %q)", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			if !strings.HasPrefix(first, "energylabel: ") || !strings.Contains(first, tt.mention) {
				t.Errorf("first line of stderr = %q, want it to mention %q", first, tt.mention)
			}
			if !strings.Contains(stderr, "usage: energylabel") {
				t.Errorf("stderr has no usage:\n%s", stderr)
			}
		})
	}
}

// TestMissingFlagsAreOneLine proves that a command run without what it
// needs says so in one line naming everything missing, with no page of
// usage to bury it; and that a mistyped command or task gets the closest
// names.
func TestMissingFlagsAreOneLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"list without -task", []string{"list"}, "energylabel: list: missing -task T (see 'energylabel help list')\n"},
		{"get without MODEL", []string{"get", "-task", "asr"}, "energylabel: get: missing MODEL (see 'energylabel help get')\n"},
		{"submit without files", []string{"submit"}, "energylabel: submit: missing FILE (see 'energylabel help submit')\n"},
		{"card without anything", []string{"card"}, "energylabel: card: missing -model M, FILE (see 'energylabel help card')\n"},
		{"badge without MODEL", []string{"badge", "-task", "asr"}, "energylabel: badge: missing MODEL (see 'energylabel help badge')\n"},
		{"history without MODEL", []string{"history"}, "energylabel: history: missing MODEL (see 'energylabel help history')\n"},
		{"token without subcommand", []string{"token"}, "energylabel: token: missing subcommand: create, revoke or list (see 'energylabel help token')\n"},
		{"token create without namespace", []string{"token", "create"}, "energylabel: token create: missing -namespace NS (or -role surveyor) (see 'energylabel help token')\n"},
		{"admin hardware add without its flags", []string{"admin", "hardware", "add", "X1"},
			"energylabel: admin hardware add: missing -family F, -watts W (the datasheet's board power) (see 'energylabel help admin')\n"},
		{"admin dataset add without its flags", []string{"admin", "dataset", "add", "acme/d"},
			"energylabel: admin dataset add: missing -task T, -basis query|unit (see 'energylabel help admin')\n"},
		{"admin release create without NAME", []string{"admin", "release", "create"},
			"energylabel: admin release create: missing NAME (see 'energylabel help admin')\n"},
		{"a mistyped command", []string{"lsit", "-task", "asr"},
			"energylabel: unknown command \"lsit\"; did you mean list? ('energylabel help' lists the commands)\n"},
		{"help for a mistyped command", []string{"help", "histroy"},
			"energylabel: unknown command \"histroy\"; did you mean history? ('energylabel help' lists the commands)\n"},
		{"a command nothing is near", []string{"frobnicate"},
			"energylabel: unknown command \"frobnicate\" ('energylabel help' lists the commands)\n"},
		{"a mistyped task", []string{"list", "-task", "text-generaton"},
			"energylabel: -task \"text-generaton\": unknown task; did you mean text-generation? ('energylabel tasks' lists them)\n"},
		{"a mistyped AIES alias", []string{"get", "acme/m", "-task", "text_clasification"},
			"energylabel: -task \"text_clasification\": unknown task; did you mean text-classification? ('energylabel tasks' lists them)\n"},
		{"part of a task's name", []string{"watch", "-task", "image"},
			"energylabel: -task \"image\": unknown task; did you mean image-classification, text-to-image or image-to-text? ('energylabel tasks' lists them)\n"},
		{"a task nothing is near", []string{"submit", "-task", "juggling", "r.json"},
			"energylabel: -task \"juggling\": unknown task ('energylabel tasks' lists them)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, tt.args...)
			if code != exitUsage || stdout != "" || stderr != tt.want {
				t.Errorf("exit %d, stdout %q, stderr\n%q\nwant exit 2 and\n%q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestSubmitNamesEveryMissingFlagOfEveryFile proves issue 13's case: an
// optimum-benchmark report submitted with no flags is refused in one line
// per file naming every flag it needs, -gpus and -duration included, and
// nothing is sent.
func TestSubmitNamesEveryMissingFlagOfEveryFile(t *testing.T) {
	addr, connections := silentServer(t)
	second := filepath.Join(t.TempDir(), "second_report.json")
	report, err := os.ReadFile(optimumReport)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(second, report, 0o600)
	code, stdout, stderr := cli(t, "-addr", addr, "submit", optimumReport, second)
	flags := ": missing -model OWNER/NAME, -task T, -hardware ACCELERATOR, -params BILLIONS (for text-generation and reasoning), -gpus N, -duration SECONDS\n"
	want := "energylabel: submit: " + optimumReport + flags + "energylabel: submit: " + second + flags
	if code != exitUsage || stdout != "" || !strings.HasSuffix(stderr, want) {
		t.Errorf("exit %d, stdout %q, stderr\n%s\nwant exit 2 and it to end\n%s", code, stdout, stderr, want)
	}
	if strings.Contains(stderr, "usage:") {
		t.Errorf("stderr has a usage dump:\n%s", stderr)
	}
	// With the task, the size class is known to be needed, and said so.
	code, _, stderr = cli(t, "-addr", addr, "submit", "-task", "text_generation", "-model", "acme/m", "-duration", "60", optimumReport)
	want = "energylabel: submit: " + optimumReport + ": missing -hardware ACCELERATOR, -params BILLIONS (or -size-class A|B|C), -gpus N\n"
	if code != exitUsage || !strings.HasSuffix(stderr, want) {
		t.Errorf("exit %d, stderr\n%s\nwant it to end\n%s", code, stderr, want)
	}
	if n := connections.Load(); n != 0 {
		t.Errorf("the CLI connected %d times for files it refused", n)
	}
}

func TestHelpGoesToStdoutAndSucceeds(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"help", "list"}, {"list", "-h"}, {"token", "-h"}, {"get", "-help"}} {
		code, stdout, stderr := cli(t, args...)
		if code != 0 || !strings.Contains(stdout, "usage: energylabel") || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	_, stdout, _ := cli(t, "help")
	for _, c := range []string{"submit FILE...", "import aienergyscore|mlenergy DIR", "get MODEL", "list -task T", "tasks", "token create -namespace NS", "ENERGYLABEL_ADDR", "ENERGYLABEL_TOKEN",
		"card -model M", "version", "0 success, 1 error, 2 usage error, 3 not found, 4 not allowed"} {
		if !strings.Contains(stdout, c) {
			t.Errorf("usage does not mention %q", c)
		}
	}
}

// silentServer is a TCP listener that counts connections: the CLI must not
// even connect when it refuses its input locally.
func silentServer(t *testing.T) (addr string, connections *atomic.Int32) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	connections = new(atomic.Int32)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			connections.Add(1)
			c.Close()
		}
	}()
	return lis.Addr().String(), connections
}

const goodResult = `{"model": "acme/tiny-clf", "task": "text-classification",
 "hardware": {"accelerator": "H100", "count": 1},
 "queries": 1000, "failed_queries": 0, "gpu_energy_wh": 0.9, "duration_seconds": 41.5}`

// resultFile writes a result file, editing goodResult with replacements.
func writeResult(t *testing.T, dir, name string, replacements ...string) string {
	t.Helper()
	body := strings.NewReplacer(replacements...).Replace(goodResult)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// badResults are result files that local validation must refuse, each with
// the field the message must name. The e2e test sends them to a real server.
var badResults = []struct {
	name  string
	edit  []string
	field string
}{
	{"negative energy", []string{`"gpu_energy_wh": 0.9`, `"gpu_energy_wh": -1`}, "gpu_energy_wh"},
	{"NaN energy", []string{`"gpu_energy_wh": 0.9`, `"gpu_energy_wh": "NaN"`}, "gpu_energy_wh"},
	{"zero queries", []string{`"queries": 1000`, `"queries": 0`}, "queries"},
	{"unknown task", []string{`"text-classification"`, `"juggling"`}, "task"},
	{"path traversal model", []string{`"acme/tiny-clf"`, `"../etc"`}, "model"},
	{"more failed than run", []string{`"failed_queries": 0`, `"failed_queries": 1001`}, "failed_queries"},
	{"300 kWh in a second on one H100", []string{`"gpu_energy_wh": 0.9`, `"gpu_energy_wh": 300000`, `"duration_seconds": 41.5`, `"duration_seconds": 1`}, "gpu_energy_wh"},
}

func TestSubmitRefusesBadFilesLocally(t *testing.T) {
	addr, connections := silentServer(t)
	dir := t.TempDir()
	for _, tt := range badResults {
		t.Run(tt.name, func(t *testing.T) {
			bad := writeResult(t, dir, "bad.json", tt.edit...)
			code, stdout, stderr := cli(t, "-addr", addr, "submit", bad)
			wantOneLineError(t, code, stderr, "submit: "+bad+": ", tt.field)
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
	if n := connections.Load(); n != 0 {
		t.Errorf("the CLI connected %d times for input it should have refused", n)
	}
}

func TestSubmitMessageNamesTheFileAndField(t *testing.T) {
	bad := writeResult(t, t.TempDir(), "bad.json", `"gpu_energy_wh": 0.9`, `"gpu_energy_wh": -1`)
	_, _, stderr := cli(t, "submit", bad)
	want := "energylabel: submit: " + bad + ": invalid result: gpu_energy_wh: must be a positive number, got -1\n"
	if stderr != want {
		t.Errorf("stderr = %q\nwant     %q", stderr, want)
	}
}

func TestSubmitSendsNothingWhenAnyFileIsBad(t *testing.T) {
	addr, connections := silentServer(t)
	dir := t.TempDir()
	good := writeResult(t, dir, "good.json")
	bad := writeResult(t, dir, "bad.json", `"queries": 1000`, `"queries": 0`)
	code, _, stderr := cli(t, "submit", good, bad, "-addr", addr)
	wantOneLineError(t, code, stderr, bad, "queries")
	if n := connections.Load(); n != 0 {
		t.Errorf("the CLI connected %d times although one file was bad", n)
	}
}

func TestSubmitRefusesUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, mention string
	}{
		{"not JSON", "model: acme/x", "no result format energylabel knows"},
		{"unknown field", `{"model": "acme/x", "energy_kwh": 1}`, "energy_kwh"},
		{"wrong type", `{"model": "acme/x", "queries": "many"}`, "queries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "file.json")
			os.WriteFile(path, []byte(tt.body), 0o600)
			code, _, stderr := cli(t, "submit", path)
			wantOneLineError(t, code, stderr, path, tt.mention)
		})
	}
	code, _, stderr := cli(t, "submit", filepath.Join(dir, "missing.json"))
	wantOneLineError(t, code, stderr, "missing.json")
}

func TestImportRefusesABadLeaderboardLocally(t *testing.T) {
	addr, connections := silentServer(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "asr.csv"), []byte("model,total_gpu_energy,energy_score\nopenai/whisper-tiny,0.002,5\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "text_classification.csv"), []byte("model,total_gpu_energy,energy_score\nacme/good,0.0002,5\nacme/bad,-0.1,1\n"), 0o600)
	code, stdout, stderr := cli(t, "-addr", addr, "import", "aienergyscore", dir)
	wantOneLineError(t, code, stderr, "text_classification.csv", "acme/bad", "gpu_energy_wh")
	if stdout != "" || connections.Load() != 0 {
		t.Errorf("stdout %q, %d connections: want nothing sent", stdout, connections.Load())
	}

	code, _, stderr = cli(t, "import", "aienergyscore", filepath.Join(dir, "missing"))
	wantOneLineError(t, code, stderr, "missing")
	code, _, stderr = cli(t, "import", "aienergyscore", t.TempDir())
	wantOneLineError(t, code, stderr, "no <task>.csv")
}

func TestUnreachableServerIsOneLine(t *testing.T) {
	addr, _ := silentServer(t) // accepts and hangs up: not a gRPC server
	code, _, stderr := cli(t, "-addr", addr, "tasks")
	wantOneLineError(t, code, stderr, "tasks: cannot reach a server at "+addr, "start energylabeld", "-addr", "ENERGYLABEL_ADDR")
}

// TestNoServerFailsFastNamingTheAddress proves issue 13's case: with no
// server, "get x/y" exits 1 within 2 s, naming the address and what to do.
// A port nobody listens on refuses at once; a listener that never answers
// (a hung server, or a firewall that lets the handshake through) is given
// up on after the connect timeout.
func TestNoServerFailsFastNamingTheAddress(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()
	hung, err := net.Listen("tcp", "127.0.0.1:0") // never accepts
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	for name, addr := range map[string]string{"nothing listening": refused, "nothing answering": hung.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("ENERGYLABEL_ADDR", addr)
			start := time.Now()
			code, stdout, stderr := cli(t, "get", "x/y")
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v, want under 2 s", d)
			}
			wantOneLineError(t, code, stderr, "get x/y: cannot reach a server at "+addr,
				"start energylabeld, or point -addr (or ENERGYLABEL_ADDR) at a running server")
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}

// TestAddressWithoutPortIsAUsageError proves that an address gRPC would
// dial on port 443 is refused before anything is dialled, naming where it
// came from.
func TestAddressWithoutPortIsAUsageError(t *testing.T) {
	t.Setenv("ENERGYLABEL_ADDR", "127.0.0.1")
	code, stdout, stderr := cli(t, "get", "x/y")
	if want := "energylabel: ENERGYLABEL_ADDR \"127.0.0.1\": no port: want HOST:PORT, e.g. 127.0.0.1:50051\n"; code != exitUsage || stdout != "" || stderr != want {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
	for _, tc := range []struct{ addr, want string }{
		{"energy.example.org", `-addr "energy.example.org": no port`},
		{"[::1]", `-addr "[::1]": no port`},
		{"::1", `-addr "::1": want HOST:PORT`},
		{"127.0.0.1:", `-addr "127.0.0.1:": no port`},
		{"127.0.0.1:http", `-addr "127.0.0.1:http": port "http" is not a number`},
		{"127.0.0.1:70000", `port "70000" is not a number from 1 to 65535`},
	} {
		code, _, stderr := cli(t, "-addr", tc.addr, "tasks")
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("-addr %s: exit %d, stderr %q; want 2 and %q", tc.addr, code, stderr, tc.want)
		}
	}
	for _, good := range []string{"127.0.0.1:50051", "[::1]:50051", "localhost:1", "dns:///energy.example.org:443", "unix:/tmp/energylabel.sock"} {
		if err := checkAddr(good); err != nil {
			t.Errorf("checkAddr(%q) = %v", good, err)
		}
	}
}

func TestPlaintextTokenToARemoteHostIsRefused(t *testing.T) {
	code, _, stderr := cli(t, "-addr", "energy.example.org:443", "-token", "s3cret", "tasks")
	wantOneLineError(t, code, stderr, "plaintext")
}
