package finetune

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
)

// Config is everything that defines a network and how it trains. It is
// stored in checkpoints (as JSON), so a resumed run trains exactly as the
// original one did. Zero values mean "the default" wherever a default is
// documented; DefaultConfig fills every field.
type Config struct {
	// Preset names the architecture NewNet builds: a name (or alias) of
	// model/arch's registry, such as PresetMNIST, PresetVGGSmall or
	// PresetResNet19. FromModel sets it to PresetModel.
	Preset string `json:"preset"`
	// Input is the input shape, normalization, encoding and T.
	Input model.InputSpec `json:"input"`
	// Classes is the number of output classes.
	Classes int `json:"classes"`
	// Widths are the architecture's channel widths (arch.Arch.Widths says
	// which they are); nil means its defaults.
	Widths []int `json:"widths,omitempty"`
	// Blocks is the number of basic blocks (two Bi-Real units each) per
	// stage of a ResNet; nil means its defaults ({3, 3, 2} for ResNet-19).
	Blocks []int `json:"blocks,omitempty"`
	// Labels are the class names written into exported models (optional).
	Labels []string `json:"labels,omitempty"`

	LIF   LIFConfig   `json:"lif"`
	AGMM  AGMMConfig  `json:"agmm"`
	BN    BNConfig    `json:"bn"`
	Optim OptimConfig `json:"optim"`

	// LatentScale is the magnitude FromModel gives the latent weights of
	// binary layers (0: per layer, the power of two nearest 1/(2√fan-in);
	// any value should be a power of two so the folded scales stay exact).
	LatentScale float32 `json:"latent_scale,omitempty"`

	// Seed seeds weight initialization and the rate encoder.
	Seed uint64 `json:"seed"`

	// Threads is the number of goroutines a step uses (≤ 0: 1). Results do
	// not depend on it: every reduction runs in an order fixed by the data
	// shapes. Not stored in checkpoints.
	Threads int `json:"-"`
	// Kernels is the bit-kernel set (nil: bitops.Best()). Not stored.
	Kernels *bitops.Kernels `json:"-"`
}

// Architecture names of model/arch's registry that the trainer's defaults
// and docs refer to; every other registry name works too.
const (
	PresetMNIST    = "mnist"     // small conv net for MNIST / Fashion-MNIST
	PresetVGGSmall = "vgg-small" // VGG-small (6 convs, 3 pools)
	PresetResNet19 = "resnet19"  // ResNet-19-like Bi-Real net
	PresetModel    = "model"     // built from a .bsnn by FromModel
)

// Surrogate is the spike function's surrogate gradient.
type Surrogate uint8

// Surrogate gradients: with v = u − V_th,
// triangle: max(0, γ − |v|)/γ²; sigmoid: k·σ(k·v)·(1 − σ(k·v)) with slope k.
const (
	SurrogateTriangle Surrogate = iota
	SurrogateSigmoid
)

func (s Surrogate) String() string {
	switch s {
	case SurrogateTriangle:
		return "triangle"
	case SurrogateSigmoid:
		return "sigmoid"
	}
	return fmt.Sprintf("surrogate(%d)", uint8(s))
}

// LIFConfig configures every LIF layer a preset builds (FromModel keeps each
// layer's λ, V_th and reset from the file and takes the rest from here).
type LIFConfig struct {
	Lambda float32     `json:"lambda"` // leak λ (0: 0.5)
	Vth    float32     `json:"vth"`    // threshold (0: 1.0)
	Reset  model.Reset `json:"reset"`
	// DetachReset stops the gradient through the reset term (the spike
	// that resets the membrane is treated as a constant).
	DetachReset bool      `json:"detach_reset"`
	Surrogate   Surrogate `json:"surrogate"`
	// Gamma is the triangle's half-width γ (0: 1) or the sigmoid's slope
	// (0: 4).
	Gamma float32 `json:"gamma"`
}

// AlphaMode says how an AGMM gate's α[t] evolves.
type AlphaMode uint8

// AGMM α modes.
const (
	// AlphaLearn: α[t] is a parameter of each gate, one per time step.
	AlphaLearn AlphaMode = iota
	// AlphaFixed: α[t] = AlphaInit throughout.
	AlphaFixed
	// AlphaSchedule: α[t] = AlphaInit + (AlphaEnd − AlphaInit)·progress,
	// progress = step / Optim.TotalSteps (clamped to 1): a linear ramp over
	// the run, the same for every t.
	AlphaSchedule
)

func (a AlphaMode) String() string {
	switch a {
	case AlphaLearn:
		return "learn"
	case AlphaFixed:
		return "fixed"
	case AlphaSchedule:
		return "schedule"
	}
	return fmt.Sprintf("alpha(%d)", uint8(a))
}

// AGMMConfig configures the AGMM gates: Y[t] = α[t]·σ(E(X[t]))⊙X[t].
type AGMMConfig struct {
	// Enabled puts a gate after every binary conv + BN of a preset.
	Enabled bool       `json:"enabled"`
	Stat    model.Stat `json:"stat"`
	Alpha   AlphaMode  `json:"alpha"`
	// AlphaInit is α's initial value (0 is a valid value; DefaultConfig
	// sets 1).
	AlphaInit float32 `json:"alpha_init"`
	// AlphaEnd is the schedule's final value (AlphaSchedule only).
	AlphaEnd float32 `json:"alpha_end"`
	// Detach stops the gradient through the statistic E: dX = G ⊙ dY only.
	Detach bool `json:"detach"`
}

// BNConfig configures batch normalization.
type BNConfig struct {
	Momentum float32 `json:"momentum"` // running-stat momentum (0: 0.1, as PyTorch)
	Eps      float32 `json:"eps"`      // (0: 1e-5)
	// Frozen normalizes with the running statistics in training too and
	// never updates them (γ and β still train). FromModel's default: the
	// un-tuned network then computes exactly what the loaded model does.
	Frozen bool `json:"frozen"`
}

// OptimConfig configures the optimizer.
type OptimConfig struct {
	// Kind is "sgd" or "adam".
	Kind string  `json:"kind"`
	LR   float32 `json:"lr"`
	// Momentum and Nesterov (SGD; PyTorch's rule: buf = μ·buf + g, the
	// first step buf = g).
	Momentum float32 `json:"momentum"`
	Nesterov bool    `json:"nesterov"`
	// Beta1, Beta2, Eps (Adam; 0: 0.9, 0.999, 1e-8).
	Beta1 float32 `json:"beta1"`
	Beta2 float32 `json:"beta2"`
	Eps   float32 `json:"eps"`
	// WeightDecay applies to conv and linear weights (binary latent and
	// full precision), never to biases, BN parameters or α. Coupled (L2:
	// g += wd·w, PyTorch's SGD/Adam) unless DecoupledWD (w −= lr·wd·w,
	// SGDW/AdamW).
	WeightDecay float32 `json:"weight_decay"`
	DecoupledWD bool    `json:"decoupled_wd"`
	// Schedule is "constant" (or "") or "cosine": lr·½(1+cos(π·s/S)) over
	// S = TotalSteps − WarmupSteps steps, after a linear warm-up from
	// lr/WarmupSteps to lr over WarmupSteps steps.
	Schedule    string `json:"schedule"`
	WarmupSteps int    `json:"warmup_steps"`
	TotalSteps  int    `json:"total_steps"`
	// GroupLR multiplies the learning rate of a parameter group: "binary"
	// (latent binary weights), "fp" (full-precision weights and biases),
	// "bn" (BN γ, β), "alpha" (AGMM α). Missing groups: 1.
	GroupLR map[string]float32 `json:"group_lr,omitempty"`
	// TrainLast > 0 trains only the last TrainLast conv/linear layers (with
	// their BN and the gates and neurons after them); everything before is
	// frozen, its BN uses running statistics and no gradient is computed
	// for it.
	TrainLast int `json:"train_last"`
	// TrainFirst > 0 trains only the first TrainFirst conv/linear layers
	// (with their BN and the gates and neurons after them, up to the next
	// conv/linear layer); everything after is frozen and its BN uses
	// running statistics, while the gradient still flows back through it.
	// It is meant for an input-domain shift the first layers can absorb
	// while the deployed features stay intact; for inverted contrast it
	// did not work (docs/training.md).
	// TrainFirst and TrainLast together train their union.
	TrainFirst int `json:"train_first,omitempty"`
}

// Parameter groups, for OptimConfig.GroupLR and StepStats.
const (
	GroupBinary = "binary"
	GroupFP     = "fp"
	GroupBN     = "bn"
	GroupAlpha  = "alpha"
)

// DefaultConfig returns the defaults of a preset: the input shape, T,
// classes and input normalization of its model/arch entry (1×28×28, T = 4,
// MNIST mean/std, 10 classes for PresetMNIST and for PresetModel, whose
// input FromModel replaces; 3×32×32, T = 2, CIFAR mean/std for the CIFAR
// nets), direct encoding; LIF λ 0.5, V_th 1, hard reset, triangle surrogate
// γ 1; AGMM on (spatial statistic, learnable α from 1); BN momentum 0.1, eps
// 1e-5; SGD lr 0.1, momentum 0.9, weight decay 5e-4 (coupled), cosine
// schedule over the run (the Trainer sets TotalSteps). PresetModel
// (fine-tuning) freezes the BN statistics and uses lr 0.01 without weight
// decay. Threads is 1: set it to the number of cores to use. An unknown
// preset gets the MNIST defaults; NewNet reports it.
func DefaultConfig(preset string) Config {
	a, err := arch.Lookup(preset)
	if err != nil {
		a, _ = arch.Lookup(PresetMNIST)
	}
	c := Config{
		Preset:  preset,
		Classes: a.Classes,
		Input: model.InputSpec{
			Shape: a.In, Mean: slices.Clone(a.Mean), Std: slices.Clone(a.Std),
			Encoding: model.EncodingDirect, Timesteps: a.T,
		},
		LIF:   LIFConfig{Lambda: 0.5, Vth: 1, Reset: model.ResetHard, Surrogate: SurrogateTriangle, Gamma: 1},
		AGMM:  AGMMConfig{Enabled: true, Stat: model.StatSpatial, Alpha: AlphaLearn, AlphaInit: 1, AlphaEnd: 1},
		BN:    BNConfig{Momentum: 0.1, Eps: 1e-5},
		Optim: OptimConfig{Kind: "sgd", LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4, Schedule: "cosine", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		Seed:  1,
	}
	if preset == PresetModel {
		// Fine-tuning: the running statistics of the loaded model are kept,
		// so the untuned network computes what the model does, and the
		// learning rate is that of a late training phase.
		c.BN.Frozen = true
		c.Optim.LR = 0.01
		c.Optim.WeightDecay = 0
	}
	return c
}

// withDefaults fills zero fields that have a documented default and checks
// the rest.
func (c Config) withDefaults() (Config, error) {
	if c.LIF.Lambda == 0 {
		c.LIF.Lambda = 0.5
	}
	if c.LIF.Vth == 0 {
		c.LIF.Vth = 1
	}
	if c.LIF.Gamma == 0 {
		c.LIF.Gamma = 1
		if c.LIF.Surrogate == SurrogateSigmoid {
			c.LIF.Gamma = 4
		}
	}
	if c.BN.Momentum == 0 {
		c.BN.Momentum = 0.1
	}
	if c.BN.Eps == 0 {
		c.BN.Eps = 1e-5
	}
	o := &c.Optim
	if o.Kind == "" {
		o.Kind = "sgd"
	}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.999
	}
	if o.Eps == 0 {
		o.Eps = 1e-8
	}
	if c.Threads <= 0 {
		c.Threads = 1
	}
	if c.Kernels == nil {
		c.Kernels = bitops.Best()
	}
	return c, c.check()
}

func badFloat(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }

func (c *Config) check() error {
	in := c.Input
	if in.Timesteps < 1 || in.Timesteps > model.MaxTimesteps {
		return fmt.Errorf("finetune: config: input T = %d, want 1..%d", in.Timesteps, model.MaxTimesteps)
	}
	if in.Shape.C < 1 || in.Shape.H < 1 || in.Shape.W < 1 {
		return fmt.Errorf("finetune: config: input shape %v has an empty dimension", in.Shape)
	}
	if in.Encoding > model.EncodingEvents {
		return fmt.Errorf("finetune: config: unknown input encoding %d", in.Encoding)
	}
	if len(in.Mean) != 0 && len(in.Mean) != in.Shape.C || len(in.Std) != 0 && len(in.Std) != in.Shape.C {
		return fmt.Errorf("finetune: config: input mean/std hold %d/%d values for %d channels", len(in.Mean), len(in.Std), in.Shape.C)
	}
	for c, v := range in.Std {
		if !(v > 0) || badFloat(v) {
			return fmt.Errorf("finetune: config: input std of channel %d is %v, want a positive finite value", c, v)
		}
	}
	if c.Classes < 1 {
		return fmt.Errorf("finetune: config: %d classes, want at least 1", c.Classes)
	}
	if len(c.Labels) != 0 && len(c.Labels) != c.Classes {
		return fmt.Errorf("finetune: config: %d labels for %d classes", len(c.Labels), c.Classes)
	}
	l := c.LIF
	switch {
	case badFloat(l.Lambda) || l.Lambda < 0 || l.Lambda > 1:
		return fmt.Errorf("finetune: config: LIF λ = %v, want 0..1", l.Lambda)
	case badFloat(l.Vth) || l.Vth <= 0:
		return fmt.Errorf("finetune: config: LIF V_th = %v, want > 0", l.Vth)
	case l.Reset > model.ResetSoft:
		return fmt.Errorf("finetune: config: unknown LIF reset %d", l.Reset)
	case l.Surrogate > SurrogateSigmoid:
		return fmt.Errorf("finetune: config: unknown surrogate %d", l.Surrogate)
	case badFloat(l.Gamma) || l.Gamma <= 0:
		return fmt.Errorf("finetune: config: surrogate γ = %v, want > 0", l.Gamma)
	}
	a := c.AGMM
	switch {
	case a.Stat > model.StatNone:
		return fmt.Errorf("finetune: config: unknown AGMM statistic %d", a.Stat)
	case a.Alpha > AlphaSchedule:
		return fmt.Errorf("finetune: config: unknown AGMM α mode %d", a.Alpha)
	case badFloat(a.AlphaInit) || badFloat(a.AlphaEnd):
		return fmt.Errorf("finetune: config: AGMM α init/end must be finite")
	}
	if c.BN.Momentum < 0 || c.BN.Momentum > 1 || !(c.BN.Eps > 0) {
		return fmt.Errorf("finetune: config: BN momentum %v (want 0..1), eps %v (want > 0)", c.BN.Momentum, c.BN.Eps)
	}
	o := c.Optim
	if o.Kind != "sgd" && o.Kind != "adam" {
		return fmt.Errorf("finetune: config: optimizer %q, want sgd or adam", o.Kind)
	}
	if badFloat(o.LR) || o.LR < 0 || badFloat(o.WeightDecay) || o.WeightDecay < 0 || o.Momentum < 0 || o.Momentum >= 1 {
		return fmt.Errorf("finetune: config: lr %v, weight decay %v and momentum %v must be finite and non-negative (momentum < 1)", o.LR, o.WeightDecay, o.Momentum)
	}
	if o.Beta1 < 0 || o.Beta1 >= 1 || o.Beta2 < 0 || o.Beta2 >= 1 || !(o.Eps > 0) {
		return fmt.Errorf("finetune: config: Adam β1 %v, β2 %v (want 0..1), eps %v (want > 0)", o.Beta1, o.Beta2, o.Eps)
	}
	switch o.Schedule {
	case "", "constant", "cosine":
	default:
		return fmt.Errorf("finetune: config: schedule %q, want constant or cosine", o.Schedule)
	}
	if o.WarmupSteps < 0 || o.TotalSteps < 0 || o.TrainLast < 0 || o.TrainFirst < 0 {
		return fmt.Errorf("finetune: config: warm-up %d, total steps %d, train-last %d and train-first %d must be non-negative", o.WarmupSteps, o.TotalSteps, o.TrainLast, o.TrainFirst)
	}
	for g, m := range o.GroupLR {
		switch g {
		case GroupBinary, GroupFP, GroupBN, GroupAlpha:
		default:
			return fmt.Errorf("finetune: config: unknown parameter group %q (want %s, %s, %s or %s)", g, GroupBinary, GroupFP, GroupBN, GroupAlpha)
		}
		if badFloat(m) || m < 0 {
			return fmt.Errorf("finetune: config: group %q learning-rate factor %v, want ≥ 0", g, m)
		}
	}
	return nil
}

// ParseReset parses "hard" or "soft".
func ParseReset(s string) (model.Reset, error) {
	for r := model.ResetHard; r <= model.ResetSoft; r++ {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("finetune: unknown LIF reset %q (want hard or soft)", s)
}

// ParseStat parses "spatial", "channel-spatial" or "none".
func ParseStat(s string) (model.Stat, error) {
	for st := model.StatSpatial; st <= model.StatNone; st++ {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("finetune: unknown AGMM statistic %q (want spatial, channel-spatial or none)", s)
}

// ParseAlphaMode parses "learn", "fixed" or "schedule".
func ParseAlphaMode(s string) (AlphaMode, error) {
	for a := AlphaLearn; a <= AlphaSchedule; a++ {
		if a.String() == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("finetune: unknown AGMM α mode %q (want learn, fixed or schedule)", s)
}

// ParseSurrogate parses "triangle" or "sigmoid".
func ParseSurrogate(s string) (Surrogate, error) {
	for g := SurrogateTriangle; g <= SurrogateSigmoid; g++ {
		if g.String() == s {
			return g, nil
		}
	}
	return 0, fmt.Errorf("finetune: unknown surrogate %q (want triangle or sigmoid)", s)
}

// ParseEncoding parses "direct", "rate" or "events".
func ParseEncoding(s string) (model.Encoding, error) {
	for e := model.EncodingDirect; e <= model.EncodingEvents; e++ {
		if e.String() == s {
			return e, nil
		}
	}
	return 0, fmt.Errorf("finetune: unknown encoding %q (want direct, rate or events)", s)
}

// AGMMString describes the AGMM settings for a model's provenance.
func (c *Config) AGMMString() string {
	a := c.AGMM
	if !a.Enabled && c.Preset != PresetModel {
		return "off"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stat=%v alpha=%v init=%g", a.Stat, a.Alpha, a.AlphaInit)
	if a.Alpha == AlphaSchedule {
		fmt.Fprintf(&b, " end=%g", a.AlphaEnd)
	}
	if a.Detach {
		b.WriteString(" detach")
	}
	return b.String()
}
