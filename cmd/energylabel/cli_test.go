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
	if code != 1 {
		t.Errorf("exit code = %d, want 1 (stderr %q)", code, stderr)
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
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown global flag", []string{"-bogus", "tasks"}, "-bogus"},
		{"unknown command flag", []string{"list", "-task", "asr", "-bogus"}, "-bogus"},
		{"flag without its value", []string{"list", "-task"}, "-task"},
		{"list without -task", []string{"list"}, "-task is required"},
		{"list with a stray argument", []string{"list", "-task", "asr", "extra"}, `"extra"`},
		{"get without MODEL", []string{"get", "-task", "asr"}, "missing MODEL"},
		{"get with two models", []string{"get", "a/b", "c/d"}, `"c/d"`},
		{"submit without files", []string{"submit"}, "missing FILE"},
		{"submit with a zero duration", []string{"submit", "-duration", "0", "r.json"}, "-duration 0: want a positive number of seconds"},
		{"submit with a negative duration", []string{"submit", "-duration", "-5", "r.json"}, "-duration -5: want a positive number of seconds"},
		{"submit with an infinite duration", []string{"submit", "-duration", "Inf", "r.json"}, "-duration +Inf: want a positive number of seconds"},
		{"submit with a duration that is no number", []string{"submit", "-duration", "NaN", "r.json"}, "-duration NaN: want a positive number of seconds"},
		{"submit with a duration in minutes", []string{"submit", "-duration", "20m", "r.json"}, "-duration"},
		{"import without anything", []string{"import"}, "missing"},
		{"import of an unknown source", []string{"import", "mlperf", "dir"}, `unknown import source "mlperf"`},
		{"import without DIR", []string{"import", "aienergyscore"}, "missing DIR"},
		{"tasks with an argument", []string{"tasks", "asr"}, `"asr"`},
		{"token without subcommand", []string{"token"}, "missing token subcommand"},
		{"token with an unknown subcommand", []string{"token", "mint"}, `"mint"`},
		{"token create without namespace", []string{"token", "create"}, "-namespace"},
		{"token create with a bad lifetime", []string{"token", "create", "-namespace", "org-a", "-expires", "soon"}, "-expires"},
		{"token revoke without id", []string{"token", "revoke"}, "token ID"},
		{"bad boolean", []string{"-json=maybe", "tasks"}, "-json"},
		{"help for an unknown command", []string{"help", "frobnicate"}, "frobnicate"},
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

func TestHelpGoesToStdoutAndSucceeds(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"help", "list"}, {"list", "-h"}, {"token", "-h"}, {"get", "-help"}} {
		code, stdout, stderr := cli(t, args...)
		if code != 0 || !strings.Contains(stdout, "usage: energylabel") || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	_, stdout, _ := cli(t, "help")
	for _, c := range []string{"submit FILE...", "import aienergyscore|mlenergy DIR", "get MODEL", "list -task T", "tasks", "token create -namespace NS", "ENERGYLABEL_ADDR", "ENERGYLABEL_TOKEN"} {
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
	wantOneLineError(t, code, stderr, "tasks: unavailable")
}

func TestPlaintextTokenToARemoteHostIsRefused(t *testing.T) {
	code, _, stderr := cli(t, "-addr", "energy.example.org:443", "-token", "s3cret", "tasks")
	wantOneLineError(t, code, stderr, "plaintext")
}
