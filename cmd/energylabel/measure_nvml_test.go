//go:build cgo && !nonvml

package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"

	"github.com/energylabel/energylabel/internal/testkit/gpufacts"
	"github.com/energylabel/energylabel/rating"
)

// mockH100 is go-nvml's mock of one H100 as NVML reported it here: its
// counter advances by the recorded average power at every reading.
func mockH100(initRet nvml.Return) *mock.Interface {
	run := gpufacts.H100
	var mj atomic.Uint64
	mj.Store(5_000_000_000)
	dev := &mock.Device{
		GetNameFunc:                 func() (string, nvml.Return) { return run.Name, nvml.SUCCESS },
		GetUUIDFunc:                 func() (string, nvml.Return) { return "GPU-6e1f2c1e-0000-4000-8000-000000000000", nvml.SUCCESS },
		GetPowerManagementLimitFunc: func() (uint32, nvml.Return) { return uint32(run.PowerLimitWatts * 1000), nvml.SUCCESS },
		GetPowerUsageFunc:           func() (uint32, nvml.Return) { return uint32(run.AvgWatts() * 1000), nvml.SUCCESS },
		GetTotalEnergyConsumptionFunc: func() (uint64, nvml.Return) {
			return mj.Add(uint64(run.AvgWatts() * 10)), nvml.SUCCESS // 10 ms of it per reading
		},
	}
	return &mock.Interface{
		InitFunc:                       func() nvml.Return { return initRet },
		ShutdownFunc:                   func() nvml.Return { return nvml.SUCCESS },
		SystemGetDriverVersionFunc:     func() (string, nvml.Return) { return "570.124.06", nvml.SUCCESS },
		SystemGetCudaDriverVersionFunc: func() (int, nvml.Return) { return 12080, nvml.SUCCESS },
		DeviceGetCountFunc:             func() (int, nvml.Return) { return 1, nvml.SUCCESS },
		DeviceGetHandleByIndexFunc:     func(int) (nvml.Device, nvml.Return) { return dev, nvml.SUCCESS },
	}
}

func TestNVMLWithoutItsLibraryIsNoDriver(t *testing.T) {
	for _, ret := range []nvml.Return{nvml.ERROR_LIBRARY_NOT_FOUND, nvml.ERROR_DRIVER_NOT_LOADED} {
		if err := (nvmlLibrary{mockH100(ret)}).Init(); !errors.Is(err, errNoDriver) {
			t.Errorf("%v: %v", ret, err)
		}
	}
	if err := (nvmlLibrary{mockH100(nvml.ERROR_NO_PERMISSION)}).Init(); err == nil || errors.Is(err, errNoDriver) {
		t.Errorf("no permission: %v", err)
	}
	// The real library on this machine: none, or a driver.
	err := (nvmlLibrary{nvml.New()}).Init()
	if err != nil && !errors.Is(err, errNoDriver) {
		t.Logf("NVML here: %v", err)
	}
}

func TestMeasureThroughGoNVMLsMock(t *testing.T) {
	out := filepath.Join(t.TempDir(), "result.json")
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" },
		gpu: func() (gpuLibrary, error) { return nvmlLibrary{mockH100(nvml.SUCCESS)}, nil }}
	code := a.exit(a.main(context.Background(), []string{"measure", "-o", out, "-model", "gpu-probe/arch", "-task", "text-classification",
		"-queries", "1000", "-interval", "10ms", "--", "sleep", "0.2"}))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	r := readMeasured(t, out)
	m := r.Measurement
	if m.CUDAVersion != "12.8" || m.Devices[0].Name != gpufacts.H100.Name || m.Devices[0].PowerLimitWatts != 700 ||
		m.Devices[0].EnergySource != rating.EnergyFromCounter || !strings.HasPrefix(m.Devices[0].UUID, "GPU-") {
		t.Fatalf("%+v", m)
	}
}
