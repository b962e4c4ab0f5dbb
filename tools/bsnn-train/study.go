package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/internal/atomicfile"
	"github.com/bsnn/bsnn/tools/internal/cli"
	"github.com/bsnn/bsnn/tools/internal/plot"
)

// variant is one arm of the ablation.
type variant struct {
	Name string // also the directory name
	Desc string
	Opt  string
	AGMM bool
	// LowLR: no AGMM, binary layers at the learning-rate factor that
	// matches AGMM's gradient scaling.
	LowLR bool
}

var variants = []variant{
	{Name: "sgd", Desc: "no AGMM, SGD", Opt: "sgd"},
	{Name: "sgd-agmm", Desc: "AGMM, SGD", Opt: "sgd", AGMM: true},
	{Name: "adam", Desc: "no AGMM, Adam", Opt: "adam"},
	{Name: "adam-agmm", Desc: "AGMM, Adam", Opt: "adam", AGMM: true},
	{Name: "sgd-lowlr", Desc: "no AGMM, SGD, binary lr × factor", Opt: "sgd", LowLR: true},
}

// studyConfig is the parsed command line of bsnn-train study.
type studyConfig struct {
	common      cli.Flags
	dir         string
	data        string
	arch        string
	widths      string
	T           int
	batch       int
	epochs      int
	trainN      int
	testN       int
	seeds       []int
	variants    []variant
	sgdLR       float64
	adamLR      float64
	factor      string
	probe       int
	target      float64
	agmmFlags   []string
	trainFlags  []string
	progress    string
	summaryOnly bool
}

const studyUsage = `usage: bsnn-train study -dir DIR [flags]

Runs the AGMM ablation: every variant × every seed, the same budget each
(same data, epochs, batches and initial weights per seed). Each run trains in
DIR/VARIANT/seedN (checkpoint, metrics, plots) and writes result.json there
when it finishes; running the same command again skips finished runs and
resumes an interrupted one, so the study can be stopped with Ctrl-C at any
time. At the end (and with -summary-only) it writes DIR/summary.md,
DIR/summary.csv and DIR/study-*.png.

Variants: sgd (no AGMM), sgd-agmm, adam, adam-agmm, sgd-lowlr (no AGMM, the
binary layers' learning rate × -binary-factor). With -binary-factor auto the
factor is measured once and kept in DIR/binary-factor.json: the RMS of the
binary layers' latent-weight gradients with AGMM over that without, at the
initial weights (learning rate 0) over -probe batches, averaged over the
binary layers: the factor by which AGMM scales the gradient reaching the
binary weights, which an SGD step turns into the same scale of update.

flags:
`

func parseStudy(args []string, e *env) (*studyConfig, bool, error) {
	c := &studyConfig{}
	fs := flag.NewFlagSet("bsnn-train study", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.common.Register(fs, 0)
	var seeds, vars, agmmFlags, trainFlags string
	fs.StringVar(&c.dir, "dir", "", "study directory (required)")
	fs.StringVar(&c.data, "data", "fashion", "data set (as bsnn-train -data)")
	fs.StringVar(&c.arch, "arch", finetune.PresetMNIST, "architecture preset")
	fs.StringVar(&c.widths, "widths", "", "preset widths (as bsnn-train -widths)")
	fs.IntVar(&c.T, "T", 4, "time steps")
	fs.IntVar(&c.batch, "batch", 64, "batch size")
	fs.IntVar(&c.epochs, "epochs", 5, "epochs per run (the same budget for every run)")
	fs.IntVar(&c.trainN, "train-n", 0, "training subset (0: all)")
	fs.IntVar(&c.testN, "test-n", 0, "test subset (0: all)")
	fs.StringVar(&seeds, "seeds", "1,2,3", "seeds, comma-separated")
	fs.StringVar(&vars, "variants", "sgd,sgd-agmm,adam,adam-agmm,sgd-lowlr", "variants to run, comma-separated")
	fs.Float64Var(&c.sgdLR, "sgd-lr", 0.1, "SGD learning rate")
	fs.Float64Var(&c.adamLR, "adam-lr", 0.001, "Adam learning rate")
	fs.StringVar(&c.factor, "binary-factor", "auto", "binary-layer learning-rate factor of sgd-lowlr: auto (measured, see above) or a number such as 0.1")
	fs.IntVar(&c.probe, "probe", 10, "batches the auto factor is measured over")
	fs.Float64Var(&c.target, "target", 0.88, "test accuracy whose first epoch the summary reports")
	fs.StringVar(&agmmFlags, "agmm-flags", "", "extra bsnn-train flags for the AGMM variants, e.g. \"-agmm-alpha fixed -agmm-detach\"")
	fs.StringVar(&trainFlags, "train-flags", "", "extra bsnn-train flags for every run, e.g. \"-aug-shift 2 -wd 1e-4\"")
	fs.StringVar(&c.progress, "progress", "auto", "progress display of each run (as bsnn-train -progress)")
	fs.BoolVar(&c.summaryOnly, "summary-only", false, "write the summary of the finished runs without training")
	fs.Usage = func() { fmt.Fprint(fs.Output(), studyUsage); fs.PrintDefaults() }
	help, err := cli.ParseFlags(fs, args)
	if help || err != nil {
		return nil, help, err
	}
	if fs.NArg() > 0 {
		return nil, false, fmt.Errorf("study: unexpected argument %q", fs.Arg(0))
	}
	if err := c.common.Check(); err != nil {
		return nil, false, err
	}
	if c.dir == "" {
		return nil, false, errors.New("study: -dir is required")
	}
	s, err := parseInts("seeds", seeds, 0)
	if err != nil {
		return nil, false, fmt.Errorf("study: %w", err)
	}
	c.seeds = s
	for _, name := range strings.Split(vars, ",") {
		i := slices.IndexFunc(variants, func(v variant) bool { return v.Name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, false, fmt.Errorf("study: -variants: unknown variant %q (want sgd, sgd-agmm, adam, adam-agmm or sgd-lowlr)", name)
		}
		c.variants = append(c.variants, variants[i])
	}
	if c.factor != "auto" {
		if f, err := strconv.ParseFloat(c.factor, 64); err != nil || !(f > 0) || math.IsInf(f, 0) {
			return nil, false, fmt.Errorf("study: -binary-factor %q: want auto or a positive number", c.factor)
		}
	}
	if c.probe < 1 {
		return nil, false, fmt.Errorf("study: -probe %d: want at least 1", c.probe)
	}
	c.agmmFlags, c.trainFlags = strings.Fields(agmmFlags), strings.Fields(trainFlags)
	// Validate the flags every run will get now, not after hours of runs.
	for _, v := range c.variants {
		var o options
		var s session
		vfs := newFlagSet(&o, &s, e.stderr)
		vfs.SetOutput(discard{})
		if err := vfs.Parse(c.runFlags(v, c.seeds[0], "1")); err != nil {
			return nil, false, fmt.Errorf("study: variant %s: %w", v.Name, err)
		}
		if err := o.check(); err != nil {
			return nil, false, fmt.Errorf("study: variant %s: %w", v.Name, err)
		}
	}
	return c, false, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// runFlags returns the training flags of one run.
func (c *studyConfig) runFlags(v variant, seed int, factor string) []string {
	a := []string{"-data", c.data, "-arch", c.arch, "-T", strconv.Itoa(c.T), "-batch", strconv.Itoa(c.batch),
		"-epochs", strconv.Itoa(c.epochs), "-train-n", strconv.Itoa(c.trainN), "-test-n", strconv.Itoa(c.testN),
		"-seed", strconv.Itoa(seed), "-opt", v.Opt}
	if c.widths != "" {
		a = append(a, "-widths", c.widths)
	}
	if v.Opt == "adam" {
		a = append(a, "-lr", strconv.FormatFloat(c.adamLR, 'g', -1, 64))
	} else {
		a = append(a, "-lr", strconv.FormatFloat(c.sgdLR, 'g', -1, 64))
	}
	if v.AGMM {
		a = append(a, "-agmm", "on")
	} else {
		a = append(a, "-agmm", "off")
	}
	if v.LowLR {
		a = append(a, "-lr-binary-factor", factor)
	}
	a = append(a, c.trainFlags...)
	if v.AGMM {
		a = append(a, c.agmmFlags...)
	}
	return a
}

func (c *studyConfig) sessionFlags(dir string) []string {
	a := []string{"-run-dir", dir, "-report", filepath.Join(dir, "result.json"), "-progress", c.progress,
		"-threads", strconv.Itoa(c.common.Threads)}
	if c.common.Kernels != "" {
		a = append(a, "-kernels", c.common.Kernels)
	}
	return a
}

// study runs the ablation.
func study(e *env, args []string) error {
	c, help, err := parseStudy(args, e)
	if help || err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	cacheData()
	factor := "1"
	var fp *factorProbe
	if slices.ContainsFunc(c.variants, func(v variant) bool { return v.LowLR }) {
		if fp, err = c.binaryFactor(e); err != nil {
			return err
		}
		factor = strconv.FormatFloat(fp.Factor, 'g', 3, 64)
	}
	total := len(c.variants) * len(c.seeds)
	var results []runResult
	done, started := 0, time.Now()
	var trainedSec, trainedSamples float64
	for _, v := range c.variants {
		for _, seed := range c.seeds {
			dir := filepath.Join(c.dir, v.Name, fmt.Sprintf("seed%d", seed))
			rr := runResult{Variant: v, Seed: seed, Dir: dir}
			res, err := readResult(filepath.Join(dir, "result.json"))
			if err != nil {
				return err
			}
			if res != nil && res.Finished {
				fmt.Fprintf(e.stderr, "study: [%d/%d] %s seed %d: finished earlier (%s)\n", done+1, total, v.Name, seed, dir)
			} else {
				if c.summaryOnly {
					fmt.Fprintf(e.stderr, "study: %s seed %d has not finished; left out\n", v.Name, seed)
					continue
				}
				args := c.sessionFlags(dir)
				if _, err := os.Stat(filepath.Join(dir, checkpointFile)); err == nil {
					fmt.Fprintf(e.stderr, "study: [%d/%d] %s seed %d: resuming\n", done+1, total, v.Name, seed)
					args = append(args, "-resume")
				} else {
					fmt.Fprintf(e.stderr, "study: [%d/%d] %s seed %d: %s\n", done+1, total, v.Name, seed, strings.Join(c.runFlags(v, seed, factor), " "))
					args = append(args, c.runFlags(v, seed, factor)...)
				}
				if res, err = train(e, args); err != nil {
					if errors.Is(err, errInterrupted) {
						return fmt.Errorf("study %w during %s seed %d (its checkpoint is saved); run the same command again to continue", errInterrupted, v.Name, seed)
					}
					return fmt.Errorf("study: %s seed %d: %w", v.Name, seed, err)
				}
				trainedSec += res.TrainSeconds
				for _, r := range res.Epochs {
					trainedSamples += float64(r.Samples)
				}
			}
			rr.Result = res
			results = append(results, rr)
			done++
			if trainedSec > 0 && done < total {
				left := float64(total-done) * float64(c.epochs) * float64(res.Train) / (trainedSamples / trainedSec)
				fmt.Fprintf(e.stderr, "study: %d/%d runs done; %s so far; about %s of training left at the measured %.0f samples/s (plus evaluation)\n",
					done, total, fmtDuration(time.Since(started)), fmtDuration(time.Duration(left*float64(time.Second))), trainedSamples/trainedSec)
			}
		}
	}
	return c.summarize(e, results, fp)
}

// runResult is one finished run of the study.
type runResult struct {
	Variant variant
	Seed    int
	Dir     string
	Result  *result
}

func readResult(path string) (*result, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is corrupt (%v); delete it to run that configuration again", path, err)
	}
	return &r, nil
}

// factorProbe is the measured gradient scaling of AGMM.
type factorProbe struct {
	Factor  float64            `json:"factor"` // mean over the binary layers of Ratio
	Ratio   map[string]float64 `json:"ratio"`  // per binary layer: RMS(grad with AGMM) / RMS(grad without)
	RMSOn   map[string]float64 `json:"rms_agmm"`
	RMSOff  map[string]float64 `json:"rms_no_agmm"`
	Batches int                `json:"batches"`
	Seed    int                `json:"seed"`
	Command string             `json:"how"`
}

const factorFile = "binary-factor.json"

// binaryFactor returns the sgd-lowlr learning-rate factor: given, kept
// from an earlier invocation, or measured.
func (c *studyConfig) binaryFactor(e *env) (*factorProbe, error) {
	if c.factor != "auto" {
		f, _ := strconv.ParseFloat(c.factor, 64)
		return &factorProbe{Factor: f, Command: "given with -binary-factor"}, nil
	}
	path := filepath.Join(c.dir, factorFile)
	if b, err := os.ReadFile(path); err == nil {
		var fp factorProbe
		if err := json.Unmarshal(b, &fp); err != nil || !(fp.Factor > 0) {
			return nil, fmt.Errorf("%s is corrupt; delete it to measure the factor again", path)
		}
		return &fp, nil
	}
	fmt.Fprintf(e.stderr, "study: measuring AGMM's gradient scaling over %d batches (seed %d)\n", c.probe, c.seeds[0])
	fp, err := c.measureFactor()
	if err != nil {
		return nil, fmt.Errorf("study: measuring -binary-factor: %w", err)
	}
	b, _ := json.MarshalIndent(fp, "", "  ")
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stderr, "study: binary-layer learning-rate factor %.3g (per layer %v), kept in %s\n", fp.Factor, fp.Ratio, path)
	return fp, nil
}

// measureFactor trains the SGD variants with and without AGMM at learning
// rate 0 (so every step sees the initial weights) on the same batches and
// compares the binary layers' gradient RMS.
func (c *studyConfig) measureFactor() (*factorProbe, error) {
	kernels, err := c.common.KernelSet()
	if err != nil {
		return nil, err
	}
	seed := c.seeds[0]
	sums := [2]map[string]float64{{}, {}}
	var names []string
	var src finetune.Source
	var nets [2]*finetune.Net
	for i, v := range []variant{variants[1], variants[0]} { // AGMM on, off
		var o options
		var s session
		fs := newFlagSet(&o, &s, discard{})
		if err := fs.Parse(c.runFlags(v, seed, "1")); err != nil {
			return nil, err
		}
		cfg, err := o.config()
		if err != nil {
			return nil, err
		}
		cfg.Optim.LR, cfg.Optim.WeightDecay = 0, 0
		cfg.Threads, cfg.Kernels = c.common.NumThreads(), kernels
		ds, err := loadData(&o, cfg.Input.Timesteps, cfg.Input.Shape)
		if err != nil {
			return nil, err
		}
		if src == nil {
			b, err := data.NewBatcher(ds.train, data.BatchOptions{Size: o.Batch, Shuffle: true, Seed: o.Seed, DropLast: true, Workers: cfg.Threads})
			if err != nil {
				return nil, err
			}
			if b.Batches() == 0 {
				return nil, fmt.Errorf("no full batch of %d in %d samples", o.Batch, ds.train.Len())
			}
			src = finetune.BatcherSource(b)
		}
		if nets[i], err = buildNet(&o, cfg, nil, ds); err != nil {
			return nil, err
		}
		names = nets[i].BinaryNames()
	}
	n := min(c.probe, src.Batches())
	for k := 0; k < n; k++ {
		x, y, err := src.Batch(0, k)
		if err != nil {
			return nil, err
		}
		for i, net := range nets {
			if _, err := net.TrainStep(x, y); err != nil {
				return nil, err
			}
			for _, p := range net.Params() {
				if p.Group != finetune.GroupBinary {
					continue
				}
				var s float64
				for _, g := range p.Grad {
					s += float64(g) * float64(g)
				}
				sums[i][p.Name] += s / float64(len(p.Grad))
			}
		}
	}
	fp := &factorProbe{Ratio: map[string]float64{}, RMSOn: map[string]float64{}, RMSOff: map[string]float64{}, Batches: n, Seed: seed,
		Command: "RMS of the binary latent-weight gradients with AGMM / without, learning rate 0, same initial weights and batches"}
	var params []string
	for name := range sums[0] {
		params = append(params, name)
	}
	slices.Sort(params)
	if len(params) == 0 {
		return nil, fmt.Errorf("the network has no binary layers (%v)", names)
	}
	for _, name := range params {
		on, off := math.Sqrt(sums[0][name]/float64(n)), math.Sqrt(sums[1][name]/float64(n))
		if !(off > 0) {
			return nil, fmt.Errorf("%s has a zero gradient without AGMM", name)
		}
		fp.RMSOn[name], fp.RMSOff[name], fp.Ratio[name] = on, off, on/off
		fp.Factor += on / off
	}
	fp.Factor /= float64(len(params))
	return fp, nil
}

// stats are mean and sample standard deviation.
func meanStd64(v []float64) (m, s float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	if len(v) < 2 {
		return m, math.NaN()
	}
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(v)-1))
}

// variantSummary aggregates a variant's runs.
type variantSummary struct {
	v          variant
	runs       []runResult
	acc        []float64 // final test accuracy per run
	toTarget   []int     // first epoch at the target per run (0: never)
	flips      map[string][]float64
	epochFlips map[string][]float64
	gradStd    map[string][]float64
	firing     map[string][]float64
	trainSec   []float64
	layers     layerNames
}

// runMean averages f over a run's epochs.
func runMean(rows []epochRow, f func(epochRow) num) float64 {
	var s float64
	n := 0
	for _, r := range rows {
		if v := float64(f(r)); !math.IsNaN(v) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

func summarizeVariant(v variant, runs []runResult, target float64) *variantSummary {
	s := &variantSummary{v: v, runs: runs, flips: map[string][]float64{}, epochFlips: map[string][]float64{}, gradStd: map[string][]float64{}, firing: map[string][]float64{}}
	for _, r := range runs {
		rows := r.Result.Epochs
		if len(rows) == 0 {
			continue
		}
		s.acc = append(s.acc, float64(rows[len(rows)-1].TestAcc))
		first := 0
		for _, row := range rows {
			if float64(row.TestAcc) >= target {
				first = row.Epoch
				break
			}
		}
		s.toTarget = append(s.toTarget, first)
		s.trainSec = append(s.trainSec, runMean(rows, func(r epochRow) num { return r.Seconds })*float64(len(rows)))
		add := func(dst map[string][]float64, pick func(epochRow) numMap, names *[]string) {
			for name := range pick(rows[0]) {
				dst[name] = append(dst[name], runMean(rows, func(r epochRow) num { return get(pick(r), name) }))
			}
			if *names == nil {
				for name := range pick(rows[0]) {
					*names = append(*names, name)
				}
				slices.Sort(*names)
			}
		}
		add(s.flips, func(r epochRow) numMap { return r.Flips }, &s.layers.Binary)
		add(s.epochFlips, func(r epochRow) numMap { return r.EpochFlips }, new([]string))
		add(s.gradStd, func(r epochRow) numMap { return r.GradStd }, new([]string))
		add(s.firing, func(r epochRow) numMap { return r.Firing }, &s.layers.LIF)
	}
	return s
}

func pm(m, s float64, scale float64, digits int) string {
	if math.IsNaN(m) {
		return "—"
	}
	if math.IsNaN(s) {
		return strconv.FormatFloat(m*scale, 'f', digits, 64)
	}
	return fmt.Sprintf("%.*f ± %.*f", digits, m*scale, digits, s*scale)
}

func (s *variantSummary) epochsToTarget() string {
	var reached []float64
	for _, e := range s.toTarget {
		if e > 0 {
			reached = append(reached, float64(e))
		}
	}
	if len(reached) == 0 {
		return fmt.Sprintf("never (0/%d)", len(s.toTarget))
	}
	m, _ := meanStd64(reached)
	return fmt.Sprintf("%.1f (%d/%d runs)", m, len(reached), len(s.toTarget))
}

// summarize writes summary.md, summary.csv and the study plots.
func (c *studyConfig) summarize(e *env, results []runResult, fp *factorProbe) error {
	var sums []*variantSummary
	for _, v := range c.variants {
		var runs []runResult
		for _, r := range results {
			if r.Variant.Name == v.Name && r.Result != nil {
				runs = append(runs, r)
			}
		}
		if len(runs) > 0 {
			sums = append(sums, summarizeVariant(v, runs, c.target))
		}
	}
	if len(sums) == 0 {
		return errors.New("study: no finished runs to summarize")
	}
	var binary, lif []string
	for _, s := range sums {
		if len(s.layers.Binary) > len(binary) {
			binary = s.layers.Binary
		}
		if len(s.layers.LIF) > len(lif) {
			lif = s.layers.LIF
		}
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# AGMM ablation: %s, %s preset, T=%d, batch %d, %d epochs, seeds %v\n\n", c.data, c.arch, c.T, c.batch, c.epochs, c.seeds)
	// The budget and the extra flags, so that the table can be read (and
	// rerun) without the command that made it.
	fmt.Fprintf(&md, "Budget: %s training images, %s test images; SGD lr %g, Adam lr %g.", subsetText(c.trainN, "a fixed random %d"), subsetText(c.testN, "the first %d"), c.sgdLR, c.adamLR)
	if len(c.trainFlags) > 0 {
		fmt.Fprintf(&md, " Every run: `%s`.", strings.Join(c.trainFlags, " "))
	}
	if len(c.agmmFlags) > 0 {
		fmt.Fprintf(&md, " AGMM runs: `%s`.", strings.Join(c.agmmFlags, " "))
	}
	md.WriteString("\n\n")
	if fp != nil {
		fmt.Fprintf(&md, "sgd-lowlr binary-layer learning-rate factor: %.3g (%s", fp.Factor, fp.Command)
		if len(fp.Ratio) > 0 {
			fmt.Fprintf(&md, "; per layer:")
			for _, k := range sortedKeys(fp.Ratio) {
				fmt.Fprintf(&md, " %s %.3f", k, fp.Ratio[k])
			}
			fmt.Fprintf(&md, "; %d batches, seed %d", fp.Batches, fp.Seed)
		}
		md.WriteString(")\n\n")
	}
	fmt.Fprintf(&md, "Final test accuracy (mean ± sample std over seeds); epochs to %.0f%% test accuracy (mean over the runs that reached it); per-iteration flip rate per binary layer, in %% of the layer's weights, and epoch-to-epoch flip rate, both averaged over the epochs; training firing rate per LIF layer averaged over the epochs; gradient std of the latent weights.\n\n", 100*c.target)
	head := []string{"variant", "runs", "test acc %", fmt.Sprintf("epochs to %.0f%%", 100*c.target)}
	for _, b := range binary {
		head = append(head, "flips/iter "+b+" %")
	}
	for _, b := range binary {
		head = append(head, "epoch flips "+b+" %")
	}
	for _, l := range lif {
		head = append(head, "firing "+l)
	}
	for _, b := range binary {
		head = append(head, "grad std "+b)
	}
	head = append(head, "train s/run")
	md.WriteString("| " + strings.Join(head, " | ") + " |\n|" + strings.Repeat("---|", len(head)) + "\n")
	csvRows := [][]string{{"variant", "description", "runs", "test_acc_mean", "test_acc_std", "epochs_to_target_mean", "runs_reaching_target"}}
	for _, b := range binary {
		csvRows[0] = append(csvRows[0], "flips_"+b+"_mean", "flips_"+b+"_std")
	}
	for _, b := range binary {
		csvRows[0] = append(csvRows[0], "epoch_flips_"+b+"_mean")
	}
	for _, l := range lif {
		csvRows[0] = append(csvRows[0], "firing_"+l+"_mean")
	}
	for _, b := range binary {
		csvRows[0] = append(csvRows[0], "grad_std_"+b+"_mean")
	}
	csvRows[0] = append(csvRows[0], "train_seconds_mean")
	for _, s := range sums {
		am, as := meanStd64(s.acc)
		cells := []string{fmt.Sprintf("%s (%s)", s.v.Name, s.v.Desc), strconv.Itoa(len(s.runs)), pm(am, as, 100, 2), s.epochsToTarget()}
		var reached []float64
		for _, e := range s.toTarget {
			if e > 0 {
				reached = append(reached, float64(e))
			}
		}
		rm, _ := meanStd64(reached)
		rec := []string{s.v.Name, s.v.Desc, strconv.Itoa(len(s.runs)), f64(am), f64(as), f64(rm), strconv.Itoa(len(reached))}
		for _, b := range binary {
			m, sd := meanStd64(s.flips[b])
			cells = append(cells, pm(m, sd, 100, 4))
			rec = append(rec, f64(m), f64(sd))
		}
		for _, b := range binary {
			m, sd := meanStd64(s.epochFlips[b])
			cells = append(cells, pm(m, sd, 100, 3))
			rec = append(rec, f64(m))
		}
		for _, l := range lif {
			m, sd := meanStd64(s.firing[l])
			cells = append(cells, pm(m, sd, 1, 4))
			rec = append(rec, f64(m))
		}
		for _, b := range binary {
			m, _ := meanStd64(s.gradStd[b])
			cells = append(cells, fmt.Sprintf("%.3g", m))
			rec = append(rec, f64(m))
		}
		tm, _ := meanStd64(s.trainSec)
		cells = append(cells, fmt.Sprintf("%.0f", tm))
		rec = append(rec, f64(tm))
		md.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		csvRows = append(csvRows, rec)
	}
	md.WriteString("\nPer run: DIR/VARIANT/seedN/metrics.csv (every epoch), result.json and plots.\n")
	var cb strings.Builder
	w := csv.NewWriter(&cb)
	if err := w.WriteAll(csvRows); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(c.dir, "summary.md"), []byte(md.String()), 0o600); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(c.dir, "summary.csv"), []byte(cb.String()), 0o600); err != nil {
		return err
	}
	if err := c.studyPlots(sums); err != nil {
		return err
	}
	fmt.Fprint(e.stdout, md.String())
	return nil
}

func f64(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func sortedKeys(m map[string]float64) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	slices.Sort(k)
	return k
}

// studyPlots draws, per variant, the seed-mean test accuracy, flip rate
// (mean over the binary layers) and firing rate (mean over the LIF layers)
// against the epoch.
func (c *studyConfig) studyPlots(sums []*variantSummary) error {
	mean := func(m numMap) num {
		var s float64
		n := 0
		for _, v := range m {
			if !math.IsNaN(float64(v)) {
				s += float64(v)
				n++
			}
		}
		if n == 0 {
			return missing()
		}
		return num(s / float64(n))
	}
	curve := func(s *variantSummary, f func(epochRow) num) plot.Series {
		var x, y []float64
		for e := 1; e <= c.epochs; e++ {
			var vals []float64
			for _, r := range s.runs {
				for _, row := range r.Result.Epochs {
					if row.Epoch == e && !math.IsNaN(float64(f(row))) {
						vals = append(vals, float64(f(row)))
					}
				}
			}
			if len(vals) > 0 {
				m, _ := meanStd64(vals)
				x, y = append(x, float64(e)), append(y, m)
			}
		}
		return plot.Series{Name: s.v.Name, X: x, Y: y}
	}
	charts := map[string]struct {
		title, ylabel string
		f             func(epochRow) num
	}{
		"study-accuracy.png": {"test accuracy (mean over seeds)", "accuracy", func(r epochRow) num { return r.TestAcc }},
		"study-flips.png":    {"sign-flip rate per iteration (mean over binary layers and seeds)", "fraction of binary weights", func(r epochRow) num { return mean(r.Flips) }},
		"study-firing.png":   {"firing rate (mean over LIF layers and seeds)", "spikes per neuron per step", func(r epochRow) num { return mean(r.Firing) }},
	}
	for name, ch := range charts {
		var series []plot.Series
		for _, s := range sums {
			series = append(series, curve(s, ch.f))
		}
		if err := (plot.Chart{Title: ch.title, XLabel: "epoch", YLabel: ch.ylabel, Series: series}).Save(filepath.Join(c.dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// subsetText names a -train-n / -test-n subset for the summary.
func subsetText(n int, format string) string {
	if n <= 0 {
		return "all"
	}
	return fmt.Sprintf(format, n)
}
