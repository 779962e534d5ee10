package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/rating"
)

// listRatingsCalls is how many ListRatings calls the server has handled,
// from its metrics.
func listRatingsCalls(t *testing.T, srv *servertest.Server) int {
	t.Helper()
	resp, err := http.Get("http://" + srv.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	n := 0
	for _, m := range regexp.MustCompile(`(?m)^grpc_server_handled_total\{[^}]*grpc_method="ListRatings"[^}]*\} (\d+)$`).FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

// TestModelIDsMatchIgnoringCaseWhenOneModelDoes proves that a read of a
// model id that matches no model, but differs only in case from one rated
// model, reads that one and says so on stderr; that when several differ
// only in case it names them; and that the look-up is bounded: one page
// of ListRatings for the task given, one a task without.
func TestModelIDsMatchIgnoringCaseWhenOneModelDoes(t *testing.T) {
	srv := servertest.Start(t)
	t.Setenv("ENERGYLABEL_ADDR", srv.Addr)
	if code, _, stderr := cli(t, "-token", srv.AdminToken, "import", "aienergyscore", leaderboardDir); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	const typed, rated = "openai/Whisper-Large-V3", "openai/whisper-large-v3"
	note := func(cmd string) string {
		return "energylabel: " + cmd + ": no model " + typed + "; reading " + rated + ", the one rated model whose id differs from it only in case\n"
	}
	_, want, _ := cli(t, "get", rated)

	before := listRatingsCalls(t, srv)
	code, stdout, stderr := cli(t, "get", typed)
	if code != 0 || stdout != want || stderr != note("get") {
		t.Errorf("get %s: exit %d, stderr %q\n%s\nwant the ratings of %s", typed, code, stderr, stdout, rated)
	}
	if n := listRatingsCalls(t, srv) - before; n > len(rating.Tasks()) {
		t.Errorf("the look-up made %d ListRatings calls, want at most one a task (%d)", n, len(rating.Tasks()))
	}
	before = listRatingsCalls(t, srv)
	code, stdout, stderr = cli(t, "-json", "get", typed, "-task", "asr")
	if rs := ratingsOf(t, stdout); code != 0 || len(rs) != 1 || rs[0].GetModel() != rated || stderr != note("get") {
		t.Errorf("-json get %s -task asr: exit %d, stderr %q\n%s", typed, code, stderr, stdout)
	}
	if n := listRatingsCalls(t, srv) - before; n != 1 {
		t.Errorf("the look-up for one task made %d ListRatings calls, want 1", n)
	}

	code, stdout, stderr = cli(t, "history", typed)
	if code != 0 || !strings.HasPrefix(stdout, "RESULT ") || strings.Count(stdout, "\n") != 2 || stderr != note("history") {
		t.Errorf("history %s: exit %d, stderr %q\n%s", typed, code, stderr, stdout)
	}
	code, stdout, stderr = cli(t, "badge", typed, "-markdown", "-http", "https://energy.example.org")
	if code != 0 || !strings.Contains(stdout, "/badge/"+rated+".svg?") || stderr != note("badge") {
		t.Errorf("badge %s -markdown: exit %d, stderr %q\n%s", typed, code, stderr, stdout)
	}
	card := filepath.Join(t.TempDir(), "README.md")
	os.WriteFile(card, []byte("# Whisper\n"), 0o644)
	code, stdout, stderr = cli(t, "card", "-model", typed, "-http", "https://energy.example.org", "-o", "-", card)
	if code != 0 || !strings.Contains(stdout, "[openai/whisper-large-v3](https://energy.example.org/models/openai/whisper-large-v3)") || stderr != note("card") {
		t.Errorf("card -model %s: exit %d, stderr %q\n%s", typed, code, stderr, stdout)
	}

	// Two models differ only in case: neither is guessed; both are named.
	dir := t.TempDir()
	for i, model := range []string{"acme/Tiny-clf", "acme/tiny-clf"} {
		file := writeResult(t, dir, strconv.Itoa(i)+".json", `"acme/tiny-clf"`, strconv.Quote(model), `"gpu_energy_wh": 0.9`, `"gpu_energy_wh": 0.9`+strconv.Itoa(i+1))
		if code, _, stderr := cli(t, "-token", srv.AdminToken, "submit", file); code != 0 {
			t.Fatalf("submit %s: %s", model, stderr)
		}
	}
	for _, args := range [][]string{{"get", "acme/TINY-CLF"}, {"get", "acme/TINY-CLF", "-task", "text-classification"}} {
		code, stdout, stderr = cli(t, args...)
		wantOneLineExit(t, exitNotFound, code, stderr, `get: model "acme/TINY-CLF" has no rating`, "not found; did you mean acme/Tiny-clf or acme/tiny-clf?")
		if stdout != "" {
			t.Errorf("%q: stdout %q", args, stdout)
		}
	}
	code, _, stderr = cli(t, "history", "acme/TINY-CLF")
	wantOneLineExit(t, exitNotFound, code, stderr, `history: model "acme/TINY-CLF" has no accepted result: not found; did you mean acme/Tiny-clf or acme/tiny-clf?`)

	// No model of any spelling: not found, as the server says it.
	code, stdout, stderr = cli(t, "get", "acme/none")
	if code != exitNotFound || stdout != "" || stderr != "energylabel: get: model \"acme/none\" has no rating: not found\n" {
		t.Errorf("get acme/none: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = cli(t, "badge", "acme/none")
	if code != 0 || !strings.Contains(stdout, "not rated") {
		t.Errorf("badge acme/none: exit %d, want the grey badge: %.100q", code, stdout)
	}
	// The exact id is read as it is, with no look-up.
	before = listRatingsCalls(t, srv)
	if code, _, stderr := cli(t, "get", "acme/tiny-clf"); code != 0 || stderr != "" || listRatingsCalls(t, srv) != before {
		t.Errorf("get acme/tiny-clf: exit %d, stderr %q", code, stderr)
	}
	var v map[string]any
	_, stdout, _ = cli(t, "-json", "get", "acme/Tiny-clf")
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || v["model"] != "acme/Tiny-clf" {
		t.Errorf("-json get acme/Tiny-clf: %v %s", err, stdout)
	}
}
