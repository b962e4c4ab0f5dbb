package arch

import (
	"strings"

	"github.com/bsnn/bsnn/model"
)

// Keys are the PyTorch state_dict keys of one layer of a built net: the
// module names of the PyTorch twins these nets are trained as, which are the
// layer names with the usual suffixes.
//
// In training, every conv of a built net is followed by a BatchNorm and
// every linear layer has a bias instead; both fold into the layer's Scale
// and Bias. The BatchNorm of "<prefix>conv<k>" is "<prefix>bn<k>" (so
// "layer2.0.downsample.conv" has "layer2.0.downsample.bn"), as torchvision
// and Bi-Real code name them.
type Keys struct {
	Weight string // conv or linear weight: [out, in, kh, kw] or [out, in]
	Bias   string // linear bias [out]; "" for convs
	// BN is the BatchNorm prefix of a conv: BN+".weight", ".bias",
	// ".running_mean", ".running_var" (and ".num_batches_tracked").
	BN    string
	Alpha string // AGMM α [T]
}

// StateDictKeys returns the keys of layer l; layers without parameters have
// none.
func StateDictKeys(l *model.Layer) Keys {
	switch l.Op {
	case model.OpConv2D:
		return Keys{Weight: l.Name + ".weight", BN: BatchNormName(l.Name)}
	case model.OpLinear:
		return Keys{Weight: l.Name + ".weight", Bias: l.Name + ".bias"}
	case model.OpAGMM:
		return Keys{Alpha: l.Name + ".alpha"}
	}
	return Keys{}
}

// BatchNormName is the name of the BatchNorm that follows the conv named
// conv: its last "conv" becomes "bn" ("conv2" → "bn2", "layer1.0.conv1" →
// "layer1.0.bn1"), or ".bn" is appended when the name has no "conv".
func BatchNormName(conv string) string {
	i := strings.LastIndex(conv, "conv")
	if i < 0 {
		return conv + ".bn"
	}
	return conv[:i] + "bn" + conv[i+len("conv"):]
}
