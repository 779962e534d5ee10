package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/servertest"
)

// TestListPrintsOneBlockPerCohort proves that a listing over several
// cohorts prints each under a line naming it, ranked from 1 within it;
// that figures carry SI prefixes, never an exponent; and that a filter
// nothing matches says so.
func TestListPrintsOneBlockPerCohort(t *testing.T) {
	srv := servertest.Start(t)
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "import", "aienergyscore", leaderboardDir); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "list", "-task", "text_generation")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	blocks := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n\n")
	if len(blocks) != 3 {
		t.Fatalf("%d blocks, want one per size class:\n%s", len(blocks), stdout)
	}
	for i, class := range []string{"A", "B", "C"} {
		lines := strings.Split(blocks[i], "\n")
		title := regexp.MustCompile(`^text-generation · dataset AIEnergyScore/text_generation · H100 · size class ` + class + ` · per query \((\d+) models\)$`)
		if !title.MatchString(lines[0]) {
			t.Errorf("block %d's title = %q", i, lines[0])
		}
		// On a query basis, one figure: the energy per 1k queries.
		if !strings.HasPrefix(lines[1], "RANK  MODEL") || !strings.Contains(lines[1], "PER 1K QUERIES") || strings.Contains(lines[1], "ENERGY/UNIT") {
			t.Errorf("block %d's header = %q", i, lines[1])
		}
		for rank, line := range lines[2:] {
			if !strings.HasPrefix(line, strconv.Itoa(rank+1)+" ") {
				t.Errorf("block %d, row %d: %q does not start with its rank", i, rank+1, line)
			}
			if !regexp.MustCompile(` [0-9.]+ [µmk]?Wh +H100`).MatchString(line) {
				t.Errorf("block %d, row %d: %q lacks its figures with SI prefixes", i, rank+1, line)
			}
		}
	}
	if regexp.MustCompile(`\d[eE][+-]?\d`).MatchString(stdout) {
		t.Errorf("a figure has an exponent:\n%s", stdout)
	}
	// A cohort per output token shows both figures, each with its prefix.
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "import", "mlenergy", mlenergyDir); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	_, stdout, _ = cli(t, "-addr", srv.Addr, "list", "-task", "text-generation", "-dataset", "ml.energy/lm-arena-chat", "-hardware", "H100", "-class", "A")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 8 || lines[0] != "text-generation · dataset ml.energy/lm-arena-chat · H100 · size class A · per output token (6 models)" ||
		!strings.Contains(lines[1], "ENERGY/UNIT") || !regexp.MustCompile(` [0-9.]+ [µmk]?Wh +[0-9.]+ [µm]?J/token +H100`).MatchString(lines[2]) {
		t.Errorf("a per-token listing:\n%s", stdout)
	}

	code, stdout, stderr = cli(t, "-addr", srv.Addr, "list", "-task", "text-generation", "-hardware", "B200", "-class", "A")
	if code != 0 || stdout != "no ratings match -task text-generation -class A -hardware B200\n" || stderr != "" {
		t.Errorf("empty listing: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = cli(t, "-addr", srv.Addr, "-json", "list", "-task", "text-generation", "-hardware", "B200")
	if code != 0 || stdout != "" {
		t.Errorf("empty listing in JSON: exit %d, %q; want no lines", code, stdout)
	}
}
