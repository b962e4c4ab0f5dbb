package finetune

import (
	"fmt"
	"slices"

	"github.com/bsnn/bsnn/model"
)

// nodeSpec describes one node of the training graph. The graph mirrors model.Model
// layer for layer (a conv or linear layer's BatchNorm is part of its node and
// is folded into the exported layer's Scale/Bias), so Export and FromModel
// map indices one to one. Checkpoints record the specs as the architecture.
type nodeSpec struct {
	Op     model.Op `json:"op"`
	Name   string   `json:"name"`
	Inputs []int    `json:"inputs"` // model.InputIndex for the network input

	// Conv2D and Linear (Linear: KH = KW = Stride = 1, Pad = 0).
	Binary    bool `json:"binary,omitempty"`
	InC       int  `json:"in_c,omitempty"`
	OutC      int  `json:"out_c,omitempty"`
	KH        int  `json:"kh,omitempty"`
	KW        int  `json:"kw,omitempty"`
	Stride    int  `json:"stride,omitempty"`
	Pad       int  `json:"pad,omitempty"`
	BatchNorm bool `json:"bn,omitempty"`   // followed by BatchNorm (conv/linear)
	Bias      bool `json:"bias,omitempty"` // has a bias (conv/linear without BN)

	// AvgPool / MaxPool window (Stride and Pad above).
	Kernel int `json:"kernel,omitempty"`

	// LIF.
	Lambda float32     `json:"lambda,omitempty"`
	Vth    float32     `json:"vth,omitempty"`
	Reset  model.Reset `json:"reset,omitempty"`

	// AGMM.
	Stat model.Stat `json:"stat,omitempty"`
}

// Describe returns a one-line description of the spec, used in error
// messages about mismatched architectures.
func (s *nodeSpec) Describe() string {
	switch s.Op {
	case model.OpConv2D:
		prec := "fp32"
		if s.Binary {
			prec = "binary"
		}
		return fmt.Sprintf("%s %s conv %d→%d %d×%d/%d pad %d bn=%v bias=%v inputs %v", s.Name, prec, s.InC, s.OutC, s.KH, s.KW, s.Stride, s.Pad, s.BatchNorm, s.Bias, s.Inputs)
	case model.OpLinear:
		prec := "fp32"
		if s.Binary {
			prec = "binary"
		}
		return fmt.Sprintf("%s %s linear %d→%d bn=%v bias=%v inputs %v", s.Name, prec, s.InC, s.OutC, s.BatchNorm, s.Bias, s.Inputs)
	case model.OpAvgPool, model.OpMaxPool:
		return fmt.Sprintf("%s %v %d/%d pad %d inputs %v", s.Name, s.Op, s.Kernel, s.Stride, s.Pad, s.Inputs)
	case model.OpLIF:
		return fmt.Sprintf("%s lif λ=%g vth=%g %v inputs %v", s.Name, s.Lambda, s.Vth, s.Reset, s.Inputs)
	case model.OpAGMM:
		return fmt.Sprintf("%s agmm %v inputs %v", s.Name, s.Stat, s.Inputs)
	}
	return fmt.Sprintf("%s %v inputs %v", s.Name, s.Op, s.Inputs)
}

// sameSpec reports whether two specs describe the same layer.
func sameSpec(a, b *nodeSpec) bool {
	return slices.Equal(a.Inputs, b.Inputs) && a.Op == b.Op && a.Name == b.Name && a.Binary == b.Binary && a.InC == b.InC && a.OutC == b.OutC &&
		a.KH == b.KH && a.KW == b.KW && a.Stride == b.Stride && a.Pad == b.Pad && a.BatchNorm == b.BatchNorm &&
		a.Bias == b.Bias && a.Kernel == b.Kernel && a.Lambda == b.Lambda && a.Vth == b.Vth && a.Reset == b.Reset && a.Stat == b.Stat
}
