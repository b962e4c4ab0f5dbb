package finetune

import (
	"github.com/bsnn/bsnn/model"
)

// addNode adds its two inputs (model.OpAdd): a Bi-Real shortcut.
type addNode struct{ shape model.Shape }

func (l *addNode) params() []*Param { return nil }

func (l *addNode) forward(p *pass, in []*tensor, out *tensor) error {
	a, b := in[0], in[1]
	rep := a.rep && b.rep
	out.reshape(p.T, p.B, rep, l.shape, false)
	p.w.each(out.rows(), func(_, r int) {
		x, y, d := a.row(a.phys(r)), b.row(b.phys(r)), out.row(r)
		for i := range d {
			d[i] = x[i] + y[i]
		}
	})
	return nil
}

func (l *addNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	size := l.shape.Size()
	for k, x := range in {
		dx := din[k]
		if dx == nil {
			continue
		}
		// Rows that fold onto one physical row (a repeated input) are added
		// by the same goroutine, in t order.
		p.w.each(x.rows(), func(_, pr int) {
			g := dx[pr*size : (pr+1)*size]
			for r := pr; r < out.rows(); r += x.rows() {
				if x.phys(r) != pr {
					continue
				}
				for i, v := range dout[r*size : (r+1)*size] {
					g[i] += v
				}
			}
		})
	}
}

// flattenNode reshapes C×H×W to (C·H·W)×1×1 (model.OpFlatten); the CHW
// order makes it a relabelling of the same memory.
type flattenNode struct{ inS model.Shape }

func (l *flattenNode) params() []*Param { return nil }

func (l *flattenNode) forward(p *pass, in []*tensor, out *tensor) error {
	x := in[0]
	*out = tensor{T: x.T, B: x.B, rep: x.rep, shape: model.Shape{C: l.inS.Size(), H: 1, W: 1}, data: x.data[:x.rows()*l.inS.Size()], binary: x.binary}
	return nil
}

func (l *flattenNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	if din[0] == nil {
		return
	}
	for i, v := range dout[:out.rows()*l.inS.Size()] {
		din[0][i] += v
	}
}

// affineNode is a standalone BatchNorm (model.OpAffine on export).
type affineNode struct {
	shape    model.Shape
	bn       *batchNorm
	useBatch bool
}

func (l *affineNode) params() []*Param { return []*Param{l.bn.gamma, l.bn.beta} }

func (l *affineNode) forward(p *pass, in []*tensor, out *tensor) error {
	x := in[0]
	out.reshape(x.T, x.B, x.rep, l.shape, false)
	rows, C, hw := x.rows(), l.shape.C, l.shape.H*l.shape.W
	l.useBatch = l.bn.batchStats(p.train)
	if l.useBatch {
		rep := 1
		if x.rep {
			rep = x.T
		}
		l.bn.forwardBatch(p.w, x.data, out.data, rows, hw, rep)
		return nil
	}
	p.w.each(C, func(_, c int) {
		sc, sh := l.bn.fold(c)
		for r := 0; r < rows; r++ {
			o := (r*C + c) * hw
			for i, v := range x.data[o : o+hw] {
				out.data[o+i] = float32(v*sc) + sh
			}
		}
	})
	return nil
}

func (l *affineNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	x := in[0]
	rows, hw := x.rows(), l.shape.H*l.shape.W
	dy := p.buf.get(rows*l.shape.Size(), false)
	defer p.buf.put(dy)
	if l.useBatch {
		rep := 1
		if x.rep {
			rep = x.T
		}
		l.bn.backwardBatch(p.w, x.data, dout, dy, rows, hw, rep)
	} else {
		l.bn.backwardFrozen(p.w, x.data, dout, dy, rows, hw)
	}
	if din[0] != nil {
		for i, v := range dy {
			din[0][i] += v
		}
	}
}

// readoutNode is the model's readout: logits = float32(float64 Σ_t in[t] / T).
// Its output has one row per sample.
type readoutNode struct{ k int }

func (l *readoutNode) params() []*Param { return nil }

func (l *readoutNode) forward(p *pass, in []*tensor, out *tensor) error {
	x := in[0]
	T, B := p.T, p.B
	out.reshape(T, B, true, model.Shape{C: l.k, H: 1, W: 1}, false)
	for b := 0; b < B; b++ {
		for j := 0; j < l.k; j++ {
			var s float64
			for t := 0; t < T; t++ {
				s += float64(x.data[x.phys(t*B+b)*l.k+j])
			}
			out.data[b*l.k+j] = float32(s / float64(T))
		}
	}
	return nil
}

func (l *readoutNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	dx := din[0]
	if dx == nil {
		return
	}
	x := in[0]
	T, B := p.T, p.B
	for t := 0; t < T; t++ {
		for b := 0; b < B; b++ {
			r := x.phys(t*B + b)
			for j := 0; j < l.k; j++ {
				dx[r*l.k+j] += dout[b*l.k+j] / float32(T)
			}
		}
	}
}
