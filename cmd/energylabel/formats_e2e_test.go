package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
)

// The measuring tools' files, kept with their provenance in testdata.
var (
	optimumReport = filepath.Join("..", "..", "rating", "formats", "optimum", "testdata", "benchmark_report.json")
	codecarbonLog = []string{
		filepath.Join("..", "..", "rating", "formats", "codecarbon", "testdata", "emissions_31_july_summarization.csv"),
		filepath.Join("..", "..", "rating", "formats", "codecarbon", "testdata", "emissions_6_aug_result_dashboard.csv"),
	}
	// Derived from the July log for one H100 (see its testdata README): at
	// 300 W, and at 1,800 W, which no H100 can draw.
	codecarbonH100        = filepath.Join("..", "..", "rating", "formats", "codecarbon", "testdata", "emissions_31_july_summarization_h100_300w.csv")
	codecarbonH100At1800W = filepath.Join("..", "..", "rating", "formats", "codecarbon", "testdata", "emissions_31_july_summarization_h100_1800w.csv")
	mlenergyDir           = filepath.Join("..", "..", "rating", "calibration", "data", "mlenergy-v3")
)

// TestSubmitOptimumBenchmarkReport submits the AIES report as issue 9 says
// a publisher does: no -queries, since the report states its counts, and
// -duration, which it does not record.
func TestSubmitOptimumBenchmarkReport(t *testing.T) {
	srv := servertest.Start(t)
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "-json", "submit",
		"-model", "acme/m", "-task", "text-generation", "-hardware", "H100", "-params", "7", "-duration", "1200", optimumReport)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, dropped := range []string{"decode.measures[4]", "prefill.measures[6]"} {
		if !strings.Contains(stderr, dropped) {
			t.Errorf("warnings do not report the dropped run %s:\n%s", dropped, stderr)
		}
	}
	// The basis is the rating package's to choose: the report states its
	// output tokens, which the dataset may or may not grade on.
	rs := ratingsOf(t, stdout)
	if len(rs) != 1 || rs[0].GetSizeClass() != "A" {
		t.Fatalf("ratings = %v", rs)
	}
	id := rs[0].GetResultId()
	stored, _, err := srv.Backend.Record(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	// 1000 × the sum of the three phases' gpu kWh in the report.
	var report map[string]struct {
		Energy struct{ GPU float64 } `json:"energy"`
	}
	raw, _ := os.ReadFile(optimumReport)
	if err := json.Unmarshal(raw, &report); err != nil {
		t.Fatal(err)
	}
	want := 1000 * (report["preprocess"].Energy.GPU + report["prefill"].Energy.GPU + report["decode"].Energy.GPU)
	if math.Abs(stored.GPUEnergyWh-want) > 1e-9*want {
		t.Errorf("stored gpu_energy_wh = %v, want %v", stored.GPUEnergyWh, want)
	}
	if stored.Queries != 1000 || stored.Output.Tokens != 10000 || stored.DurationSeconds != 1200 {
		t.Errorf("stored %d queries, %d output tokens and %v s; want the report's 1000 and 10000, and -duration's 1200",
			stored.Queries, stored.Output.Tokens, stored.DurationSeconds)
	}
}

// TestSubmitRefusesCountsThatContradictTheReport proves that a flag more
// than 1 % away from a count the report states is refused before anything
// is sent, naming both figures, and that one within 1 % is accepted with
// the report's figure stored.
func TestSubmitRefusesCountsThatContradictTheReport(t *testing.T) {
	srv := servertest.Start(t)
	submit := func(flags ...string) (int, string, string) {
		args := append([]string{"-addr", srv.Addr, "-token", srv.AdminToken, "-json", "submit",
			"-model", "acme/m", "-task", "text-generation", "-hardware", "H100", "-params", "7", "-duration", "1200"}, flags...)
		return cli(t, append(args, optimumReport)...)
	}
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"-queries", "1000000"}, "benchmark_report.json: -queries 1000000 contradicts the file's 1000 queries (preprocess efficiency × energy)"},
		{[]string{"-queries", "1011"}, "-queries 1011 contradicts the file's 1000 queries"},
		{[]string{"-tokens", "9000"}, "-tokens 9000 contradicts the file's 10000 output tokens (decode efficiency × energy, plus one first token per query)"},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			code, stdout, stderr := submit(tc.flags...)
			wantOneLineError(t, code, stderr, tc.want)
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
	if n, _ := srv.Backend.CountResults(); n != 0 {
		t.Fatalf("%d results stored after refused submissions, want 0", n)
	}

	code, stdout, stderr := submit("-queries", "1005")
	if code != 0 || !strings.Contains(stderr, "benchmark_report.json: -queries 1005 is within 1 % of the file's 1000 queries") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	stored, _, err := srv.Backend.Record(context.Background(), ratingsOf(t, stdout)[0].GetResultId())
	if err != nil {
		t.Fatal(err)
	}
	if stored.Queries != 1000 {
		t.Errorf("stored %d queries, want the report's 1000", stored.Queries)
	}
}

// TestSubmitCodeCarbon proves issue 9's CodeCarbon cases through the CLI
// and a real server. The real Apple M1 Pro logs, whose model ran on the CPU
// while the GPU idled, are refused under the M1 Pro's power floor, and so
// is an H100 log at 1,800 W; nothing is stored. The H100 log at 300 W is
// accepted from a publisher, who needs no -duration since the log records
// it, into the H100 cohort with the AIES models, power-checked, with one
// GPU as "1 x NVIDIA H100 80GB HBM3" states.
func TestSubmitCodeCarbon(t *testing.T) {
	srv := servertest.Start(t)
	submit := func(token, model, log string) (int, string, string) {
		return cli(t, "-addr", srv.Addr, "-token", token, "-json", "submit",
			"-model", model, "-task", "summarization", "-queries", "1000", log)
	}
	for _, tc := range []struct {
		log  string
		want []string
	}{
		{codecarbonLog[0], []string{"emissions_31_july_summarization.csv", "gpu_energy_wh", "W per Apple M1 Pro, below its floor of 0.96 W"}},
		{codecarbonLog[1], []string{"emissions_6_aug_result_dashboard.csv", "gpu_energy_wh", "W per Apple M1 Pro, below its floor of 0.96 W"}},
		{codecarbonH100At1800W, []string{"gpu_energy_wh", "is 1800 W per H100 SXM, above 110% of its 700 W board power"}},
	} {
		t.Run(filepath.Base(tc.log), func(t *testing.T) {
			code, stdout, stderr := submit(srv.AdminToken, "acme/summariser", tc.log)
			wantOneLineError(t, code, stderr, tc.want...)
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
	if n, _ := srv.Backend.CountResults(); n != 0 {
		t.Fatalf("%d results stored after refused logs, want 0", n)
	}

	leaderboard := filepath.Join("..", "..", "testdata", "aienergyscore-2025-02")
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "import", "aienergyscore", leaderboard); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "admin", "release", "create", "r1"); code != 0 {
		t.Fatalf("release: %s", stderr)
	}
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "-json", "list", "-task", "summarization", "-hardware", "H100")
	if code != 0 {
		t.Fatalf("list: %s", stderr)
	}
	aies := len(ratingsOf(t, stdout))
	if aies < 3 {
		t.Fatalf("the AIES summarization cohort on H100 has %d models", aies)
	}

	code, token, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "token", "create", "-namespace", "acme")
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	code, stdout, stderr = submit(strings.TrimSpace(token), "acme/summariser", codecarbonH100)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rs := ratingsOf(t, stdout)
	if len(rs) != 1 {
		t.Fatalf("ratings = %v", rs)
	}
	r := rs[0]
	if r.GetHardware() != "H100" || r.GetGpuCount() != 1 || r.GetDataset() != "AIEnergyScore/summarization" || r.GetBasis() != "query" {
		t.Errorf("rating %v: want the H100 cohort of the AIES summarization dataset, per query, with 1 GPU", r)
	}
	if !r.GetPowerChecked() || !slices.Contains(r.GetChecks(), "power") {
		t.Errorf("power_checked %v, checks %v; want the power check run", r.GetPowerChecked(), r.GetChecks())
	}
	if int(r.GetCohortSize()) != aies+1 || r.GetGrade() == "" || r.GetStars() < 1 || r.GetStars() > 5 || r.GetRelease() != "r1" {
		t.Errorf("rating %v: want a grade and release r1's stars in a cohort of %d", r, aies+1)
	}
	// 300 W for the log's 32.42 s, over 1,000 queries.
	if want := 300 * 32.4216720010445 / 3600; math.Abs(r.GetWhPer_1KQueries()-want) > 1e-9*want {
		t.Errorf("wh_per_1k_queries %v, want %v", r.GetWhPer_1KQueries(), want)
	}
	stored, _, err := srv.Backend.Record(context.Background(), r.GetResultId())
	if err != nil {
		t.Fatal(err)
	}
	if stored.Accelerator != "NVIDIA H100 80GB HBM3" || stored.GPUCount != 1 || stored.DurationSeconds != 32.4216720010445 {
		t.Errorf("stored %q × %d, %v s; want the log's name, count and duration", stored.Accelerator, stored.GPUCount, stored.DurationSeconds)
	}
}

func TestMissingMetadataNamesTheFlag(t *testing.T) {
	code, _, stderr := cli(t, "submit", "-task", "text-generation", "-queries", "1000", "-hardware", "H100", optimumReport)
	if code != 2 || !strings.Contains(stderr, "-model") {
		t.Errorf("exit %d, stderr %q; want 2 naming -model", code, stderr)
	}
}

func TestMalformedFilesSubmitNothing(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	good := writeResult(t, dir, "good.json")
	report, _ := os.ReadFile(optimumReport)
	carbon, _ := os.ReadFile(codecarbonLog[0])
	carbonLines := strings.SplitN(string(carbon), "\n", 2)
	cases := map[string]string{
		"truncated.json":   string(report[:len(report)/2]),
		"wrong-units.json": strings.Replace(string(report), `"unit": "kWh"`, `"unit": "furlongs"`, 1),
		"bad-energy.json":  strings.Replace(string(report), `"gpu": 0.00016414957576398048`, `"gpu": "lots"`, 1),
		"no-column.csv":    strings.Replace(carbonLines[0], "gpu_energy,", "", 1) + "\n" + carbonLines[1],
		"nan-energy.csv":   carbonLines[0] + "\n" + nthField(carbonLines[1], carbonLines[0], "gpu_energy", "abc"),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(dir, name)
			if err := os.WriteFile(bad, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "submit",
				"-model", "acme/m", "-task", "summarization", "-queries", "1000", "-hardware", "H100", good, bad)
			wantOneLineError(t, code, stderr, name)
			if !strings.Contains(stderr, "line") && !strings.Contains(stderr, ".") {
				t.Errorf("error %q names no line or field", stderr)
			}
		})
	}
	if n, _ := srv.Backend.CountResults(); n != 0 {
		t.Errorf("%d results stored after refused batches, want 0", n)
	}
}

// nthField replaces one named column's value in a CSV row.
func nthField(row, header, column, value string) string {
	cols := strings.Split(header, ",")
	fields := strings.Split(row, ",")
	if i := slices.Index(cols, column); i >= 0 && i < len(fields) {
		fields[i] = value
	}
	return strings.Join(fields, ",")
}

func TestImportMLEnergy(t *testing.T) {
	srv := servertest.Start(t)
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "-json", "import", "mlenergy", mlenergyDir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(ratingsOf(t, stdout)); n != 113 {
		t.Errorf("import printed %d ratings, want 113", n)
	}
	code, stdout, stderr = cli(t, "-addr", srv.Addr, "-json", "list", "-task", "text-generation", "-dataset", "ml.energy/lm-arena-chat", "-hardware", "H100", "-size-class", "A")
	if code != 0 {
		t.Fatal(stderr)
	}
	rs := ratingsOf(t, stdout)
	if len(rs) != 6 {
		t.Fatalf("lm-arena-chat H100 class A lists %d models, want 6", len(rs))
	}
	xs := make([]float64, len(rs))
	for i, r := range rs {
		if r.GetUnit() != "J/token" || r.GetGrade() == "" {
			t.Errorf("%s: unit %q grade %q", r.GetModel(), r.GetUnit(), r.GetGrade())
		}
		xs[i] = r.GetEnergyPerUnit()
	}
	slices.Sort(xs)
	median := (xs[2] + xs[3]) / 2
	for _, r := range rs {
		if ref := r.GetEnergyPerUnit() / r.GetEei(); math.Abs(ref-median) > 1e-9*median {
			t.Errorf("%s: energy_per_unit/eei = %v, want the cohort median %v", r.GetModel(), ref, median)
		}
	}
}

func TestBackupAndTokenCommands(t *testing.T) {
	srv := servertest.Start(t)
	leaderboard := filepath.Join("..", "..", "testdata", "aienergyscore-2025-02")
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "import", "aienergyscore", leaderboard); code != 0 {
		t.Fatal(stderr)
	}
	backup := filepath.Join(t.TempDir(), "snapshot.db")
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "admin", "backup", "-o", backup); code != 0 {
		t.Fatalf("backup: %s", stderr)
	}
	restoredDir := t.TempDir()
	data, _ := os.ReadFile(backup)
	os.WriteFile(filepath.Join(restoredDir, "energylabel.db"), data, 0o600)
	restored := servertest.StartWith(t, servertest.Options{DataDir: restoredDir})
	for _, task := range []string{"asr", "text-generation", "image_generation"} {
		_, a, _ := cli(t, "-addr", srv.Addr, "-json", "list", "-task", task)
		_, b, _ := cli(t, "-addr", restored.Addr, "-json", "list", "-task", task)
		if a != b || a == "" {
			t.Errorf("%s: list -json differs after restore", task)
		}
	}

	code, token, _ := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "token", "create", "-namespace", "acme")
	if code != 0 {
		t.Fatal("token create failed")
	}
	code, stdout, _ := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "token", "list")
	if code != 0 || !strings.Contains(stdout, "acme") || strings.Contains(stdout, strings.TrimSpace(token)) {
		t.Errorf("token list: exit %d\n%s", code, stdout)
	}
}
