package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
	"github.com/bsnn/bsnn/runtime"
	"github.com/bsnn/bsnn/tools/internal/cli"
)

func init() {
	register("compare", "bsnn against the same net in PyTorch: latency, throughput, peak RSS, and the energy estimate", runCompare)
}

// twinScript is the PyTorch side (bench_infer.py), written next to the
// weight dump at run time.
//
//go:embed bench_infer.py
var twinScript []byte

// torchHint says how to get the PyTorch side.
const torchHint = "install PyTorch for the system Python: apt-get install python3-torch (or scripts/deps.sh pyref)"

// CompareReport is the -json output of bsnn-bench compare.
type CompareReport struct {
	// Command is the command line that produced the report.
	Command   string `json:"command"`
	CPU       string `json:"cpu"`
	Go        string `json:"go"`
	Python    string `json:"python,omitempty"`
	Torch     string `json:"torch,omitempty"`
	Model     string `json:"model"`
	Widths    string `json:"widths,omitempty"`
	Timesteps int    `json:"timesteps"`
	Input     string `json:"input"`
	Kernels   string `json:"kernels"`
	Execution string `json:"execution"`
	Rounds    int    `json:"rounds"`
	// DurationS is the time given to each measurement of each round.
	DurationS float64 `json:"duration_s"`
	// TorchMissing says why the PyTorch half did not run, and how to get it.
	TorchMissing string `json:"torch_missing,omitempty"`
	// LoadStart and LoadEnd are the machine's 1-minute load average when
	// the measurements began and ended (Linux; 0 if unknown): other work
	// on the machine slows both sides and widens the spread.
	LoadStart float64 `json:"load_start,omitempty"`
	LoadEnd   float64 `json:"load_end,omitempty"`
	// OMPWait is the OMP_WAIT_POLICY PyTorch ran with ("" inherited).
	OMPWait string `json:"omp_wait_policy,omitempty"`

	Agreement *Agreement      `json:"agreement,omitempty"`
	Results   []CompareResult `json:"results"`
	Memory    []CompareRSS    `json:"memory"`
	Energy    *EnergyReport   `json:"energy,omitempty"`
}

// Agreement compares the two implementations' logits on the same samples.
type Agreement struct {
	Samples int `json:"samples"`
	// MaxAbsDiff is the largest |bsnn − PyTorch| over all logits; MaxAbs
	// the largest |logit| (the scale it is measured against).
	MaxAbsDiff float64 `json:"max_abs_logit_diff"`
	MaxAbs     float64 `json:"max_abs_logit"`
	SameClass  int     `json:"same_class"`
}

// Perf is one implementation at one thread count and batch size, over all
// rounds. Latencies are per sample (call time / batch).
type Perf struct {
	Calls int     `json:"calls"`
	P50ms float64 `json:"p50_ms"`
	Minms float64 `json:"min_ms"`
	// Throughput is the median over rounds of samples / wall time.
	Throughput float64 `json:"throughput_per_s"`
}

// CompareResult is one (threads, batch) configuration.
type CompareResult struct {
	Threads int   `json:"threads"`
	Batch   int   `json:"batch"`
	BSNN    Perf  `json:"bsnn"`
	Torch   *Perf `json:"torch,omitempty"`
	// Speedup is PyTorch p50 / bsnn p50 (above 1: bsnn is faster);
	// MinSpeedup the same for the best samples; ThroughputRatio bsnn's
	// throughput / PyTorch's.
	Speedup         float64 `json:"speedup_p50,omitempty"`
	MinSpeedup      float64 `json:"speedup_min,omitempty"`
	ThroughputRatio float64 `json:"throughput_ratio,omitempty"`
}

// CompareRSS is the peak resident set of each side at one configuration.
type CompareRSS struct {
	Threads   int   `json:"threads"`
	Batch     int   `json:"batch"`
	BSNNBytes int64 `json:"bsnn_bytes"`
	// TorchBytes is the Python process's ru_maxrss after the runs up to
	// this batch size (ru_maxrss only grows, so batch 1 is read before any
	// larger batch runs).
	TorchBytes int64   `json:"torch_bytes,omitempty"`
	Ratio      float64 `json:"ratio,omitempty"` // bsnn / PyTorch
}

type compareOpts struct {
	arch, widths, shortcut string
	T                      int
	seed                   uint64
	kernels, exec          string
	python, ompWait        string
	duration               time.Duration
	rounds, minCalls       int
	threads, batches       []int
	agree, energyN         int
	noTorch, json, verbose bool
	noRSS, rssChild        bool
}

func parseInts(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%s %q: want comma-separated positive integers", name, s)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s %q: empty", name, s)
	}
	return out, nil
}

func runCompare(args []string) error {
	var o compareOpts
	var threads, batches string
	fs := flag.NewFlagSet("bsnn-bench compare", flag.ContinueOnError)
	fs.StringVar(&o.arch, "arch", "resnet19", "network (random weights): "+strings.Join(arch.Names(), ", "))
	fs.StringVar(&o.widths, "widths", "", "comma-separated widths (resnet19, vgg: 3 stage widths; mnist: 3 conv widths)")
	fs.StringVar(&o.shortcut, "shortcut", "fp32", "with -arch resnet19: precision of the downsampling shortcut convs, fp32 or int8")
	fs.IntVar(&o.T, "T", 0, "time steps (default: the architecture's, 2 for resnet19/vgg, 4 for mnist)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the random weights and inputs")
	fs.StringVar(&o.kernels, "kernels", "", "bsnn kernel set (default: $BSNN_KERNELS, else the best for this CPU)")
	fs.StringVar(&o.exec, "exec", "auto", "bsnn binary layer execution: auto, dense or sparse")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "the Python with PyTorch")
	fs.StringVar(&o.ompWait, "omp-wait", "PASSIVE", "OMP_WAIT_POLICY for PyTorch's OpenMP threads (empty: inherit); PASSIVE because spinning threads on a\nshared machine make multi-threaded PyTorch 10-100× slower, which would flatter bsnn")
	fs.DurationVar(&o.duration, "duration", time.Second, "time per measurement (one side, one configuration, one round)")
	fs.IntVar(&o.rounds, "rounds", 3, "alternating rounds (bsnn and PyTorch take turns going first)")
	fs.IntVar(&o.minCalls, "min-calls", 3, "at least this many calls per measurement")
	fs.StringVar(&threads, "threads", "1,"+strconv.Itoa(goruntime.NumCPU()), "comma-separated thread counts")
	fs.StringVar(&batches, "batch", "1,32", "comma-separated batch sizes")
	fs.IntVar(&o.agree, "agree", 4, "samples whose logits the two sides must agree on")
	fs.IntVar(&o.energyN, "energy-samples", 4, "samples whose spikes are counted for the energy estimate (0: skip)")
	fs.BoolVar(&o.noTorch, "no-torch", false, "measure bsnn only")
	fs.BoolVar(&o.json, "json", false, "print a JSON report instead of text")
	fs.BoolVar(&o.verbose, "v", false, "progress on stderr")
	fs.BoolVar(&o.noRSS, "no-rss", false, "skip bsnn's peak-RSS measurement (child processes)")
	fs.BoolVar(&o.rssChild, "rss-child", false, "internal: run one batch at the first -threads and -batch and print the peak RSS")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bsnn-bench compare [-arch NAME] [flags]\n\n"+
			"Builds one random-weight net in bsnn and as a plain fp32 PyTorch twin with the same\n"+
			"weights (run by -python from a weight dump in a temporary directory), checks that\n"+
			"their logits agree, then times both in alternating rounds at every -threads and\n"+
			"-batch: per-sample p50 and min latency, throughput, peak RSS (bsnn in a child\n"+
			"process, PyTorch's ru_maxrss) and the ratios. It also counts the synaptic\n"+
			"operations of actual runs and prices them at 45 nm (%.1f pJ per accumulate,\n"+
			"%.1f pJ per MAC) beside the same net as a float ANN. Without PyTorch it says how\n"+
			"to install it and reports the bsnn half.\n\n", pJPerAC, pJPerMAC)
		fs.PrintDefaults()
	}
	if help, err := cli.ParseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.threads, err = parseInts("-threads", threads); err != nil {
		return err
	}
	if o.batches, err = parseInts("-batch", batches); err != nil {
		return err
	}
	switch {
	case o.duration <= 0:
		return fmt.Errorf("-duration %v: must be positive", o.duration)
	case o.rounds < 1:
		return fmt.Errorf("-rounds %d: need at least 1", o.rounds)
	case o.minCalls < 1:
		return fmt.Errorf("-min-calls %d: need at least 1", o.minCalls)
	case o.agree < 1:
		return fmt.Errorf("-agree %d: need at least 1", o.agree)
	case o.energyN < 0:
		return fmt.Errorf("-energy-samples %d: must not be negative", o.energyN)
	}
	x, err := runtime.ParseExecution(o.exec)
	if err != nil {
		return err
	}
	cf := cli.Flags{Kernels: o.kernels}
	k, err := cf.KernelSet()
	if err != nil {
		return err
	}
	mo := modelOpts{arch: o.arch, widths: o.widths, shortcut: o.shortcut, T: o.T, seed: o.seed}
	m, name, err := mo.load()
	if err != nil {
		return err
	}
	engOpts := []runtime.Option{runtime.WithKernelsName(k.Name), runtime.WithExecution(x), runtime.WithSeed(o.seed)}
	if o.rssChild {
		return compareRSSChild(m, engOpts, o.seed, o.threads[0], o.batches[0])
	}
	logw := io.Discard
	if o.verbose {
		logw = os.Stderr
	}
	rep, err := runComparison(m, name, &o, k.Name, x, engOpts, logw)
	if err != nil {
		return err
	}
	rep.Command = strings.Join(append([]string{"bsnn-bench", "compare"}, args...), " ")
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printCompare(stdout, rep)
}

// childArgs rebuild the same net in a child process.
func (o *compareOpts) childArgs(threads, batch int) []string {
	a := []string{"compare", "-rss-child", "-arch", o.arch, "-T", strconv.Itoa(o.T), "-seed", strconv.FormatUint(o.seed, 10),
		"-exec", o.exec, "-threads", strconv.Itoa(threads), "-batch", strconv.Itoa(batch)}
	if o.kernels != "" {
		a = append(a, "-kernels", o.kernels)
	}
	if o.widths != "" {
		a = append(a, "-widths", o.widths)
	}
	if o.shortcut != "" {
		a = append(a, "-shortcut", o.shortcut)
	}
	return a
}

// compareRSSChild builds the engine, runs one batch and prints VmHWM.
func compareRSSChild(m *model.Model, opts []runtime.Option, seed uint64, threads, batch int) error {
	e, err := runtime.New(m, append(opts, runtime.WithThreads(threads), runtime.WithBatch(batch))...)
	if err != nil {
		return err
	}
	defer e.Close()
	if _, err := e.InferBatch(benchInputs(m, seed, batch)); err != nil {
		return err
	}
	hwm, err := vmHWM()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, hwm)
	return err
}

func childRSS(o *compareOpts, threads, batch int) (int64, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(self, o.childArgs(threads, batch)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("child %s: %v: %s", self, err, strings.TrimSpace(errb.String()))
	}
	return strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
}

// twin is the running Python process.
type twin struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	errb bytes.Buffer
}

// twinReply is any line bench_infer.py writes.
type twinReply struct {
	Torch    string      `json:"torch"`
	Python   string      `json:"python"`
	Logits   [][]float64 `json:"logits"`
	Seconds  []float64   `json:"seconds"`
	MaxRSS   int64       `json:"ru_maxrss"`
	Error    string      `json:"error"`
	Samples  int         `json:"samples"`
	NThreads int         `json:"threads"`
}

// torchMissing returns why python cannot import torch, or "".
func torchMissing(python string) string {
	if _, err := exec.LookPath(python); err != nil {
		return fmt.Sprintf("%s not found: %s", python, torchHint)
	}
	out, err := exec.Command(python, "-c", "import torch, numpy").CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return fmt.Sprintf("%s cannot import torch (%s): %s", python, msg, torchHint)
	}
	return ""
}

func startTwin(python, ompWait, dir string) (*twin, *twinReply, error) {
	script := filepath.Join(dir, "bench_infer.py")
	if err := os.WriteFile(script, twinScript, 0o644); err != nil {
		return nil, nil, err
	}
	t := &twin{cmd: exec.Command(python, script, dir)}
	t.cmd.Stderr = &t.errb
	if ompWait != "" {
		t.cmd.Env = append(os.Environ(), "OMP_WAIT_POLICY="+ompWait)
	}
	var err error
	if t.in, err = t.cmd.StdinPipe(); err != nil {
		return nil, nil, err
	}
	o, err := t.cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	t.out = bufio.NewReaderSize(o, 1<<20)
	if err := t.cmd.Start(); err != nil {
		return nil, nil, err
	}
	hello, err := t.read()
	if err != nil {
		t.close()
		return nil, nil, err
	}
	return t, hello, nil
}

func (t *twin) read() (*twinReply, error) {
	line, err := t.out.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("PyTorch twin: %v: %s", err, strings.TrimSpace(t.errb.String()))
	}
	var r twinReply
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("PyTorch twin wrote %q: %v", line, err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("PyTorch twin: %s", r.Error)
	}
	return &r, nil
}

func (t *twin) call(cmd map[string]any) (*twinReply, error) {
	b, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	if _, err := t.in.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("PyTorch twin: %v: %s", err, strings.TrimSpace(t.errb.String()))
	}
	return t.read()
}

func (t *twin) close() {
	t.in.Close()
	_ = t.cmd.Wait()
}

// samplesFor returns the inputs of call i at batch b: samples (i·b + j) mod
// n, the same ones the twin runs.
func samplesFor(inputs [][]float32, i, b int) [][]float32 {
	out := make([][]float32, b)
	for j := range out {
		out[j] = inputs[(i*b+j)%len(inputs)]
	}
	return out
}

// measure collects per-call seconds of one side over several rounds.
type measure struct {
	perSample  []float64 // seconds per sample of every call
	throughput []float64 // samples/s of each round
}

func (m *measure) add(calls []float64, batch int) {
	var total float64
	for _, s := range calls {
		m.perSample = append(m.perSample, s/float64(batch))
		total += s
	}
	if total > 0 {
		m.throughput = append(m.throughput, float64(len(calls)*batch)/total)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (m *measure) perf() Perf {
	p := Perf{Calls: len(m.perSample), P50ms: 1e3 * median(m.perSample), Throughput: median(m.throughput)}
	if len(m.perSample) > 0 {
		mn := m.perSample[0]
		for _, v := range m.perSample {
			mn = math.Min(mn, v)
		}
		p.Minms = 1e3 * mn
	}
	return p
}

// ratioOf returns a/b, or 0 if b is 0.
func ratioOf(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// finish fills the ratios of r from its two sides.
func (r *CompareResult) finish() {
	if r.Torch == nil {
		return
	}
	r.Speedup = ratioOf(r.Torch.P50ms, r.BSNN.P50ms)
	r.MinSpeedup = ratioOf(r.Torch.Minms, r.BSNN.Minms)
	r.ThroughputRatio = ratioOf(r.BSNN.Throughput, r.Torch.Throughput)
}

// timeBSNN runs e on batches of b samples for d (at least minCalls calls)
// after warmup untimed calls and returns seconds per call.
func timeBSNN(e *runtime.Engine, inputs [][]float32, b int, d time.Duration, minCalls, warmup int) ([]float64, error) {
	batches := make([][][]float32, 4)
	for i := range batches {
		batches[i] = samplesFor(inputs, i, b)
	}
	run := func(i int) error {
		if b == 1 {
			_, err := e.Infer(batches[i%4][0])
			return err
		}
		_, err := e.InferBatch(batches[i%4])
		return err
	}
	for i := 0; i < warmup; i++ {
		if err := run(i); err != nil {
			return nil, err
		}
	}
	var secs []float64
	start := time.Now()
	for i := 0; len(secs) < minCalls || time.Since(start) < d; i++ {
		t0 := time.Now()
		if err := run(i); err != nil {
			return nil, err
		}
		secs = append(secs, time.Since(t0).Seconds())
	}
	return secs, nil
}

func runComparison(m *model.Model, name string, o *compareOpts, kernels string, x runtime.Execution, engOpts []runtime.Option, logw io.Writer) (*CompareReport, error) {
	rep := &CompareReport{
		CPU: cli.CPU(), Go: goruntime.Version(), Model: name, Widths: o.widths, Timesteps: m.Timesteps(),
		Input: fmt.Sprintf("%v %v", m.Input.Shape, m.Input.Encoding), Kernels: kernels, Execution: x.String(),
		Rounds: o.rounds, DurationS: o.duration.Seconds(),
	}
	maxBatch := 1
	for _, b := range o.batches {
		maxBatch = max(maxBatch, b)
	}
	inputs := benchInputs(m, o.seed, max(maxBatch, o.agree, 8))

	var tw *twin
	if o.noTorch {
		rep.TorchMissing = "not run (-no-torch)"
	} else if rep.TorchMissing = torchMissing(o.python); rep.TorchMissing == "" {
		dir, err := os.MkdirTemp("", "bsnn-compare-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		fmt.Fprintf(logw, "weight dump in %s, starting %s…\n", dir, o.python)
		if err := writeDump(dir, m, inputs); err != nil {
			return nil, fmt.Errorf("weight dump: %w", err)
		}
		t, hello, err := startTwin(o.python, o.ompWait, dir)
		if err != nil {
			return nil, err
		}
		defer t.close()
		tw = t
		rep.Torch, rep.Python, rep.OMPWait = hello.Torch, hello.Python, o.ompWait
	}

	// Agreement: bsnn's logits (1 thread, one sample at a time) against
	// the twin's on the same samples.
	e1, err := runtime.New(m, append(engOpts, runtime.WithThreads(1))...)
	if err != nil {
		return nil, err
	}
	defer e1.Close()
	if tw != nil {
		r, err := tw.call(map[string]any{"cmd": "logits", "n": o.agree})
		if err != nil {
			return nil, err
		}
		if len(r.Logits) != o.agree {
			return nil, fmt.Errorf("PyTorch twin returned %d logit vectors, want %d", len(r.Logits), o.agree)
		}
		bl := make([][]float32, o.agree)
		for i := range bl {
			res, err := e1.Infer(inputs[i])
			if err != nil {
				return nil, err
			}
			bl[i] = append([]float32(nil), res.Logits...)
		}
		ag, err := agreement(bl, r.Logits)
		if err != nil {
			return nil, err
		}
		rep.Agreement = ag
	}

	type cfg struct {
		threads, batch int
		e              *runtime.Engine
		bsnn, torch    measure
	}
	var cfgs []*cfg
	for _, b := range o.batches {
		for _, n := range o.threads {
			e, err := runtime.New(m, append(engOpts, runtime.WithThreads(n), runtime.WithBatch(b))...)
			if err != nil {
				return nil, err
			}
			defer e.Close()
			cfgs = append(cfgs, &cfg{threads: n, batch: b, e: e})
		}
	}
	// Batch sizes run in the order given, so the twin's ru_maxrss is read
	// after the runs of each batch size and before any larger one.
	torchRSS := map[int]int64{}
	rep.LoadStart = loadAvg()
	for round := 0; round < o.rounds; round++ {
		// One untimed call per side and configuration, in the first round:
		// later rounds find the caches, allocator and thread pools warm.
		warmup := 0
		if round == 0 {
			warmup = 1
		}
		for _, c := range cfgs {
			bsnnSide := func() error {
				fmt.Fprintf(logw, "round %d: bsnn, %d thread(s), batch %d\n", round+1, c.threads, c.batch)
				secs, err := timeBSNN(c.e, inputs, c.batch, o.duration, o.minCalls, warmup)
				if err != nil {
					return err
				}
				c.bsnn.add(secs, c.batch)
				return nil
			}
			torchSide := func() error {
				if tw == nil {
					return nil
				}
				fmt.Fprintf(logw, "round %d: PyTorch, %d thread(s), batch %d\n", round+1, c.threads, c.batch)
				r, err := tw.call(map[string]any{"cmd": "bench", "threads": c.threads, "batch": c.batch,
					"duration": o.duration.Seconds(), "min_calls": o.minCalls, "warmup": warmup})
				if err != nil {
					return err
				}
				c.torch.add(r.Seconds, c.batch)
				if round == 0 {
					torchRSS[c.batch] = max(torchRSS[c.batch], r.MaxRSS)
				}
				return nil
			}
			first, second := bsnnSide, torchSide
			if round%2 == 1 {
				first, second = torchSide, bsnnSide
			}
			if err := first(); err != nil {
				return nil, err
			}
			if err := second(); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range cfgs {
		r := CompareResult{Threads: c.threads, Batch: c.batch, BSNN: c.bsnn.perf()}
		if tw != nil {
			p := c.torch.perf()
			r.Torch = &p
		}
		r.finish()
		rep.Results = append(rep.Results, r)
	}

	rep.LoadEnd = loadAvg()
	// Peak RSS: bsnn at the smallest and the largest configuration, each
	// in a fresh child process.
	minT, maxT := o.threads[0], o.threads[0]
	for _, n := range o.threads {
		minT, maxT = min(minT, n), max(maxT, n)
	}
	type tb struct{ t, b int }
	seen := map[tb]bool{}
	for _, p := range []tb{{minT, o.batches[0]}, {maxT, maxBatch}} {
		if seen[p] || o.noRSS {
			continue
		}
		seen[p] = true
		fmt.Fprintf(logw, "bsnn peak RSS, %d thread(s), batch %d…\n", p.t, p.b)
		rss, err := childRSS(o, p.t, p.b)
		if err != nil {
			return nil, fmt.Errorf("peak RSS: %w", err)
		}
		mr := CompareRSS{Threads: p.t, Batch: p.b, BSNNBytes: rss, TorchBytes: torchRSS[p.b]}
		mr.Ratio = ratioOf(float64(mr.BSNNBytes), float64(mr.TorchBytes))
		rep.Memory = append(rep.Memory, mr)
	}

	if o.energyN > 0 {
		fmt.Fprintf(logw, "counting synaptic operations on %d samples…\n", o.energyN)
		en, err := measureEnergy(m, engOpts, inputs, o.energyN)
		if err != nil {
			return nil, fmt.Errorf("energy: %w", err)
		}
		rep.Energy = en
	}
	return rep, nil
}

// loadAvg returns the 1-minute load average from /proc/loadavg, or 0.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// agreement compares bsnn's logits with the twin's.
func agreement(bsnn [][]float32, torch [][]float64) (*Agreement, error) {
	if len(bsnn) != len(torch) {
		return nil, fmt.Errorf("%d bsnn logit vectors against %d from PyTorch", len(bsnn), len(torch))
	}
	a := &Agreement{Samples: len(bsnn)}
	for i := range bsnn {
		if len(bsnn[i]) != len(torch[i]) {
			return nil, fmt.Errorf("sample %d: %d bsnn logits against %d from PyTorch", i, len(bsnn[i]), len(torch[i]))
		}
		tb := make([]float32, len(torch[i]))
		for k, v := range torch[i] {
			tb[k] = float32(v)
			a.MaxAbsDiff = math.Max(a.MaxAbsDiff, math.Abs(float64(bsnn[i][k])-v))
			a.MaxAbs = math.Max(a.MaxAbs, math.Max(math.Abs(float64(bsnn[i][k])), math.Abs(v)))
		}
		if argmax(bsnn[i]) == argmax(tb) {
			a.SameClass++
		}
	}
	return a, nil
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// measureEnergy runs n samples through a tracing engine and counts the
// synaptic operations of each from its actual spikes.
func measureEnergy(m *model.Model, engOpts []runtime.Option, inputs [][]float32, n int) (*EnergyReport, error) {
	shapes, err := m.Shapes()
	if err != nil {
		return nil, err
	}
	e, err := runtime.New(m, append(engOpts, runtime.WithThreads(goruntime.NumCPU()), runtime.WithTrace())...)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	var runs [][]EnergyLayer
	var buf []float32
	for s := 0; s < n; s++ {
		if _, err := e.Infer(inputs[s%len(inputs)]); err != nil {
			return nil, err
		}
		layers, err := countOps(m, shapes, func(j int) ([]float32, error) {
			buf, err = e.LayerOutput(j, 0, buf)
			return buf, err
		})
		if err != nil {
			return nil, err
		}
		runs = append(runs, layers)
	}
	r := summarizeEnergy(runs)
	return &r, nil
}

// fmtRatio prints a ratio as "3.21×", or "–" when it is unknown.
func fmtRatio(r float64) string {
	if r <= 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", r)
}

func fmtMB(b int64) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

func printCompare(w io.Writer, r *CompareReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "cpu\t%s\n", r.CPU)
	fmt.Fprintf(tw, "model\t%s: input %s, T = %d", r.Model, r.Input, r.Timesteps)
	if r.Widths != "" {
		fmt.Fprintf(tw, ", widths %s", r.Widths)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "bsnn\t%s, kernels %s, execution %s\n", r.Go, r.Kernels, r.Execution)
	if r.TorchMissing != "" {
		fmt.Fprintf(tw, "PyTorch\tnot measured: %s\n", r.TorchMissing)
	} else {
		fmt.Fprintf(tw, "PyTorch\t%s (Python %s), fp32, eval, no_grad", r.Torch, r.Python)
		if r.OMPWait != "" {
			fmt.Fprintf(tw, ", OMP_WAIT_POLICY=%s", r.OMPWait)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "method\t%d alternating rounds of %.3g s per side and configuration; latency per sample (call / batch)\n", r.Rounds, r.DurationS)
	if r.LoadStart > 0 || r.LoadEnd > 0 {
		fmt.Fprintf(tw, "machine load\t1-minute load average %.2f at the start, %.2f at the end\n", r.LoadStart, r.LoadEnd)
	}
	if a := r.Agreement; a != nil {
		fmt.Fprintf(tw, "agreement\t%d/%d samples same class, max |logit diff| %.3g (largest |logit| %.3g)\n",
			a.SameClass, a.Samples, a.MaxAbsDiff, a.MaxAbs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "threads\tbatch\tbsnn p50 ms\tmin ms\tsamples/s\tPyTorch p50 ms\tmin ms\tsamples/s\tspeed-up p50\tmin\tthroughput\t\n")
	for _, c := range r.Results {
		fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.3f\t%.1f\t", c.Threads, c.Batch, c.BSNN.P50ms, c.BSNN.Minms, c.BSNN.Throughput)
		if c.Torch != nil {
			fmt.Fprintf(tw, "%.3f\t%.3f\t%.1f\t%s\t%s\t%s\t\n", c.Torch.P50ms, c.Torch.Minms, c.Torch.Throughput,
				fmtRatio(c.Speedup), fmtRatio(c.MinSpeedup), fmtRatio(c.ThroughputRatio))
		} else {
			fmt.Fprintf(tw, "–\t–\t–\t–\t–\t–\t\n")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, mr := range r.Memory {
		fmt.Fprintf(tw, "peak RSS, %d thread(s), batch %d\tbsnn %s, PyTorch %s", mr.Threads, mr.Batch, fmtMB(mr.BSNNBytes), fmtMB(mr.TorchBytes))
		if mr.Ratio > 0 {
			fmt.Fprintf(tw, " (bsnn/PyTorch %.3f)", mr.Ratio)
		}
		fmt.Fprintln(tw)
	}
	if e := r.Energy; e != nil {
		fmt.Fprintf(tw, "synaptic ops per sample\t%.4g accumulates (spike-driven) + %.4g MACs (float inputs), mean of %d samples\n", e.ACs, e.MACs, e.Samples)
		fmt.Fprintf(tw, "energy, 45 nm\tBSNN %.4g µJ (%.1f pJ/AC, %.1f pJ/MAC) vs the float ANN %.4g µJ (%.4g MACs): %s less\n",
			e.SNNuJ, e.PJPerAC, e.PJPerMAC, e.ANNuJ, float64(e.ANNMACs), fmtRatio(e.Ratio))
	}
	return tw.Flush()
}
