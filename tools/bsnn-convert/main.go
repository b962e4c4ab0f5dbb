// Command bsnn-convert turns a PyTorch checkpoint (torch.save state_dict)
// into a .bsnn model, in pure Go: no Python is needed at conversion time.
//
//	bsnn-convert -arch resnet19 -in model.pth -out model.bsnn -summary
//	bsnn-convert -spec mynet.json -in model.pth -out model.bsnn
//	bsnn-convert -arch mnist -in mnist.pth -out mnist.bsnn -fp int8 -data mnist -eval 2000
//
// Run bsnn-convert -help for the presets, the flags and the JSON spec format.
//
// The mnist preset is bsnn-train's mnist net layer for layer, so a net
// trained by bsnn-train, loaded into its PyTorch twin (tools/pyref/presets.py)
// and converted back is the trainer's own export: TestRoundTrip checks it on
// a fixture made by tools/pyref/roundtrip.py.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/runtime"
	"github.com/bsnn/bsnn/tools/bsnn-convert/internal/convert"
	"github.com/bsnn/bsnn/tools/internal/torchload"
)

func main() {
	if err := mainImpl(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bsnn-convert: %v\n", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	arch, spec, in, out        string
	width                      float64
	classes                    int
	input, mean, std, encoding string
	T                          int
	lambda, vth, bnEps         float64
	reset, stat                string
	fp                         string
	allowUnused, summary       bool
	dataName, dataDir          string
	eval                       int
	labels, dataset, kernels   string
	threads                    int
	set                        map[string]bool // flags given explicitly
	args                       []string
	printTiming                bool
	writeSpec                  string
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("bsnn-convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.arch, "arch", "", "preset architecture: "+strings.Join(convert.PresetNames(), ", "))
	fs.StringVar(&c.spec, "spec", "", "JSON spec file describing the network (instead of -arch)")
	fs.StringVar(&c.in, "in", "", "PyTorch checkpoint (.pth/.pt: torch.save of a state_dict, bare or under state_dict/model/net)")
	fs.StringVar(&c.out, "out", "", "output .bsnn file")
	fs.Float64Var(&c.width, "width", 1, "preset channel width multiplier (channels = floor(base·width + 0.5))")
	fs.IntVar(&c.classes, "classes", 0, "preset classifier outputs (0 = the preset's default)")
	fs.StringVar(&c.input, "input", "", "input shape CxHxW (default: the preset's or the spec's)")
	fs.StringVar(&c.mean, "mean", "", "per-channel input mean, comma-separated (default: the preset's or the spec's)")
	fs.StringVar(&c.std, "std", "", "per-channel input std, comma-separated")
	fs.StringVar(&c.encoding, "encoding", "", "input encoding: direct, rate or events (default direct)")
	fs.IntVar(&c.T, "T", 0, "time steps (default: the spec's, else the length of the checkpoint's AGMM α, else 4)")
	fs.Float64Var(&c.lambda, "lambda", convert.DefaultLambda, "LIF leak λ")
	fs.Float64Var(&c.vth, "vth", convert.DefaultVth, "LIF threshold V_th")
	fs.StringVar(&c.reset, "reset", "hard", "LIF reset: hard or soft")
	fs.StringVar(&c.stat, "agmm-stat", "spatial", "AGMM gate statistic: spatial, channel-spatial or none")
	fs.Float64Var(&c.bnEps, "bn-eps", convert.DefaultBNEps, "BatchNorm epsilon")
	fs.StringVar(&c.fp, "fp", "fp32", "full-precision layers: fp32, or int8 (per-output-channel symmetric)")
	fs.BoolVar(&c.allowUnused, "allow-unused", false, "convert even if the checkpoint has tensors the network does not use")
	fs.BoolVar(&c.summary, "summary", false, "print the layer table, sizes and compression ratio")
	fs.StringVar(&c.dataName, "data", "", "evaluate accuracy on this data set's test split: mnist or fashion (with -fp int8: fp32 vs int8)")
	fs.StringVar(&c.dataDir, "data-dir", "", "directory holding the data set's IDX files (default: the usual places)")
	fs.IntVar(&c.eval, "eval", 1000, "test images to evaluate with -data (0 = all)")
	fs.StringVar(&c.labels, "labels", "", "file of class names, one per line (default: the data set's, or the spec's)")
	fs.StringVar(&c.dataset, "dataset", "", "training data set name recorded in the provenance (default: -data)")
	fs.StringVar(&c.kernels, "kernels", "", "bit kernel set for -data evaluation (default $BSNN_KERNELS, else the best)")
	fs.IntVar(&c.threads, "threads", 0, "threads for -data evaluation (0 = all cores)")
	fs.StringVar(&c.writeSpec, "write-spec", "", "also write the network's JSON spec to this file (a starting point for -spec)")
	fs.BoolVar(&c.printTiming, "time", false, "print the conversion time")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bsnn-convert (-arch NAME | -spec FILE) -in CHECKPOINT [-out FILE.bsnn] [flags]\n\n")
		fmt.Fprintf(stderr, "Converts a PyTorch BSNN checkpoint to a .bsnn model: BN folded into per-channel\n")
		fmt.Fprintf(stderr, "scale/bias, binary weights as packed signs with a mean-|w| scale, AGMM α[t],\n")
		fmt.Fprintf(stderr, "LIF constants. Checkpoint keys that are missing, mis-shaped or unused are listed\n")
		fmt.Fprintf(stderr, "together; unused keys are an error unless -allow-unused.\n\npresets (-arch; PyTorch definitions in tools/pyref/presets.py):\n%s\nflags:\n", convert.PresetList())
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s", convert.SpecHelp)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { c.set[f.Name] = true })
	c.args = args
	switch {
	case (c.arch == "") == (c.spec == ""):
		return nil, errors.New("give exactly one of -arch and -spec (-help lists the presets)")
	case c.in == "":
		return nil, errors.New("-in checkpoint is required")
	case c.out == "" && !c.summary && c.dataName == "" && c.writeSpec == "":
		return nil, errors.New("-out is required (or -summary / -data / -write-spec to only inspect)")
	case c.fp != "fp32" && c.fp != "int8":
		return nil, fmt.Errorf("-fp %q, want fp32 or int8", c.fp)
	case c.dataName != "" && c.dataName != "mnist" && c.dataName != "fashion":
		return nil, fmt.Errorf("-data %q, want mnist or fashion", c.dataName)
	case c.T < 0 || c.T > model.MaxTimesteps:
		return nil, fmt.Errorf("-T %d, want 1..%d", c.T, model.MaxTimesteps)
	}
	return c, nil
}

func parseShape(s string) ([]int, error) {
	parts := strings.Split(strings.ToLower(s), "x")
	if len(parts) != 3 {
		return nil, fmt.Errorf("-input %q, want CxHxW", s)
	}
	out := make([]int, 3)
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 || v > model.MaxDim {
			return nil, fmt.Errorf("-input %q, want CxHxW with positive sizes", s)
		}
		out[i] = v
	}
	return out, nil
}

func parseFloats(name, s string) ([]float64, error) {
	var out []float64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, fmt.Errorf("-%s %q: %v", name, s, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// buildSpec makes the spec from -arch or -spec, with flags applied on top.
func buildSpec(c *config) (*convert.Spec, error) {
	var s *convert.Spec
	var input []int
	if c.input != "" {
		var err error
		if input, err = parseShape(c.input); err != nil {
			return nil, err
		}
	}
	if c.arch != "" {
		p := convert.Presets[c.arch]
		if p == nil {
			return nil, fmt.Errorf("-arch %q: unknown preset (have %s)", c.arch, strings.Join(convert.PresetNames(), ", "))
		}
		var err error
		if s, err = p.Spec(convert.PresetOptions{Width: c.width, Classes: c.classes, Input: input}); err != nil {
			return nil, err
		}
	} else {
		if c.set["width"] || c.set["classes"] {
			return nil, errors.New("-width and -classes apply to -arch presets; a spec gives its own sizes")
		}
		var err error
		if s, err = convert.ReadSpec(c.spec); err != nil {
			return nil, err
		}
		if input != nil {
			s.Input.Shape = input
		}
	}
	// Flags override the spec when given; for presets they are the values.
	preset := c.arch != ""
	if c.set["T"] || (preset && c.T > 0) {
		s.Timesteps = c.T
	}
	if c.set["lambda"] || preset {
		s.LIF.Lambda = &c.lambda
	}
	if c.set["vth"] || preset {
		s.LIF.Vth = &c.vth
	}
	if c.set["reset"] || preset {
		s.LIF.Reset = c.reset
	}
	if c.set["agmm-stat"] || preset {
		s.AGMM.Stat = c.stat
	}
	if c.set["bn-eps"] || preset || s.BNEps == 0 {
		s.BNEps = c.bnEps
	}
	if c.mean != "" {
		v, err := parseFloats("mean", c.mean)
		if err != nil {
			return nil, err
		}
		s.Input.Mean = v
	}
	if c.std != "" {
		v, err := parseFloats("std", c.std)
		if err != nil {
			return nil, err
		}
		s.Input.Std = v
	}
	if c.encoding != "" {
		s.Input.Encoding = c.encoding
	}
	if c.labels != "" {
		b, err := os.ReadFile(c.labels)
		if err != nil {
			return nil, err
		}
		s.Labels = nil
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			s.Labels = append(s.Labels, strings.TrimSpace(l))
		}
	}
	return s, nil
}

func loadData(c *config) (data.Dataset, error) {
	var (
		d   *data.Images
		err error
	)
	if c.dataName == "mnist" {
		d, err = data.LoadMNIST(c.dataDir, data.Test)
	} else {
		d, err = data.LoadFashionMNIST(c.dataDir, data.Test)
	}
	if err != nil {
		return nil, err
	}
	if c.eval <= 0 {
		return d, nil
	}
	return data.First(d, c.eval), nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func toolVersion() string {
	v := "bsnn-convert"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v += " " + bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
	}
	return v
}

func mainImpl(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	start := time.Now()
	var kopts []runtime.Option
	if c.dataName != "" {
		k, err := bitops.Select(c.kernels)
		if err != nil {
			return err
		}
		kopts = append(kopts, runtime.WithKernels(k))
		if c.threads > 0 {
			kopts = append(kopts, runtime.WithThreads(c.threads))
		}
	}
	spec, err := buildSpec(c)
	if err != nil {
		return err
	}
	ck, err := torchload.Open(c.in)
	if err != nil {
		return err
	}
	defer ck.Close()
	sd, err := ck.StateDict()
	if err != nil {
		return fmt.Errorf("%s: %w", c.in, err)
	}
	m, rep, err := convert.Build(spec, sd, convert.Options{Int8: c.fp == "int8", AllowUnused: c.allowUnused})
	if err != nil {
		return fmt.Errorf("%s: %w", c.in, err)
	}
	if c.writeSpec != "" {
		if err := os.WriteFile(c.writeSpec, spec.JSON(), 0o644); err != nil {
			return err
		}
	}

	sum, ckBytes, err := fileSHA256(c.in)
	if err != nil {
		return err
	}
	source := "bsnn-convert"
	if c.arch != "" {
		source += " -arch " + c.arch
	} else {
		source += " -spec " + filepath.Base(c.spec)
	}
	source += " " + filepath.Base(c.in)
	stat := spec.AGMM.Stat
	if stat == "" {
		stat = "spatial"
	}
	m.Provenance = model.Provenance{
		Source:      source,
		Dataset:     firstNonEmpty(c.dataset, c.dataName),
		Accuracy:    -1,
		AGMM:        "gate α[t]·σ(E(X[t])), E = " + stat + ", α per layer and step from the checkpoint",
		ToolVersion: toolVersion(),
		Extra: []model.KV{
			{Key: "checkpoint_sha256", Value: sum},
			{Key: "checkpoint_format", Value: ck.Format},
			{Key: "state_dict", Value: fmt.Sprintf("under %q, prefix %q removed", sd.Under, sd.Prefix)},
			{Key: "fp_layers", Value: c.fp},
			{Key: "bn_eps", Value: strconv.FormatFloat(spec.BNEps, 'g', -1, 64)},
			{Key: "args", Value: strings.Join(c.args, " ")},
		},
	}
	if c.arch != "" {
		m.Provenance.Extra = append(m.Provenance.Extra, model.KV{Key: "width", Value: strconv.FormatFloat(c.width, 'g', -1, 64)})
	}
	if len(rep.Unused) > 0 {
		m.Provenance.Extra = append(m.Provenance.Extra, model.KV{Key: "unused_keys", Value: strings.Join(rep.Unused, "; ")})
	}

	if c.dataName != "" {
		d, err := loadData(c)
		if err != nil {
			return err
		}
		if len(m.Labels) == 0 && len(d.Classes()) == rep.Classes() {
			m.Labels = d.Classes()
		}
		acc, err := convert.Accuracy(m, d, 0, kopts...)
		if err != nil {
			return err
		}
		m.Provenance.Accuracy = float32(acc)
		m.Provenance.Extra = append(m.Provenance.Extra, model.KV{Key: "eval", Value: fmt.Sprintf("%s test, first %d images", c.dataName, d.Len())})
		if c.fp == "int8" {
			spec32, err := buildSpec(c)
			if err != nil {
				return err
			}
			m32, _, err := convert.Build(spec32, sd, convert.Options{AllowUnused: c.allowUnused})
			if err != nil {
				return err
			}
			acc32, err := convert.Accuracy(m32, d, 0, kopts...)
			if err != nil {
				return err
			}
			delta := fmt.Sprintf("fp32 %.2f%%, int8 %.2f%%, delta %+.2f points on %s test (%d images)",
				100*acc32, 100*acc, 100*(acc-acc32), c.dataName, d.Len())
			m.Provenance.Extra = append(m.Provenance.Extra, model.KV{Key: "int8_accuracy", Value: delta})
			fmt.Fprintf(stdout, "accuracy: %s\n", delta)
		} else {
			fmt.Fprintf(stdout, "accuracy: %.2f%% on %s test (%d images)\n", 100*acc, c.dataName, d.Len())
		}
	}

	var size int64
	if c.out != "" {
		if err := model.Save(c.out, m); err != nil {
			return err
		}
		fi, err := os.Stat(c.out)
		if err != nil {
			return err
		}
		size = fi.Size()
	} else {
		enc, err := model.Encode(m)
		if err != nil {
			return err
		}
		size = int64(len(enc))
	}
	elapsed := time.Since(start)
	if c.summary {
		if err := convert.WriteSummary(stdout, m, rep, convert.Sizes{Checkpoint: ckBytes, Float32: rep.SrcBytes, BSNN: size}); err != nil {
			return err
		}
	}
	if c.printTiming {
		fmt.Fprintf(stdout, "converted in %v\n", elapsed.Round(time.Millisecond))
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
