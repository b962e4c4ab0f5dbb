package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/tools/internal/cli"
)

func init() {
	register("kernels", "binary-MAC/s of each kernel set on conv, FC, sparse and event-driven shapes, against the measured popcount peak", runKernels)
}

// One binary MAC is one bit position of an AND- or XNOR-popcount that
// contributes to one output: an m×n GEMM over rows of k bits is m·n·k MACs.
// The sparse and event shapes count the MACs of the dense product they
// replace, so their G/s compare directly with the dense shapes'.

// gemmShape is one benchmark problem: dst (m×n) = s (m rows) · w (n rows),
// rows of `words` 64-bit words.
type gemmShape struct {
	name, desc  string
	m, n, words int
	rate        float64 // spike rate of s; 0 means uniformly random bits
	sparse      bool    // run AndGemmSparse instead of AndGemm
	events      bool    // run AndGemmEvents (weights prepared once, untimed)
	// conv, when set, runs a 3×3 stride-1 conv through AndGemmRows,
	// reading its rows in place from a channel-packed map with a one-pixel
	// zero halo; m is then the pixel count, n the output channels and words
	// the 9·pw words of a row.
	conv *convGeom
}

// convGeom is the input of a direct 3×3 conv: an h×w map of cin channels,
// pw = ⌈cin/64⌉ words per pixel (the bits past cin are zero).
type convGeom struct{ h, w, cin int }

func (g *convGeom) pw() int { return (g.cin + 63) / 64 }

func convShape(name, net string, h, w, cin, cout int) gemmShape {
	g := &convGeom{h: h, w: w, cin: cin}
	return gemmShape{
		name: name, m: h * w, n: cout, words: 9 * g.pw(), conv: g,
		desc: fmt.Sprintf("%s 3×3 conv %d→%d on %d×%d through AndGemmRows or, where the set runs it, AndConvRowsT (rows read in place, %d-word pixels)", net, cin, cout, h, w, g.pw()),
	}
}

var kernelShapes = []gemmShape{
	{name: "conv3x3-256-16x16", desc: "3×3 conv 256→256 on 16×16 (im2col GEMM 256×256, 2304-bit rows)", m: 16 * 16, n: 256, words: 9 * 256 / 64},
	{name: "fc-4096x4096", desc: "fully connected 4096→4096, one sample (GEMV)", m: 1, n: 4096, words: 4096 / 64},
	{name: "sparse10-conv3x3-256-16x16", desc: "the conv with 10% spike-rate input through AndGemmSparse (skips zero words)", m: 16 * 16, n: 256, words: 9 * 256 / 64, rate: 0.1, sparse: true},
	{name: "events10-conv3x3-256-16x16", desc: "the same 10% input through AndGemmEvents (scatters spikes; dense-equivalent MACs)", m: 16 * 16, n: 256, words: 9 * 256 / 64, rate: 0.1, events: true},
	{name: "events10-fc-4096x4096", desc: "the FC layer with 10% spike-rate input through AndGemmEvents", m: 1, n: 4096, words: 4096 / 64, rate: 0.1, events: true},
	convShape("rows-conv-128-32x32", "ResNet-19", 32, 32, 128, 128),
	convShape("rows-conv-256-16x16", "ResNet-19", 16, 16, 256, 256),
	convShape("rows-conv-512-8x8", "ResNet-19", 8, 8, 512, 512),
	convShape("rows-conv-32to64-28x28", "MNIST net", 28, 28, 32, 64),
	convShape("rows-conv-64-14x14", "MNIST net", 14, 14, 64, 64),
}

// rowsPerCall caps the rows of one direct-conv kernel call, as the runtime
// cuts a conv into units of 32 rows.
const rowsPerCall = 32

// peakReps is the repetition count of one PopcountPeak call
// (peakReps·PeakWords·64 binary MACs, about 0.1-1 ms).
const peakReps = 2000

// KernelsReport is the -json output of bsnn-bench kernels.
type KernelsReport struct {
	CPU     string `json:"cpu"`
	Go      string `json:"go"`
	Threads int    `json:"threads"`
	Trials  int    `json:"trials"`
	// TrialSeconds is the target length of one trial (-duration / trials),
	// or 0 with -iters.
	TrialSeconds float64 `json:"trial_seconds,omitempty"`
	// Iters is the fixed number of operations per trial (-iters), or 0.
	Iters int         `json:"iters,omitempty"`
	Sets  []SetReport `json:"sets"`
	// CPUPeak is the highest popcount peak of the sets measured: the
	// yardstick for "fraction of this CPU's popcount peak".
	CPUPeakGMACs float64 `json:"cpu_peak_gbmacs"`
	CPUPeakSet   string  `json:"cpu_peak_set"`
}

// SetReport is one kernel set's measurements.
type SetReport struct {
	Name string `json:"name"`
	// Peak is the set's compute limit: its register-blocked AND-popcount
	// loop with the operands in registers (bitops.PopcountPeak).
	Peak    Result   `json:"peak"`
	Results []Result `json:"results"`
}

// Result is one timed operation. Rates are in 10^9 binary MACs per second.
type Result struct {
	Shape string `json:"shape"`
	Desc  string `json:"desc"`
	M     int    `json:"m,omitempty"`
	N     int    `json:"n,omitempty"`
	Words int    `json:"words,omitempty"`
	// MACsPerOp counts the binary MACs of one operation.
	MACsPerOp     float64 `json:"macs_per_op"`
	NsPerOpMedian float64 `json:"ns_per_op_median"`
	NsPerOpBest   float64 `json:"ns_per_op_best"`
	GMACsMedian   float64 `json:"gbmacs_median"`
	GMACsBest     float64 `json:"gbmacs_best"`
	PeakFraction  float64 `json:"peak_fraction"`     // median / the set's own peak (median)
	CPUPeakFrac   float64 `json:"cpu_peak_fraction"` // median / the CPU peak (median)
	VsGeneric     float64 `json:"speedup_vs_generic,omitempty"`
	// Sparse is what AndGemmSparse or AndGemmEvents skipped, for those
	// shapes only.
	Sparse *SparseResult `json:"sparse,omitempty"`
}

// SparseResult summarises the bitops.SparseStats of one AndGemmSparse or
// AndGemmEvents call.
type SparseResult struct {
	SkippedRowFraction  float64 `json:"skipped_row_fraction"`
	SkippedWordFraction float64 `json:"skipped_word_fraction"`
	DenseRowFraction    float64 `json:"dense_row_fraction"`
	// SpikeRate is the fraction of activation bits set (AndGemmEvents only).
	SpikeRate float64 `json:"spike_rate,omitempty"`
}

type kernelsOpts struct {
	common   cli.Flags
	duration time.Duration
	iters    int
	trials   int
	json     bool
}

func runKernels(args []string) error {
	var o kernelsOpts
	fs := flag.NewFlagSet("bsnn-bench kernels", flag.ContinueOnError)
	o.common.Register(fs, 1)
	fs.DurationVar(&o.duration, "duration", 2*time.Second, "time spent on each measurement (split into -trials trials)")
	fs.IntVar(&o.iters, "iters", 0, "run exactly this many operations per trial instead of -duration")
	fs.IntVar(&o.trials, "trials", 5, "timed trials per measurement; the median is reported")
	fs.BoolVar(&o.json, "json", false, "print a JSON report instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bsnn-bench kernels [flags]\n\n"+
			"Measures every available kernel set (or the one from -kernels / $%s) on:\n", bitops.EnvVar)
		for _, sh := range kernelShapes {
			fmt.Fprintf(fs.Output(), "  %-28s %s\n", sh.name, sh.desc)
		}
		fmt.Fprintf(fs.Output(), "and its popcount peak: the set's register-blocked AND-popcount loop with no loads (its compute limit).\n\n")
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
	switch {
	case o.trials < 1:
		return fmt.Errorf("-trials %d: need at least 1", o.trials)
	case o.iters < 0:
		return fmt.Errorf("-iters %d: must not be negative", o.iters)
	case o.iters == 0 && o.duration <= 0:
		return fmt.Errorf("-duration %v: must be positive", o.duration)
	}
	sets, err := o.common.KernelSets()
	if err != nil {
		return err
	}
	rep, err := measureKernels(sets, &o, os.Stderr)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printKernels(stdout, rep)
}

// job is one measurement: an operation, its MAC count and where its result
// goes.
type job struct {
	op    func() error
	macs  float64
	batch int       // operations per trial
	ns    []float64 // per-operation time of each trial
	res   *Result
	after func() // fills in details once timing is done (sparse stats)
}

func measureKernels(sets []*bitops.Kernels, o *kernelsOpts, log io.Writer) (*KernelsReport, error) {
	threads := o.common.NumThreads()
	rep := &KernelsReport{
		CPU:     cli.CPU(),
		Go:      runtime.Version(),
		Threads: threads,
		Trials:  o.trials,
		Iters:   o.iters,
		Sets:    make([]SetReport, len(sets)),
	}
	if o.iters == 0 {
		rep.TrialSeconds = o.duration.Seconds() / float64(o.trials)
	}
	inputs := make([]gemmInputs, len(kernelShapes))
	for i, sh := range kernelShapes {
		inputs[i] = newGemmInputs(sh, uint64(i))
	}
	var jobs []*job
	for i, k := range sets {
		sr := &rep.Sets[i]
		sr.Name = k.Name
		sr.Results = make([]Result, len(kernelShapes))
		jobs = append(jobs, peakJob(k, threads, &sr.Peak))
		for j, sh := range kernelShapes {
			jobs = append(jobs, gemmJob(k, sh, &inputs[j], threads, &sr.Results[j]))
		}
	}
	// Warm up and size every job first, then run the trials round-robin:
	// a burst of load from other processes then slows one trial of many
	// jobs instead of every trial of one job, so the sets stay comparable.
	for _, j := range jobs {
		if o.common.Verbose {
			fmt.Fprintf(log, "bsnn-bench kernels: calibrating %s\n", j.res.Desc)
		}
		if err := calibrate(j, o); err != nil {
			return nil, fmt.Errorf("%s: %w", j.res.Desc, err)
		}
	}
	for t := 0; t < o.trials; t++ {
		if o.common.Verbose {
			fmt.Fprintf(log, "bsnn-bench kernels: trial %d of %d\n", t+1, o.trials)
		}
		for _, j := range jobs {
			start := time.Now()
			for i := 0; i < j.batch; i++ {
				if err := j.op(); err != nil {
					return nil, fmt.Errorf("%s: %w", j.res.Desc, err)
				}
			}
			j.ns = append(j.ns, float64(time.Since(start).Nanoseconds())/float64(j.batch))
		}
	}
	for _, j := range jobs {
		sort.Float64s(j.ns)
		r := j.res
		r.MACsPerOp = j.macs
		r.NsPerOpMedian, r.NsPerOpBest = j.ns[len(j.ns)/2], j.ns[0]
		r.GMACsMedian, r.GMACsBest = j.macs/r.NsPerOpMedian, j.macs/r.NsPerOpBest
		if j.after != nil {
			j.after()
		}
	}
	var generic *SetReport
	for i := range rep.Sets {
		s := &rep.Sets[i]
		if s.Name == bitops.Generic.Name {
			generic = s
		}
		if s.Peak.GMACsBest > rep.CPUPeakGMACs {
			rep.CPUPeakGMACs, rep.CPUPeakSet = s.Peak.GMACsBest, s.Name
		}
	}
	for i := range rep.Sets {
		s := &rep.Sets[i]
		for _, r := range append([]*Result{&s.Peak}, ptrs(s.Results)...) {
			r.PeakFraction = r.GMACsBest / s.Peak.GMACsBest
			r.CPUPeakFrac = r.GMACsBest / rep.CPUPeakGMACs
		}
		if generic == nil {
			continue
		}
		s.Peak.VsGeneric = s.Peak.GMACsBest / generic.Peak.GMACsBest
		for j := range s.Results {
			s.Results[j].VsGeneric = s.Results[j].GMACsBest / generic.Results[j].GMACsBest
		}
	}
	return rep, nil
}

func ptrs(rs []Result) []*Result {
	p := make([]*Result, len(rs))
	for i := range rs {
		p[i] = &rs[i]
	}
	return p
}

// calibrate runs j once untimed (warming caches, checking for errors) and
// sets its batch: o.iters, or as many operations as fill one trial.
func calibrate(j *job, o *kernelsOpts) error {
	if err := j.op(); err != nil {
		return err
	}
	if o.iters > 0 {
		j.batch = o.iters
		return nil
	}
	start, n := time.Now(), 0
	for n == 0 || time.Since(start) < 20*time.Millisecond {
		if err := j.op(); err != nil {
			return err
		}
		n++
	}
	per := time.Since(start) / time.Duration(n)
	j.batch = max(1, int(o.duration/time.Duration(o.trials)/max(per, 1)))
	return nil
}

// gemmInputs holds one shape's operands, shared by every set so all sets
// multiply the same bits. A conv shape's s is the padded map and off, pop
// its rows' offsets and popcounts.
type gemmInputs struct {
	s, w     []uint64
	off, pop []int32
}

func newGemmInputs(sh gemmShape, seed uint64) gemmInputs {
	rng := rand.New(rand.NewPCG(0xb5, seed))
	if g := sh.conv; g != nil {
		return newConvInputs(sh, g, rng)
	}
	in := gemmInputs{s: make([]uint64, sh.m*sh.words), w: make([]uint64, sh.n*sh.words)}
	for i := range in.w {
		in.w[i] = rng.Uint64()
	}
	for i := range in.s {
		if sh.rate == 0 {
			in.s[i] = rng.Uint64()
			continue
		}
		var v uint64
		for b := 0; b < 64; b++ {
			if rng.Float64() < sh.rate {
				v |= 1 << b
			}
		}
		in.s[i] = v
	}
	return in
}

func newConvInputs(sh gemmShape, g *convGeom, rng *rand.Rand) gemmInputs {
	pw := g.pw()
	stride := (g.w + 2) * pw
	in := gemmInputs{
		s:   make([]uint64, (g.h+2)*stride),
		w:   make([]uint64, sh.n*sh.words),
		off: make([]int32, sh.m),
		pop: make([]int32, sh.m),
	}
	for i := range in.w {
		in.w[i] = rng.Uint64()
	}
	for y := range g.h {
		for x := range g.w {
			px := in.s[(y+1)*stride+(x+1)*pw:][:pw]
			for c := 0; c < g.cin; c += 64 {
				v := rng.Uint64()
				if g.cin-c < 64 {
					v &= 1<<(g.cin-c) - 1
				}
				px[c/64] = v
			}
		}
	}
	for y := range g.h {
		for x := range g.w {
			i := y*g.w + x
			in.off[i] = int32(y*stride + x*pw)
			in.pop[i] = int32(bitops.Generic.RowPopcount(in.s, int(in.off[i]), 3, stride, 3*pw))
		}
	}
	return in
}

// split runs f over [0, total) cut into `threads` chunks whose bounds are
// multiples of align (so SIMD blocks stay whole), one goroutine per chunk.
// f gets its chunk number t < threads as well.
func split(threads, total, align int, f func(t, lo, hi int) error) error {
	if threads <= 1 || total <= align {
		return f(0, 0, total)
	}
	per := (total + threads - 1) / threads
	per = (per + align - 1) / align * align
	var wg sync.WaitGroup
	errs := make([]error, threads)
	for t := 0; t < threads; t++ {
		lo, hi := t*per, min((t+1)*per, total)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[t] = f(t, lo, hi)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func gemmJob(k *bitops.Kernels, sh gemmShape, in *gemmInputs, threads int, r *Result) *job {
	dst := make([]int32, sh.m*sh.n)
	words := sh.words
	*r = Result{Shape: sh.name, Desc: k.Name + " " + sh.name, M: sh.m, N: sh.n, Words: words}
	j := &job{res: r, macs: float64(sh.m) * float64(sh.n) * float64(words*64)}
	switch {
	case sh.conv != nil:
		// Real MACs: the padding bits of a pixel's last word are not.
		g := sh.conv
		pw := g.pw()
		j.macs = float64(sh.m) * float64(sh.n) * 9 * float64(g.cin)
		if k.WideRows(words) {
			// The set's word-major kernel, as the runtime runs it: the
			// affine fused, float rows written through a row map.
			wt := bitops.TransposeWords(in.w, sh.n, words)
			fdst := make([]float32, sh.m*sh.n)
			ones, zeros := make([]float32, sh.n), make([]float32, sh.n)
			for i := range ones {
				ones[i] = 1
			}
			orow := make([]int32, sh.m)
			for i := range orow {
				orow[i] = int32(i)
			}
			r.Desc += " (AndConvRowsT)"
			j.op = func() error {
				return split(threads, sh.m, 4, func(_, lo, hi int) error {
					for a := lo; a < hi; a += rowsPerCall {
						b := min(a+rowsPerCall, hi)
						if err := k.AndConvRowsT(fdst, orow[a:b], in.s, in.off[a:b], in.pop[a:b], 3, (g.w+2)*pw, 3*pw, wt, sh.n, ones, zeros); err != nil {
							return err
						}
					}
					return nil
				})
			}
			break
		}
		j.op = func() error {
			return split(threads, sh.m, 4, func(_, lo, hi int) error {
				for a := lo; a < hi; a += rowsPerCall {
					b := min(a+rowsPerCall, hi)
					if err := k.AndGemmRows(dst[a*sh.n:b*sh.n], in.s, in.off[a:b], in.pop[a:b], 3, (g.w+2)*pw, 3*pw, in.w, sh.n); err != nil {
						return err
					}
				}
				return nil
			})
		}
	case sh.events:
		ew, err := bitops.NewEventWeights(in.w, sh.n, words)
		if err != nil {
			j.op = func() error { return err }
			break
		}
		stats := make([]bitops.SparseStats, threads)
		// One sample (m = 1) cannot be split by rows; it runs on one thread.
		th := threads
		if sh.m == 1 {
			th = 1
		}
		j.op = func() error {
			clear(stats)
			return split(th, sh.m, 4, func(t, lo, hi int) error {
				st, err := k.AndGemmEvents(dst[lo*sh.n:hi*sh.n], in.s[lo*words:hi*words], hi-lo, ew)
				stats[t] = st
				return err
			})
		}
		j.after = func() { r.Sparse = sparseResult(stats) }
	case sh.sparse:
		stats := make([]bitops.SparseStats, threads)
		j.op = func() error {
			clear(stats)
			return split(threads, sh.m, 4, func(t, lo, hi int) error {
				st, err := k.AndGemmSparse(dst[lo*sh.n:hi*sh.n], in.s[lo*words:hi*words], hi-lo, in.w, sh.n, words)
				stats[t] = st
				return err
			})
		}
		j.after = func() { r.Sparse = sparseResult(stats) }
	case sh.m == 1:
		// One sample: the threads share out the weight rows.
		j.op = func() error {
			return split(threads, sh.n, 4, func(_, lo, hi int) error {
				return k.AndGemm(dst[lo:hi], in.s, 1, in.w[lo*words:hi*words], hi-lo, words)
			})
		}
	default:
		j.op = func() error {
			return split(threads, sh.m, 4, func(_, lo, hi int) error {
				return k.AndGemm(dst[lo*sh.n:hi*sh.n], in.s[lo*words:hi*words], hi-lo, in.w, sh.n, words)
			})
		}
	}
	return j
}

func sparseResult(stats []bitops.SparseStats) *SparseResult {
	var tot bitops.SparseStats
	for _, st := range stats {
		tot.Add(st)
	}
	return &SparseResult{
		SkippedRowFraction:  float64(tot.SkippedRows) / float64(max(tot.Rows, 1)),
		SkippedWordFraction: float64(tot.SkippedWords) / float64(max(tot.Words, 1)),
		DenseRowFraction:    float64(tot.DenseRows) / float64(max(tot.Rows, 1)),
		SpikeRate:           float64(tot.Spikes) / float64(max(tot.Words*64, 1)),
	}
}

func peakJob(k *bitops.Kernels, threads int, r *Result) *job {
	bufs := make([][2][]uint64, threads)
	rng := rand.New(rand.NewPCG(0xb5, 0xfeed))
	for t := range bufs {
		for j := range bufs[t] {
			bufs[t][j] = make([]uint64, bitops.PeakWords)
			for i := range bufs[t][j] {
				bufs[t][j][i] = rng.Uint64()
			}
		}
	}
	*r = Result{Shape: "popcount-peak", Desc: k.Name + " popcount-peak"}
	return &job{
		res:  r,
		macs: float64(threads) * peakReps * bitops.PeakWords * 64,
		op: func() error {
			return split(threads, threads, 1, func(_, lo, hi int) error {
				for t := lo; t < hi; t++ {
					if _, err := k.PopcountPeak(bufs[t][0], bufs[t][1], peakReps); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}

func printKernels(out io.Writer, rep *KernelsReport) error {
	fmt.Fprintf(out, "bsnn-bench kernels: %s\n", rep.CPU)
	how := fmt.Sprintf("%d ops per trial", rep.Iters)
	if rep.Iters == 0 {
		how = fmt.Sprintf("~%.2gs per trial", rep.TrialSeconds)
	}
	fmt.Fprintf(out, "%s, %d thread(s), %d interleaved trials (%s)\n", rep.Go, rep.Threads, rep.Trials, how)
	fmt.Fprintf(out, "G/s = 10^9 binary MACs per second, best trial (other load only slows a trial down) and median;\n")
	fmt.Fprintf(out, "%%peak = best G/s over the set's own popcount peak, %%cpu = over the best peak of all sets, both measured in this run\n\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "set\tshape\tG/s\tmedian\t%%peak\t%%cpu\t×generic\tskipped words\t\n")
	for _, s := range rep.Sets {
		for _, r := range append([]Result{s.Peak}, s.Results...) {
			vs, skipped := "", ""
			if r.VsGeneric != 0 {
				vs = fmt.Sprintf("%.2f×", r.VsGeneric)
			}
			if r.Sparse != nil {
				skipped = fmt.Sprintf("%.2f%%", 100*r.Sparse.SkippedWordFraction)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.0f%%\t%.0f%%\t%s\t%s\t\n",
				s.Name, r.Shape, r.GMACsBest, r.GMACsMedian, 100*r.PeakFraction, 100*r.CPUPeakFrac, vs, skipped)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nCPU popcount peak: %.1f G/s (the %s peak loop)\n", rep.CPUPeakGMACs, rep.CPUPeakSet)
	fmt.Fprintf(out, "sparse and event shapes count the MACs of the dense product they replace, so they can pass 100%%\n")
	fmt.Fprintf(out, "popcount-peak: each set's register-blocked AND-popcount loop, operands in registers, no loads (its compute limit)\n")
	fmt.Fprintf(out, "rows-conv shapes count real MACs (pixels·cout·9·cin), not the padding bits of a pixel's last word\n")
	for _, sh := range kernelShapes {
		fmt.Fprintf(out, "%s: %s\n", sh.name, sh.desc)
	}
	return nil
}
