//go:build cgo && !nonvml

package main

import (
	"errors"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// openNVML opens NVML, loaded at run time from libnvidia-ml.so.1: the
// binary starts on machines without a driver, and measure says so there.
func openNVML() (gpuLibrary, error) { return nvmlLibrary{nvml.New()}, nil }

// nvmlLibrary is gpuLibrary over go-nvml; tests give it go-nvml's mock.
type nvmlLibrary struct{ lib nvml.Interface }

// nvmlError turns an NVML return code into an error.
func nvmlError(ret nvml.Return) error {
	switch ret {
	case nvml.SUCCESS:
		return nil
	case nvml.ERROR_NOT_SUPPORTED:
		return errNoCounter
	}
	return fmt.Errorf("NVML: %s", ret.Error())
}

func (l nvmlLibrary) Init() error {
	switch ret := l.lib.Init(); ret {
	case nvml.SUCCESS:
		return nil
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return fmt.Errorf("%w (libnvidia-ml.so.1 is not installed): measure needs an NVIDIA GPU and its driver", errNoDriver)
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return fmt.Errorf("%w (NVML is installed but the driver is not loaded): measure needs an NVIDIA GPU and its driver", errNoDriver)
	default:
		return fmt.Errorf("NVML would not start: %s", ret.Error())
	}
}

func (l nvmlLibrary) Shutdown() { _ = l.lib.Shutdown() }

func (l nvmlLibrary) DriverVersion() string {
	v, ret := l.lib.SystemGetDriverVersion()
	if ret != nvml.SUCCESS {
		return ""
	}
	return v
}

func (l nvmlLibrary) CUDAVersion() string {
	v, ret := l.lib.SystemGetCudaDriverVersion()
	if ret != nvml.SUCCESS {
		return ""
	}
	return formatCUDAVersion(v)
}

func (l nvmlLibrary) DeviceCount() (int, error) {
	n, ret := l.lib.DeviceGetCount()
	return n, nvmlError(ret)
}

func (l nvmlLibrary) Device(i int) (gpuDevice, error) {
	d, ret := l.lib.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS {
		return nil, nvmlError(ret)
	}
	return nvmlDevice{d}, nil
}

type nvmlDevice struct{ d nvml.Device }

func (d nvmlDevice) Name() (string, error) {
	s, ret := d.d.GetName()
	return s, nvmlError(ret)
}

func (d nvmlDevice) UUID() (string, error) {
	s, ret := d.d.GetUUID()
	return s, nvmlError(ret)
}

func (d nvmlDevice) PowerLimitWatts() (float64, error) {
	mw, ret := d.d.GetPowerManagementLimit()
	return float64(mw) / 1000, nvmlError(ret)
}

func (d nvmlDevice) EnergyMJ() (uint64, error) {
	mj, ret := d.d.GetTotalEnergyConsumption()
	return mj, nvmlError(ret)
}

func (d nvmlDevice) PowerWatts() (float64, error) {
	mw, ret := d.d.GetPowerUsage()
	if err := nvmlError(ret); err != nil {
		if errors.Is(err, errNoCounter) {
			return 0, errors.New("NVML: the device reports no power reading")
		}
		return 0, err
	}
	return float64(mw) / 1000, nil
}
