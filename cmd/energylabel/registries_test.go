package main

import (
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/servertest"
)

func TestOperatorsExtendTheRegistries(t *testing.T) {
	srv := servertest.Start(t)
	addr, admin := []string{"-addr", srv.Addr}, []string{"-addr", srv.Addr, "-token", srv.AdminToken}
	dir := t.TempDir()
	gaudi := writeResult(t, dir, "gaudi.json", `"H100"`, `"Intel Gaudi 3"`)

	// Unknown until registered: refused, naming the field.
	code, _, stderr := cli(t, append(admin, "submit", gaudi)...)
	wantOneLineError(t, code, stderr, "hardware.accelerator", "unknown accelerator")

	code, stdout, stderr := cli(t, append(admin, "admin", "hardware", "add", "Gaudi 3", "-family", "Gaudi 3", "-watts", "900",
		"-alias", "Intel Gaudi 3", "-source", "Intel Gaudi 3 datasheet")...)
	if code != 0 || !strings.Contains(stdout, "Gaudi 3 registered") {
		t.Fatalf("hardware add: exit %d: %s%s", code, stdout, stderr)
	}
	// An alias another variant has is refused.
	code, _, stderr = cli(t, append(admin, "admin", "hardware", "add", "Fake", "-family", "H100", "-watts", "5000", "-alias", "NVIDIA H100 80GB HBM3")...)
	wantOneLineError(t, code, stderr, "already a name of H100 SXM")
	// Only the admin registers.
	code, _, stderr = cli(t, append(addr, "admin", "hardware", "add", "X1", "-family", "X1", "-watts", "100")...)
	wantOneLineExit(t, exitNotAllowed, code, stderr, "unauthenticated")

	code, stdout, stderr = cli(t, append(admin, "-json", "submit", gaudi)...)
	if rs := ratingsOf(t, stdout); code != 0 || len(rs) != 1 || rs[0].GetHardware() != "Gaudi 3" || !rs[0].GetPowerChecked() {
		t.Errorf("submit on the registered accelerator: exit %d: %s%s", code, stdout, stderr)
	}
	_, stdout, _ = cli(t, append(addr, "hardware")...)
	if !strings.Contains(stdout, "Gaudi 3") || !strings.Contains(stdout, "NVIDIA H100 80GB HBM3") {
		t.Errorf("hardware lists:\n%s", stdout)
	}

	// Datasets: unregistered refused with the known ones, then registered.
	chat := writeResult(t, dir, "chat.json", `"task": "text-classification"`, `"task": "text-classification", "dataset": "acme/clf-eval"`)
	code, _, stderr = cli(t, append(admin, "submit", chat)...)
	wantOneLineError(t, code, stderr, "dataset", "AIEnergyScore/text_classification")
	code, _, stderr = cli(t, append(admin, "admin", "dataset", "add", "-task", "text-classification", "-basis", "query", "acme/clf-eval")...)
	if code != 0 {
		t.Fatalf("dataset add: exit %d: %s", code, stderr)
	}
	code, stdout, stderr = cli(t, append(admin, "-json", "submit", chat)...)
	if rs := ratingsOf(t, stdout); code != 0 || len(rs) != 1 || rs[0].GetDataset() != "acme/clf-eval" || rs[0].GetBasis() != "query" {
		t.Errorf("submit on the registered dataset: exit %d: %s%s", code, stdout, stderr)
	}
	_, stdout, _ = cli(t, append(addr, "datasets", "-task", "text-classification")...)
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); len(lines) != 3 || !strings.Contains(stdout, "acme/clf-eval") {
		t.Errorf("datasets -task text-classification:\n%s", stdout)
	}

	// Both survive a restart.
	srv.Restart(t)
	code, stdout, stderr = cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "submit", gaudi)
	if code != 0 {
		t.Errorf("after a restart the registered accelerator is gone: exit %d: %s%s", code, stdout, stderr)
	}
}
