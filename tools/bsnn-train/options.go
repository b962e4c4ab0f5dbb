package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
	"github.com/bsnn/bsnn/tools/internal/cli"
)

// options are the training settings of a run: everything that decides the
// resulting model. They are saved in the checkpoint (Net.Meta), so -resume
// needs only -run-dir, and they make the canonical command line recorded in
// the exported model's provenance.
type options struct {
	Arch   string `json:"arch"`
	Widths string `json:"widths"`
	Blocks string `json:"blocks"`

	Data         string  `json:"data"`
	Shape        string  `json:"shape"`
	Encoding     string  `json:"encoding"`
	Bin          string  `json:"bin"`
	Transform    string  `json:"transform"`
	TrainN       int     `json:"train_n"`
	TestN        int     `json:"test_n"`
	TestFraction float64 `json:"test_fraction"`
	AugShift     int     `json:"aug_shift"`
	AugRotate    float64 `json:"aug_rotate"`
	AugFlip      bool    `json:"aug_flip"`

	Epochs int `json:"epochs"`
	Batch  int `json:"batch"`
	T      int `json:"T"`

	Opt         string  `json:"opt"`
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`
	Nesterov    bool    `json:"nesterov"`
	WD          float64 `json:"wd"`
	DecoupledWD bool    `json:"decoupled_wd"`
	Cosine      bool    `json:"cosine"`
	Warmup      int     `json:"warmup"`
	LRBinary    float64 `json:"lr_binary_factor"`
	LRAlpha     float64 `json:"lr_alpha_factor"`

	AGMM          string  `json:"agmm"`
	AGMMStat      string  `json:"agmm_stat"`
	AGMMAlpha     string  `json:"agmm_alpha"`
	AGMMAlphaInit float64 `json:"agmm_alpha_init"`
	AGMMAlphaEnd  float64 `json:"agmm_alpha_end"`
	AGMMDetach    bool    `json:"agmm_detach"`

	Reset       string  `json:"reset"`
	Surrogate   string  `json:"surrogate"`
	Gamma       float64 `json:"surrogate_gamma"`
	DetachReset bool    `json:"detach_reset"`
	Lambda      float64 `json:"lambda"`
	Vth         float64 `json:"vth"`

	Seed uint64 `json:"seed"`

	Finetune   string `json:"finetune"`
	TrainLast  int    `json:"train_last"`
	TrainFirst int    `json:"train_first,omitempty"`
	FreezeBN   bool   `json:"freeze_bn"`
	// LatentScale is the magnitude of the latent binary weights FromModel
	// starts fine-tuning from (0: finetune's default).
	LatentScale float64 `json:"latent_scale,omitempty"`
}

// session holds the settings of one invocation that do not change the
// result: where files go, how many threads, how progress is shown.
type session struct {
	common    cli.Flags
	out       string
	runDir    string
	resume    bool
	stopAfter int
	progress  string
	report    string
}

// sessionFlags are the flags that may differ between a run and its resume
// (and are left out of the recorded command line). -epochs may also be
// raised on resume to extend a run.
var sessionFlags = map[string]bool{
	"kernels": true, "threads": true, "v": true, "out": true, "run-dir": true,
	"resume": true, "stop-after": true, "progress": true, "report": true,
}

// register adds the training flags, bound to o, to fs.
func (o *options) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Arch, "arch", finetune.PresetMNIST, "architecture: "+strings.Join(arch.Names(), ", ")+" (bsnn-train -help lists them)")
	fs.StringVar(&o.Widths, "widths", "", "channel widths of the architecture, comma-separated (default: its own, e.g. mnist 32,64,64; resnet19 128,256,512)")
	fs.StringVar(&o.Blocks, "blocks", "", "ResNets: Bi-Real basic blocks per stage, comma-separated (default: resnet19 3,3,2)")

	fs.StringVar(&o.Data, "data", "mnist", "data set: mnist, fashion, folder:DIR (one subfolder per class; DIR/train and DIR/test if present, else a -test-fraction split), nmnist:DIR (N-MNIST Train/Test folders; nmnist alone: $BSNN_NMNIST_DIR), dvs-mnist (MNIST through the saccade DVS emulator)")
	fs.StringVar(&o.Shape, "shape", "", "input shape C,H,W for folder: data (default: the preset's, 1,28,28 for mnist, 3,32,32 otherwise)")
	fs.StringVar(&o.Encoding, "encoding", "direct", "image input encoding: direct or rate (event data always uses events)")
	fs.StringVar(&o.Bin, "bin", "binary", "event binning: binary (1 where a pixel fired in a bin) or count")
	fs.StringVar(&o.Transform, "transform", "none", "domain shift applied to train and test images: none, invert, or rotate=DEG")
	fs.IntVar(&o.TrainN, "train-n", 0, "use a fixed random subset of this many training samples (0: all)")
	fs.IntVar(&o.TestN, "test-n", 0, "use the first this many test samples (0: all)")
	fs.Float64Var(&o.TestFraction, "test-fraction", 0.2, "folder: data without train/test subfolders: fraction held out for testing")
	fs.IntVar(&o.AugShift, "aug-shift", 0, "augmentation: random shift by up to this many pixels")
	fs.Float64Var(&o.AugRotate, "aug-rotate", 0, "augmentation: random rotation by up to this many degrees")
	fs.BoolVar(&o.AugFlip, "aug-flip", false, "augmentation: random horizontal flip (not for digits)")

	fs.IntVar(&o.Epochs, "epochs", 5, "epochs to train (the whole run; on -resume it may be raised)")
	fs.IntVar(&o.Batch, "batch", 64, "batch size")
	fs.IntVar(&o.T, "T", 0, "time steps (0: the preset's, 4 for mnist and 2 otherwise; a fine-tuned model keeps its own)")

	fs.StringVar(&o.Opt, "opt", "sgd", "optimizer: sgd or adam")
	fs.Float64Var(&o.LR, "lr", 0, "learning rate (0: 0.1 for sgd, 0.001 for adam; fine-tuning 0.01 and 0.001)")
	fs.Float64Var(&o.Momentum, "momentum", 0.9, "SGD momentum")
	fs.BoolVar(&o.Nesterov, "nesterov", false, "SGD: Nesterov momentum")
	fs.Float64Var(&o.WD, "wd", -1, "weight decay on conv/linear weights (-1: 5e-4 from scratch, 0 when fine-tuning)")
	fs.BoolVar(&o.DecoupledWD, "decoupled-wd", false, "decoupled weight decay (SGDW/AdamW) instead of L2")
	fs.BoolVar(&o.Cosine, "cosine", true, "cosine learning-rate schedule over the run (false: constant)")
	fs.IntVar(&o.Warmup, "warmup", 0, "linear learning-rate warm-up over this many steps")
	fs.Float64Var(&o.LRBinary, "lr-binary-factor", 1, "learning-rate factor of the binary layers' latent weights (the \"binary layers at a lower learning rate\" control)")
	fs.Float64Var(&o.LRAlpha, "lr-alpha-factor", 1, "learning-rate factor of the AGMM α parameters")

	fs.StringVar(&o.AGMM, "agmm", "on", "AGMM gates after the binary convs: on or off")
	fs.StringVar(&o.AGMMStat, "agmm-stat", "spatial", "AGMM statistic E: spatial, channel-spatial or none")
	fs.StringVar(&o.AGMMAlpha, "agmm-alpha", "learn", "AGMM α[t]: learn, fixed or schedule")
	fs.Float64Var(&o.AGMMAlphaInit, "agmm-alpha-init", 1, "AGMM α initial value")
	fs.Float64Var(&o.AGMMAlphaEnd, "agmm-alpha-end", 1, "AGMM α final value (-agmm-alpha schedule)")
	fs.BoolVar(&o.AGMMDetach, "agmm-detach", false, "AGMM: no gradient through the statistic E")

	fs.StringVar(&o.Reset, "reset", "hard", "LIF reset: hard or soft")
	fs.StringVar(&o.Surrogate, "surrogate", "triangle", "surrogate gradient: triangle or sigmoid")
	fs.Float64Var(&o.Gamma, "surrogate-gamma", 0, "surrogate width: triangle half-width (0: 1) or sigmoid slope (0: 4)")
	fs.BoolVar(&o.DetachReset, "detach-reset", false, "LIF: no gradient through the reset")
	fs.Float64Var(&o.Lambda, "lambda", 0.5, "LIF leak λ")
	fs.Float64Var(&o.Vth, "vth", 1, "LIF threshold V_th")

	fs.Uint64Var(&o.Seed, "seed", 1, "seed of weight initialization, shuffling, augmentation and rate encoding")

	fs.StringVar(&o.Finetune, "finetune", "", "fine-tune this .bsnn model instead of training a preset from scratch")
	fs.IntVar(&o.TrainLast, "train-last", 0, "train only the last k conv/linear layers (0: all; with -train-first, both sets)")
	fs.IntVar(&o.TrainFirst, "train-first", 0, "train only the first k conv/linear layers, the gradient flowing back through the frozen rest (0: all)")
	fs.BoolVar(&o.FreezeBN, "freeze-bn", true, "fine-tuning: keep the model's BatchNorm statistics (γ and β still train)")
	fs.Float64Var(&o.LatentScale, "latent-scale", 0, "fine-tuning: magnitude of the latent binary weights, a power of two (0: the one nearest 1/(2√fan-in)); smaller lets binary weights flip sooner")
}

func (s *session) register(fs *flag.FlagSet) {
	s.common.Register(fs, 0)
	fs.StringVar(&s.out, "out", "", "write the final model to this .bsnn file (with provenance)")
	fs.StringVar(&s.runDir, "run-dir", "", "directory for the checkpoint (every epoch and on Ctrl-C), metrics.csv, metrics.jsonl and plots")
	fs.BoolVar(&s.resume, "resume", false, "continue the run in -run-dir from its checkpoint (its settings come from the checkpoint)")
	fs.IntVar(&s.stopAfter, "stop-after", 0, "stop after this many epochs in this invocation, with the checkpoint saved (0: run to -epochs)")
	fs.StringVar(&s.progress, "progress", "auto", "progress on stderr: auto (a bar on a terminal, lines otherwise), bar, lines or none")
	fs.StringVar(&s.report, "report", "", "write a JSON summary of the finished run to this file")
}

const usageText = `usage:
  bsnn-train [flags]                      train a preset from scratch (-arch, -data)
  bsnn-train -finetune model.bsnn [flags] fine-tune a model on -data
  bsnn-train -run-dir DIR -resume         continue an interrupted run
  bsnn-train study [flags]                the Fashion-MNIST AGMM ablation (bsnn-train study -h)
  bsnn-train scenario [flags]             the on-device fine-tuning scenario (bsnn-train scenario -h)

Progress goes to stderr, one summary line per epoch to stdout. With -run-dir,
DIR/checkpoint.ckpt is written atomically after every epoch and on Ctrl-C
(SIGINT/SIGTERM); DIR/metrics.csv, DIR/metrics.jsonl and DIR/*.png are
rewritten after every epoch.

flags:
`

// newFlagSet returns the training command's flag set bound to o and s.
func newFlagSet(o *options, s *session, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bsnn-train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.register(fs)
	s.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fmt.Fprintf(fs.Output(), "\narchitectures (-arch):\n%s\nflags:\n", arch.Help())
		fs.PrintDefaults()
	}
	return fs
}

// flagSet returns a flag set of the training flags whose values are o's
// current values (registering a flag stores its default into the bound
// variable, so o is saved and restored around it).
func (o *options) flagSet() *flag.FlagSet {
	saved := *o
	fs := flag.NewFlagSet("bsnn-train", flag.ContinueOnError)
	o.register(fs)
	*o = saved
	return fs
}

// canonical returns the command line that reproduces the run's result:
// the training flags that differ from their defaults, in flag order.
func (o *options) canonical() string {
	fs := o.flagSet()
	parts := []string{"bsnn-train"}
	fs.VisitAll(func(f *flag.Flag) {
		if v := f.Value.String(); v != f.DefValue {
			parts = append(parts, "-"+f.Name+"="+quoteArg(v))
		}
	})
	return strings.Join(parts, " ")
}

// quoteArg quotes a flag value for a shell when it needs it.
func quoteArg(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
		return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
	}
	return v
}

// parseInts parses a comma-separated list of positive integers ("" is nil).
func parseInts(flagName, s string, n int) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if n > 0 && len(parts) != n {
		return nil, fmt.Errorf("-%s %q: want %d comma-separated values", flagName, s, n)
	}
	out := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("-%s %q: %q is not a positive integer", flagName, s, p)
		}
		out[i] = v
	}
	return out, nil
}

// parseShape parses "C,H,W".
func parseShape(s string) (model.Shape, error) {
	v, err := parseInts("shape", s, 3)
	if err != nil {
		return model.Shape{}, err
	}
	return model.Shape{C: v[0], H: v[1], W: v[2]}, nil
}

// finetuning reports whether the run starts from a model file.
func (o *options) finetuning() bool { return o.Finetune != "" }

// check validates the options that need no file access.
func (o *options) check() error {
	a, err := arch.Lookup(o.Arch)
	if err != nil {
		return fmt.Errorf("-arch %q: want one of %s", o.Arch, strings.Join(arch.Names(), ", "))
	}
	if _, err := parseInts("widths", o.Widths, len(a.Widths)); err != nil {
		return err
	}
	if o.Blocks != "" && a.Blocks == nil {
		return fmt.Errorf("-blocks applies to the ResNets only, not -arch %s", a.Name)
	}
	if _, err := parseInts("blocks", o.Blocks, len(a.Blocks)); err != nil {
		return err
	}
	if o.Shape != "" {
		if _, err := parseShape(o.Shape); err != nil {
			return err
		}
	}
	if _, err := dataKind(o.Data); err != nil {
		return err
	}
	switch o.Encoding {
	case "direct", "rate":
	default:
		return fmt.Errorf("-encoding %q: want direct or rate", o.Encoding)
	}
	if _, err := parseBin(o.Bin); err != nil {
		return err
	}
	if _, err := parseTransform(o.Transform); err != nil {
		return err
	}
	switch {
	case o.TrainN < 0:
		return fmt.Errorf("-train-n %d: must be 0 (all) or positive", o.TrainN)
	case o.TestN < 0:
		return fmt.Errorf("-test-n %d: must be 0 (all) or positive", o.TestN)
	case !(o.TestFraction > 0 && o.TestFraction < 1):
		return fmt.Errorf("-test-fraction %v: want a value between 0 and 1", o.TestFraction)
	case o.AugShift < 0 || o.AugRotate < 0:
		return fmt.Errorf("-aug-shift %d and -aug-rotate %v must not be negative", o.AugShift, o.AugRotate)
	case o.Epochs < 1:
		return fmt.Errorf("-epochs %d: want at least 1", o.Epochs)
	case o.Batch < 1:
		return fmt.Errorf("-batch %d: want at least 1", o.Batch)
	case o.T < 0 || o.T > model.MaxTimesteps:
		return fmt.Errorf("-T %d: want 1..%d (0: the preset's)", o.T, model.MaxTimesteps)
	}
	switch o.Opt {
	case "sgd", "adam":
	default:
		return fmt.Errorf("-opt %q: want sgd or adam", o.Opt)
	}
	switch {
	case o.LR < 0:
		return fmt.Errorf("-lr %v: must not be negative", o.LR)
	case o.Momentum < 0 || o.Momentum >= 1:
		return fmt.Errorf("-momentum %v: want 0 ≤ momentum < 1", o.Momentum)
	case o.WD < 0 && o.WD != -1:
		return fmt.Errorf("-wd %v: must not be negative (-1: the default)", o.WD)
	case o.Warmup < 0:
		return fmt.Errorf("-warmup %d: must not be negative", o.Warmup)
	case o.LRBinary < 0 || o.LRAlpha < 0:
		return fmt.Errorf("-lr-binary-factor %v and -lr-alpha-factor %v must not be negative", o.LRBinary, o.LRAlpha)
	}
	switch o.AGMM {
	case "on", "off":
	default:
		return fmt.Errorf("-agmm %q: want on or off", o.AGMM)
	}
	if _, err := finetune.ParseStat(o.AGMMStat); err != nil {
		return fmt.Errorf("-agmm-stat: %w", err)
	}
	if _, err := finetune.ParseAlphaMode(o.AGMMAlpha); err != nil {
		return fmt.Errorf("-agmm-alpha: %w", err)
	}
	if _, err := finetune.ParseReset(o.Reset); err != nil {
		return fmt.Errorf("-reset: %w", err)
	}
	if _, err := finetune.ParseSurrogate(o.Surrogate); err != nil {
		return fmt.Errorf("-surrogate: %w", err)
	}
	switch {
	case o.Gamma < 0:
		return fmt.Errorf("-surrogate-gamma %v: must not be negative (0: the default)", o.Gamma)
	case !(o.Lambda >= 0 && o.Lambda <= 1):
		return fmt.Errorf("-lambda %v: want 0..1", o.Lambda)
	case !(o.Vth > 0):
		return fmt.Errorf("-vth %v: want > 0", o.Vth)
	case o.TrainLast < 0:
		return fmt.Errorf("-train-last %d: must not be negative", o.TrainLast)
	case o.TrainLast > 0 && !o.finetuning():
		// Freezing fresh random layers is allowed by the library but is
		// almost always a mistake on the command line.
		return fmt.Errorf("-train-last applies to fine-tuning (-finetune model.bsnn)")
	case o.TrainFirst < 0:
		return fmt.Errorf("-train-first %d: must not be negative", o.TrainFirst)
	case o.TrainFirst > 0 && !o.finetuning():
		return fmt.Errorf("-train-first applies to fine-tuning (-finetune model.bsnn)")
	case o.LatentScale != 0 && !o.finetuning():
		return fmt.Errorf("-latent-scale applies to fine-tuning (-finetune model.bsnn)")
	case o.LatentScale != 0 && !isPow2(o.LatentScale):
		return fmt.Errorf("-latent-scale %v: want a positive power of two such as 0.001953125 (2^-9)", o.LatentScale)
	}
	return nil
}

// isPow2 reports whether x is a positive power of two (FromModel needs one so
// the folded scales are reproduced exactly).
func isPow2(x float64) bool {
	fr, _ := math.Frexp(x)
	return x > 0 && fr == 0.5
}

// config builds the finetune configuration for a preset run (input shape,
// normalization and classes come from the data, see applyData).
func (o *options) config() (finetune.Config, error) {
	a, err := arch.Lookup(o.Arch)
	if err != nil {
		return finetune.Config{}, err
	}
	preset := a.Name
	if o.finetuning() {
		preset = finetune.PresetModel
	}
	c := finetune.DefaultConfig(preset)
	if c.Widths, err = parseInts("widths", o.Widths, len(a.Widths)); err != nil {
		return c, err
	}
	if c.Blocks, err = parseInts("blocks", o.Blocks, len(a.Blocks)); err != nil {
		return c, err
	}
	if o.T > 0 {
		c.Input.Timesteps = o.T
	}
	c.Seed = o.Seed

	c.LIF.Lambda, c.LIF.Vth = float32(o.Lambda), float32(o.Vth)
	c.LIF.Reset, _ = finetune.ParseReset(o.Reset)
	c.LIF.Surrogate, _ = finetune.ParseSurrogate(o.Surrogate)
	c.LIF.Gamma = float32(o.Gamma)
	c.LIF.DetachReset = o.DetachReset

	c.AGMM.Enabled = o.AGMM == "on"
	c.AGMM.Stat, _ = finetune.ParseStat(o.AGMMStat)
	c.AGMM.Alpha, _ = finetune.ParseAlphaMode(o.AGMMAlpha)
	c.AGMM.AlphaInit, c.AGMM.AlphaEnd = float32(o.AGMMAlphaInit), float32(o.AGMMAlphaEnd)
	c.AGMM.Detach = o.AGMMDetach

	p := &c.Optim
	p.Kind = o.Opt
	p.LR = float32(o.LR)
	if o.LR == 0 {
		switch {
		case o.Opt == "adam":
			p.LR = 1e-3
		case o.finetuning():
			p.LR = 0.01
		default:
			p.LR = 0.1
		}
	}
	p.Momentum, p.Nesterov = float32(o.Momentum), o.Nesterov
	if o.WD >= 0 {
		p.WeightDecay = float32(o.WD)
	}
	p.DecoupledWD = o.DecoupledWD
	p.Schedule = "constant"
	if o.Cosine {
		p.Schedule = "cosine"
	}
	p.WarmupSteps = o.Warmup
	p.TrainLast = o.TrainLast
	p.TrainFirst = o.TrainFirst
	p.GroupLR = map[string]float32{}
	if o.LRBinary != 1 {
		p.GroupLR[finetune.GroupBinary] = float32(o.LRBinary)
	}
	if o.LRAlpha != 1 {
		p.GroupLR[finetune.GroupAlpha] = float32(o.LRAlpha)
	}
	if o.finetuning() {
		c.BN.Frozen = o.FreezeBN
		c.LatentScale = float32(o.LatentScale)
	}
	return c, nil
}
