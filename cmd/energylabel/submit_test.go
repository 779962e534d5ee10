package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
)

// aiebenchResults is ai_energy_benchmarks' results file in testdata; its
// config.model is openai/gpt-oss-20b.
var aiebenchResults = filepath.Join("..", "..", "rating", "formats", "aiebench", "testdata", "benchmark_results.json")

// A tool file that names its model labels only that model: -model naming
// another is a usage error, before anything is sent.
func TestAToolFileLabelsOnlyTheModelItNames(t *testing.T) {
	srv := servertest.Start(t)
	aie := []string{"-task", "text-generation", "-hardware", "H100", "-gpus", "1", "-params", "20.9", "-active-params", "3.6", aiebenchResults}
	code, _, stderr := cli(t, append([]string{"-addr", srv.Addr, "-token", srv.AdminToken, "submit", "-model", "acme/m"}, aie...)...)
	wantOneLineExit(t, exitUsage, code, stderr, "-model", `"acme/m"`, `config.model "openai/gpt-oss-20b"`)
	if code, _, stderr := cli(t, "-addr", srv.Addr, "get", "acme/m"); code != exitNotFound {
		t.Errorf("get acme/m after the refusal: exit %d, %s", code, stderr)
	}
	// The model it names, given or not, is fine.
	for _, model := range [][]string{{"-model", "openai/gpt-oss-20b"}, nil} {
		args := append(append([]string{"-addr", srv.Addr, "-token", srv.AdminToken, "submit"}, model...), aie...)
		if code, _, stderr := cli(t, args...); code != 0 {
			t.Errorf("submit %v: exit %d: %s", model, code, stderr)
		}
	}

	// A file whose tool wrote no model id (a local path) needs -model.
	dir := t.TempDir()
	data, err := os.ReadFile(aiebenchResults)
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, "local.json")
	if err := os.WriteFile(local, []byte(strings.ReplaceAll(string(data), `"openai/gpt-oss-20b"`, `"/models/gpt-oss"`)), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-addr", srv.Addr, "-token", srv.AdminToken, "submit", "-model", "acme/m"}, aie[:len(aie)-1]...)
	if code, _, stderr := cli(t, append(args, local)...); code != 0 {
		t.Errorf("a local path in config.model with -model acme/m: exit %d: %s", code, stderr)
	}

}

// The same measurement twice for one model is stored once, and the CLI
// says so; for another model it is refused, naming the model it labels.
func TestTheSameMeasurementAgainIsAlreadyStored(t *testing.T) {
	srv := servertest.Start(t)
	code, token, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "token", "create", "-namespace", "acme")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	token = strings.TrimSpace(token)
	submit := func(model, file string) (int, string, string) {
		return cli(t, "-addr", srv.Addr, "-token", token, "-json", "submit", "-model", model,
			"-task", "text-generation", "-hardware", "H100", "-gpus", "1", "-params", "7", "-duration", "1200", file)
	}
	code, stdout, stderr := submit("acme/m", optimumReport)
	if code != 0 {
		t.Fatalf("first submission: exit %d: %s", code, stderr)
	}
	first := ratingsOf(t, stdout)[0].GetResultId()

	twin := filepath.Join(t.TempDir(), "benchmark_report.json")
	data, err := os.ReadFile(optimumReport)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(twin, append(data, ' '), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = submit("acme/m", twin)
	if code != 0 || !strings.Contains(stderr, fmt.Sprintf("already stored as result %d", first)) {
		t.Errorf("the same run again: exit %d, stderr %q; want 0 and \"already stored as result %d\"", code, stderr, first)
	}
	if rs := ratingsOf(t, stdout); len(rs) != 1 || rs[0].GetResultId() != first {
		t.Errorf("the same run again answers %v, want result %d's rating", rs, first)
	}
	code, _, stderr = cli(t, "-addr", srv.Addr, "-json", "history", "acme/m")
	if code != 0 || strings.Count(stderr, "\n") > 0 {
		t.Fatalf("history: exit %d: %s", code, stderr)
	}

	code, _, stderr = submit("acme/other", twin)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last := lines[len(lines)-1]; code != exitError || !strings.Contains(last, "AlreadyExists") || !strings.Contains(last, `"acme/m"`) {
		t.Errorf("the same run for acme/other: exit %d, %q; want 1 and AlreadyExists naming acme/m", code, last)
	}
}

// Roles: the admin makes a surveyor token alone on stdout; token list
// shows each token's role; a surveyor submits nothing and a publisher
// verifies nothing (exit 4).
func TestSurveyorAndPublisherTokens(t *testing.T) {
	srv := servertest.Start(t)
	admin := []string{"-addr", srv.Addr, "-token", srv.AdminToken}
	code, surveyor, stderr := cli(t, append(admin, "token", "create", "-role", "surveyor")...)
	if code != 0 || strings.Count(surveyor, "\n") != 1 || !strings.HasPrefix(surveyor, "elp_") {
		t.Fatalf("token create -role surveyor: exit %d, stdout %q, stderr %q; want the token alone", code, surveyor, stderr)
	}
	surveyor = strings.TrimSpace(surveyor)
	code, publisher, stderr := cli(t, append(admin, "token", "create", "-namespace", "acme")...)
	if code != 0 {
		t.Fatalf("token create -namespace acme: exit %d: %s", code, stderr)
	}
	publisher = strings.TrimSpace(publisher)

	code, _, stderr = cli(t, append(admin, "token", "create", "-role", "surveyor", "-namespace", "acme")...)
	wantOneLineExit(t, exitUsage, code, stderr, "-namespace")
	code, _, stderr = cli(t, append(admin, "token", "create", "-role", "root")...)
	if code != exitUsage || !strings.Contains(stderr, `"root"`) {
		t.Errorf("token create -role root: exit %d, %s", code, stderr)
	}
	code, _, stderr = cli(t, append(admin, "token", "create", "-namespace", "Acme")...)
	wantOneLineError(t, code, stderr, `looks like the existing namespace "acme"`)

	code, stdout, stderr := cli(t, append(admin, "token", "list")...)
	if code != 0 {
		t.Fatalf("token list: exit %d: %s", code, stderr)
	}
	roles := map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 2 {
			roles[f[1]+" "+f[2]]++
		}
	}
	if roles["surveyor -"] != 1 || roles["publisher acme"] != 1 || len(roles) != 2 {
		t.Errorf("token list shows roles and namespaces %v, want one surveyor and one publisher of acme:\n%s", roles, stdout)
	}

	dir := t.TempDir()
	result := filepath.Join(dir, "r.json")
	if err := os.WriteFile(result, []byte(`{"model": "acme/a", "task": "text-classification", "hardware": {"accelerator": "H100", "count": 1},
		"queries": 1000, "gpu_energy_wh": 0.9, "duration_seconds": 41.5}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = cli(t, "-addr", srv.Addr, "-token", surveyor, "submit", result)
	wantOneLineExit(t, exitNotAllowed, code, stderr, "surveyor")
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", publisher, "submit", result); code != 0 {
		t.Fatalf("the publisher's submission: exit %d: %s", code, stderr)
	}
	if lookupCommand("verify") == nil {
		t.Skip("no verify command")
	}
	code, _, stderr = cli(t, "-addr", srv.Addr, "-token", publisher, "verify", result)
	wantOneLineExit(t, exitNotAllowed, code, stderr, "surveyor")
	code, _, stderr = cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "verify", result)
	wantOneLineExit(t, exitNotAllowed, code, stderr, "surveyor")
}

// -measured-at dates a file that records no time, and must agree with one
// that does: the file's own time is kept.
func TestSubmitMeasuredAt(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	submit := func(args ...string) (int, string, string) {
		return cli(t, append([]string{"-addr", srv.Addr, "-token", srv.AdminToken, "-json", "submit"}, args...)...)
	}
	measuredAt := func(model string) time.Time {
		t.Helper()
		code, stdout, stderr := cli(t, "-addr", srv.Addr, "-json", "get", model)
		if code != 0 {
			t.Fatalf("get %s: %s", model, stderr)
		}
		return ratingsOf(t, stdout)[0].GetMeasuredAt().AsTime()
	}

	// A native file without measured_at takes the flag's day, or time.
	undated := writeResult(t, dir, "undated.json")
	if code, _, stderr := submit("-measured-at", "2026-01-15", undated); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, want := measuredAt("acme/tiny-clf"), time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("measured_at %v, want %v", got, want)
	}
	timed := writeResult(t, dir, "timed.json", `"acme/tiny-clf"`, `"acme/clf-2"`, `0.9`, `0.8`)
	if code, _, stderr := submit("-measured-at", "2026-01-16T09:30:00+02:00", timed); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, want := measuredAt("acme/clf-2"), time.Date(2026, 1, 16, 7, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("measured_at %v, want %v", got, want)
	}

	// A native measured_at is the file's: a flag more than a day away is
	// refused, and nothing is sent.
	dated := writeResult(t, dir, "dated.json", `"acme/tiny-clf"`, `"acme/clf-3"`, `0.9`, `0.7`, `"duration_seconds": 41.5`, `"duration_seconds": 41.5, "measured_at": "2025-06-01T10:00:00Z"`)
	before, _ := srv.Backend.CountResults()
	code, _, stderr := submit("-measured-at", "2026-01-15", dated)
	wantOneLineError(t, code, stderr, "dated.json", "-measured-at 2026-01-15 contradicts the file's 2025-06-01T10:00:00Z (measured_at)")
	if after, _ := srv.Backend.CountResults(); after != before {
		t.Errorf("%d results stored after a refusal", after-before)
	}
	if code, _, stderr := submit("-measured-at", "2025-06-01", dated); code != 0 {
		t.Fatalf("a flag on the file's day: exit %d: %s", code, stderr)
	}
	if got := measuredAt("acme/clf-3"); !got.Equal(time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("measured_at %v, want the file's 2025-06-01T10:00:00Z", got)
	}

	// CodeCarbon's timestamp likewise.
	cc := []string{"-model", "acme/summariser", "-task", "summarization", "-queries", "1000"}
	code, _, stderr = submit(append(cc, "-measured-at", "2025-03-01", codecarbonH100)...)
	wantOneLineError(t, code, stderr, "-measured-at 2025-03-01 contradicts the file's 2025-07-31T15:", "(the latest timestamp of")
	if code, _, stderr := submit(append(cc, "-measured-at", "2025-07-31", codecarbonH100)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := measuredAt("acme/summariser"); got.Format(time.DateOnly) != "2025-07-31" || got.Hour() != 15 {
		t.Errorf("measured_at %v, want the log's latest timestamp, 2025-07-31T15:…", got)
	}

	// A flag that is no date, or no date a measurement can have, is a
	// usage error.
	for _, tt := range []struct{ value, want string }{
		{"15/01/2026", "neither a day (YYYY-MM-DD) nor an RFC 3339 time"},
		{"2026-01-15 10:00", "neither a day"},
		{"2014-12-31", "before 2015-01-01"},
		{time.Now().AddDate(0, 0, 3).Format(time.DateOnly), "in the future"},
	} {
		code, _, stderr := submit("-measured-at", tt.value, undated)
		wantOneLineExit(t, exitUsage, code, stderr, "-measured-at", tt.want)
	}
}
