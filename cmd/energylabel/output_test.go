package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
)

// TestTasksShowTheUnitsTheirDatasetsRateIn proves that tasks says what a
// task's ratings are in, dataset by dataset: text generation on its
// default AIES dataset is rated per 1,000 queries, and per token only on
// the ML.ENERGY ones.
func TestTasksShowTheUnitsTheirDatasetsRateIn(t *testing.T) {
	srv := servertest.Start(t)
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "tasks")
	if code != 0 || stderr != "" {
		t.Fatalf("tasks: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if h := lines[0]; !strings.HasPrefix(h, "TASK ") || !strings.Contains(h, " RATED IN ") || !strings.HasSuffix(h, " OTHER DATASETS") || strings.Contains(h, "FUNCTIONAL") {
		t.Errorf("header %q", h)
	}
	want := map[string][2]string{
		"text-generation":              {"Wh/1k queries", "J/token: ml.energy/lm-arena-chat, ml.energy/sourcegraph-fim"},
		"text-to-image":                {"Wh/1k queries", "J/MP: ml.energy/text-to-image"},
		"automatic-speech-recognition": {"Wh/1k queries", "-"},
		"image-text-to-text":           {"J/token", "-"},
		"text-to-video":                {"J/MP-frame", "-"},
	}
	for _, line := range lines[1:] {
		task := field(lines[0], line, "TASK")
		if w, ok := want[task]; ok {
			if got := [2]string{field(lines[0], line, "RATED IN"), field(lines[0], line, "OTHER DATASETS")}; got != w {
				t.Errorf("%s: RATED IN, OTHER DATASETS = %q, want %q", task, got, w)
			}
			delete(want, task)
		}
	}
	if len(want) > 0 {
		t.Errorf("tasks lacks %v:\n%s", want, stdout)
	}
}

// TestNothingIsPrintedBeforeAnError proves that a command that fails
// part-way prints its error alone: submit of two files, the second
// refused, prints no table (nor its header), only the error saying what
// was stored.
func TestNothingIsPrintedBeforeAnError(t *testing.T) {
	srv := servertest.Start(t)
	code, token, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "token", "create", "-namespace", "acme")
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	dir := t.TempDir()
	for i, json := range []string{"", "-json"} {
		ours := writeResult(t, dir, "acme.json", `"gpu_energy_wh": 0.9`, fmt.Sprintf(`"gpu_energy_wh": 0.9%d`, i+1))
		theirs := writeResult(t, dir, "other.json", `"acme/tiny-clf"`, `"other/clf"`)
		args := []string{"submit", ours, theirs}
		if json != "" {
			args = append([]string{json}, args...)
		}
		code, stdout, stderr := cli(t, append([]string{"-addr", srv.Addr, "-token", strings.TrimSpace(token)}, args...)...)
		wantOneLineExit(t, exitNotAllowed, code, stderr, "submit "+theirs, "permission denied", "(1 other result(s) were submitted: "+ours+" as result ")
		if stdout != "" {
			t.Errorf("%q printed %q before its error", args, stdout)
		}
	}
}

// TestJSONWhereverThereIsOutput proves that -json gives JSON lines where
// the commands print anything: badge's Markdown and the images it writes,
// card, and the registrations.
func TestJSONWhereverThereIsOutput(t *testing.T) {
	srv := servertest.Start(t)
	t.Setenv("ENERGYLABEL_ADDR", srv.Addr)
	dir := t.TempDir()
	if code, _, stderr := cli(t, "-token", srv.AdminToken, "submit", writeResult(t, dir, "r.json")); code != 0 {
		t.Fatalf("submit: %s", stderr)
	}
	line := func(args ...string) map[string]any {
		t.Helper()
		code, stdout, stderr := cli(t, args...)
		var v map[string]any
		if err := json.Unmarshal([]byte(stdout), &v); code != 0 || err != nil || strings.Count(stdout, "\n") != 1 {
			t.Fatalf("%q: exit %d, %v, stderr %q: %q", args, code, err, stderr, stdout)
		}
		return v
	}
	rated := func(v map[string]any) string {
		r, _ := v["rating"].(map[string]any)
		g, _ := r["grade"].(string)
		return g
	}
	md := line("-json", "badge", "acme/tiny-clf", "-markdown", "-http", "https://energy.example.org")
	if s, _ := md["markdown"].(string); !strings.HasPrefix(s, "[![AI energy: ") || md["image_url"] != "https://energy.example.org/badge/acme/tiny-clf.svg?task=text-classification&hardware=H100&dataset=AIEnergyScore/text_classification" ||
		md["link_url"] != "https://energy.example.org/models/acme/tiny-clf" || rated(md) == "" {
		t.Errorf("badge -markdown -json = %v", md)
	}
	if _, raw, _ := cli(t, "-json", "badge", "acme/tiny-clf", "-markdown"); strings.Contains(raw, `\u0026`) || !strings.Contains(raw, "&hardware=") {
		t.Errorf("badge -markdown -json escapes its URLs: %s", raw)
	}
	svg := filepath.Join(dir, "badge.svg")
	img := line("-json", "badge", "acme/tiny-clf", "-o", svg)
	if b, err := os.ReadFile(svg); err != nil || img["file"] != svg || img["bytes"] != float64(len(b)) || img["kind"] != "badge" || rated(img) == "" {
		t.Errorf("badge -o -json = %v (%v)", img, err)
	}
	grey := line("-json", "badge", "acme/unrated", "-o", svg)
	if grey["rating"] != nil || grey["model"] != "acme/unrated" {
		t.Errorf("badge -o -json of an unrated model = %v", grey)
	}
	// The image would go where the JSON goes: refused before any call.
	code, stdout, stderr := cli(t, "-json", "badge", "acme/tiny-clf")
	wantOneLineExit(t, exitUsage, code, stderr, "badge: -json prints a JSON line where the image would go: give -o FILE")
	if stdout != "" {
		t.Errorf("badge -json: stdout %q", stdout)
	}

	card := filepath.Join(dir, "README.md")
	os.WriteFile(card, []byte("# m\n"), 0o644)
	for _, want := range []string{"added", "unchanged"} {
		v := line("-json", "card", "-model", "acme/tiny-clf", "-http", "https://energy.example.org", card)
		if s, _ := v["section"].(string); v["change"] != want || v["output"] != card || v["ratings"] != float64(1) || !strings.Contains(s, "| Grade |") {
			t.Errorf("card -json = %v, want change %q", v, want)
		}
	}
	v := line("-json", "card", "-model", "acme/tiny-clf", "-http", "https://energy.example.org", "-o", "-", card)
	if written, _ := os.ReadFile(card); v["output"] != "-" || v["card"] != string(written) {
		t.Errorf("card -o - -json = %v", v)
	}

	ds := line("-json", "-token", srv.AdminToken, "admin", "dataset", "add", "-task", "text-classification", "-basis", "query", "acme/clf-eval")
	if ds["name"] != "acme/clf-eval" || ds["task"] != "text-classification" {
		t.Errorf("admin dataset add -json = %v", ds)
	}
}
