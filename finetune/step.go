package finetune

import (
	"fmt"
	"math"
)

// StepStats is what one training step measured.
type StepStats struct {
	Step    int64   // the step's index, counted from 0
	LR      float32 // base learning rate used (before group factors)
	Loss    float64 // mean cross-entropy over the batch
	Correct int     // correctly classified samples (argmax of the T-mean logits)
	Samples int     // batch size
	// Firing[i] is the fraction of neurons × steps that spiked in LIF layer
	// i (LIFNames order).
	Firing []float64
	// Flips[i] is the fraction of binary layer i's weights (BinaryNames
	// order) whose sign this step's update changed.
	Flips []float64
	// GradMean and GradStd are the mean and standard deviation of binary
	// layer i's latent-weight gradient.
	GradMean, GradStd []float64
	// Alpha[i] holds AGMM gate i's α[t] after the update (GateNames order).
	Alpha [][]float32
}

// LIFNames returns the names of the LIF layers, the order of
// StepStats.Firing.
func (n *Net) LIFNames() []string { return n.names(n.lifs) }

// BinaryNames returns the names of the binary layers, the order of
// StepStats.Flips, GradMean and GradStd.
func (n *Net) BinaryNames() []string { return n.names(n.bins) }

// GateNames returns the names of the AGMM gates, the order of
// StepStats.Alpha.
func (n *Net) GateNames() []string { return n.names(n.gates) }

func (n *Net) names(idx []int) []string {
	s := make([]string, len(idx))
	for i, j := range idx {
		s[i] = n.specs[j].Name
	}
	return s
}

// firing returns the firing rate of every LIF layer in the last forward.
func (n *Net) firing() []float64 {
	f := make([]float64, len(n.lifs))
	for i, j := range n.lifs {
		l := n.layers[j].(*lifNode)
		o := &n.outs[j]
		f[i] = float64(l.spikes) / float64(o.rows()*o.size())
	}
	return f
}

// TrainStep runs one training step on a batch: x holds len(labels)
// samples of InputLen() floats (pixel values in [0,1] for direct and rate
// encoding, [T][C][H][W] event frames for event input). It returns what the
// step measured. A NaN or Inf in the loss or a gradient returns a
// *NonFiniteError and leaves the weights untouched.
func (n *Net) TrainStep(x []float32, labels []int) (StepStats, error) {
	B := len(labels)
	if err := n.checkLabels(labels); err != nil {
		return StepStats{}, err
	}
	n.setProgress()
	// A failed step changes nothing: the generator is rewound and the
	// BatchNorm running statistics are only committed at the end.
	rng, err := n.rng.MarshalBinary()
	if err != nil {
		return StepStats{}, err
	}
	fail := func(err error) (StepStats, error) {
		_ = n.rng.UnmarshalBinary(rng)
		_, bns := n.batchNorms()
		for _, b := range bns {
			b.pending = false
		}
		return StepStats{}, err
	}
	if err := n.forward(x, B, true); err != nil {
		return fail(fmt.Errorf("step %d: %w", n.step, err))
	}
	k := n.cfg.Classes
	n.dlogits = grow(n.dlogits, B*k)
	loss, correct := crossEntropy(n.logits(), k, labels, n.dlogits)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fail(n.nonFinite("loss"))
	}
	n.backward(B, false)
	for _, p := range n.params {
		if !p.Frozen && !finite32(p.Grad) {
			n.backward(B, true) // again, keeping every gradient, to find the layer
			return fail(n.nonFinite("the gradient of " + p.Name))
		}
	}
	n.commitStats()
	st := StepStats{Step: n.step, Loss: loss, Correct: correct, Samples: B, Firing: n.firing()}
	st.GradMean, st.GradStd = n.binaryGradStats()
	st.LR = n.cfg.Optim.lrAt(n.step)
	n.opt.update(&n.cfg.Optim, n.params, st.LR, n.w)
	st.Flips = n.flips()
	st.Alpha = n.Alphas()
	n.step++
	return st, nil
}

// commitStats updates the BatchNorm running statistics with the batch
// statistics of the last training forward.
func (n *Net) commitStats() {
	_, bns := n.batchNorms()
	for _, b := range bns {
		b.commit()
	}
}

// nonFinite builds the error for a NaN or Inf in the loss or a gradient:
// it names the first layer, in forward order, whose output is not finite,
// or, if every output is finite, the last layer whose output gradient is
// not (where the backward pass produced it).
func (n *Net) nonFinite(what string) error {
	e := &NonFiniteError{Step: n.step, What: what, Layer: n.firstNonFinite(), Where: "output"}
	if e.Layer < 0 {
		e.Where = "output gradient"
		for i := len(n.grads) - 1; i >= 0; i-- {
			if n.up[i] && n.grads[i] != nil && !finite32(n.grads[i]) {
				e.Layer = i
				break
			}
		}
	}
	if e.Layer >= 0 {
		e.Name = n.specs[e.Layer].Name
	}
	return e
}

// setProgress moves scheduled AGMM α values to the current step.
func (n *Net) setProgress() {
	f := 1.0
	if t := n.cfg.Optim.TotalSteps; t > 0 {
		f = math.Min(float64(n.step)/float64(t), 1)
	}
	for _, j := range n.gates {
		n.layers[j].(*agmmNode).setProgress(f, &n.cfg.AGMM)
	}
}

// binaryGradStats returns the mean and standard deviation of each binary
// layer's latent-weight gradient.
func (n *Net) binaryGradStats() (mean, std []float64) {
	mean = make([]float64, len(n.bins))
	std = make([]float64, len(n.bins))
	for i, j := range n.bins {
		g := n.layers[j].(*convNode).w.Grad
		var s, ss float64
		for _, v := range g {
			s += float64(v)
		}
		m := s / float64(len(g))
		for _, v := range g {
			d := float64(v) - m
			ss += d * d
		}
		mean[i], std[i] = m, math.Sqrt(ss/float64(len(g)))
	}
	return mean, std
}

// flips returns, per binary layer, the fraction of weights whose sign
// differs from the packed signs the last forward used.
func (n *Net) flips() []float64 {
	f := make([]float64, len(n.bins))
	for i, j := range n.bins {
		c := n.layers[j].(*convNode)
		f[i] = float64(c.signChanges(c.wbits)) / float64(len(c.w.Data))
	}
	return f
}

// signChanges counts the weights whose current sign differs from the packed
// signs in bits (laid out as prepare packs them: bit k·InC+c of row o).
func (c *convNode) signChanges(bits []uint64) int {
	O, J, C := c.s.OutC, c.j, c.s.InC
	changed := 0
	for o := 0; o < O; o++ {
		row := bits[o*c.rw : (o+1)*c.rw]
		for j, v := range c.w.Data[o*J : (o+1)*J] {
			b := (j%c.k)*C + j/c.k
			if (row[b>>6]>>uint(b&63)&1 == 1) != (v >= 0) {
				changed++
			}
		}
	}
	return changed
}

// Signs returns a snapshot of every binary layer's weight signs (packed as
// the layer packs them), for epoch-to-epoch flip rates with FlipsSince.
func (n *Net) Signs() [][]uint64 {
	s := make([][]uint64, len(n.bins))
	for i, j := range n.bins {
		c := n.layers[j].(*convNode)
		c.prepare()
		s[i] = append([]uint64(nil), c.wbits...)
	}
	return s
}

// FlipsSince returns, per binary layer, the fraction of weights whose sign
// differs from the snapshot (taken by Signs on this network).
func (n *Net) FlipsSince(snap [][]uint64) ([]float64, error) {
	if len(snap) != len(n.bins) {
		return nil, fmt.Errorf("finetune: sign snapshot has %d layers, the network %d binary layers", len(snap), len(n.bins))
	}
	f := make([]float64, len(n.bins))
	for i, j := range n.bins {
		c := n.layers[j].(*convNode)
		if len(snap[i]) != len(c.wbits) {
			return nil, fmt.Errorf("finetune: sign snapshot of %s has %d words, want %d", c.s.Name, len(snap[i]), len(c.wbits))
		}
		f[i] = float64(c.signChanges(snap[i])) / float64(len(c.w.Data))
	}
	return f, nil
}

// Alphas returns the α[t] values of every AGMM gate (GateNames order).
func (n *Net) Alphas() [][]float32 {
	a := make([][]float32, len(n.gates))
	for i, j := range n.gates {
		a[i] = append([]float32(nil), n.layers[j].(*agmmNode).alpha.Data...)
	}
	return a
}

// EvalStats is the outcome of Evaluate on one batch.
type EvalStats struct {
	Loss    float64 // mean cross-entropy
	Correct int
	Samples int
	Firing  []float64 // per LIF layer
	// Logits holds the T-mean logits, [samples][classes]; Pred the argmax
	// (first on ties), as the runtime reports it.
	Logits []float32
	Pred   []int
}

// evalChunk bounds the samples one evaluation forward holds, so Evaluate's
// memory does not grow with the batch it is given.
const evalChunk = 64

// Evaluate runs the network in evaluation mode (BatchNorm with running
// statistics, folded exactly as Export writes it) on a batch of any size
// (processed evalChunk samples at a time). labels may be nil (no loss or
// accuracy); otherwise it must have one label per sample.
func (n *Net) Evaluate(x []float32, labels []int) (EvalStats, error) {
	il := n.InputLen()
	if len(x) == 0 || len(x)%il != 0 {
		return EvalStats{}, fmt.Errorf("finetune: input holds %d values, not a whole number of %d-value samples", len(x), il)
	}
	B := len(x) / il
	if labels != nil {
		if len(labels) != B {
			return EvalStats{}, fmt.Errorf("finetune: %d labels for %d samples", len(labels), B)
		}
		if err := n.checkLabels(labels); err != nil {
			return EvalStats{}, err
		}
	}
	n.setProgress()
	k := n.cfg.Classes
	st := EvalStats{Samples: B, Logits: make([]float32, 0, B*k), Pred: make([]int, B), Firing: make([]float64, len(n.lifs))}
	for b0 := 0; b0 < B; b0 += evalChunk {
		nb := min(evalChunk, B-b0)
		if err := n.forward(x[b0*il:(b0+nb)*il], nb, false); err != nil {
			return EvalStats{}, err
		}
		st.Logits = append(st.Logits, n.logits()[:nb*k]...)
		for i, f := range n.firing() {
			st.Firing[i] += f * float64(nb) / float64(B)
		}
	}
	for b := range st.Pred {
		row := st.Logits[b*k : (b+1)*k]
		for j, v := range row {
			if v > row[st.Pred[b]] {
				st.Pred[b] = j
			}
		}
	}
	if labels != nil {
		st.Loss, st.Correct = crossEntropy(st.Logits, k, labels, nil)
	}
	return st, nil
}
