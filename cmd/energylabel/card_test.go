package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
)

// TestCardFromABenchmarkFileInThreeCommands is issue 13's case: a
// publisher submits an optimum-benchmark report, runs card on a model card,
// and the diff is the energy section added at the end, its images on the
// server's public base URL; a second run changes nothing.
func TestCardFromABenchmarkFileInThreeCommands(t *testing.T) {
	srv := servertest.Start(t)
	base := "http://" + srv.HTTPAddr // the test server's -base-url
	code, token, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "token", "create", "-namespace", "acme")
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	t.Setenv("ENERGYLABEL_ADDR", srv.Addr)
	t.Setenv("ENERGYLABEL_TOKEN", strings.TrimSpace(token))

	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	original, err := os.ReadFile(filepath.Join("testdata", "model_card.md"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readme, original, 0o640); err != nil {
		t.Fatal(err)
	}

	// 1. submit
	code, _, stderr = cli(t, "submit", "-model", "acme/m", "-task", "text-generation", "-hardware", "H100", "-params", "7",
		"-gpus", "1", "-duration", "1200", optimumReport)
	if code != 0 {
		t.Fatalf("submit: exit %d: %s", code, stderr)
	}
	// 2. card: the test server's public URL is on loopback, which readers
	// of a published card cannot reach; -allow-local writes it anyway.
	code, stdout, stderr := cli(t, "card", "-model", "acme/m", readme)
	wantOneLineExit(t, exitUsage, code, stderr, "card: the server's public URL "+base+" is a loopback address", "-http", "-allow-local")
	if after, _ := os.ReadFile(readme); stdout != "" || !bytes.Equal(after, original) {
		t.Fatalf("a refused card: stdout %q, card changed: %v", stdout, !bytes.Equal(after, original))
	}
	t.Setenv("ENERGYLABEL_HTTP", base) // the same, from the environment: refused too
	code, _, stderr = cli(t, "card", "-model", "acme/m", readme)
	wantOneLineExit(t, exitUsage, code, stderr, "card: -http "+base+" is a loopback address")
	t.Setenv("ENERGYLABEL_HTTP", "")
	code, stdout, stderr = cli(t, "card", "-allow-local", "-model", "acme/m", readme)
	if code != 0 || stdout != "" || stderr != readme+": energy section of acme/m added (1 rating)\n" {
		t.Fatalf("card: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// 3. the diff: the card as it was, then the section.
	edited, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(edited, original) {
		t.Fatalf("the card's own text changed:\n%s", edited)
	}
	added := string(edited[len(original):])
	_, jsonOut, _ := cli(t, "-json", "get", "acme/m")
	r := ratingsOf(t, jsonOut)[0]
	query := "?task=text-generation&hardware=H100&dataset=AIEnergyScore/text_generation"
	want := "\n" + cardStart + "\n" +
		"## Energy use\n\n" +
		"[![AI energy: " + r.GetGrade() + " · " + energy(r.GetWhPer_1KQueries(), "Wh/1k queries") + "](" + base + "/badge/acme/m.svg" + query + ")](" + base + "/models/acme/m)\n" +
		"\n| Task (dataset, hardware) | Size class | Grade | Stars | Energy | Status |\n" +
		"|---|---|---|---|---|---|\n" +
		"| text-generation (AIEnergyScore/text_generation, H100×1) | A | [" + r.GetGrade() + "](" + base + "/label/acme/m.svg" + query + ") | - | " + energyPerUnit(r) + " | declared by the publisher |\n" +
		"\nThe grade (A–G) is absolute: it compares the energy with fixed references (grade/2025.1), whatever other models do. " +
		"The stars (1–5) are relative: they rank the model within its cohort in a star release, and there is none yet.\n" +
		"\nEach grade links to its full label. All ratings and their history: [acme/m](" + base + "/models/acme/m).\n\n" +
		cardEnd + "\n"
	if added != want {
		t.Errorf("the diff adds\n%s\nwant\n%s", added, want)
	}
	for _, u := range markdownURLs(added) {
		if !strings.HasPrefix(u, base+"/") {
			t.Errorf("%s is not on the server's base URL %s", u, base)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", u, resp.Status)
		}
	}
	if info, err := os.Stat(readme); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("the card's mode is %v (%v), want 0640 kept", info.Mode(), err)
	}

	// A second run leaves the file byte-identical.
	code, _, stderr = cli(t, "card", "-model", "acme/m", "-allow-local", readme)
	if again, _ := os.ReadFile(readme); code != 0 || !bytes.Equal(again, edited) {
		t.Errorf("a second run changed the card: exit %d, %s", code, stderr)
	}
	if stderr != readme+": the energy section of acme/m is up to date\n" {
		t.Errorf("second run: stderr %q", stderr)
	}
	// -o - prints the card and leaves the file as it is.
	code, stdout, _ = cli(t, "card", "-model", "acme/m", "-allow-local", "-o", "-", readme)
	if code != 0 || stdout != string(edited) {
		t.Errorf("-o -: exit %d, printed\n%s", code, stdout)
	}

	// A star release changes the section, in place, and nothing else.
	if code, _, stderr := cli(t, "-token", srv.AdminToken, "admin", "release", "create", "r1"); code != 0 {
		t.Fatalf("release: %s", stderr)
	}
	code, _, stderr = cli(t, "card", "-model", "acme/m", "-allow-local", readme)
	updated, _ := os.ReadFile(readme)
	if code != 0 || stderr != readme+": energy section of acme/m updated (1 rating)\n" {
		t.Fatalf("card after a release: exit %d, %s", code, stderr)
	}
	if !bytes.HasPrefix(updated, original) || !bytes.HasSuffix(updated, []byte(cardEnd+"\n")) || !strings.Contains(string(updated), " | none in r1 | ") ||
		!strings.Contains(string(updated), "within its cohort in star release r1.") {
		t.Errorf("after a release:\n%s", updated[len(original):])
	}
}

func TestCardRefusals(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	card := write("README.md", "---\nlicense: mit\n---\n# m\n")

	// A model with no rating: not found, and the card untouched.
	code, _, stderr := cli(t, "-addr", srv.Addr, "card", "-allow-local", "-model", "acme/none", card)
	wantOneLineExit(t, exitNotFound, code, stderr, "card: ", "acme/none", "not found")

	// Cards the editor cannot edit safely are refused before any call.
	addr, connections := silentServer(t)
	bigCard := strings.Repeat("All work and no play.\n", 5<<20/22)
	big := write("big.md", bigCard)
	for _, tc := range []struct {
		file, want string
	}{
		{write("order.md", "# m\n"+cardEnd+"\n"+cardStart+"\n"), "order.md: line 2: " + cardEnd + " comes before any " + cardStart},
		{write("twice.md", cardStart+"\n"+cardEnd+"\n"+cardStart+"\n"+cardEnd+"\n"), "twice.md: line 3: a second " + cardStart + " (the first is on line 1)"},
		{write("open.md", "# m\n"+cardStart+"\n"), "open.md: line 2: " + cardStart + " has no " + cardEnd + " after it"},
		{big, fmt.Sprintf("big.md: %d bytes: a model card has at most 4 MiB", len(bigCard))},
		{dir, "not a regular file"},
		{filepath.Join(dir, "missing.md"), "missing.md: no such file"},
	} {
		before, _ := os.ReadFile(tc.file)
		code, _, stderr := cli(t, "-addr", addr, "card", "-model", "acme/m", tc.file)
		wantOneLineError(t, code, stderr, "card: ", tc.want)
		if after, _ := os.ReadFile(tc.file); !bytes.Equal(before, after) {
			t.Errorf("%s changed", tc.file)
		}
	}
	if n := connections.Load(); n != 0 {
		t.Errorf("the CLI connected %d times for cards it refused", n)
	}
	// Arguments the CLI can check itself are usage errors, before any call.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", "../etc"}, `card: -model "../etc": ".." is not a valid owner or name`},
		{[]string{"-model", "whisper-large-v3"}, `card: -model "whisper-large-v3" is not of the form owner/name: a model id names its owner too`},
		{[]string{"-model", "acme/m", "-heading", "###Energy"}, `card: -heading "###Energy": want a heading line, e.g. "### Energy"`},
		{[]string{"-model", "acme/m", "-heading", "####### Energy"}, `card: -heading "####### Energy"`},
		{[]string{"-model", "acme/m", "-after", "#"}, `card: -after "#": want a heading line of the card`},
		{[]string{"-model", "acme/m", "-http", "http://localhost:8080"}, "card: -http http://localhost:8080 is localhost, which readers of the model card cannot reach"},
		{[]string{"-model", "acme/m", "-http", "10.1.2.3"}, "card: -http http://10.1.2.3 is a private address"},
		{[]string{"-model", "acme/m", "-http", "https://[fd00::1]"}, "is a private address"},
		{[]string{"-model", "acme/m", "-http", "http://169.254.169.254"}, "is a link-local address"},
		{[]string{"-model", "acme/m", "-http", "http://[::1]:8080/"}, "is a loopback address"},
	} {
		code, stdout, stderr := cli(t, append(append([]string{"-addr", addr, "card"}, tc.args...), card)...)
		wantOneLineExit(t, exitUsage, code, stderr, tc.want)
		if stdout != "" {
			t.Errorf("%q: stdout %q", tc.args, stdout)
		}
	}
	// A heading -after names that the card lacks: the card's own are named.
	code, _, stderr = cli(t, "-addr", addr, "card", "-model", "acme/m", "-after", "## Environmental Impact", card)
	wantOneLineError(t, code, stderr, `card: `+card+`: -after "## Environmental Impact": no such heading; the card's headings are "# m"`)
	if n := connections.Load(); n != 0 {
		t.Errorf("the CLI connected %d times for arguments it refused", n)
	}
}

// TestCardWritesThroughASymlink proves that a card behind a symbolic link
// is replaced where the link points, and the link stays a link.
func TestCardWritesThroughASymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "card.md")
	if err := os.WriteFile(target, []byte("# m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "README.md")
	if err := os.Symlink("card.md", link); err != nil {
		t.Skip(err)
	}
	if err := writeFileAtomic(link, []byte("# m\n\nnew\n")); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("README.md is no longer a link: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "# m\n\nnew\n" {
		t.Errorf("the target holds %q", b)
	}
	if info, _ := os.Stat(target); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", info.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
}
