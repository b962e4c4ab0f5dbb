// Package convert turns a PyTorch state_dict into a bsnn model: it maps the
// checkpoint's tensors onto a network described by a Spec (a preset or a
// JSON file), folds BatchNorm and binarization scales into per-channel
// affine terms, packs binary weights, optionally quantizes the
// full-precision layers to int8, and reports what it did.
package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// Spec describes a network: layer order, kinds, parameters and the
// state_dict key of every tensor. It is what -spec reads from JSON and what
// each -arch preset builds. The JSON format is documented in SpecHelp.
type Spec struct {
	Name      string      `json:"name,omitempty"`
	Input     InputSpec   `json:"input"`
	Timesteps int         `json:"timesteps,omitempty"`
	LIF       LIFParams   `json:"lif"`
	AGMM      AGMMParams  `json:"agmm"`
	BNEps     float64     `json:"bn_eps,omitempty"`
	Labels    []string    `json:"labels,omitempty"`
	Layers    []LayerSpec `json:"layers"`
}

// InputSpec is the model input: shape C,H,W; per-channel normalization;
// encoding (direct, rate or events).
type InputSpec struct {
	Shape    []int     `json:"shape"`
	Mean     []float64 `json:"mean,omitempty"`
	Std      []float64 `json:"std,omitempty"`
	Encoding string    `json:"encoding,omitempty"`
}

// LIFParams are LIF neuron constants; zero values mean "not given".
type LIFParams struct {
	Lambda *float64 `json:"lambda,omitempty"`
	Vth    *float64 `json:"vth,omitempty"`
	Reset  string   `json:"reset,omitempty"`
}

// AGMMParams are AGMM gate settings.
type AGMMParams struct {
	Stat string `json:"stat,omitempty"` // spatial, channel-spatial or none
}

// LayerSpec is one layer. Which fields apply depends on Op; see SpecHelp.
type LayerSpec struct {
	Name   string   `json:"name"`
	Op     string   `json:"op"`
	Inputs []string `json:"inputs,omitempty"`

	// conv, linear
	Precision string   `json:"precision,omitempty"` // fp or binary
	In        int      `json:"in,omitempty"`
	Out       int      `json:"out,omitempty"`
	Kernel    int      `json:"kernel,omitempty"` // also pools
	Stride    int      `json:"stride,omitempty"` // also pools
	Pad       int      `json:"pad,omitempty"`    // also pools
	Weight    string   `json:"weight,omitempty"`
	Bias      string   `json:"bias,omitempty"`
	BN        string   `json:"bn,omitempty"` // also batchnorm
	BNEps     *float64 `json:"bn_eps,omitempty"`

	// agmm
	Alpha      string   `json:"alpha,omitempty"`
	AlphaValue *float64 `json:"alpha_value,omitempty"`
	Stat       string   `json:"stat,omitempty"`

	// lif
	Lambda *float64 `json:"lambda,omitempty"`
	Vth    *float64 `json:"vth,omitempty"`
	Reset  string   `json:"reset,omitempty"`
}

// SpecHelp documents the JSON spec format (printed by bsnn-convert -help).
const SpecHelp = `JSON spec format (-spec file.json; testdata/mnist.spec.json is an example):

  {
    "name": "mynet",
    "input": {"shape": [C, H, W], "mean": [...], "std": [...], "encoding": "direct"},
    "timesteps": 4,                        T (flag -T overrides; default: AGMM α's length, else 4)
    "lif": {"lambda": 0.5, "vth": 1.0, "reset": "hard"},   defaults for every lif layer
    "agmm": {"stat": "spatial"},           spatial | channel-spatial | none
    "bn_eps": 1e-5,
    "labels": ["cat", "dog"],              optional class names
    "layers": [ {layer}, ... ]             in topological order
  }

Every layer has "name" (unique) and "op", and reads the previous layer unless
"inputs" names its sources ("input" is the model input). Ops and their fields:

  conv       precision ("fp" | "binary"), in, out, kernel, stride (1), pad (0),
             weight (key of [out, in, kernel, kernel]), bias (optional key of [out]),
             bn (optional BatchNorm prefix: <bn>.weight, .bias, .running_mean,
             .running_var; .num_batches_tracked is accepted), bn_eps (optional)
  linear     precision, in, out, weight (key of [out, in]), bias, bn, bn_eps
  batchnorm  bn, bn_eps: a BatchNorm that follows no conv (kept as an affine layer)
  agmm       alpha (key of [T]) or alpha_value (a constant), stat (optional)
  lif        lambda, vth, reset (optional per-layer overrides)
  avgpool    kernel, stride (kernel), pad (0); padding is not counted in the mean
  maxpool    kernel, stride (kernel), pad (0)
  gap        global average pool
  add        inputs: the two layers to add (the Bi-Real shortcut)
  flatten    C×H×W -> vector
  readout    mean over T of its input: the logits; must be last

Binary layers use sign(w) (sign(0) = +1) times the per-output-channel mean |w|;
BN folds into the per-channel scale and bias in float64, rounded once.
`

// ReadSpec parses a JSON spec; unknown fields are errors, so a typo cannot be
// silently ignored.
func ReadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSpec(b)
}

// ParseSpec parses a JSON spec.
func ParseSpec(b []byte) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("spec: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("spec: data after the JSON object")
	}
	return &s, nil
}

// JSON returns the spec as indented JSON.
func (s *Spec) JSON() []byte {
	b, _ := json.MarshalIndent(s, "", " ")
	return append(b, '\n')
}

// Normalize fills defaults (strides, explicit inputs) so two specs that mean
// the same network compare equal.
func (s *Spec) Normalize() {
	prev := "input"
	for i := range s.Layers {
		l := &s.Layers[i]
		if len(l.Inputs) == 0 {
			l.Inputs = []string{prev}
		}
		switch l.Op {
		case "conv":
			if l.Stride == 0 {
				l.Stride = 1
			}
		case "avgpool", "maxpool":
			if l.Stride == 0 {
				l.Stride = l.Kernel
			}
		}
		prev = l.Name
	}
}

// Validate checks the spec's own consistency (names, ops, required fields);
// shapes are checked when the model is built.
func (s *Spec) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if len(s.Input.Shape) != 3 {
		bad("input.shape has %d entries, want [C, H, W]", len(s.Input.Shape))
	}
	switch s.Input.Encoding {
	case "", "direct", "rate", "events":
	default:
		bad("input.encoding %q, want direct, rate or events", s.Input.Encoding)
	}
	checkReset := func(where, r string) {
		if r != "" && r != "hard" && r != "soft" {
			bad("%s reset %q, want hard or soft", where, r)
		}
	}
	checkStat := func(where, st string) {
		if st != "" && st != "spatial" && st != "channel-spatial" && st != "none" {
			bad("%s stat %q, want spatial, channel-spatial or none", where, st)
		}
	}
	checkReset("lif", s.LIF.Reset)
	checkStat("agmm", s.AGMM.Stat)
	if len(s.Layers) == 0 {
		bad("no layers")
	}
	seen := map[string]bool{"input": true}
	for i, l := range s.Layers {
		where := fmt.Sprintf("layer %d (%q)", i, l.Name)
		if l.Name == "" || seen[l.Name] {
			bad("%s: name must be non-empty, unique and not \"input\"", where)
		}
		for _, in := range l.Inputs {
			if !seen[in] {
				bad("%s: input %q is not an earlier layer", where, in)
			}
		}
		seen[l.Name] = true
		wantInputs := 1
		if l.Op == "add" {
			wantInputs = 2
		}
		if len(l.Inputs) > wantInputs || (l.Op == "add" && len(l.Inputs) != 2) {
			bad("%s: %d inputs, want %d", where, len(l.Inputs), wantInputs)
		}
		switch l.Op {
		case "conv", "linear":
			if l.Precision != "fp" && l.Precision != "binary" {
				bad("%s: precision %q, want fp or binary", where, l.Precision)
			}
			if l.In < 1 || l.Out < 1 {
				bad("%s: in and out must be positive", where)
			}
			if l.Weight == "" {
				bad("%s: no weight key", where)
			}
			if l.Op == "conv" && l.Kernel < 1 {
				bad("%s: kernel must be positive", where)
			}
			if l.Op == "linear" && (l.Kernel > 1 || l.Stride > 1 || l.Pad != 0) {
				bad("%s: a linear layer has no kernel, stride or pad", where)
			}
		case "batchnorm":
			if l.BN == "" {
				bad("%s: no bn prefix", where)
			}
		case "agmm":
			if (l.Alpha == "") == (l.AlphaValue == nil) {
				bad("%s: give exactly one of alpha (a key) and alpha_value", where)
			}
			checkStat(where, l.Stat)
		case "lif":
			checkReset(where, l.Reset)
		case "avgpool", "maxpool":
			if l.Kernel < 1 {
				bad("%s: kernel must be positive", where)
			}
		case "gap", "add", "flatten", "readout":
		default:
			bad("%s: unknown op %q (conv, linear, batchnorm, agmm, lif, avgpool, maxpool, gap, add, flatten, readout)", where, l.Op)
		}
		if l.Op == "readout" && i != len(s.Layers)-1 {
			bad("%s: readout must be the last layer", where)
		}
		for _, p := range []*float64{l.BNEps, l.AlphaValue, l.Lambda, l.Vth} {
			if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
				bad("%s: non-finite parameter", where)
			}
		}
	}
	if n := len(s.Layers); n > 0 && s.Layers[n-1].Op != "readout" {
		bad("the last layer must be a readout")
	}
	if len(errs) > 0 {
		return fmt.Errorf("spec %s:\n  %s", s.Name, strings.Join(errs, "\n  "))
	}
	return nil
}
