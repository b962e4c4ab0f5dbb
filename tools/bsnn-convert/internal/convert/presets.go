package convert

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// The presets mirror tools/pyref/presets.py, which holds the PyTorch
// definitions and is the source of truth for layer order and state_dict key
// names; the parity fixtures check that both build the same spec.

// PresetOptions are the knobs of a preset.
type PresetOptions struct {
	Width   float64 // channel width multiplier (1 = published widths)
	Classes int     // classifier outputs
	Input   []int   // C, H, W; nil = the preset's default
}

// Preset is a named network family.
type Preset struct {
	Name    string
	Doc     string
	Input   []int // default C, H, W
	Classes int   // default classes
	Mean    []float64
	Std     []float64
	layers  func(o PresetOptions) []LayerSpec
}

var (
	mnistMean, mnistStd       = []float64{0.1307}, []float64{0.3081}
	cifarMean, cifarStd       = []float64{0.4914, 0.4822, 0.4465}, []float64{0.2470, 0.2435, 0.2616}
	imagenetMean, imagenetStd = []float64{0.485, 0.456, 0.406}, []float64{0.229, 0.224, 0.225}
)

// Presets are the -arch choices.
var Presets = map[string]*Preset{
	"mnist": {Name: "mnist", Input: []int{1, 28, 28}, Classes: 10, Mean: mnistMean, Std: mnistStd,
		Doc:    "MNIST/Fashion conv net (bsnn-train's mnist): FP conv3x3 32, bconv3x3 64, MP2, bconv3x3 64, MP2, FC",
		layers: mnistLayers},
	"vgg11": {Name: "vgg11", Input: []int{3, 32, 32}, Classes: 10, Mean: cifarMean, Std: cifarStd,
		Doc:    "VGG-11 BSNN 64C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-512C3-512C3-GAP-FC",
		layers: vgg11Layers},
	"resnet19": {Name: "resnet19", Input: []int{3, 32, 32}, Classes: 10, Mean: cifarMean, Std: cifarStd,
		Doc:    "Bi-Real ResNet-19 for 32x32: stem 128, 3/3/2 blocks at 128/256/512, GAP, FC",
		layers: func(o PresetOptions) []LayerSpec { return resnetLayers(o, resnet19) }},
	"resnet18": {Name: "resnet18", Input: []int{3, 224, 224}, Classes: 1000, Mean: imagenetMean, Std: imagenetStd,
		Doc:    "Bi-Real ResNet-18 for 224x224: stem 7x7/2 64 + maxpool, 2/2/2/2 blocks at 64..512, GAP, FC",
		layers: func(o PresetOptions) []LayerSpec { return resnetLayers(o, resnet18) }},
}

// PresetNames lists the presets in a stable order.
func PresetNames() []string {
	var n []string
	for k := range Presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// scaled applies the width multiplier: floor(base·w + 0.5), at least 1 (the
// same rule as presets.py).
func scaled(base int, w float64) int {
	c := int(math.Floor(float64(base)*w + 0.5))
	if c < 1 {
		c = 1
	}
	return c
}

// Spec builds the preset's spec. T, LIF, AGMM and input normalization are
// filled by the caller (flags).
func (p *Preset) Spec(o PresetOptions) (*Spec, error) {
	if !(o.Width > 0) || o.Width > 64 {
		return nil, fmt.Errorf("-width %v, want a positive multiplier", o.Width)
	}
	if o.Classes == 0 {
		o.Classes = p.Classes
	}
	if o.Input == nil {
		o.Input = p.Input
	}
	if len(o.Input) != 3 || o.Input[0] != p.Input[0] {
		return nil, fmt.Errorf("preset %s takes %d input channels, -input gives %v", p.Name, p.Input[0], o.Input)
	}
	if p.Name == "mnist" && (o.Input[1] != 28 || o.Input[2] != 28) {
		return nil, fmt.Errorf("preset mnist takes 28x28 input (its classifier reads a 7x7 map)")
	}
	s := &Spec{
		Name:   p.Name,
		Input:  InputSpec{Shape: append([]int(nil), o.Input...), Mean: p.Mean, Std: p.Std, Encoding: "direct"},
		Layers: p.layers(o),
	}
	return s, nil
}

func convL(name, precision string, in, out, k, stride, pad int, bn, src string) LayerSpec {
	l := LayerSpec{Name: name, Op: "conv", Precision: precision, In: in, Out: out, Kernel: k,
		Stride: stride, Pad: pad, Weight: name + ".weight", BN: bn}
	if src != "" {
		l.Inputs = []string{src}
	}
	return l
}

func fcL(in, out int) LayerSpec {
	return LayerSpec{Name: "fc", Op: "linear", Precision: "fp", In: in, Out: out, Weight: "fc.weight", Bias: "fc.bias"}
}

func agmmL(name string) LayerSpec { return LayerSpec{Name: name, Op: "agmm", Alpha: name + ".alpha"} }

func simple(name, op string) LayerSpec { return LayerSpec{Name: name, Op: op} }

func poolL(name, op string, k, stride, pad int) LayerSpec {
	return LayerSpec{Name: name, Op: op, Kernel: k, Stride: stride, Pad: pad}
}

// mnistLayers is finetune's PresetMNIST layer for layer (names, BN after
// every conv, AGMM after the binary convs only, 2×2 max pools after the LIF so
// the binary convs read spikes), so a net trained by bsnn-train and its
// PyTorch twin (presets.MnistNet) convert to the same model.
func mnistLayers(o PresetOptions) []LayerSpec {
	c1, c2, c3 := scaled(32, o.Width), scaled(64, o.Width), scaled(64, o.Width)
	return []LayerSpec{
		convL("conv1", "fp", 1, c1, 3, 1, 1, "bn1", "input"),
		simple("lif1", "lif"),
		convL("conv2", "binary", c1, c2, 3, 1, 1, "bn2", ""),
		agmmL("agmm2"),
		simple("lif2", "lif"),
		poolL("pool2", "maxpool", 2, 2, 0),
		convL("conv3", "binary", c2, c3, 3, 1, 1, "bn3", ""),
		agmmL("agmm3"),
		simple("lif3", "lif"),
		poolL("pool3", "maxpool", 2, 2, 0),
		simple("flatten", "flatten"),
		fcL(c3*7*7, o.Classes),
		simple("readout", "readout"),
	}
}

// vgg11Cfg: output channels, 0 = AP2 after the previous conv's LIF.
var vgg11Cfg = []int{64, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512}

func vgg11Layers(o PresetOptions) []LayerSpec {
	var ls []LayerSpec
	cin, i := o.Input[0], 0
	for _, v := range vgg11Cfg {
		if v == 0 {
			ls = append(ls, poolL(fmt.Sprintf("pool%d", i), "avgpool", 2, 2, 0))
			continue
		}
		i++
		c := scaled(v, o.Width)
		name := fmt.Sprintf("conv%d", i)
		if i == 1 {
			ls = append(ls, convL(name, "fp", cin, c, 3, 1, 1, "bn1", "input"))
		} else {
			ls = append(ls, convL(name, "binary", cin, c, 3, 1, 1, fmt.Sprintf("bn%d", i), ""),
				agmmL(fmt.Sprintf("agmm%d", i)))
		}
		ls = append(ls, simple(fmt.Sprintf("lif%d", i), "lif"))
		cin = c
	}
	return append(ls, simple("gap", "gap"), fcL(cin, o.Classes), simple("readout", "readout"))
}

type resnetCfg struct {
	stemK, stemStride, stemPad, stemC int
	maxpool                           bool
	widths, blocks, strides           []int
}

var (
	resnet19 = resnetCfg{3, 1, 1, 128, false, []int{128, 256, 512}, []int{3, 3, 2}, []int{1, 2, 2}}
	resnet18 = resnetCfg{7, 2, 3, 64, true, []int{64, 128, 256, 512}, []int{2, 2, 2, 2}, []int{1, 2, 2, 2}}
)

func resnetLayers(o PresetOptions, cfg resnetCfg) []LayerSpec {
	c0 := scaled(cfg.stemC, o.Width)
	ls := []LayerSpec{
		convL("conv1", "fp", o.Input[0], c0, cfg.stemK, cfg.stemStride, cfg.stemPad, "bn1", "input"),
		simple("lif1", "lif"),
	}
	src := "lif1"
	if cfg.maxpool {
		ls = append(ls, poolL("maxpool", "maxpool", 3, 2, 1))
		src = "maxpool"
	}
	cin := c0
	for s, w := range cfg.widths {
		c := scaled(w, o.Width)
		for b := 0; b < cfg.blocks[s]; b++ {
			stride := 1
			if b == 0 {
				stride = cfg.strides[s]
			}
			var blk []LayerSpec
			blk, src = basicBlock(fmt.Sprintf("layer%d.%d.", s+1, b), src, cin, c, stride)
			ls = append(ls, blk...)
			cin = c
		}
	}
	return append(ls, simple("gap", "gap"), fcL(cin, o.Classes), simple("readout", "readout"))
}

// basicBlock is a Bi-Real basic block: two binary convs, each with its own
// shortcut added after its AGMM gate and before its LIF; the first shortcut
// downsamples (AvgPool2 if strided, FP 1x1 conv, BN) when the shape changes.
func basicBlock(p, src string, cin, cout, stride int) ([]LayerSpec, string) {
	var ls []LayerSpec
	for i := 1; i <= 2; i++ {
		in, s := cout, 1
		if i == 1 {
			in, s = cin, stride
		}
		n := func(x string) string { return fmt.Sprintf("%s%s%d", p, x, i) }
		ls = append(ls, convL(n("conv"), "binary", in, cout, 3, s, 1, n("bn"), src), agmmL(n("agmm")))
		short := src
		if i == 1 && (stride != 1 || cin != cout) {
			d := p + "downsample."
			dsrc := src
			if stride > 1 {
				ls = append(ls, LayerSpec{Name: d + "pool", Op: "avgpool", Kernel: stride, Stride: stride, Inputs: []string{src}})
				dsrc = d + "pool"
			}
			ls = append(ls, convL(d+"conv", "fp", cin, cout, 1, 1, 0, d+"bn", dsrc))
			short = d + "conv"
		}
		ls = append(ls, LayerSpec{Name: n("add"), Op: "add", Inputs: []string{n("agmm"), short}}, simple(n("lif"), "lif"))
		src = n("lif")
	}
	return ls, src
}

// PresetList describes the presets for -help.
func PresetList() string {
	var b strings.Builder
	for _, n := range PresetNames() {
		p := Presets[n]
		fmt.Fprintf(&b, "  %-9s %s (input %dx%dx%d, %d classes)\n", n, p.Doc, p.Input[0], p.Input[1], p.Input[2], p.Classes)
	}
	return b.String()
}
