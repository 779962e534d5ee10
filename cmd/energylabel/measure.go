package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/energylabel/energylabel/internal/version"
	"github.com/energylabel/energylabel/internal/wire"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/formats"
	"github.com/energylabel/energylabel/rating/formats/meta"
)

var measureCommand = &command{
	name:    "measure",
	usage:   "measure [-gpus 0,1] [-interval 100ms] [-idle 5s] -o FILE [-counts FILE] [submit flags] -- COMMAND [ARGS...]",
	summary: "run a benchmark command and measure its GPU energy with NVML into a result file",
	help:    measureHelp,
	run:     runMeasure,
	// the command's own output passes through as it comes
	direct: true,
}

const measureHelp = `
  Runs COMMAND and reads each selected GPU's total-energy counter (NVML,
  millijoules; Volta and later) before and after it, samples their power
  every -interval into a trace, and writes a native result file (-o) that
  'energylabel submit' sends. Its measurement section holds the source
  (nvml), the interval, the trace (at most 4,096 points: a long run is
  averaged down), each device's NVML name, UUID, power limit and energy,
  and the driver and CUDA versions; the server checks it against the
  energy. Where a GPU has no counter, or its counter goes back (a driver
  reload), its energy is the integral of its sampled power, and a warning
  says so.
  -gpus 0,1        the GPUs' NVML indices (default: all of them)
  -interval D      the sampling interval (default 100ms; 1ms to 60s)
  -idle D          first measure the idle power for D and report it beside
                   the energy (never subtracted: graded energy is the total)
  -o FILE          the result file to write
  -counts FILE     take the counts (queries, tokens, images, model, task)
                   from FILE, which COMMAND writes, in any format submit
                   reads; flags fill in what it lacks
  -model -task -dataset -queries -tokens -params -active-params -size-class
                   as for submit; energy, duration, hardware and count come
                   from the measurement
  COMMAND's output passes through, signals (INT, TERM, HUP, QUIT) are
  forwarded to it, and measure exits with its status; when it fails, or a
  GPU stops answering, nothing is written. Needs an NVIDIA driver; a
  build without cgo (CGO_ENABLED=0) has no NVML and says so.
`

// The errors of a machine that cannot measure.
var (
	errNoDriver = errors.New("no NVIDIA driver found")
	// errNoCounter is a device without a total-energy counter.
	errNoCounter = errors.New("no total-energy counter")
)

// gpuLibrary is what measure needs of NVML; nvmlLibrary implements it
// over go-nvml, and tests drive it with a fake or go-nvml's mock.
type gpuLibrary interface {
	// Init returns an error wrapping errNoDriver where there is no driver.
	Init() error
	Shutdown()
	DriverVersion() string
	CUDAVersion() string
	DeviceCount() (int, error)
	Device(index int) (gpuDevice, error)
}

// gpuDevice is one GPU.
type gpuDevice interface {
	Name() (string, error)
	UUID() (string, error)
	PowerLimitWatts() (float64, error)
	// EnergyMJ is the total-energy counter in mJ; errNoCounter where the
	// device has none.
	EnergyMJ() (uint64, error)
	PowerWatts() (float64, error)
}

// measureOptions are measure's flags.
type measureOptions struct {
	gpus     string
	interval time.Duration
	idle     time.Duration
	out      string
	counts   string
	meta     formats.Meta
	command  []string
	// missing is the usage error of what the command line lacks; it comes
	// after the driver check, which is the first thing a machine without
	// a GPU needs to hear.
	missing error
}

func (a *app) parseMeasure(args []string) (measureOptions, error) {
	const cmd = "measure"
	var o measureOptions
	before, after, found := cutArgs(args)
	fs := a.newFlagSet(cmd)
	fs.StringVar(&o.gpus, "gpus", "", "")
	fs.DurationVar(&o.interval, "interval", 100*time.Millisecond, "")
	fs.DurationVar(&o.idle, "idle", 0, "")
	fs.StringVar(&o.out, "o", "", "")
	fs.StringVar(&o.counts, "counts", "", "")
	m := &o.meta
	fs.StringVar(&m.Model, "model", "", "")
	fs.StringVar(&m.Task, "task", "", "")
	fs.StringVar(&m.Dataset, "dataset", "", "")
	fs.Int64Var(&m.Queries, "queries", 0, "")
	fs.Int64Var(&m.Tokens, "tokens", 0, "")
	fs.Float64Var(&m.Params, "params", 0, "")
	fs.Float64Var(&m.ActiveParams, "active-params", 0, "")
	fs.StringVar(&m.SizeClass, "size-class", "", "")
	pos, err := a.parse(cmd, fs, before)
	if err != nil {
		return o, err
	}
	if len(pos) > 0 {
		return o, briefUsageErrorf(cmd, "%s: unexpected %s before --: the command to measure follows --", cmd, quoteShort(pos[0]))
	}
	o.command = after
	var missing []string
	if o.out == "" {
		missing = append(missing, "-o FILE")
	}
	if !found || len(after) == 0 {
		missing = append(missing, "-- COMMAND")
	}
	if o.counts == "" {
		for _, f := range []struct {
			set  bool
			flag string
		}{{m.Model != "", "-model OWNER/NAME"}, {m.Task != "", "-task T"}, {m.Queries > 0, "-queries N (or -counts FILE)"}} {
			if !f.set {
				missing = append(missing, f.flag)
			}
		}
	}
	if len(missing) > 0 {
		o.missing = missingFlags(cmd, missing...)
	}
	if o.interval < time.Millisecond || o.interval > rating.MaxIntervalSeconds*time.Second {
		return o, briefUsageErrorf(cmd, "%s: -interval %v: want 1ms to %ds", cmd, o.interval, rating.MaxIntervalSeconds)
	}
	if o.idle < 0 {
		return o, briefUsageErrorf(cmd, "%s: -idle %v: want a duration of 0 or more", cmd, o.idle)
	}
	if given(fs, "queries") && m.Queries < 1 {
		return o, briefUsageErrorf(cmd, "%s: -queries %d: want 1 or more", cmd, m.Queries)
	}
	if m.Task != "" {
		if _, err := resolveTask(cmd, m.Task); err != nil {
			return o, err
		}
	}
	if err := checkSizeClass(cmd, m.SizeClass); err != nil {
		return o, err
	}
	if m.Model != "" {
		if err := checkModel(cmd, "-model", strings.TrimSpace(m.Model)); err != nil {
			return o, err
		}
	}
	if _, err := parseIndices(o.gpus); err != nil {
		return o, briefUsageErrorf(cmd, "%s: -gpus %s: %v", cmd, quoteShort(o.gpus), err)
	}
	return o, nil
}

// cutArgs splits the arguments at the first "--".
func cutArgs(args []string) (before, after []string, found bool) {
	i := slices.Index(args, "--")
	if i < 0 {
		return args, nil, false
	}
	return args[:i], args[i+1:], true
}

// parseIndices parses "0,1"; empty means every GPU (nil).
func parseIndices(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		i, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || i < 0 || i >= rating.MaxGPUs {
			return nil, fmt.Errorf("want GPU indices such as 0,1, got %s", quoteShort(f))
		}
		if slices.Contains(out, i) {
			return nil, fmt.Errorf("GPU %d is given twice", i)
		}
		out = append(out, i)
	}
	return out, nil
}

// exitStatusError is a measured command that failed: measure exits with
// its status and writes nothing.
type exitStatusError struct {
	code int
	msg  string
}

func (e *exitStatusError) Error() string { return e.msg }

func runMeasure(ctx context.Context, a *app, args []string) error {
	o, err := a.parseMeasure(args)
	if err != nil {
		return err
	}
	open := a.gpu
	if open == nil {
		open = openNVML
	}
	lib, err := open()
	if err == nil {
		err = lib.Init()
	}
	if err != nil {
		return fmt.Errorf("measure: %w", err)
	}
	defer lib.Shutdown()
	if o.missing != nil {
		return o.missing
	}
	devs, err := selectDevices(lib, o.gpus)
	if err != nil {
		return fmt.Errorf("measure: %w", err)
	}
	m, err := measure(ctx, a, lib, devs, o)
	if err != nil {
		return err
	}
	r, err := measuredResult(o, m)
	if err != nil {
		return err
	}
	p := wire.BenchmarkResult(r)
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}.Marshal(p)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(o.out, append(data, '\n')); err != nil {
		return fmt.Errorf("measure: %w", err)
	}
	idle := ""
	if m.IdleSeconds > 0 {
		idle = fmt.Sprintf("; idle %s W, not subtracted", number(m.IdleWatts))
	}
	fmt.Fprintf(a.stderr, "energylabel: measured %s Wh in %s s on %d × %s (%s W average%s); wrote %s\n",
		number(r.GPUEnergyWh), number(r.DurationSeconds), len(m.Devices), m.Devices[0].Name,
		number(r.GPUEnergyWh*3600/r.DurationSeconds), idle, o.out)
	return nil
}

// number prints a figure to 3 significant figures.
func number(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// selected is one GPU being measured.
type selected struct {
	dev gpuDevice
	rating.MeasuredDevice
	counter bool
}

func selectDevices(lib gpuLibrary, gpus string) ([]*selected, error) {
	n, err := lib.DeviceCount()
	if err != nil {
		return nil, fmt.Errorf("counting the GPUs: %w", err)
	}
	idx, _ := parseIndices(gpus)
	if idx == nil {
		for i := range n {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, errors.New("the NVIDIA driver sees no GPU")
	}
	var out []*selected
	for _, i := range idx {
		if i >= n {
			return nil, fmt.Errorf("-gpus: there is no GPU %d (the driver sees %d, indices 0 to %d)", i, n, n-1)
		}
		d, err := lib.Device(i)
		if err != nil {
			return nil, fmt.Errorf("GPU %d: %w", i, err)
		}
		s := &selected{dev: d}
		s.Index = i
		if s.Name, err = d.Name(); err != nil {
			return nil, fmt.Errorf("GPU %d: its name: %w", i, err)
		}
		if s.UUID, err = d.UUID(); err != nil {
			return nil, fmt.Errorf("GPU %d: its UUID: %w", i, err)
		}
		if s.PowerLimitWatts, err = d.PowerLimitWatts(); err != nil {
			s.PowerLimitWatts = 0 // informative only
		}
		out = append(out, s)
	}
	for _, s := range out[1:] {
		if s.Name != out[0].Name {
			return nil, fmt.Errorf("GPU %d is a %s and GPU %d a %s: a result is measured on one kind of accelerator (choose with -gpus)",
				out[0].Index, out[0].Name, s.Index, s.Name)
		}
	}
	return out, nil
}

// measure runs the command between the counters' readings, sampling power.
func measure(ctx context.Context, a *app, lib gpuLibrary, devs []*selected, o measureOptions) (*rating.Measurement, error) {
	m := &rating.Measurement{Source: rating.MeasurementNVML, IntervalSeconds: o.interval.Seconds(),
		DriverVersion: lib.DriverVersion(), CUDAVersion: lib.CUDAVersion()}
	if o.idle > 0 {
		w, err := idlePower(ctx, devs, o.idle, o.interval)
		if err != nil {
			return nil, fmt.Errorf("measure: idle power: %w", err)
		}
		m.IdleWatts, m.IdleSeconds = w, o.idle.Seconds()
	}
	for _, d := range devs {
		e, err := d.dev.EnergyMJ()
		switch {
		case err == nil:
			d.counter, d.EnergyStartMJ = true, e
		case errors.Is(err, errNoCounter):
			fmt.Fprintf(a.stderr, "energylabel: warning: GPU %d has no total-energy counter: its energy is its sampled power's integral\n", d.Index)
		default:
			return nil, fmt.Errorf("measure: GPU %d: its energy counter: %w", d.Index, err)
		}
	}

	c := exec.Command(o.command[0], o.command[1:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, a.stdout, a.stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	s := newSampler(devs, o.interval)
	// The duration starts with the counters' readings, before the command
	// starts, so that both span the same time.
	s.start = time.Now()
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.run(done) })
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()
	var werr error
wait:
	for {
		select {
		case sig := <-sigs:
			_ = c.Process.Signal(sig) // it may have exited already
		case werr = <-waited:
			break wait
		}
	}
	end := time.Since(s.start)
	// The counters at once, then the last stretch of power.
	ends := make([]uint64, len(devs))
	endErrs := make([]error, len(devs))
	for i, d := range devs {
		if d.counter && werr == nil {
			ends[i], endErrs[i] = d.dev.EnergyMJ()
		}
	}
	close(done)
	wg.Wait()
	if werr != nil {
		return nil, commandFailed(o.command[0], werr)
	}
	s.sample(end)
	if s.lost != nil {
		return nil, fmt.Errorf("measure: %w; no result written", s.lost)
	}
	for i, d := range devs {
		d.EnergySource = rating.EnergyFromSamples
		d.EnergyWh = s.joules[i] / 3600
		if !d.counter {
			continue
		}
		e, err := ends[i], endErrs[i]
		if err != nil {
			return nil, fmt.Errorf("measure: GPU %d (%s) stopped answering at the end of the run: %w; no result written", d.Index, d.UUID, err)
		}
		if e < d.EnergyStartMJ || s.reset[i] {
			fmt.Fprintf(a.stderr, "energylabel: warning: GPU %d's energy counter went back during the run (a driver reload?): its energy is its sampled power's integral\n", d.Index)
			continue
		}
		d.EnergySource, d.EnergyEndMJ = rating.EnergyFromCounter, e
		d.EnergyWh = float64(e-d.EnergyStartMJ) / 3.6e6
	}
	for _, d := range devs {
		if d.EnergySource == rating.EnergyFromSamples {
			d.EnergyStartMJ, d.EnergyEndMJ = 0, 0
		}
		m.Devices = append(m.Devices, d.MeasuredDevice)
	}
	m.Trace = s.trace.finish()
	return m, nil
}

// commandFailed is the error of a command that did not succeed.
func commandFailed(name string, err error) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("measure: %s: %w", quoteShort(name), err)
	}
	code := ee.ExitCode()
	how := fmt.Sprintf("exited with status %d", code)
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
		how = "was killed by " + ws.Signal().String()
	}
	return &exitStatusError{code: code, msg: fmt.Sprintf("measure: %s %s; no result written", quoteShort(filepath.Base(name)), how)}
}

// idlePower is the median of the devices' summed power over d.
func idlePower(ctx context.Context, devs []*selected, d, interval time.Duration) (float64, error) {
	var sums []float64
	t := time.NewTicker(interval)
	defer t.Stop()
	deadline := time.After(d)
	for {
		sum := 0.0
		for _, dev := range devs {
			w, err := dev.dev.PowerWatts()
			if err != nil {
				return 0, fmt.Errorf("GPU %d: %w", dev.Index, err)
			}
			sum += w
		}
		sums = append(sums, sum)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-deadline:
			slices.Sort(sums)
			return sums[len(sums)/2], nil
		case <-t.C:
		}
	}
}

// sampler samples the devices' power every interval into a trace, each
// point the average power since the previous one, and integrates each
// device's power; it notes a counter that goes back and a device that
// stops answering.
type sampler struct {
	devs     []*selected
	interval time.Duration
	start    time.Time
	mu       sync.Mutex
	prev     float64 // seconds of the last sample
	trace    traceBuilder
	joules   []float64
	last     []uint64
	reset    []bool
	lost     error
}

func newSampler(devs []*selected, interval time.Duration) *sampler {
	s := &sampler{devs: devs, interval: interval, trace: traceBuilder{stride: 1}, joules: make([]float64, len(devs)), last: make([]uint64, len(devs)), reset: make([]bool, len(devs))}
	for i, d := range devs {
		s.last[i] = d.EnergyStartMJ
	}
	return s
}

func (s *sampler) run(done <-chan struct{}) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			s.sample(time.Since(s.start))
		}
	}
}

// sample reads every device at elapsed.
func (s *sampler) sample(elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := elapsed.Seconds()
	if s.lost != nil || at <= s.prev {
		return
	}
	sum := 0.0
	for i, d := range s.devs {
		w, err := d.dev.PowerWatts()
		if err == nil && d.counter {
			var e uint64
			if e, err = d.dev.EnergyMJ(); err == nil {
				if e < s.last[i] {
					s.reset[i] = true
				}
				s.last[i] = e
			}
		}
		if err != nil {
			s.lost = fmt.Errorf("GPU %d (%s) stopped answering %.3g s into the run: %w", d.Index, d.UUID, at, err)
			return
		}
		s.joules[i] += w * (at - s.prev)
		sum += w
	}
	s.trace.add(at, sum, s.prev)
	s.prev = at
}

// traceBuilder keeps a trace bounded as it grows, with points of equal
// spans: each point averages stride samples, and when the trace reaches
// twice rating.MaxTracePoints, pairs merge and the stride doubles.
type traceBuilder struct {
	points []rating.PowerSample
	stride int
	// the samples not yet in a point: their energy, count and end
	joules float64
	n      int
	end    float64
	// the last point's end
	last float64
}

// add takes the average power w over (prev, t].
func (b *traceBuilder) add(t, w, prev float64) {
	b.joules += w * (t - prev)
	b.n++
	b.end = t
	if b.n < b.stride {
		return
	}
	b.flush()
	if len(b.points) >= 2*rating.MaxTracePoints {
		b.points = downsample(b.points, rating.MaxTracePoints)
		b.stride *= 2
	}
}

func (b *traceBuilder) flush() {
	if b.n == 0 || b.end <= b.last {
		return
	}
	b.points = append(b.points, rating.PowerSample{T: b.end, Watts: b.joules / (b.end - b.last)})
	b.last, b.joules, b.n = b.end, 0, 0
}

// finish is the trace, with the samples not yet in a point as its last.
func (b *traceBuilder) finish() []rating.PowerSample {
	b.flush()
	return downsample(b.points, rating.MaxTracePoints)
}

// downsample merges runs of consecutive points into one, the average
// power over their span, until at most max remain; the integral is kept.
func downsample(trace []rating.PowerSample, limit int) []rating.PowerSample {
	if len(trace) <= limit {
		return trace
	}
	k := (len(trace) + limit - 1) / limit
	out := make([]rating.PowerSample, 0, limit)
	prev := 0.0
	for i := 0; i < len(trace); i += k {
		j := min(i+k, len(trace))
		joules, _ := rating.TraceEnergy(trace[i:j])
		// TraceEnergy starts from 0: take out the span before trace[i]
		joules -= trace[i].Watts * prev
		end := trace[j-1].T
		out = append(out, rating.PowerSample{T: end, Watts: joules / (end - prev)})
		prev = end
	}
	return out
}

// measuredResult is the result the measurement and the counts make.
func measuredResult(o measureOptions, m *rating.Measurement) (*rating.Result, error) {
	last := m.Trace[len(m.Trace)-1].T
	r := rating.Result{}
	if o.counts != "" {
		mt := o.meta
		mt.Hardware, mt.GPUs, mt.DurationSeconds = m.Devices[0].Name, len(m.Devices), last
		data, err := os.ReadFile(o.counts)
		if err != nil {
			return nil, fmt.Errorf("measure: -counts: %w; no result written", err)
		}
		rs, err := readResults(o.counts, data, readOptions{meta: mt})
		var missing *meta.MissingError
		switch {
		case errors.As(err, &missing):
			return nil, fmt.Errorf("measure: -counts: %s; no result written", missingFlagsOf(missing))
		case err != nil:
			return nil, fmt.Errorf("measure: -counts: %w; no result written", err)
		case len(rs) != 1:
			return nil, fmt.Errorf("measure: -counts %s holds %d results, want one; no result written", o.counts, len(rs))
		}
		r = rs[0]
	} else {
		if t, ok := rating.LookupTask(o.meta.Task); ok {
			r.Task = t.ID
		}
		r.Model, r.Dataset, r.Queries = strings.TrimSpace(o.meta.Model), o.meta.Dataset, o.meta.Queries
		r.Output.Tokens, r.ParamsBillions, r.ActiveParamsBillions, r.SizeClass = o.meta.Tokens, o.meta.Params, o.meta.ActiveParams, o.meta.SizeClass
	}
	r.RunEnergiesWh, r.ThroughputTokensPerSecond = nil, 0 // another tool's figures
	r.Accelerator, r.GPUCount, r.DurationSeconds = m.Devices[0].Name, len(m.Devices), last
	r.GPUEnergyWh = 0
	for _, d := range m.Devices {
		r.GPUEnergyWh += d.EnergyWh
	}
	r.ToolName, r.ToolVersion = "energylabel measure", version.String()
	r.MeasuredAt = time.Now().UTC().Add(-time.Duration(last * float64(time.Second))).Truncate(time.Second)
	r.Measurement = m
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("measure: the measured result: %w; no result written", err)
	}
	return &r, nil
}

// formatCUDAVersion formats NVML's CUDA driver version, 12080 as "12.8".
func formatCUDAVersion(v int) string {
	if v <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}
