package main

import (
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
)

// TestArgumentsTheCLICanCheckAreUsageErrors proves that a model id
// without its owner, a size class in lower case or one for a task without
// size classes, and a missing token are refused in one line naming what
// to do, before any call (the server here only counts connections).
func TestArgumentsTheCLICanCheckAreUsageErrors(t *testing.T) {
	addr, connections := silentServer(t)
	result := writeResult(t, t.TempDir(), "r.json")
	for _, tc := range []struct {
		name string
		args []string
		exit int
		want string
	}{
		{"get without the owner", []string{"get", "whisper-large-v3"}, exitUsage,
			`energylabel: get: MODEL "whisper-large-v3" is not of the form owner/name: a model id names its owner too, e.g. openai/whisper-large-v3` + "\n"},
		{"history without the owner", []string{"history", "whisper-large-v3"}, exitUsage,
			`energylabel: history: MODEL "whisper-large-v3" is not of the form owner/name: a model id names its owner too, e.g. openai/whisper-large-v3` + "\n"},
		{"badge of a bad id", []string{"badge", "acme/m!", "-task", "asr"}, exitUsage,
			`energylabel: badge: MODEL "acme/m!": character '!' is not allowed (letters, digits, '-', '_', '.')` + "\n"},
		{"watch of a bad id", []string{"watch", "-model", "a/b/c"}, exitUsage,
			`energylabel: watch: -model "a/b/c" is not of the form owner/name` + "\n"},
		{"submit for a bad id", []string{"submit", "-model", "tiny", result}, exitUsage,
			`energylabel: submit: -model "tiny" is not of the form owner/name: a model id names its owner too, e.g. openai/whisper-large-v3` + "\n"},
		{"a size class in lower case", []string{"list", "-task", "text-generation", "-size-class", "a"}, exitUsage,
			`energylabel: list: -size-class "a": size classes are upper case; did you mean -size-class A?` + "\n"},
		{"a grade for a size class", []string{"list", "-task", "text-generation", "-size-class", "E"}, exitUsage,
			`energylabel: list: -size-class "E": want A, B or C, the size class by parameters (A ≤ 20 B parameters, B ≤ 66 B, C > 66 B); grades A-G are not a size class` + "\n"},
		{"a size class for a task without", []string{"list", "-task", "asr", "-size-class", "A"}, exitUsage,
			"energylabel: list: -size-class A: automatic-speech-recognition has no size classes; size classes apply to text-generation and reasoning only\n"},
		{"submit with a size class in lower case", []string{"submit", "-size-class", "b", result}, exitUsage,
			`energylabel: submit: -size-class "b": size classes are upper case; did you mean -size-class B?` + "\n"},
		{"submit without a token", []string{"submit", result}, exitNotAllowed,
			"energylabel: submit: unauthenticated: no token: this needs a publisher token for the models' owners; pass -token T or set ENERGYLABEL_TOKEN\n"},
		{"import without a token", []string{"import", "aienergyscore", leaderboardDir}, exitNotAllowed,
			`energylabel: import: unauthenticated: no token: this needs a token that may publish for every owner ("*"), or the admin token; pass -token T or set ENERGYLABEL_TOKEN` + "\n"},
		{"token create without a token", []string{"token", "create", "-namespace", "acme"}, exitNotAllowed,
			"energylabel: token create: unauthenticated: no token: this needs the admin token; pass -token T or set ENERGYLABEL_TOKEN\n"},
		{"a release without a token", []string{"admin", "release", "create", "r1"}, exitNotAllowed,
			"energylabel: admin release create: unauthenticated: no token: this needs the admin token; pass -token T or set ENERGYLABEL_TOKEN\n"},
		{"verify without a token", []string{"verify", result}, exitNotAllowed,
			"energylabel: verify: unauthenticated: no token: this needs a surveyor token (energylabel token create -role surveyor); pass -token T or set ENERGYLABEL_TOKEN\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ENERGYLABEL_TOKEN", "")
			code, stdout, stderr := cli(t, append([]string{"-addr", addr}, tc.args...)...)
			if code != tc.exit || stdout != "" || stderr != tc.want {
				t.Errorf("exit %d, stdout %q, stderr\n%q\nwant exit %d and\n%q", code, stdout, stderr, tc.exit, tc.want)
			}
		})
	}
	if n := connections.Load(); n != 0 {
		t.Errorf("the CLI connected %d times for arguments it refused", n)
	}
}

// TestSizeClassIsOneWord proves that -size-class filters by size class
// (A/B/C by parameters), that -class still does with a one-line warning,
// and that tables say SIZE CLASS and GRADE, never CLASS alone.
func TestSizeClassIsOneWord(t *testing.T) {
	srv := servertest.Start(t)
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "import", "aienergyscore", leaderboardDir); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	code, want, stderr := cli(t, "-addr", srv.Addr, "list", "-task", "text-generation", "-size-class", "A")
	if code != 0 || stderr != "" || !strings.HasPrefix(want, "text-generation · dataset AIEnergyScore/text_generation · H100 · size class A · ") {
		t.Fatalf("list -size-class A: exit %d, %s\n%s", code, stderr, want)
	}
	if header := strings.Split(want, "\n")[1]; !strings.Contains(header, "GRADE") {
		t.Errorf("header %q", header)
	}
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "list", "-task", "text-generation", "-class", "A")
	if code != 0 || stdout != want {
		t.Errorf("list -class A: exit %d, differs from -size-class A:\n%s", code, stdout)
	}
	if stderr != "energylabel: warning: -class is deprecated; use -size-class (the size class A, B or C by parameters, not the grade)\n" {
		t.Errorf("list -class A: stderr %q, want one line of deprecation", stderr)
	}

	_, stdout, _ = cli(t, "-addr", srv.Addr, "get", "meta-llama/Meta-Llama-3.1-8B")
	_, hist, _ := cli(t, "-addr", srv.Addr, "history", "meta-llama/Meta-Llama-3.1-8B")
	result := writeResult(t, t.TempDir(), "r.json", `"acme/tiny-clf"`, `"acme/new-clf"`)
	_, sub, _ := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "submit", result)
	_, help, _ := cli(t, "help")
	_, listHelp, _ := cli(t, "help", "list")
	for name, out := range map[string]string{"get": stdout, "history": hist, "submit": sub} {
		header, _, _ := strings.Cut(out, "\n")
		if !strings.Contains(header, " SIZE CLASS ") || !strings.Contains(header, " GRADE ") || strings.Count(header, "CLASS") != 1 {
			t.Errorf("%s's header %q: want SIZE CLASS and GRADE", name, header)
		}
	}
	if !strings.Contains(help, "list -task T [-dataset D] [-size-class A|B|C] [-hardware H]") ||
		!strings.Contains(listHelp, "-size-class C") || !strings.Contains(listHelp, "A ≤ 20 B parameters, B ≤ 66 B, C > 66 B") {
		t.Errorf("usage does not say -size-class:\n%s\n%s", help, listHelp)
	}
}
