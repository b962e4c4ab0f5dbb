package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
	"github.com/bsnn/bsnn/runtime"
	"github.com/bsnn/bsnn/runtime/reference"
	"github.com/bsnn/bsnn/tools/internal/cli"
)

func init() {
	register("model", "per-sample latency, throughput, memory and size of one model, against the float reference executor", runModel)
}

// ModelReport is the -json output of bsnn-bench model.
type ModelReport struct {
	CPU       string `json:"cpu"`
	Go        string `json:"go"`
	Model     string `json:"model"` // file name, or "arch:NAME" for a random-weight net
	Kernels   string `json:"kernels"`
	Execution string `json:"execution"`
	Timesteps int    `json:"timesteps"`
	Input     string `json:"input"`

	// Size: the .bsnn encoding (binary weights packed) against the same
	// weights and parameters stored as float32.
	FileBytes    int64   `json:"file_bytes"`
	Float32Bytes int64   `json:"float32_bytes"`
	SizeRatio    float64 `json:"size_ratio"` // FileBytes / Float32Bytes
	BinaryMACs   int64   `json:"binary_macs_per_sample"`
	FloatMACs    int64   `json:"float_macs_per_sample"`

	// Engine latency per sample with 1 thread and with all threads (one
	// Engine, work split over threads); throughput of all threads running
	// independent 1-thread Engines.
	OneThread     Latency `json:"one_thread"`
	AllThreads    Latency `json:"all_threads"`
	Threads       int     `json:"threads"`
	ThroughputAll float64 `json:"throughput_all_threads_per_s"`

	// The float reference executor (runtime/reference) on the same model
	// and inputs, and how much faster the 1-thread engine is (ratio of
	// medians).
	Reference  *Latency `json:"reference,omitempty"`
	Speedup    float64  `json:"speedup_vs_reference,omitempty"`
	SpeedupCPU float64  `json:"speedup_vs_reference_cpu,omitempty"` // ratio of CPU-time medians

	// Firing rate per LIF layer and skipped work on the benchmark input.
	FiringRates  []LayerRate `json:"firing_rates"`
	BinaryOpsRun float64     `json:"binary_ops_fraction"` // performed / dense

	Memory *MemoryReport `json:"memory,omitempty"`
}

// Latency summarises per-sample times in milliseconds.
type Latency struct {
	Samples    int     `json:"samples"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	Meanms     float64 `json:"mean_ms"`
	Throughput float64 `json:"throughput_per_s"` // 1000 / mean
	// CPUP50ms is the median CPU time of the running thread per sample
	// (1-thread runs on Linux only): unlike wall time it does not grow when
	// other processes compete for the cores.
	CPUP50ms float64 `json:"cpu_p50_ms,omitempty"`
}

// LayerRate is one LIF layer's firing rate.
type LayerRate struct {
	Layer int     `json:"layer"`
	Name  string  `json:"name"`
	Rate  float64 `json:"rate"`
}

// MemoryReport is measured in a child process that only loads the model,
// compiles a 1-thread Engine and runs one sample, so nothing else of the
// benchmark inflates its peak RSS.
type MemoryReport struct {
	PeakRSSBytes int64 `json:"peak_rss_bytes"` // VmHWM
	// ModelBytes is the in-memory size of the model's parameters (packed
	// binary weights, float32 and int8 weights, per-channel vectors).
	ModelBytes int64 `json:"model_bytes"`
	// ActivationBytes is one sample's activations over all T steps: every
	// layer output as float32, as a plain float executor would hold them.
	ActivationBytes int64 `json:"activation_bytes"`
	// EngineBufferBytes is what the Engine actually allocates for
	// activations and scratch (buffers are reused, spikes are packed).
	EngineBufferBytes int64   `json:"engine_buffer_bytes"`
	Ratio             float64 `json:"ratio"` // PeakRSS / (ModelBytes + ActivationBytes)
}

type modelOpts struct {
	common   cli.Flags
	file     string
	arch     string
	widths   string
	shortcut string
	T        int
	seed     uint64
	exec     string
	duration time.Duration
	minIters int
	refIters int
	noRef    bool
	noRSS    bool
	json     bool
	rssChild bool
}

func (o *modelOpts) register(fs *flag.FlagSet) {
	o.common.Register(fs, 0)
	fs.StringVar(&o.file, "model", "", "the .bsnn model file to measure")
	fs.StringVar(&o.arch, "arch", "", "measure a random-weight net built in memory instead: "+strings.Join(arch.Names(), ", "))
	fs.StringVar(&o.shortcut, "shortcut", "fp32", "with -arch resnet19: precision of the downsampling shortcut convs, fp32 or int8")
	fs.StringVar(&o.widths, "widths", "", "with -arch: comma-separated widths (resnet19, vgg: 3; mnist: 3 conv widths)")
	fs.IntVar(&o.T, "T", 0, "with -arch: time steps (default: the architecture's, 2 for resnet19/vgg, 4 for mnist)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the random weights (-arch) and inputs")
	fs.StringVar(&o.exec, "exec", "auto", "binary layer execution: auto, dense or sparse")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "time spent on each engine measurement")
	fs.IntVar(&o.minIters, "min-iters", 20, "run at least this many samples per engine measurement")
	fs.IntVar(&o.refIters, "ref-iters", 3, "samples run through the float reference executor")
	fs.BoolVar(&o.noRef, "no-ref", false, "skip the float reference executor")
	fs.BoolVar(&o.noRSS, "no-rss", false, "skip the peak-RSS measurement (a child process)")
	fs.BoolVar(&o.json, "json", false, "print a JSON report instead of text")
	fs.BoolVar(&o.rssChild, "rss-child", false, "internal: measure one run's peak RSS and print it as JSON")
}

// childArgs are the flags a child process needs to rebuild the same model
// and engine.
func (o *modelOpts) childArgs() []string {
	a := []string{"model", "-rss-child", "-exec", o.exec, "-seed", strconv.FormatUint(o.seed, 10)}
	if o.common.Kernels != "" {
		a = append(a, "-kernels", o.common.Kernels)
	}
	if o.file != "" {
		return append(a, "-model", o.file)
	}
	a = append(a, "-arch", o.arch, "-T", strconv.Itoa(o.T))
	if o.shortcut != "" && o.shortcut != "fp32" {
		a = append(a, "-shortcut", o.shortcut)
	}
	if o.widths != "" {
		a = append(a, "-widths", o.widths)
	}
	return a
}

func runModel(args []string) error {
	var o modelOpts
	fs := flag.NewFlagSet("bsnn-bench model", flag.ContinueOnError)
	o.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bsnn-bench model (-model FILE | -arch resnet19|mnist|vgg) [flags]\n\n"+
			"Measures per-sample latency (p50/p99) and throughput at 1 thread and at all\n"+
			"threads, the float reference executor on the same model and inputs, the\n"+
			"model size against float32 weights and the peak RSS of a single-image run.\n\n")
		fs.PrintDefaults()
	}
	if help, err := cli.ParseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.common.Check(); err != nil {
		return err
	}
	if (o.file == "") == (o.arch == "") {
		return errors.New("give exactly one of -model FILE and -arch NAME")
	}
	x, err := runtime.ParseExecution(o.exec)
	if err != nil {
		return err
	}
	switch {
	case o.duration <= 0:
		return fmt.Errorf("-duration %v: must be positive", o.duration)
	case o.minIters < 1:
		return fmt.Errorf("-min-iters %d: need at least 1", o.minIters)
	case o.refIters < 1:
		return fmt.Errorf("-ref-iters %d: need at least 1", o.refIters)
	}
	k, err := o.common.KernelSet()
	if err != nil {
		return err
	}
	m, name, err := o.load()
	if err != nil {
		return err
	}
	if o.rssChild {
		return rssChild(m, k.Name, x, o.seed)
	}
	logw := io.Discard
	if o.common.Verbose {
		logw = os.Stderr
	}
	rep, err := measureModel(m, name, &o, k.Name, x, logw)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printModel(stdout, rep)
}

// load reads -model or builds -arch.
func (o *modelOpts) load() (*model.Model, string, error) {
	if o.file != "" {
		m, err := model.Load(o.file)
		return m, o.file, err
	}
	a, err := arch.Lookup(o.arch)
	if err != nil {
		return nil, "", fmt.Errorf("-arch: %v", err)
	}
	ao := arch.Options{T: o.T}
	if o.widths != "" {
		for _, s := range strings.Split(o.widths, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return nil, "", fmt.Errorf("-widths %q: %v", o.widths, err)
			}
			ao.Widths = append(ao.Widths, v)
		}
	}
	switch o.shortcut {
	case "fp32", "":
	case "int8":
		ao.Shortcut = model.PrecisionInt8
	default:
		return nil, "", fmt.Errorf("-shortcut %q: want fp32 or int8", o.shortcut)
	}
	m, err := a.Build(ao)
	if err != nil {
		return nil, "", err
	}
	arch.Randomize(m, o.seed)
	return m, "arch:" + o.arch, nil
}

// benchInputs returns n random samples: pixel values in [0,1), or sparse
// event counts for event models.
func benchInputs(m *model.Model, seed uint64, n int) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 0x696e))
	size := m.Input.Shape.Size()
	if m.Input.Encoding == model.EncodingEvents {
		size *= m.Input.Timesteps
	}
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, size)
		for j := range out[i] {
			if m.Input.Encoding == model.EncodingEvents {
				out[i][j] = float32(rng.IntN(10) / 8)
			} else {
				out[i][j] = rng.Float32()
			}
		}
	}
	return out
}

func measureModel(m *model.Model, name string, o *modelOpts, kernels string, x runtime.Execution, logw io.Writer) (*ModelReport, error) {
	shapes, err := m.Shapes()
	if err != nil {
		return nil, err
	}
	threads := o.common.NumThreads()
	rep := &ModelReport{
		CPU: cli.CPU(), Go: goruntime.Version(), Model: name, Kernels: kernels, Execution: x.String(),
		Timesteps: m.Timesteps(), Input: fmt.Sprintf("%v %v", m.Input.Shape, m.Input.Encoding), Threads: threads,
	}
	enc, err := model.Encode(m)
	if err != nil {
		return nil, fmt.Errorf("encoding the model to measure its size: %w", err)
	}
	rep.FileBytes = int64(len(enc))
	rep.Float32Bytes = float32Bytes(m)
	rep.SizeRatio = float64(rep.FileBytes) / float64(rep.Float32Bytes)
	rep.BinaryMACs, rep.FloatMACs = macs(m, shapes)

	inputs := benchInputs(m, o.seed, 8)
	opts := []runtime.Option{runtime.WithKernelsName(kernels), runtime.WithExecution(x), runtime.WithSeed(o.seed)}

	fmt.Fprintf(logw, "engine, 1 thread…\n")
	e1, err := runtime.New(m, append(opts, runtime.WithThreads(1))...)
	if err != nil {
		return nil, err
	}
	defer e1.Close()
	if rep.OneThread, err = timeEngine(e1, inputs, o, true); err != nil {
		return nil, err
	}
	res, err := e1.Infer(inputs[0])
	if err != nil {
		return nil, err
	}
	for i, l := range res.Stats.Layers {
		if l.Op == model.OpLIF {
			rep.FiringRates = append(rep.FiringRates, LayerRate{Layer: i, Name: l.Name, Rate: l.FiringRate})
		}
	}
	if res.Stats.DenseOps > 0 {
		rep.BinaryOpsRun = float64(res.Stats.BinaryOps) / float64(res.Stats.DenseOps)
	}

	fmt.Fprintf(logw, "engine, %d threads…\n", threads)
	en, err := runtime.New(m, append(opts, runtime.WithThreads(threads))...)
	if err != nil {
		return nil, err
	}
	defer en.Close()
	if rep.AllThreads, err = timeEngine(en, inputs, o, false); err != nil {
		return nil, err
	}
	if rep.ThroughputAll, err = throughput(m, opts, threads, inputs, o.duration); err != nil {
		return nil, err
	}

	if !o.noRef {
		fmt.Fprintf(logw, "reference executor, %d samples…\n", o.refIters)
		ex, err := reference.New(m)
		if err != nil {
			return nil, err
		}
		ex.Seed = o.seed
		var tm timer
		tm.start(true)
		for i := 0; i < o.refIters; i++ {
			tm.begin()
			if _, err := ex.Run(inputs[i%len(inputs)]); err != nil {
				tm.stop()
				return nil, err
			}
			tm.end()
		}
		l := tm.stop()
		rep.Reference = &l
		rep.Speedup = l.P50ms / rep.OneThread.P50ms
		if l.CPUP50ms > 0 && rep.OneThread.CPUP50ms > 0 {
			rep.SpeedupCPU = l.CPUP50ms / rep.OneThread.CPUP50ms
		}
	}
	if !o.noRSS {
		fmt.Fprintf(logw, "peak RSS in a child process…\n")
		mem, err := measureRSS(o)
		if err != nil {
			return nil, fmt.Errorf("peak RSS: %w", err)
		}
		rep.Memory = mem
	}
	return rep, nil
}

// timer collects per-sample wall times and, with cpu set, the CPU time of
// the calling thread (the goroutine is locked to it meanwhile).
type timer struct {
	cpu        bool
	wall, cpus []time.Duration
	t0         time.Time
	c0         time.Duration
}

func (t *timer) start(cpu bool) {
	t.cpu = cpu
	if cpu {
		goruntime.LockOSThread()
	}
}

func (t *timer) begin() {
	if t.cpu {
		t.c0, _ = threadCPU()
	}
	t.t0 = time.Now()
}

func (t *timer) end() {
	t.wall = append(t.wall, time.Since(t.t0))
	if t.cpu {
		if c, ok := threadCPU(); ok {
			t.cpus = append(t.cpus, c-t.c0)
		}
	}
}

func (t *timer) stop() Latency {
	if t.cpu {
		goruntime.UnlockOSThread()
	}
	l := summarize(t.wall)
	if len(t.cpus) > 0 {
		l.CPUP50ms = summarize(t.cpus).P50ms
	}
	return l
}

// timeEngine times Infer sample by sample for o.duration (at least
// o.minIters samples) after a short warm-up; cpu also measures the thread's
// CPU time (1-thread engines only: their work runs on the caller).
func timeEngine(e *runtime.Engine, inputs [][]float32, o *modelOpts, cpu bool) (Latency, error) {
	for i := 0; i < 3; i++ {
		if _, err := e.Infer(inputs[i%len(inputs)]); err != nil {
			return Latency{}, err
		}
	}
	var tm timer
	tm.start(cpu)
	start := time.Now()
	for i := 0; len(tm.wall) < o.minIters || time.Since(start) < o.duration; i++ {
		tm.begin()
		if _, err := e.Infer(inputs[i%len(inputs)]); err != nil {
			tm.stop()
			return Latency{}, err
		}
		tm.end()
	}
	return tm.stop(), nil
}

// throughput runs n independent 1-thread engines concurrently for d and
// returns samples per second.
func throughput(m *model.Model, opts []runtime.Option, n int, inputs [][]float32, d time.Duration) (float64, error) {
	engines := make([]*runtime.Engine, n)
	for i := range engines {
		e, err := runtime.New(m, append(opts, runtime.WithThreads(1))...)
		if err != nil {
			return 0, err
		}
		defer e.Close()
		if _, err := e.Infer(inputs[0]); err != nil {
			return 0, err
		}
		engines[i] = e
	}
	var wg sync.WaitGroup
	counts := make([]int, n)
	errs := make([]error, n)
	start := time.Now()
	for i, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; time.Since(start) < d; j++ {
				if _, err := e.Infer(inputs[(i+j)%len(inputs)]); err != nil {
					errs[i] = err
					return
				}
				counts[i]++
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	total := 0
	for i := range counts {
		if errs[i] != nil {
			return 0, errs[i]
		}
		total += counts[i]
	}
	return float64(total) / el.Seconds(), nil
}

func summarize(ts []time.Duration) Latency {
	s := append([]time.Duration(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, t := range s {
		sum += t
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	// p99 is the value below which 99 % of samples fall (nearest rank).
	p := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	mean := ms(sum) / float64(len(s))
	return Latency{Samples: len(s), P50ms: ms(p(0.5)), P99ms: ms(p(0.99)), Meanms: mean, Throughput: 1000 / mean}
}

// float32Bytes is the size of every parameter of m stored as float32: each
// binary or int8 weight as one float32, plus the per-channel vectors.
func float32Bytes(m *model.Model) int64 {
	var n int64
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.Op == model.OpConv2D || l.Op == model.OpLinear {
			n += int64(l.OutC) * int64(l.InC) * int64(l.KH) * int64(l.KW)
		}
		n += int64(len(l.Scale) + len(l.Bias) + len(l.Alpha))
	}
	return 4 * n
}

// paramBytes is the in-memory size of m's parameters as stored in
// model.Model (binary weights packed).
func paramBytes(m *model.Model) int64 {
	var n int64
	for i := range m.Layers {
		l := &m.Layers[i]
		n += 8*int64(len(l.Bits)) + 4*int64(len(l.Weights)) + int64(len(l.WeightsI8))
		n += 4 * int64(len(l.Scale)+len(l.Bias)+len(l.Alpha))
	}
	return n
}

// activationBytes is one sample's layer outputs over T steps as float32.
func activationBytes(m *model.Model, shapes []model.Shape) int64 {
	n := int64(m.Input.Shape.Size())
	for _, s := range shapes {
		n += int64(s.Size())
	}
	return 4 * n * int64(m.Timesteps())
}

// macs counts the multiply-accumulates of one sample: binary (per bit) and
// float, over all T steps.
func macs(m *model.Model, shapes []model.Shape) (binary, float int64) {
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.Op != model.OpConv2D && l.Op != model.OpLinear {
			continue
		}
		n := int64(shapes[i].Size()) * int64(l.InC) * int64(l.KH) * int64(l.KW) * int64(m.Timesteps())
		if l.Precision == model.PrecisionBinary {
			binary += n
		} else {
			float += n
		}
	}
	return binary, float
}

// rssChild is the child side of measureRSS: compile, run one sample, report.
func rssChild(m *model.Model, kernels string, x runtime.Execution, seed uint64) error {
	shapes, err := m.Shapes()
	if err != nil {
		return err
	}
	e, err := runtime.New(m, runtime.WithKernelsName(kernels), runtime.WithExecution(x), runtime.WithThreads(1), runtime.WithSeed(seed))
	if err != nil {
		return err
	}
	defer e.Close()
	if _, err := e.Infer(benchInputs(m, seed, 1)[0]); err != nil {
		return err
	}
	hwm, err := vmHWM()
	if err != nil {
		return err
	}
	mem := MemoryReport{
		PeakRSSBytes: hwm, ModelBytes: paramBytes(m), ActivationBytes: activationBytes(m, shapes),
		EngineBufferBytes: e.BufferBytes(),
	}
	mem.Ratio = float64(mem.PeakRSSBytes) / float64(mem.ModelBytes+mem.ActivationBytes)
	return json.NewEncoder(stdout).Encode(mem)
}

// measureRSS runs this program again as a child that only loads the model
// and runs one sample, and reads its report.
func measureRSS(o *modelOpts) (*MemoryReport, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, o.childArgs()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("child %s: %v: %s", self, err, strings.TrimSpace(errb.String()))
	}
	var mem MemoryReport
	if err := json.Unmarshal(out.Bytes(), &mem); err != nil {
		return nil, fmt.Errorf("child output %q: %v", out.String(), err)
	}
	return &mem, nil
}

// vmHWM reads this process's peak resident set size from /proc/self/status.
func vmHWM() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak RSS needs /proc/self/status (Linux): %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM line %q: %v", sc.Text(), err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmHWM line in /proc/self/status")
}

func printModel(w io.Writer, r *ModelReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	mb := func(b int64) string { return fmt.Sprintf("%.2f MB", float64(b)/1e6) }
	fmt.Fprintf(tw, "cpu\t%s\n", r.CPU)
	fmt.Fprintf(tw, "model\t%s: input %s, T = %d\n", r.Model, r.Input, r.Timesteps)
	fmt.Fprintf(tw, "engine\tkernels %s, execution %s\n", r.Kernels, r.Execution)
	fmt.Fprintf(tw, "work per sample\t%.3g binary MACs, %.3g float MACs\n", float64(r.BinaryMACs), float64(r.FloatMACs))
	fmt.Fprintf(tw, "size\t.bsnn %s vs float32 %s: 1/%.1f\n", mb(r.FileBytes), mb(r.Float32Bytes), 1/r.SizeRatio)
	lat := func(name string, l Latency) {
		cpu := ""
		if l.CPUP50ms > 0 {
			cpu = fmt.Sprintf("; CPU time p50 %.3f ms", l.CPUP50ms)
		}
		fmt.Fprintf(tw, "%s\tp50 %.3f ms, p99 %.3f ms, mean %.3f ms (%d samples), %.1f samples/s%s\n",
			name, l.P50ms, l.P99ms, l.Meanms, l.Samples, l.Throughput, cpu)
	}
	lat("latency, 1 thread", r.OneThread)
	lat(fmt.Sprintf("latency, %d threads", r.Threads), r.AllThreads)
	fmt.Fprintf(tw, "throughput, %d threads\t%.1f samples/s (%d independent 1-thread engines)\n", r.Threads, r.ThroughputAll, r.Threads)
	if r.Reference != nil {
		lat("float reference", *r.Reference)
		fmt.Fprintf(tw, "speedup, 1 thread\t%.1f× the float reference (wall p50 / p50)", r.Speedup)
		if r.SpeedupCPU > 0 {
			fmt.Fprintf(tw, ", %.1f× by CPU time", r.SpeedupCPU)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "binary work done\t%.1f %% of dense (rows and words skipped)\n", 100*r.BinaryOpsRun)
	var rates []string
	for _, l := range r.FiringRates {
		rates = append(rates, fmt.Sprintf("%.3f", l.Rate))
	}
	fmt.Fprintf(tw, "firing rates (LIF)\t%s\n", strings.Join(rates, " "))
	if m := r.Memory; m != nil {
		fmt.Fprintf(tw, "peak RSS, 1 image\t%s = %.2f × (model %s + activations %s); engine buffers %s\n",
			mb(m.PeakRSSBytes), m.Ratio, mb(m.ModelBytes), mb(m.ActivationBytes), mb(m.EngineBufferBytes))
	}
	return tw.Flush()
}
