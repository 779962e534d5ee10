package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
)

// TestListPrintsOneBlockPerCohort proves that a listing over several
// cohorts prints each under a line naming it, each rating ranked among
// the cohort's references in the release and saying its status; that
// figures carry SI prefixes, never an exponent; and that a filter nothing
// matches says so.
func TestListPrintsOneBlockPerCohort(t *testing.T) {
	srv := servertest.Start(t)
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "import", "aienergyscore", leaderboardDir); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "admin", "release", "create", "r1"); code != 0 {
		t.Fatalf("release: %s", stderr)
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
		title := regexp.MustCompile(`^text-generation · dataset AIEnergyScore/text_generation · H100 · size class ` + class + ` · per query \((\d+) models; ranked among (\d+) references of r1\)$`)
		m := title.FindStringSubmatch(lines[0])
		if m == nil || m[1] != m[2] {
			t.Errorf("block %d's title = %q, want as many references as models, all published", i, lines[0])
			continue
		}
		// On a query basis, one figure: the energy per 1k queries.
		if !regexp.MustCompile(`^RANK +MODEL `).MatchString(lines[1]) || !strings.Contains(lines[1], "PER 1K QUERIES") || strings.Contains(lines[1], "ENERGY/UNIT") || !strings.Contains(lines[1], "STATUS") {
			t.Errorf("block %d's header = %q", i, lines[1])
		}
		// Every model is a reference, so ranks go from 1, best first, of
		// them all (equal energies share one).
		last := 0
		for row, line := range lines[2:] {
			rank := regexp.MustCompile(`^(\d+)/` + m[2] + ` `).FindStringSubmatch(line)
			if rank == nil {
				t.Errorf("block %d, row %d: %q does not start with its rank of %s", i, row+1, line, m[2])
				continue
			}
			if r, _ := strconv.Atoi(rank[1]); r < last || r > row+1 || row == 0 && r != 1 {
				t.Errorf("block %d, row %d: rank %d after %d", i, row+1, r, last)
			} else {
				last = r
			}
			if !regexp.MustCompile(` [0-9.]+ [µmk]?Wh +published +H100`).MatchString(line) {
				t.Errorf("block %d, row %d: %q lacks its figures with SI prefixes and its status", i, row+1, line)
			}
		}
	}
	if regexp.MustCompile(`\d[eE][+-]?\d`).MatchString(stdout) {
		t.Errorf("a figure has an exponent:\n%s", stdout)
	}
	// A cohort per output token shows both figures, each with its prefix;
	// no release ranks it yet.
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "import", "mlenergy", mlenergyDir); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	_, stdout, _ = cli(t, "-addr", srv.Addr, "list", "-task", "text-generation", "-dataset", "ml.energy/lm-arena-chat", "-hardware", "H100", "-size-class", "A")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 8 || lines[0] != "text-generation · dataset ml.energy/lm-arena-chat · H100 · size class A · per output token (6 models)" ||
		!strings.Contains(lines[1], "ENERGY/UNIT") || !regexp.MustCompile(`^- +\S+ .* [0-9.]+ [µmk]?Wh +[0-9.]+ [µm]?J/token +published +H100`).MatchString(lines[2]) {
		t.Errorf("a per-token listing:\n%s", stdout)
	}

	code, stdout, stderr = cli(t, "-addr", srv.Addr, "list", "-task", "text-generation", "-hardware", "B200", "-size-class", "A")
	if code != 0 || stdout != "no ratings match -task text-generation -size-class A -hardware B200\n" || stderr != "" {
		t.Errorf("empty listing: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = cli(t, "-addr", srv.Addr, "-json", "list", "-task", "text-generation", "-hardware", "B200")
	if code != 0 || stdout != "" {
		t.Errorf("empty listing in JSON: exit %d, %q; want no lines", code, stdout)
	}
}
