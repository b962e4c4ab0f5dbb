package arch

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/bsnn/bsnn/model"
)

// Options size a registered architecture for Arch.Build. Zero fields take
// the architecture's defaults.
type Options struct {
	In model.Shape // input shape
	// Widths are the architecture's channel widths in its own order
	// (Arch.Widths holds the defaults and says what they are).
	Widths []int
	// Width multiplies the default widths (round half up, at least 1) when
	// Widths is nil; 0 means 1.
	Width    float64
	Blocks   []int // basic blocks per stage (ResNets only)
	Classes  int
	T        int
	Encoding model.Encoding
	Neuron   Neuron
	// Shortcut is the precision of the ResNets' downsampling 1×1 convs
	// (0: fp32).
	Shortcut model.Precision
}

// Arch is a named network family: its defaults and its builder.
type Arch struct {
	Name    string
	Aliases []string // older names that still select it
	Doc     string   // one line for -help
	In      model.Shape
	Classes int
	T       int
	// Widths are the default channel widths, WidthsDoc what each is.
	Widths    []int
	WidthsDoc string
	// Blocks are the default basic blocks per stage; nil when the
	// architecture has no blocks.
	Blocks []int
	// Mean and Std are the usual input normalization of its data set,
	// applied when the input has In.C channels.
	Mean, Std []float32
	// Dataset is the data set the architecture is sized for.
	Dataset string

	build func(*Arch, Options) (*model.Model, error)
}

var (
	mnistMean, mnistStd       = []float32{0.1307}, []float32{0.3081}
	cifarMean, cifarStd       = []float32{0.4914, 0.4822, 0.4465}, []float32{0.2470, 0.2435, 0.2616}
	imagenetMean, imagenetStd = []float32{0.485, 0.456, 0.406}, []float32{0.229, 0.224, 0.225}
)

// registry lists every architecture, in the order -help shows them.
var registry = []*Arch{
	{
		Name: "mnist", Doc: "MNIST / Fashion-MNIST net: fp conv 32, bconv 64, MP2, bconv 64, MP2, FC",
		In: model.Shape{C: 1, H: 28, W: 28}, Classes: 10, T: 4, Dataset: "mnist",
		Widths: []int{32, 64, 64}, WidthsDoc: "conv1, conv2, conv3",
		Mean: mnistMean, Std: mnistStd,
		build: func(a *Arch, o Options) (*model.Model, error) {
			w := o.Widths
			return MNIST(MNISTConfig{In: o.In, C1: w[0], C2: w[1], C3: w[2], Classes: o.Classes, T: o.T, Encoding: o.Encoding, Neuron: o.Neuron})
		},
	},
	{
		Name: "vgg-small", Aliases: []string{"vgg", "vggsmall"},
		Doc: "VGG-small: fp conv, 5 bconvs in pairs with MP2 after each pair, FC",
		In:  model.Shape{C: 3, H: 32, W: 32}, Classes: 10, T: 2, Dataset: "cifar10",
		Widths: []int{128, 256, 512}, WidthsDoc: "the three conv pairs",
		Mean: cifarMean, Std: cifarStd,
		build: func(a *Arch, o Options) (*model.Model, error) {
			return VGGSmall(VGGSmallConfig{In: o.In, Widths: [3]int(o.Widths), Classes: o.Classes, T: o.T, Encoding: o.Encoding, Neuron: o.Neuron})
		},
	},
	{
		Name: "vgg11", Doc: "VGG-11 BSNN: 64C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-512C3-512C3-GAP-FC",
		In: model.Shape{C: 3, H: 32, W: 32}, Classes: 10, T: 2, Dataset: "cifar10",
		Widths: []int{64, 128, 256, 256, 512, 512, 512, 512}, WidthsDoc: "conv1 … conv8",
		Mean: cifarMean, Std: cifarStd,
		build: func(a *Arch, o Options) (*model.Model, error) {
			return VGG11(VGG11Config{In: o.In, Widths: [8]int(o.Widths), Classes: o.Classes, T: o.T, Encoding: o.Encoding, Neuron: o.Neuron})
		},
	},
	{
		Name: "resnet19", Doc: "Bi-Real ResNet-19 for 32×32: stem 128, 3/3/2 blocks at 128/256/512, GAP, FC",
		In: model.Shape{C: 3, H: 32, W: 32}, Classes: 10, T: 2, Dataset: "cifar10",
		Widths: []int{128, 256, 512}, WidthsDoc: "stages; the stem has the first",
		Blocks: []int{3, 3, 2},
		Mean:   cifarMean, Std: cifarStd,
		build: func(a *Arch, o Options) (*model.Model, error) {
			return ResNet19(ResNet19Config{In: o.In, Widths: [3]int(o.Widths), Blocks: [3]int(o.Blocks), Classes: o.Classes, T: o.T, Encoding: o.Encoding, Neuron: o.Neuron, Shortcut: o.Shortcut})
		},
	},
	{
		Name: "resnet18", Doc: "Bi-Real ResNet-18 for 224×224: stem 7×7/2 64 + MP3/2, 2/2/2/2 blocks at 64…512, GAP, FC",
		In: model.Shape{C: 3, H: 224, W: 224}, Classes: 1000, T: 2, Dataset: "imagenet",
		Widths: []int{64, 128, 256, 512}, WidthsDoc: "stages; the stem has the first",
		Blocks: []int{2, 2, 2, 2},
		Mean:   imagenetMean, Std: imagenetStd,
		build: func(a *Arch, o Options) (*model.Model, error) {
			return ResNet18(ResNet18Config{In: o.In, Widths: [4]int(o.Widths), Blocks: [4]int(o.Blocks), Classes: o.Classes, T: o.T, Encoding: o.Encoding, Neuron: o.Neuron, Shortcut: o.Shortcut})
		},
	},
}

// Names lists the architectures' names (not their aliases) in registry
// order.
func Names() []string {
	n := make([]string, len(registry))
	for i, a := range registry {
		n[i] = a.Name
	}
	return n
}

// All returns every architecture in registry order.
func All() []*Arch { return slices.Clone(registry) }

// Lookup returns the architecture with the given name or alias; the error
// lists the names there are.
func Lookup(name string) (*Arch, error) {
	for _, a := range registry {
		if a.Name == name || slices.Contains(a.Aliases, name) {
			return a, nil
		}
	}
	return nil, fmt.Errorf("arch: unknown architecture %q (want %s)", name, strings.Join(Names(), ", "))
}

// Help describes the architectures, two lines each, for a tool's -help.
func Help() string {
	var b strings.Builder
	for _, a := range registry {
		name := a.Name
		if len(a.Aliases) > 0 {
			name += " (" + strings.Join(a.Aliases, ", ") + ")"
		}
		fmt.Fprintf(&b, "  %s: %s\n      input %v, %d classes, T %d, widths %v (%s)\n", name, a.Doc, a.In, a.Classes, a.T, a.Widths, a.WidthsDoc)
	}
	return b.String()
}

// ScaleWidth is a width multiplier applied to one default width:
// floor(base·m + 0.5), at least 1 (the rule of the PyTorch twins, so both
// sides build the same widths).
func ScaleWidth(base int, m float64) int {
	return max(int(math.Floor(float64(base)*m+0.5)), 1)
}

// Build builds the architecture's graph with neutral weights (see the
// package doc). The input normalization is the architecture's when the
// input has its channel count.
func (a *Arch) Build(o Options) (*model.Model, error) {
	if o.Widths != nil && o.Width != 0 {
		return nil, fmt.Errorf("arch: %s: give widths or a width multiplier, not both", a.Name)
	}
	switch {
	case o.Widths != nil:
		if len(o.Widths) != len(a.Widths) {
			return nil, fmt.Errorf("arch: %s takes %d widths (%s), got %d", a.Name, len(a.Widths), a.WidthsDoc, len(o.Widths))
		}
		if err := checkPos("width", o.Widths...); err != nil {
			return nil, err
		}
	case o.Width != 0:
		if !(o.Width > 0) || o.Width > 64 {
			return nil, fmt.Errorf("arch: %s: width multiplier %v, want a positive number up to 64", a.Name, o.Width)
		}
		o.Widths = make([]int, len(a.Widths))
		for i, w := range a.Widths {
			o.Widths[i] = ScaleWidth(w, o.Width)
		}
	default:
		o.Widths = slices.Clone(a.Widths)
	}
	switch {
	case o.Blocks == nil:
		o.Blocks = slices.Clone(a.Blocks)
	case a.Blocks == nil:
		return nil, fmt.Errorf("arch: %s has no blocks to set", a.Name)
	case len(o.Blocks) != len(a.Blocks):
		return nil, fmt.Errorf("arch: %s takes %d block counts, got %d", a.Name, len(a.Blocks), len(o.Blocks))
	}
	if o.Shortcut != model.PrecisionFloat32 && a.Blocks == nil {
		return nil, fmt.Errorf("arch: %s has no shortcut convs", a.Name)
	}
	if o.In == (model.Shape{}) {
		o.In = a.In
	}
	def(&o.Classes, a.Classes)
	def(&o.T, a.T)
	m, err := a.build(a, o)
	if err != nil {
		return nil, err
	}
	if o.In.C == a.In.C {
		m.Input.Mean, m.Input.Std = slices.Clone(a.Mean), slices.Clone(a.Std)
	}
	m.Provenance.Source = "arch." + a.Name
	return m, nil
}
