package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
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
	wantOneLineExit(t, exitNotAllowed, code, stderr, "admin hardware add: unauthenticated: no token: this needs the admin token; pass -token T or set ENERGYLABEL_TOKEN")

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

// An operator's datasheet figures set the physical floors of the variant;
// -active-params lowers the compute floor of a mixture-of-experts model.
func TestRegisteredDatasheetFiguresSetTheFloors(t *testing.T) {
	srv := servertest.Start(t)
	addr, admin := []string{"-addr", srv.Addr}, []string{"-addr", srv.Addr, "-token", srv.AdminToken}
	code, _, stderr := cli(t, append(admin, "admin", "hardware", "add", "X1 PCIe", "-family", "X1", "-watts", "300", "-peak-tflops", "1000")...)
	wantOneLineExit(t, exitUsage, code, stderr, "-fastest-precision")
	code, stdout, stderr := cli(t, append(admin, "admin", "hardware", "add", "X1 PCIe", "-family", "X1", "-watts", "300",
		"-peak-tflops", "1000", "-fastest-precision", "fp8", "-peak-tflops-16", "500", "-memory-gb", "96", "-source", "X1 datasheet")...)
	if code != 0 || !strings.Contains(stdout, "1000 TFLOP/s at fp8, 96 GB") {
		t.Fatalf("hardware add: exit %d: %s%s", code, stdout, stderr)
	}
	code, _, stderr = cli(t, append(admin, "admin", "hardware", "add", "X2", "-family", "X2", "-watts", "300", "-peak-tflops", "-5", "-fastest-precision", "fp8")...)
	wantOneLineError(t, code, stderr, "peak_tflops")
	_, stdout, _ = cli(t, append(addr, "hardware")...)
	if !strings.Contains(stdout, "PEAK TFLOP/S") || !regexp.MustCompile(`X1 PCIe +X1 +300 +15 +1000 fp8 +500 +96 `).MatchString(stdout) ||
		!regexp.MustCompile(`A10G +A10G +300 +15 +- +- +- `).MatchString(stdout) {
		t.Errorf("hardware lists:\n%s", stdout)
	}
	_, stdout, _ = cli(t, append(addr, "-json", "hardware")...)
	if !strings.Contains(stdout, `"peak_dense_tflops_fastest":1979`) || !strings.Contains(stdout, `"memory_gb":96`) {
		t.Errorf("hardware -json:\n%s", stdout)
	}

	// 100,000 tokens of a 70 B model need 2 × 70e9 × 1e5 FLOPs: at least
	// 0.58 Wh at 300 W per 1,000 TFLOP/s, with the safety factor of 2.
	code, token, stderr := cli(t, append(admin, "token", "create", "-namespace", "acme")...)
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	publisher := []string{"-addr", srv.Addr, "-token", strings.TrimSpace(token)}
	dir := t.TempDir()
	gen := func(name, wh, seconds string) string {
		return writeResult(t, dir, name, `"acme/tiny-clf"`, `"acme/moe-70b"`, `"text-classification"`, `"text-generation"`, `"H100"`, `"X1 PCIe"`,
			`"gpu_energy_wh": 0.9`, `"gpu_energy_wh": `+wh+`, "output": {"tokens": 100000}, "parameters_billions": 70`,
			`"duration_seconds": 41.5`, `"duration_seconds": `+seconds)
	}
	code, _, stderr = cli(t, append(publisher, "submit", gen("impossible.json", "0.0005", "0.1"))...)
	wantOneLineError(t, code, stderr, "gpu_energy_wh", "below the physical floor of 0.58 Wh", "70 B model on 1 × X1 PCIe at 8-bit")
	moe := gen("moe.json", "0.2", "30")
	code, _, stderr = cli(t, append(publisher, "submit", moe)...)
	wantOneLineError(t, code, stderr, "gpu_energy_wh", "below the physical floor")
	code, _, stderr = cli(t, append(publisher, "submit", "-active-params", "80", moe)...)
	wantOneLineError(t, code, stderr, "-active-params 80 is more than the model's 70 billion parameters")
	code, stdout, stderr = cli(t, append(publisher, "-json", "submit", "-active-params", "7", moe)...)
	if rs := ratingsOf(t, stdout); code != 0 || len(rs) != 1 || !(rs[0].GetFloorRatio() > 3 && rs[0].GetFloorRatio() < 4) {
		t.Errorf("submit -active-params 7: exit %d: %s%s", code, stdout, stderr)
	}
	// A text-generation result without output tokens names the flag.
	noTokens := writeResult(t, dir, "notokens.json", `"acme/tiny-clf"`, `"acme/moe-70b"`, `"text-classification"`, `"text-generation"`,
		`"gpu_energy_wh": 0.9`, `"gpu_energy_wh": 0.9, "parameters_billions": 70`)
	code, _, stderr = cli(t, append(publisher, "submit", noTokens)...)
	wantOneLineError(t, code, stderr, "output.tokens", "-tokens N")
}
