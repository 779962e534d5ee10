package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/rating/label"
)

// TestEveryStatusShowsInTheCLI follows market surveillance through the
// CLI: a surveyor verifies one declared result and corrects another, and
// get, list, -json, card and badge each say who vouches for each rating,
// with ranks among the release's references and a corrected rating's
// declared figure beside the determined one.
func TestEveryStatusShowsInTheCLI(t *testing.T) {
	srv := servertest.Start(t)
	t.Setenv("ENERGYLABEL_ADDR", srv.Addr)
	admin := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := cli(t, append([]string{"-token", srv.AdminToken}, args...)...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		return strings.TrimSpace(stdout)
	}
	admin("import", "aienergyscore", leaderboardDir)
	admin("admin", "release", "create", "aies-2025-02")
	publisher, surveyor := admin("token", "create", "-namespace", "acme"), admin("token", "create", "-role", "surveyor")
	dir := t.TempDir()
	file := func(model string, wh string) string {
		return writeResult(t, dir, strings.ReplaceAll(model, "/", "_")+"-"+wh+".json", `"acme/tiny-clf"`, `"`+model+`"`, `"gpu_energy_wh": 0.9`, `"gpu_energy_wh": `+wh)
	}
	send := func(token, command string, files ...string) {
		t.Helper()
		if code, _, stderr := cli(t, append([]string{"-token", token, command}, files...)...); code != 0 {
			t.Fatalf("%s %q: exit %d: %s", command, files, code, stderr)
		}
	}
	send(publisher, "submit", file("acme/plain", "0.9"), file("acme/honest", "0.8"), file("acme/cheat", "0.7"))
	send(surveyor, "verify", file("acme/honest", "0.84"))                              // 5 % worse: verified
	send(surveyor, "verify", file("acme/cheat", "0.98"))                               // 40 % worse: under review
	send(surveyor, "verify", file("acme/cheat", "0.981"), file("acme/cheat", "0.982")) // follow-ups
	code, stdout, stderr := cli(t, "get", "acme/cheat")
	if code != 0 || !regexp.MustCompile(`under review: declared \S+ \S*Wh/1k\S*( queries)?, surveyor measured \S+`).MatchString(stdout) {
		t.Errorf("get under review: exit %d %s\n%s", code, stderr, stdout)
	}
	send(surveyor, "verify", file("acme/cheat", "0.983")) // the third decides: corrected

	// -json is the API's Rating, verification included.
	_, stdout, _ = cli(t, "-json", "get", "acme/cheat")
	r := ratingsOf(t, stdout)[0]
	v := r.GetVerification()
	if v.GetStatus() != "corrected" || v.GetDeclaredWhPer_1KQueries() != 0.7 || r.GetWhPer_1KQueries() < 0.98 {
		t.Fatalf("-json get acme/cheat: %s", stdout)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	if st, _ := raw["verification"].(map[string]any)["status"].(string); st != "corrected" {
		t.Errorf("-json has no verification.status: %s", stdout)
	}
	_, stdout, _ = cli(t, "-json", "list", "-task", "text-classification")
	statuses := map[string]string{}
	for _, r := range ratingsOf(t, stdout) {
		statuses[r.GetModel()] = r.GetVerification().GetStatus()
	}
	for model, want := range map[string]string{"acme/plain": "declared", "acme/honest": "verified", "acme/cheat": "corrected", "distilbert/distilbert-base-uncased-finetuned-sst-2-english": "published"} {
		if statuses[model] != want {
			t.Errorf("-json list: %s is %q, want %q", model, statuses[model], want)
		}
	}

	// get: the status line, the determined figure with the declared one,
	// and the rank among the release's references. (Figures are as the
	// label package prints them.)
	day := v.GetCheckedAt().AsTime().UTC().Format("2006-01-02")
	declared, _ := label.SplitEnergy(v.GetDeclaredWhPer_1KQueries(), "Wh")
	_, stdout, _ = cli(t, "get", "acme/cheat")
	header, line, _ := strings.Cut(stdout, "\n")
	for column, want := range map[string]string{
		"STATUS":         "corrected " + day,
		"PER 1K QUERIES": label.FormatEnergy(r.GetWhPer_1KQueries(), "Wh") + " (declared " + declared + ")",
		"RANK":           releaseRank(r),
		"RELEASE":        "aies-2025-02",
	} {
		if got := field(header, line, column); got != want {
			t.Errorf("get acme/cheat: %s is %q, want %q\n%s", column, got, want, stdout)
		}
	}
	if !regexp.MustCompile(`^\d+/\d+$`).MatchString(releaseRank(r)) || r.GetReleaseCohortSize() == r.GetCohortSize() {
		t.Errorf("rank %s: want R/N among the release's %d references, not the cohort's %d models now", releaseRank(r), r.GetReleaseCohortSize(), r.GetCohortSize())
	}
	_, stdout, _ = cli(t, "get", "acme/honest")
	header, line, _ = strings.Cut(stdout, "\n")
	if got := field(header, line, "STATUS"); got != "verified ✓ "+day {
		t.Errorf("get acme/honest: STATUS %q", got)
	}

	// list: a status and a release rank on every row.
	_, stdout, _ = cli(t, "list", "-task", "text-classification")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if !regexp.MustCompile(`\(\d+ models; ranked among \d+ references of aies-2025-02\)$`).MatchString(lines[0]) {
		t.Errorf("list title %q", lines[0])
	}
	want := map[string]string{"acme/plain": "declared", "acme/honest": "verified ✓", "acme/cheat": "corrected",
		"distilbert/distilbert-base-uncased-finetuned-sst-2-english": "published"}
	for _, line := range lines[2:] {
		model := field(lines[1], line, "MODEL")
		if w, ok := want[model]; ok {
			if got := field(lines[1], line, "STATUS"); got != w {
				t.Errorf("list: %s's STATUS is %q, want %q", model, got, w)
			}
			delete(want, model)
		}
		if rank := field(lines[1], line, "RANK"); !regexp.MustCompile(`^(\d+/\d+|after \d+)$`).MatchString(rank) {
			t.Errorf("list: %s ranks %q", model, rank)
		}
		if model == "acme/cheat" && !strings.Contains(line, "(declared "+declared+")") {
			t.Errorf("list: the corrected row lacks its declared figure: %q", line)
		}
	}
	if len(want) > 0 {
		t.Errorf("list lacks %v:\n%s", want, stdout)
	}

	// card: the status, and the declared figure struck through.
	card := filepath.Join(dir, "README.md")
	if err := os.WriteFile(card, []byte("# acme/cheat\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stdout, stderr = cli(t, "card", "-model", "acme/cheat", "-allow-local", "-o", "-", card)
	if !strings.Contains(stdout, " | corrected "+day+" |") || !strings.Contains(stdout, " ~~"+label.FormatEnergy(v.GetDeclaredEnergyPerUnit(), r.GetUnit())+"~~ | ") {
		t.Errorf("card of a corrected rating: %s\n%s", stderr, stdout)
	}
	_, stdout, _ = cli(t, "card", "-model", "acme/honest", "-allow-local", "-o", "-", card)
	if !strings.Contains(stdout, " | verified ✓ "+day+" |") {
		t.Errorf("card of a verified rating:\n%s", stdout)
	}

	// badge: drawn here as the server draws it.
	_, stdout, _ = cli(t, "badge", "acme/honest")
	if n, _ := label.SplitEnergy(0.8, "Wh"); !strings.Contains(stdout, n+" ") || !strings.Contains(stdout, " ✓</text>") {
		t.Errorf("badge of a verified rating: %s", stdout)
	}
	_, stdout, _ = cli(t, "badge", "acme/cheat", "-kind", "label", "-http", "http://"+srv.HTTPAddr)
	if !strings.Contains(stdout, ">corrected "+day) || !strings.Contains(stdout, ">"+label.FormatEnergy(v.GetDeclaredWhPer_1KQueries(), "Wh")+"</text>") {
		t.Errorf("label of a corrected rating: %s", stdout)
	}
}

// field is a column's value in a table row, by the header's layout: from
// where the column's name starts to where the next one does, counted in
// runes as tabwriter pads them.
func field(header, row, column string) string {
	h, r := []rune(header), []rune(row)
	i := strings.Index(header, column)
	if i < 0 {
		return ""
	}
	start := len([]rune(header[:i]))
	end := len(r)
	for j := start + len([]rune(column)); j+1 < len(h); j++ {
		if h[j] == ' ' && h[j+1] != ' ' {
			end = j + 1
			break
		}
	}
	if start >= len(r) {
		return ""
	}
	return strings.TrimSpace(string(r[start:min(end, len(r))]))
}
