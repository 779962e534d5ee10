package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/energylabel/energylabel/internal/testkit/aiesoracle"
	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

const leaderboardDir = "../../testdata/aienergyscore-2025-02"

// ratingsOf parses -json output: one protojson Rating per line.
func ratingsOf(t *testing.T, stdout string) []*energylabelv1.Rating {
	t.Helper()
	var rs []*energylabelv1.Rating
	for line := range strings.Lines(stdout) {
		r := &energylabelv1.Rating{}
		if err := protojson.Unmarshal([]byte(line), r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// ratingKeys are the fields the contract says a JSON rating has; stars,
// grade and eei only where there are some (absent otherwise, with a note).
var ratingKeys = []string{"model", "task", "size_class", "hardware", "basis", "wh_per_1k_queries",
	"energy_per_unit", "unit", "stars", "grade", "eei", "scheme"}

func checkRatingKeys(t *testing.T, line string, except ...string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("not one JSON object: %q: %v", line, err)
	}
	for _, k := range ratingKeys {
		if slices.Contains(except, k) {
			if _, ok := m[k]; ok {
				t.Errorf("JSON rating has %q, want it absent: %s", k, line)
			}
			continue
		}
		if _, ok := m[k]; !ok {
			t.Errorf("JSON rating lacks %q: %s", k, line)
		}
	}
}

func TestImportReproducesThePublishedLeaderboard(t *testing.T) {
	srv := servertest.Start(t)
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "import", "aienergyscore", leaderboardDir)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	if want := "imported 166 results from " + leaderboardDir + "\n"; stdout != want {
		t.Errorf("import stdout = %q, want %q", stdout, want)
	}
	// Before the first release there are no stars, and the rating says why.
	_, stdout, _ = cli(t, "-addr", srv.Addr, "-json", "get", "openai/whisper-large-v3")
	if strings.Contains(stdout, `"stars"`) || !strings.Contains(stdout, `"stars_note":"no star release`) {
		t.Errorf("before a release: %s", stdout)
	}
	code, stdout, stderr = cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "admin", "release", "create", "r1", "-dry-run")
	if code != 0 || !strings.Contains(stdout, "release r1 would be created (dry run): 12 cohorts (12 with stars), 164 models; stars change for 164 ratings") {
		t.Errorf("release dry run: exit %d: %s%s", code, stdout, stderr)
	}
	if _, out, _ := cli(t, "-addr", srv.Addr, "releases"); !strings.Contains(out, "no star release yet") {
		t.Errorf("a dry run created a release: %s", out)
	}
	code, stdout, stderr = cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "admin", "release", "create", "r1")
	if code != 0 || !strings.Contains(stdout, "release r1 created: 12 cohorts (12 with stars), 164 models; stars change for 164 ratings") {
		t.Errorf("release create: exit %d: %s%s", code, stdout, stderr)
	}
	if code, _, stderr = cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "admin", "release", "create", "r1"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("a second r1: exit %d: %s", code, stderr)
	}

	oracle, err := aiesoracle.Stars() // the bundled copy, the same leaderboard as leaderboardDir
	if err != nil {
		t.Fatal(err)
	}
	grades := map[string]int{}
	rated := 0
	for task, classes := range oracle {
		for class, want := range classes {
			args := []string{"-addr", srv.Addr, "-json", "list", "-task", task}
			if class != "" {
				args = append(args, "-size-class", class)
			}
			code, stdout, stderr := cli(t, args...)
			if code != 0 {
				t.Fatalf("%q: exit %d: %s", args, code, stderr)
			}
			checkRatingKeys(t, strings.SplitN(stdout, "\n", 2)[0])
			got := map[string]int32{}
			prev := 0.0
			for i, r := range ratingsOf(t, stdout) {
				if r.GetRelease() != "r1" {
					t.Errorf("%s: stars of release %q, want r1", r.GetModel(), r.GetRelease())
				}
				if _, dup := got[r.GetModel()]; dup {
					t.Errorf("%s %s: %s listed twice", task, class, r.GetModel())
				}
				got[r.GetModel()] = r.GetStars()
				grades[r.GetGrade()]++
				rated++
				if r.GetTask() != task || r.GetSizeClass() != class || r.GetBasis() != "query" {
					t.Errorf("%s %s: rating in cohort %s/%s/%s", task, class, r.GetTask(), r.GetSizeClass(), r.GetBasis())
				}
				if i > 0 && r.GetEnergyPerUnit() < prev {
					t.Errorf("%s %s: %s listed after a better model", task, class, r.GetModel())
				}
				prev = r.GetEnergyPerUnit()
			}
			for model, stars := range want {
				if g, ok := got[model]; !ok {
					t.Errorf("%s %s: %s missing from the list", task, class, model)
				} else if g != stars {
					t.Errorf("%s %s: %s has %d stars, published %d", task, class, model, g, stars)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s %s: listed %d models, published %d", task, class, len(got), len(want))
			}
		}
	}
	if rated != 164 {
		t.Errorf("listed %d ratings, want 164", rated)
	}
	want := map[string]int{"A": 2, "B": 2, "C": 8, "D": 25, "E": 48, "F": 44, "G": 35}
	if fmt.Sprint(grades) != fmt.Sprint(want) {
		t.Errorf("grade spread = %v, want %v", grades, want)
	}

	// Listing text generation across its classes, a few per page, gives the
	// same ratings as one class at a time.
	_, all, _ := cli(t, "-addr", srv.Addr, "-json", "list", "-task", "text_generation", "-page-size", "3")
	var perClass []string
	for _, c := range []string{"A", "B", "C"} {
		_, out, _ := cli(t, "-addr", srv.Addr, "-json", "list", "-task", "text-generation", "-size-class", c)
		for _, r := range ratingsOf(t, out) {
			perClass = append(perClass, r.GetModel()+"/"+r.GetSizeClass())
		}
	}
	var paged []string
	for _, r := range ratingsOf(t, all) {
		paged = append(paged, r.GetModel()+"/"+r.GetSizeClass())
	}
	slices.Sort(paged)
	slices.Sort(perClass)
	if !slices.Equal(paged, perClass) {
		t.Errorf("paged listing of all classes differs from per-class listings:\n%q\n%q", paged, perClass)
	}

	// The table shows the same leaderboard to a person, under a line
	// naming its cohort.
	code, stdout, _ = cli(t, "-addr", srv.Addr, "list", "-task", "asr")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	n := len(oracle["automatic-speech-recognition"][""])
	if code != 0 || len(lines) != 2+n ||
		lines[0] != fmt.Sprintf("automatic-speech-recognition · dataset AIEnergyScore/asr · H100 · per query (%d models; ranked among %d references of r1)", n, n) ||
		!strings.HasPrefix(lines[1], "RANK") || !strings.HasPrefix(lines[2], fmt.Sprintf("1/%d ", n)) || !strings.Contains(lines[2], "★★★★★") {
		t.Errorf("list table:\n%s", stdout)
	}

	// Ratings survive a restart.
	srv.Restart(t)
	code, stdout, stderr = cli(t, "-addr", srv.Addr, "-json", "list", "-task", "image_generation")
	if code != 0 || len(ratingsOf(t, stdout)) != len(oracle["text-to-image"][""]) {
		t.Errorf("after restart: exit %d, %q, %s", code, stdout, stderr)
	}
}

func TestTokensScopeSubmissionsAndReadsArePublic(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	orgA := writeResult(t, dir, "org-a.json", `"acme/tiny-clf"`, `"org-a/tiny-clf"`)
	orgB := writeResult(t, dir, "org-b.json", `"acme/tiny-clf"`, `"org-b/x"`)

	// No token: the flag and the variable that give one, not a gRPC
	// header, before any call.
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "submit", orgA)
	wantOneLineExit(t, exitNotAllowed, code, stderr, "submit: unauthenticated: no token", "pass -token T or set ENERGYLABEL_TOKEN")
	if stdout != "" || strings.Contains(stderr, "authorization") || strings.Contains(stderr, "header") {
		t.Errorf("submit without a token: stdout %q, stderr %q", stdout, stderr)
	}
	code, _, stderr = cli(t, "-addr", srv.Addr, "-token", "not-a-token", "submit", orgA)
	wantOneLineExit(t, exitNotAllowed, code, stderr, "submit "+orgA, "unauthenticated", "(the token from -token)")

	code, token, stderr := cli(t, "token", "create", "-namespace", "org-a", "-addr", srv.Addr, "-token", srv.AdminToken)
	if code != 0 || strings.Count(token, "\n") != 1 || strings.TrimSpace(token) == "" || strings.ContainsAny(strings.TrimSpace(token), " \t") {
		t.Fatalf("token create: exit %d, stdout %q, stderr %q", code, token, stderr)
	}
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(stderr, "created token ") {
		t.Errorf("token create stderr = %q", stderr)
	}
	id := strings.TrimSpace(strings.TrimPrefix(stderr, "created token "))

	code, _, stderr = cli(t, "-addr", srv.Addr, "-token", token, "submit", orgB)
	wantOneLineExit(t, exitNotAllowed, code, stderr, "submit "+orgB, "permission denied", "org-b")

	// The token comes from the environment when no flag gives it.
	t.Setenv("ENERGYLABEL_ADDR", srv.Addr)
	t.Setenv("ENERGYLABEL_TOKEN", token)
	code, stdout, stderr = cli(t, "submit", orgA)
	if code != 0 || !strings.Contains(stdout, "org-a/tiny-clf") || !strings.HasPrefix(stdout, "FILE") {
		t.Fatalf("submit with a token for org-a: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = cli(t, "-json", "submit", orgA)
	rs := ratingsOf(t, stdout)
	if code != 0 || len(rs) != 1 || rs[0].GetModel() != "org-a/tiny-clf" || rs[0].GetStarsNote() == "" || rs[0].GetResultId() == 0 {
		t.Errorf("submit -json: exit %d, %q", code, stdout)
	}
	// No release yet: no stars, and the JSON leaves them out.
	checkRatingKeys(t, strings.TrimSpace(stdout), "stars")

	// A publisher token is not an admin token.
	code, _, stderr = cli(t, "token", "create", "-namespace", "org-b")
	if code != exitNotAllowed || !strings.Contains(stderr, "unauthenticated") && !strings.Contains(stderr, "permission denied") {
		t.Errorf("token create with a publisher token: exit %d, %q", code, stderr)
	}

	// Reads need no token.
	t.Setenv("ENERGYLABEL_TOKEN", "")
	for _, args := range [][]string{
		{"get", "org-a/tiny-clf"}, {"-json", "get", "org-a/tiny-clf", "-task", "text_classification"},
		{"list", "-task", "text-classification"}, {"tasks"}, {"-json", "tasks"},
	} {
		code, stdout, stderr := cli(t, args...)
		if code != 0 || stdout == "" || stderr != "" {
			t.Errorf("%q without a token: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	_, stdout, _ = cli(t, "-json", "get", "org-a/tiny-clf")
	if rs := ratingsOf(t, stdout); len(rs) != 1 || rs[0].GetGrade() == "" || rs[0].GetScheme() != "grade/2025.1" {
		t.Errorf("get -json = %q", stdout)
	}
	_, stdout, _ = cli(t, "tasks")
	if !strings.Contains(stdout, "automatic-speech-recognition") || !strings.Contains(stdout, "asr") || !strings.Contains(stdout, "J/token") {
		t.Errorf("tasks table:\n%s", stdout)
	}

	// Revoked, the token no longer submits.
	code, stdout, _ = cli(t, "-token", srv.AdminToken, "token", "list")
	if code != 0 || !strings.Contains(stdout, id) || !strings.Contains(stdout, "org-a") || strings.Contains(stdout, token) {
		t.Errorf("token list: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := cli(t, "-token", srv.AdminToken, "token", "revoke", id); code != 0 {
		t.Fatalf("token revoke: exit %d: %s", code, stderr)
	}
	code, _, stderr = cli(t, "-token", token, "submit", orgA)
	wantOneLineExit(t, exitNotAllowed, code, stderr, "unauthenticated")
}

func TestBadResultsAreRefusedAndNothingIsStored(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	for _, tt := range badResults {
		t.Run(tt.name, func(t *testing.T) {
			bad := writeResult(t, dir, "bad.json", tt.edit...)
			code, stdout, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "submit", bad)
			wantOneLineError(t, code, stderr, "submit: "+bad+": ", tt.field)
			if stdout != "" {
				t.Errorf("stdout = %q", stdout)
			}
		})
	}
	for _, model := range []string{"acme/tiny-clf", "org-b/x"} {
		code, stdout, stderr := cli(t, "-addr", srv.Addr, "get", model)
		// Each thing once: the model, and that it is not found.
		wantOneLineExit(t, exitNotFound, code, stderr, "get: ", model, "not found")
		if strings.Count(stderr, model) != 1 || strings.Count(stderr, "not found") != 1 {
			t.Errorf("stderr %q says something twice", stderr)
		}
		if stdout != "" {
			t.Errorf("get %s printed %q", model, stdout)
		}
	}
	code, stdout, _ := cli(t, "-addr", srv.Addr, "-json", "list", "-task", "text-classification")
	if code != 0 || stdout != "" {
		t.Errorf("list after refusals: exit %d, %q", code, stdout)
	}
}

func TestServerSideRefusalsReachTheUser(t *testing.T) {
	srv := servertest.Start(t)
	// The server checks what the CLI does not: here, a namespace, and a
	// token id.
	code, _, stderr := cli(t, "-addr", srv.Addr, "list", "-task", "juggling")
	wantOneLineExit(t, exitUsage, code, stderr, "task", "juggling")
	code, _, stderr = cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "token", "create", "-namespace", "../etc")
	wantOneLineError(t, code, stderr, "token create", "namespaces[0]")
	code, _, stderr = cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "token", "revoke", "no-such-token")
	wantOneLineExit(t, exitNotFound, code, stderr, "token revoke", "no-such-token", "not found")
	if strings.Count(stderr, "no-such-token") != 1 {
		t.Errorf("stderr %q names the token twice", stderr)
	}
}

func TestImportWaitsOutThePublisherRateLimit(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{SubmitLimit: limits.RateLimit{Rate: 200, Burst: 5}})
	code, token, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "token", "create", "-namespace", "*")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	token = strings.TrimSpace(token)
	// A publisher token vouches for measurements, which carry a duration:
	// the published AIES figures have none, and only the admin imports them.
	code, _, stderr = cli(t, "-addr", srv.Addr, "-token", token, "import", "aienergyscore", leaderboardDir)
	wantOneLineError(t, code, stderr, "duration_seconds")
	// ML.ENERGY's configurations state their power, so a duration follows.
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "-token", token, "-json", "import", "mlenergy", mlenergyDir)
	if code != 0 {
		t.Fatalf("import with a rate-limited token: exit %d: %s", code, stderr)
	}
	if rs := ratingsOf(t, stdout); len(rs) != 113 {
		t.Errorf("import -json printed %d ratings, want one per kept configuration (113)", len(rs))
	}
	if !strings.HasPrefix(stderr, "imported 113 results from "+mlenergyDir) {
		t.Errorf("stderr = %q, want the summary", stderr)
	}
	if !strings.Contains(srv.Logs.String(), "ResourceExhausted") {
		t.Error("the server never limited the import: the test proves nothing")
	}
}

func TestBadgeRendersTheRatingLocally(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	result := writeResult(t, dir, "r.json")
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "submit", result); code != 0 {
		t.Fatalf("submit: %s", stderr)
	}
	httpBase := "http://" + srv.HTTPAddr

	code, stdout, stderr := cli(t, "-addr", srv.Addr, "badge", "acme/tiny-clf", "-task", "text_classification", "-http", httpBase)
	if code != 0 || !strings.HasPrefix(stdout, "<svg") || !strings.Contains(stdout, "Wh/1k") {
		t.Errorf("badge: exit %d, stderr %q, stdout %.200q", code, stderr, stdout)
	}

	png := filepath.Join(dir, "label.png")
	t.Setenv("ENERGYLABEL_HTTP", srv.HTTPAddr) // host:port, no scheme
	code, stdout, stderr = cli(t, "-addr", srv.Addr, "badge", "acme/tiny-clf", "-kind", "label", "-format", "png", "-o", png)
	if code != 0 || stdout != "" {
		t.Fatalf("label png: exit %d, stderr %q", code, stderr)
	}
	if b, err := os.ReadFile(png); err != nil || !strings.HasPrefix(string(b), "\x89PNG\r\n\x1a\n") {
		t.Errorf("label.png is not a PNG (%v)", err)
	}

	// Markdown: the server's public URL unless -http overrides it, the
	// image URL naming the cohort, the alt text saying grade and energy.
	_, stdout, _ = cli(t, "-addr", srv.Addr, "-json", "get", "acme/tiny-clf")
	g := ratingsOf(t, stdout)[0].GetGrade()
	e := energy(ratingsOf(t, stdout)[0].GetWhPer_1KQueries(), "Wh/1k queries") // as the label package prints it
	t.Setenv("ENERGYLABEL_HTTP", "")
	query := "?task=text-classification&hardware=H100&dataset=AIEnergyScore/text_classification"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-markdown"}, "[![AI energy: " + g + " · " + e + "](" + httpBase + "/badge/acme/tiny-clf.svg" + query + ")](" + httpBase + "/models/acme/tiny-clf)\n"},
		{[]string{"-markdown", "-http", "https://energy.example.org/"},
			"[![AI energy: " + g + " · " + e + "](https://energy.example.org/badge/acme/tiny-clf.svg" + query + ")](https://energy.example.org/models/acme/tiny-clf)\n"},
		{[]string{"-markdown", "-show", "stars", "-scheme", "grade/2025.1"},
			"[![AI energy: no stars · " + e + "](" + httpBase + "/badge/acme/tiny-clf.svg" + query + "&show=stars&scheme=grade%2F2025.1)](" + httpBase + "/models/acme/tiny-clf)\n"},
		{[]string{"-markdown", "-kind", "label", "-task", "text_classification", "-hardware", "NVIDIA H100 80GB HBM3"},
			"[![AI energy label: " + g + " · " + e + "](" + httpBase + "/label/acme/tiny-clf.svg" + query + ")](" + httpBase + "/models/acme/tiny-clf)\n"},
	} {
		code, stdout, stderr := cli(t, append([]string{"-addr", srv.Addr, "badge", "acme/tiny-clf"}, tc.args...)...)
		if code != 0 || stdout != tc.want {
			t.Errorf("badge %q: exit %d, %s\n%q\nwant\n%q", tc.args, code, stderr, stdout, tc.want)
		}
	}
	// Every URL in the snippet is served.
	_, snippet, _ := cli(t, "-addr", srv.Addr, "badge", "acme/tiny-clf", "-markdown")
	for _, u := range markdownURLs(snippet) {
		if resp, err := http.Get(u); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %v %v", u, resp.Status, err)
		} else {
			resp.Body.Close()
		}
	}

	// An unrated model gets the grey badge, not an error; its label and
	// Markdown are "not found".
	code, stdout, _ = cli(t, "-addr", srv.Addr, "badge", "acme/unrated")
	if code != 0 || !strings.Contains(stdout, "not rated") {
		t.Errorf("badge of an unrated model: exit %d, %.200q", code, stdout)
	}
	code, _, stderr = cli(t, "-addr", srv.Addr, "badge", "acme/unrated", "-kind", "label")
	wantOneLineExit(t, exitNotFound, code, stderr, "badge: ", "acme/unrated", "not found")
	code, _, stderr = cli(t, "-addr", srv.Addr, "badge", "acme/tiny-clf", "-markdown", "-hardware", "B200")
	wantOneLineExit(t, exitNotFound, code, stderr, "badge: ", "acme/tiny-clf", "has no rating for hardware B200")

	// The CLI draws with the server's code: the same rating, the same bytes.
	_, local, _ := cli(t, "-addr", srv.Addr, "badge", "acme/tiny-clf", "-task", "text_classification", "-http", httpBase)
	resp, err := http.Get(httpBase + "/badge/acme/tiny-clf.svg?task=text-classification")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if local != string(served) {
		t.Errorf("the CLI's badge differs from the server's:\n%s\n%s", local, served)
	}

	code, _, stderr = cli(t, "badge", "../etc", "-markdown")
	wantOneLineExit(t, exitUsage, code, stderr, `badge: MODEL "../etc"`)
	for _, args := range [][]string{
		{"badge"}, {"badge", "acme/x", "-format", "png"}, {"badge", "acme/x", "-kind", "poster"},
		{"badge", "acme/x", "-markdown", "-o", "f"}, {"badge", "acme/x", "-http", "ftp://x"},
		{"badge", "acme/x", "-markdown", "-kind", "label", "-scheme", "grade/2025.1"}, {"badge", "acme/x", "-show", "letters"},
	} {
		if code, _, _ := cli(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

// markdownURLs returns the link and image destinations in Markdown.
func markdownURLs(md string) []string {
	var urls []string
	for _, part := range strings.Split(md, "](")[1:] {
		if i := strings.IndexByte(part, ')'); i > 0 {
			urls = append(urls, part[:i])
		}
	}
	return urls
}
