package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/energylabel/energylabel/internal/testkit/gpufacts"
	"github.com/energylabel/energylabel/rating"
)

// fakeGPUs is a machine whose GPUs draw as the recorded runs did: a
// steady average (the ripple of gpufacts.Run.Reading, in wall time), and
// a counter that integrates it.
type fakeGPUs struct {
	run    gpufacts.Run
	n      int
	noInit error
	// per device: when its counter goes back to 0, when it stops
	// answering (0 for never), and whether it has a counter at all
	resetAfter, lostAfter time.Duration
	noCounter             bool
	born                  time.Time
}

func (f *fakeGPUs) open() (gpuLibrary, error) { f.born = time.Now(); return f, nil }
func (f *fakeGPUs) Init() error               { return f.noInit }
func (f *fakeGPUs) Shutdown()                 {}
func (f *fakeGPUs) DriverVersion() string     { return "570.124.06" }
func (f *fakeGPUs) CUDAVersion() string       { return formatCUDAVersion(12080) }
func (f *fakeGPUs) DeviceCount() (int, error) { return f.n, nil }
func (f *fakeGPUs) Device(i int) (gpuDevice, error) {
	return &fakeGPU{f: f, i: i}, nil
}

type fakeGPU struct {
	f  *fakeGPUs
	i  int
	mu sync.Mutex
}

var errGPULost = errors.New("NVML: ERROR_GPU_IS_LOST")

func (d *fakeGPU) Name() (string, error) { return d.f.run.Name, nil }
func (d *fakeGPU) UUID() (string, error) {
	return fmt.Sprintf("GPU-00000000-0000-4000-8000-%012d", d.i), nil
}
func (d *fakeGPU) PowerLimitWatts() (float64, error) { return d.f.run.PowerLimitWatts, nil }
func (d *fakeGPU) elapsed() (time.Duration, error) {
	e := time.Since(d.f.born)
	if d.f.lostAfter > 0 && e > d.f.lostAfter {
		return 0, errGPULost
	}
	return e, nil
}
func (d *fakeGPU) PowerWatts() (float64, error) {
	_, err := d.elapsed()
	return d.f.run.AvgWatts(), err
}
func (d *fakeGPU) EnergyMJ() (uint64, error) {
	if d.f.noCounter {
		return 0, errNoCounter
	}
	e, err := d.elapsed()
	if err != nil {
		return 0, err
	}
	base := uint64(9_000_000_000)
	if d.f.resetAfter > 0 && e > d.f.resetAfter {
		base, e = 0, e-d.f.resetAfter // the driver reloaded: counting from 0
	}
	return base + uint64(d.f.run.AvgWatts()*e.Seconds()*1000), nil
}

// runMeasureWith runs the CLI with the fake machine.
func runMeasureWith(t *testing.T, f *fakeGPUs, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, gpu: f.open}
	code = a.exit(a.main(context.Background(), append([]string{"measure"}, args...)))
	return code, out.String(), errb.String()
}

func readMeasured(t *testing.T, name string) rating.Result {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := readResults(name, data, readOptions{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("%s: %v", name, err)
	}
	return rs[0]
}

func TestMeasureWritesAResultTheServerAccepts(t *testing.T) {
	for _, tc := range []struct {
		run  gpufacts.Run
		n    int
		args []string
	}{
		{gpufacts.H100, 1, []string{"-task", "text-classification", "-queries", "1000", "-params", "0.067"}},
		{gpufacts.H200, 2, []string{"-gpus", "0,1", "-task", "text-generation", "-queries", "300", "-tokens", "9600", "-params", "0.124", "-idle", "50ms"}},
	} {
		t.Run(tc.run.Name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "result.json")
			args := append([]string{"-o", out, "-model", "gpu-probe/arch", "-interval", "10ms"}, tc.args...)
			code, stdout, stderr := runMeasureWith(t, &fakeGPUs{run: tc.run, n: tc.n}, append(args, "--", "sh", "-c", "echo working; sleep 0.4")...)
			if code != 0 || stdout != "working\n" || !strings.Contains(stderr, "wrote "+out) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			r := readMeasured(t, out)
			m := r.Measurement
			if m == nil || m.Source != "nvml" || m.IntervalSeconds != 0.01 || len(m.Devices) != tc.n || r.GPUCount != tc.n ||
				r.Accelerator != tc.run.Name || m.DriverVersion != "570.124.06" || m.CUDAVersion != "12.8" || r.ToolName != "energylabel measure" {
				t.Fatalf("result %+v, measurement %+v", r, m)
			}
			for i, d := range m.Devices {
				if d.Index != i || d.Name != tc.run.Name || !strings.HasPrefix(d.UUID, "GPU-") || d.PowerLimitWatts != 700 ||
					d.EnergySource != rating.EnergyFromCounter || d.EnergyEndMJ <= d.EnergyStartMJ {
					t.Errorf("device %d: %+v", i, d)
				}
			}
			if r.DurationSeconds < 0.4 || r.DurationSeconds > 5 || len(m.Trace) < 10 || len(m.Trace) > rating.MaxTracePoints {
				t.Errorf("duration %v s, %d points", r.DurationSeconds, len(m.Trace))
			}
			want := tc.run.AvgWatts() * float64(tc.n) * r.DurationSeconds / 3600
			if math.Abs(r.GPUEnergyWh-want) > 0.1*want {
				t.Errorf("energy %v Wh, want about %v", r.GPUEnergyWh, want)
			}
			if tc.n == 2 && (m.IdleSeconds != 0.05 || math.Abs(m.IdleWatts-2*tc.run.AvgWatts()) > 1e-6) {
				t.Errorf("idle %v W over %v s", m.IdleWatts, m.IdleSeconds)
			}
			meas, err := rating.Builtin().Normalise(&r, rating.Publisher)
			if err != nil || meas.MeasuredWith() != rating.MeasuredWithNVML {
				t.Fatalf("server check: %v, %+v", err, meas)
			}
		})
	}
}

func TestMeasureFallsBackToSamplesWhenTheCounterGoesBack(t *testing.T) {
	out := filepath.Join(t.TempDir(), "result.json")
	f := &fakeGPUs{run: gpufacts.H100, n: 1, resetAfter: 150 * time.Millisecond}
	code, _, stderr := runMeasureWith(t, f, "-o", out, "-model", "gpu-probe/arch", "-task", "text-classification", "-queries", "1000",
		"-interval", "10ms", "--", "sleep", "0.4")
	if code != 0 || !strings.Contains(stderr, "counter went back") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := readMeasured(t, out)
	d := r.Measurement.Devices[0]
	want := gpufacts.H100.AvgWatts() * r.DurationSeconds / 3600
	if d.EnergySource != rating.EnergyFromSamples || d.EnergyStartMJ != 0 || math.Abs(r.GPUEnergyWh-want) > 0.05*want {
		t.Fatalf("device %+v, energy %v Wh, want about %v", d, r.GPUEnergyWh, want)
	}
	if _, err := rating.Builtin().Normalise(&r, rating.Publisher); err != nil {
		t.Fatal(err)
	}
}

func TestMeasureIntegratesPowerWithoutACounter(t *testing.T) {
	out := filepath.Join(t.TempDir(), "result.json")
	code, _, stderr := runMeasureWith(t, &fakeGPUs{run: gpufacts.H200, n: 1, noCounter: true}, "-o", out, "-model", "gpu-probe/arch",
		"-task", "text-classification", "-queries", "300", "-interval", "10ms", "--", "sleep", "0.3")
	if code != 0 || !strings.Contains(stderr, "no total-energy counter") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if r := readMeasured(t, out); r.Measurement.Devices[0].EnergySource != rating.EnergyFromSamples {
		t.Fatalf("%+v", r.Measurement.Devices[0])
	}
}

func TestMeasureWritesNothingWhenAGPUDisappears(t *testing.T) {
	out := filepath.Join(t.TempDir(), "result.json")
	f := &fakeGPUs{run: gpufacts.H100, n: 2, lostAfter: 150 * time.Millisecond}
	code, _, stderr := runMeasureWith(t, f, "-o", out, "-model", "gpu-probe/arch", "-task", "text-classification", "-queries", "1000",
		"-interval", "10ms", "--", "sleep", "0.4")
	if code != 1 || !strings.Contains(stderr, "stopped answering") || !strings.Contains(stderr, "no result written") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a result was written: %v", err)
	}
}

func TestMeasureReturnsTheCommandsStatusAndWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		script string
		code   int
		says   string
	}{
		{"exit 3", 3, "exited with status 3"},
		{"kill -TERM $$", 128 + int(syscall.SIGTERM), "killed by terminated"},
	} {
		out := filepath.Join(t.TempDir(), "result.json")
		code, _, stderr := runMeasureWith(t, &fakeGPUs{run: gpufacts.H100, n: 1}, "-o", out, "-model", "gpu-probe/arch",
			"-task", "text-classification", "-queries", "1000", "--", "sh", "-c", tc.script)
		if code != tc.code || !strings.Contains(stderr, tc.says) || !strings.Contains(stderr, "no result written") {
			t.Errorf("%s: exit %d: %q", tc.script, code, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: a result was written", tc.script)
		}
	}
}

func TestMeasureForwardsSignals(t *testing.T) {
	dir := t.TempDir()
	out, ready := filepath.Join(dir, "result.json"), filepath.Join(dir, "ready")
	go func() {
		for {
			if _, err := os.Stat(ready); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		syscall.Kill(os.Getpid(), syscall.SIGINT)
	}()
	code, _, stderr := runMeasureWith(t, &fakeGPUs{run: gpufacts.H100, n: 1}, "-o", out, "-model", "gpu-probe/arch",
		"-task", "text-classification", "-queries", "1000", "--", "sh", "-c", `trap 'exit 7' INT; touch `+ready+`; while :; do sleep 0.05; done`)
	if code != 7 || !strings.Contains(stderr, "status 7") {
		t.Fatalf("exit %d: %q", code, stderr)
	}
}

func TestMeasureWithoutADriverSaysSoInOneLine(t *testing.T) {
	f := &fakeGPUs{noInit: fmt.Errorf("%w (libnvidia-ml.so.1 is not installed)", errNoDriver)}
	code, stdout, stderr := runMeasureWith(t, f, "--", "true")
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "energylabel: measure: no NVIDIA driver found") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d: %q %q", code, stdout, stderr)
	}
}

func TestMeasureUsageErrors(t *testing.T) {
	f := &fakeGPUs{run: gpufacts.H100, n: 1}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--", "true"}, "missing -o FILE, -model OWNER/NAME, -task T, -queries N"},
		{[]string{"-o", "x.json", "-model", "a/b", "-task", "text-classification", "-queries", "1"}, "missing -- COMMAND"},
		{[]string{"-o", "x.json", "-gpus", "0,0", "--", "true"}, "given twice"},
		{[]string{"-o", "x.json", "-interval", "0s", "--", "true"}, "-interval"},
		{[]string{"-o", "x.json", "true"}, "before --"},
	} {
		code, _, stderr := runMeasureWith(t, f, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.says) {
			t.Errorf("%q: exit %d: %q", tc.args, code, stderr)
		}
	}
	code, _, stderr := runMeasureWith(t, f, "-gpus", "3", "-o", "x.json", "-model", "a/b", "-task", "text-classification", "-queries", "1", "--", "true")
	if code != 1 || !strings.Contains(stderr, "no GPU 3") {
		t.Errorf("-gpus 3 of 1: exit %d: %q", code, stderr)
	}
}

func TestMeasureTakesCountsFromAFileTheCommandWrites(t *testing.T) {
	dir := t.TempDir()
	out, counts := filepath.Join(dir, "result.json"), filepath.Join(dir, "counts.json")
	script := `sleep 0.3; echo '{"model": "gpu-probe/gpt2-arch", "task": "text-generation", "queries": 300, "output": {"tokens": 9600}, "parameters_billions": 0.124, "precision": "fp32", "batch_size": 1}' > ` + counts
	code, _, stderr := runMeasureWith(t, &fakeGPUs{run: gpufacts.H200, n: 1}, "-o", out, "-counts", counts, "-interval", "10ms", "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := readMeasured(t, out)
	if r.Model != "gpu-probe/gpt2-arch" || r.Queries != 300 || r.Output.Tokens != 9600 || r.Precision != "fp32" || r.Measurement == nil {
		t.Fatalf("%+v", r)
	}
}

func TestDownsampleKeepsTheEnergy(t *testing.T) {
	var trace []rating.PowerSample
	for i := 1; i <= 100_003; i++ {
		trace = append(trace, rating.PowerSample{T: float64(i) * 0.1, Watts: 100 + float64(i%7)})
	}
	want, _ := rating.TraceEnergy(trace)
	got := downsample(slices.Clone(trace), rating.MaxTracePoints)
	e, _ := rating.TraceEnergy(got)
	if len(got) > rating.MaxTracePoints || math.Abs(e-want) > 1e-9*want || got[len(got)-1].T != trace[len(trace)-1].T {
		t.Fatalf("%d points, %v J, want at most %d and %v J", len(got), e, rating.MaxTracePoints, want)
	}
	// As the sampler does it, a point at a time: the energy is kept, and
	// no gap is wider than the server allows.
	b, prev := traceBuilder{stride: 1}, 0.0
	for _, p := range trace {
		b.add(p.T, p.Watts, prev)
		prev = p.T
	}
	inc := b.finish()
	e, _ = rating.TraceEnergy(inc)
	last := inc[len(inc)-1].T
	maxGap := rating.TraceGapIntervals*0.1 + rating.TraceGapSpans*last/rating.MaxTracePoints
	prev = 0.0
	for _, p := range inc {
		if p.T-prev > maxGap {
			t.Fatalf("a gap of %v s, more than %v", p.T-prev, maxGap)
		}
		prev = p.T
	}
	if len(inc) > rating.MaxTracePoints || math.Abs(e-want) > 1e-9*want {
		t.Fatalf("incrementally: %d points, %v J, want at most %d and %v J", len(inc), e, rating.MaxTracePoints, want)
	}
}
