package finetune

// Param is one trainable tensor.
type Param struct {
	// Name is "<layer>.<what>", e.g. "conv2.weight", "conv2.bn.bias",
	// "agmm2.alpha".
	Name string
	// Group is GroupBinary, GroupFP, GroupBN or GroupAlpha.
	Group string
	// Shape is the tensor shape (PyTorch order for weights).
	Shape []int
	// Data holds the values (latent float weights for binary layers); Grad
	// the gradient of the last TrainStep.
	Data, Grad []float32
	// Frozen parameters are not updated (OptimConfig.TrainLast, or a fixed
	// α).
	Frozen bool
	// Node is the index of the layer that owns the parameter.
	Node int

	decay bool // subject to weight decay
}

func newParam(name, group string, node int, decay bool, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{
		Name: name, Group: group, Shape: shape, Node: node, decay: decay,
		Data: make([]float32, n), Grad: make([]float32, n),
	}
}
