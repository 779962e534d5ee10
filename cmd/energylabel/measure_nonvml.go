//go:build !cgo || nonvml

package main

import "errors"

// openNVML is NVML's absence: NVIDIA's Go bindings need cgo, and this
// binary was built without it (CGO_ENABLED=0, or -tags nonvml).
func openNVML() (gpuLibrary, error) {
	return nil, errors.New("this energylabel was built without NVML support (CGO_ENABLED=0 or -tags nonvml): build it with cgo to measure")
}
