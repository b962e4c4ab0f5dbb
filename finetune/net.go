package finetune

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// layer is one node's computation.
type layer interface {
	// forward computes out from in. Training forwards keep what backward
	// needs when p.needGrad is set.
	forward(p *pass, in []*tensor, out *tensor) error
	// backward adds the gradient w.r.t. each input to din[i] (nil where no
	// gradient is needed) and the parameter gradients to their Grad.
	backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32)
	params() []*Param
}

// pass is the context of one forward or backward pass.
type pass struct {
	train    bool
	needGrad bool // this node's backward will run
	T, B     int
	w        workers
	k        *bitops.Kernels
	buf      *bufPool // backward scratch
}

// Net is a trainable binary spiking network: a graph of layers that mirrors
// model.Model layer for layer. A Net is not safe for concurrent use.
type Net struct {
	cfg    Config
	specs  []nodeSpec
	layers []layer
	shapes []model.Shape
	outs   []tensor
	grads  [][]float32
	ins    [][]*tensor
	params []*Param
	up     []bool  // node i or a node before it has trainable parameters
	input  *tensor // a pointer: layers hold it, and Restore copies the Net
	w      workers

	step         int64
	epoch, batch int       // the trainer's position (Position)
	rng          *rand.PCG // rate encoder; its state is checkpointed

	// Meta is free-form metadata saved in and restored from checkpoints
	// (the command line tool keeps its run description there).
	Meta map[string]string
	opt  *optimizer

	lifs, bins, gates []int // node indices, for the statistics
	dlogits           []float32
	pool              bufPool
}

// NewNet builds a preset network (cfg.Preset) with freshly initialized
// weights drawn from cfg.Seed.
func NewNet(cfg Config) (*Net, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := archGraph(&c)
	if err != nil {
		return nil, err
	}
	n, err := buildNet(c, graphSpecs(m, true))
	if err != nil {
		return nil, err
	}
	n.initWeights()
	return n, nil
}

// buildNet builds the graph of specs; weights are zero (BN γ 1).
func buildNet(cfg Config, specs []nodeSpec) (*Net, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	T := cfg.Input.Timesteps
	n := &Net{
		cfg: cfg, specs: specs, w: workers{cfg.Threads},
		layers: make([]layer, len(specs)), shapes: make([]model.Shape, len(specs)),
		outs: make([]tensor, len(specs)), grads: make([][]float32, len(specs)), ins: make([][]*tensor, len(specs)),
		up: make([]bool, len(specs)), input: &tensor{},
		rng: rand.NewPCG(cfg.Seed, 0x6273_6e6e_7261_7465),
	}
	if len(specs) == 0 || specs[len(specs)-1].Op != model.OpReadout {
		return nil, errors.New("finetune: the network must end with a readout layer")
	}
	for i := range specs {
		s := &specs[i]
		fail := func(err error) (*Net, error) {
			return nil, fmt.Errorf("finetune: layer %d (%s %s): %w", i, s.Op, s.Name, err)
		}
		want := 1
		if s.Op == model.OpAdd {
			want = 2
		}
		if len(s.Inputs) != want {
			return fail(fmt.Errorf("has %d inputs, want %d", len(s.Inputs), want))
		}
		in := make([]model.Shape, len(s.Inputs))
		n.ins[i] = make([]*tensor, len(s.Inputs))
		for k, src := range s.Inputs {
			switch {
			case src == model.InputIndex:
				in[k] = cfg.Input.Shape
				n.ins[i][k] = n.input
			case src >= 0 && src < i:
				in[k] = n.shapes[src]
				n.ins[i][k] = &n.outs[src]
			default:
				return fail(fmt.Errorf("reads layer %d; a layer reads the input (-1) or an earlier layer", src))
			}
		}
		if s.Op == model.OpReadout && i != len(specs)-1 {
			return fail(errors.New("the readout must be the last layer"))
		}
		var l layer
		out := in[0]
		switch s.Op {
		case model.OpConv2D, model.OpLinear:
			var c *convNode
			if c, out, err = newConv(s, i, in[0], &cfg); err != nil {
				return fail(err)
			}
			l = c
			if s.Binary {
				n.bins = append(n.bins, i)
			}
		case model.OpAffine:
			l = &affineNode{shape: in[0], bn: newBatchNorm(in[0].C, s.Name, i, &cfg)}
		case model.OpAGMM:
			if s.Stat > model.StatNone {
				return fail(fmt.Errorf("unknown AGMM statistic %d", s.Stat))
			}
			l = newAGMM(s, i, in[0], T, &cfg)
			n.gates = append(n.gates, i)
		case model.OpLIF:
			if s.Reset > model.ResetSoft || badFloat(s.Lambda) || s.Lambda < 0 || s.Lambda > 1 || !(s.Vth > 0) || badFloat(s.Vth) {
				return fail(fmt.Errorf("bad LIF parameters λ=%v V_th=%v reset=%d", s.Lambda, s.Vth, s.Reset))
			}
			l = newLIF(s, in[0], &cfg)
			n.lifs = append(n.lifs, i)
		case model.OpAvgPool, model.OpMaxPool:
			var pl *poolNode
			if pl, out, err = newPool(s, in[0]); err != nil {
				return fail(err)
			}
			l = pl
		case model.OpGlobalAvgPool:
			l = &gapNode{inS: in[0]}
			out = model.Shape{C: in[0].C, H: 1, W: 1}
		case model.OpAdd:
			if in[0] != in[1] {
				return fail(fmt.Errorf("adds %v to %v", in[0], in[1]))
			}
			l = &addNode{shape: in[0]}
		case model.OpFlatten:
			l = &flattenNode{inS: in[0]}
			out = model.Shape{C: in[0].Size(), H: 1, W: 1}
		case model.OpReadout:
			if in[0].H != 1 || in[0].W != 1 {
				return fail(fmt.Errorf("reads a %v map, want a vector", in[0]))
			}
			if in[0].C != cfg.Classes {
				return fail(fmt.Errorf("reads %d logits for %d classes", in[0].C, cfg.Classes))
			}
			l = &readoutNode{k: in[0].C}
		default:
			return fail(fmt.Errorf("unsupported layer kind"))
		}
		n.layers[i] = l
		n.shapes[i] = out
		n.params = append(n.params, l.params()...)
	}
	n.applyFreeze()
	n.opt = newOptimizer(&n.cfg.Optim, n.params)
	return n, nil
}

// applyFreeze freezes everything outside the first TrainFirst and the last
// TrainLast conv/linear layers (nothing when both are 0) and works out
// which nodes need gradients.
func (n *Net) applyFreeze() {
	last, first := n.cfg.Optim.TrainLast, n.cfg.Optim.TrainFirst
	var convs []int // node indices of the conv/linear layers, in order
	for i, s := range n.specs {
		if s.Op == model.OpConv2D || s.Op == model.OpLinear {
			convs = append(convs, i)
		}
	}
	trained := func(node int) bool {
		if last == 0 && first == 0 {
			return true
		}
		if last > 0 && (last >= len(convs) || node >= convs[len(convs)-last]) {
			return true
		}
		return first > 0 && (first >= len(convs) || node < convs[first])
	}
	for _, p := range n.params {
		p.Frozen = !trained(p.Node)
		if p.Group == GroupAlpha && n.cfg.AGMM.Alpha != AlphaLearn {
			p.Frozen = true
		}
	}
	for i, l := range n.layers {
		for _, p := range l.params() {
			if !p.Frozen {
				n.up[i] = true
			}
		}
		for _, src := range n.specs[i].Inputs {
			if src >= 0 && n.up[src] {
				n.up[i] = true
			}
		}
	}
}

// initWeights draws every conv/linear weight and bias from
// U(−1/√fan_in, 1/√fan_in), PyTorch's default initialization, in layer order.
func (n *Net) initWeights() {
	r := rand.New(rand.NewPCG(n.cfg.Seed, 0x6273_6e6e_696e_6974))
	for _, l := range n.layers {
		c, ok := l.(*convNode)
		if !ok {
			continue
		}
		bound := 1 / math.Sqrt(float64(c.j))
		for i := range c.w.Data {
			c.w.Data[i] = float32((2*r.Float64() - 1) * bound)
		}
		if c.bias != nil {
			for i := range c.bias.Data {
				c.bias.Data[i] = float32((2*r.Float64() - 1) * bound)
			}
		}
	}
}

// Config returns the network's configuration (with defaults filled in).
func (n *Net) Config() Config { return n.cfg }

// NumLayers returns the number of layers (nodes) of the network: that of
// the model Export writes.
func (n *Net) NumLayers() int { return len(n.specs) }

// Params returns every parameter in layer order.
func (n *Net) Params() []*Param { return n.params }

// Step returns the number of training steps taken.
func (n *Net) Step() int64 { return n.step }

// SetThreads changes the number of goroutines (results do not change).
func (n *Net) SetThreads(t int) {
	n.cfg.Threads = max(t, 1)
	n.w = workers{n.cfg.Threads}
}

// InputLen returns the number of floats one sample takes: C·H·W, or
// T·C·H·W for event input ([T][C][H][W]).
func (n *Net) InputLen() int {
	s := n.cfg.Input.Shape.Size()
	if n.cfg.Input.Encoding == model.EncodingEvents {
		s *= n.cfg.Input.Timesteps
	}
	return s
}

// encode turns B samples (each InputLen() floats, pixel values in [0,1] or
// event frames) into the input tensor.
func (n *Net) encode(x []float32, B int) error {
	in := n.cfg.Input
	T, size := in.Timesteps, in.Shape.Size()
	if B < 1 {
		return errors.New("finetune: empty batch")
	}
	if len(x) != B*n.InputLen() {
		return fmt.Errorf("finetune: input holds %d values, %d samples of %d (%v, %v encoding) need %d", len(x), B, n.InputLen(), in.Shape, in.Encoding, B*n.InputLen())
	}
	t := n.input
	switch in.Encoding {
	case model.EncodingDirect:
		t.reshape(T, B, true, in.Shape, false)
		hw := in.Shape.H * in.Shape.W
		for b := 0; b < B; b++ {
			for c := 0; c < in.Shape.C; c++ {
				mean, std := float32(0), float32(1)
				if len(in.Mean) > 0 {
					mean = in.Mean[c]
				}
				if len(in.Std) > 0 {
					std = in.Std[c]
				}
				o := b*size + c*hw
				for i, v := range x[o : o+hw] {
					t.data[o+i] = (v - mean) / std
				}
			}
		}
	case model.EncodingRate:
		t.reshape(T, B, false, in.Shape, true)
		t.binary = true
		for tt := 0; tt < T; tt++ {
			for b := 0; b < B; b++ {
				row := t.row(tt*B + b)
				for i, v := range x[b*size : (b+1)*size] {
					row[i] = 0
					if float32(n.rng.Uint64()>>40)*0x1p-24 < v {
						row[i] = 1
					}
				}
				packRow(t.rowBits(tt*B+b), row, in.Shape)
			}
		}
	case model.EncodingEvents:
		t.reshape(T, B, false, in.Shape, true)
		t.binary = true
		for tt := 0; tt < T; tt++ {
			for b := 0; b < B; b++ {
				row := t.row(tt*B + b)
				copy(row, x[(b*T+tt)*size:(b*T+tt+1)*size])
				for _, v := range row {
					if v != 0 && v != 1 {
						t.binary = false
					}
				}
			}
		}
		if t.binary {
			for r := 0; r < T*B; r++ {
				packRow(t.rowBits(r), t.row(r), in.Shape)
			}
		} else {
			t.bits = nil
		}
	}
	return nil
}

// forward runs every layer.
func (n *Net) forward(x []float32, B int, train bool) error {
	if err := n.encode(x, B); err != nil {
		return err
	}
	p := &pass{train: train, T: n.cfg.Input.Timesteps, B: B, w: n.w, k: n.cfg.Kernels}
	for i, l := range n.layers {
		p.needGrad = train && n.up[i]
		if err := l.forward(p, n.ins[i], &n.outs[i]); err != nil {
			return fmt.Errorf("finetune: layer %d (%s): %w", i, n.specs[i].Name, err)
		}
	}
	return nil
}

// logits returns the last forward's logits, [B][classes].
func (n *Net) logits() []float32 { return n.outs[len(n.outs)-1].data }

// crossEntropy returns the mean cross-entropy of the logits, the number of
// correct predictions (argmax, first on ties) and, if dz is not nil, writes
// dL/dlogits into it.
func crossEntropy(z []float32, k int, labels []int, dz []float32) (loss float64, correct int) {
	B := len(labels)
	for b, y := range labels {
		row := z[b*k : (b+1)*k]
		m, arg := row[0], 0
		for j, v := range row {
			if v > m {
				m, arg = v, j
			}
		}
		if arg == y {
			correct++
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v - m))
		}
		lse := float64(m) + math.Log(s)
		loss += lse - float64(row[y])
		if dz != nil {
			for j, v := range row {
				g := math.Exp(float64(v)-lse) / float64(B)
				if j == y {
					g -= 1 / float64(B)
				}
				dz[b*k+j] = float32(g)
			}
		}
	}
	return loss / float64(B), correct
}

func (n *Net) checkLabels(labels []int) error {
	for i, y := range labels {
		if y < 0 || y >= n.cfg.Classes {
			return fmt.Errorf("finetune: label %d of sample %d is out of range for %d classes", y, i, n.cfg.Classes)
		}
	}
	return nil
}

// NonFiniteError reports a NaN or Inf in training. The weights are not
// updated by the step that raises it.
type NonFiniteError struct {
	Step  int64  // the step (counted from 0) that failed
	What  string // "loss" or "the gradient of <param>"
	Layer int    // the layer where the first non-finite value appears; -1 if none
	Name  string // that layer's name
	Where string // "output" or "output gradient"
}

func (e *NonFiniteError) Error() string {
	if e.Layer < 0 {
		return fmt.Sprintf("finetune: step %d: %s is not finite (every layer's output and gradient is finite: the logits overflowed the loss)", e.Step, e.What)
	}
	return fmt.Sprintf("finetune: step %d: %s is not finite; the first non-finite value appears in the %s of layer %d (%s)", e.Step, e.What, e.Where, e.Layer, e.Name)
}

func finite32(xs []float32) bool {
	for _, v := range xs {
		if v-v != 0 {
			return false
		}
	}
	return true
}

// firstNonFinite returns the first layer whose output holds a NaN or Inf.
func (n *Net) firstNonFinite() int {
	for i := range n.outs {
		o := &n.outs[i]
		if !finite32(o.data[:o.rows()*o.size()]) {
			return i
		}
	}
	return -1
}

// backward propagates dL/dlogits (in n.dlogits) through the graph. Output
// gradients live in pooled buffers from the first consumer that writes one
// to the end of its node's backward, so only a few are alive at a time;
// with keep set they all stay (to locate a non-finite value).
func (n *Net) backward(B int, keep bool) {
	p := &pass{train: true, needGrad: true, T: n.cfg.Input.Timesteps, B: B, w: n.w, k: n.cfg.Kernels, buf: &n.pool}
	for _, q := range n.params {
		clear(q.Grad)
	}
	for i, g := range n.grads {
		if g != nil {
			n.pool.put(g)
			n.grads[i] = nil
		}
	}
	grad := func(i int) []float32 {
		if n.grads[i] == nil {
			o := &n.outs[i]
			n.grads[i] = n.pool.get(o.rows()*o.size(), true)
		}
		return n.grads[i]
	}
	last := len(n.layers) - 1
	copy(grad(last), n.dlogits)
	din := make([][]float32, 2)
	for i := last; i >= 0; i-- {
		if !n.up[i] {
			continue
		}
		din = din[:len(n.specs[i].Inputs)]
		for k, src := range n.specs[i].Inputs {
			din[k] = nil
			if src >= 0 && n.up[src] {
				din[k] = grad(src)
			}
		}
		n.layers[i].backward(p, n.ins[i], &n.outs[i], grad(i), din)
		if !keep {
			n.pool.put(n.grads[i])
			n.grads[i] = nil
		}
	}
}

// bufPool recycles float buffers between steps: steady-state training
// allocates nothing.
type bufPool struct{ free [][]float32 }

// get returns a buffer of n floats, zeroed if zero is set.
func (b *bufPool) get(n int, zero bool) []float32 {
	best := -1
	for i, f := range b.free {
		if cap(f) >= n && (best < 0 || cap(f) < cap(b.free[best])) {
			best = i
		}
	}
	var f []float32
	if best < 0 {
		f = make([]float32, n)
	} else {
		f = b.free[best][:n]
		b.free[best] = b.free[len(b.free)-1]
		b.free = b.free[:len(b.free)-1]
		if zero {
			clear(f)
		}
	}
	return f
}

// put returns a buffer to the pool.
func (b *bufPool) put(f []float32) { b.free = append(b.free, f[:cap(f)]) }

// batchNorms returns every BatchNorm with its layer index.
func (n *Net) batchNorms() (idx []int, bns []*batchNorm) {
	for i, l := range n.layers {
		switch l := l.(type) {
		case *convNode:
			if l.bn != nil {
				idx, bns = append(idx, i), append(bns, l.bn)
			}
		case *affineNode:
			idx, bns = append(idx, i), append(bns, l.bn)
		}
	}
	return idx, bns
}

// runningStat returns the running statistic "<layer>.bn.running_mean" or
// "<layer>.bn.running_var", or nil.
func (n *Net) runningStat(name string) []float32 {
	idx, bns := n.batchNorms()
	for k, i := range idx {
		switch name {
		case n.specs[i].Name + ".bn.running_mean":
			return bns[k].runMean
		case n.specs[i].Name + ".bn.running_var":
			return bns[k].runVar
		}
	}
	return nil
}
