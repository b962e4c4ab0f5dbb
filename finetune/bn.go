package finetune

import (
	"math"
)

// batchNorm is a BatchNorm over [T][B][C][H][W] tensors: statistics per
// channel over T·B·H·W, shared by every step (bsnnref.BatchNorm2d). It lives
// inside the conv/linear node it follows (and is folded into that layer's
// Scale/Bias on export) or inside a standalone affine node.
type batchNorm struct {
	c               int
	gamma, beta     *Param
	runMean, runVar []float32
	momentum, eps   float32
	// frozen: normalize with the running statistics in training too.
	frozen bool

	// Statistics of the last training forward with batch statistics; the
	// running statistics take them in commit, once the step succeeded.
	mean, invstd []float32
	bmean, bvar  []float64 // batch mean and unbiased variance
	pending      bool
}

func newBatchNorm(c int, name string, node int, cfg *Config) *batchNorm {
	b := &batchNorm{
		c:        c,
		gamma:    newParam(name+".bn.weight", GroupBN, node, false, c),
		beta:     newParam(name+".bn.bias", GroupBN, node, false, c),
		runMean:  make([]float32, c),
		runVar:   make([]float32, c),
		momentum: cfg.BN.Momentum,
		eps:      cfg.BN.Eps,
		frozen:   cfg.BN.Frozen,
		mean:     make([]float32, c),
		invstd:   make([]float32, c),
		bmean:    make([]float64, c),
		bvar:     make([]float64, c),
	}
	for i := range b.gamma.Data {
		b.gamma.Data[i] = 1
		b.runVar[i] = 1
	}
	return b
}

// batchStats reports whether a training forward normalizes with batch
// statistics (and updates the running ones).
func (b *batchNorm) batchStats(train bool) bool {
	return train && !b.frozen && !b.gamma.Frozen
}

// std returns sqrt(running var + eps) in float32.
func (b *batchNorm) std(c int) float32 {
	return float32(math.Sqrt(float64(b.runVar[c] + b.eps)))
}

// fold returns the running-statistics BN as y·sc + sh: sc = γ/sqrt(var+ε),
// sh = β − mean·sc, each operation rounded to float32. Export and every
// forward that does not use batch statistics use exactly these values.
func (b *batchNorm) fold(c int) (sc, sh float32) {
	sc = b.gamma.Data[c] / b.std(c)
	sh = b.beta.Data[c] - float32(b.runMean[c]*sc)
	return sc, sh
}

// forwardBatch normalizes y ([rows][C][P]) into out with this batch's
// statistics and keeps them for commit. rep is the number of
// logical rows each physical row stands for (T for a tensor stored once for
// every step, else 1); it matters only for the unbiased running variance.
func (b *batchNorm) forwardBatch(w workers, y, out []float32, rows, p, rep int) {
	n := float64(rows * p)
	m := float64(rows * p * rep)
	cp := b.c * p
	w.each(b.c, func(_, c int) {
		// One pass: Σy and Σy² in float64 are exact enough for float32 data.
		var sum, sq float64
		for r := 0; r < rows; r++ {
			s1, s2 := sums(y[r*cp+c*p : r*cp+(c+1)*p])
			sum += s1
			sq += s2
		}
		mean := sum / n
		v := max(sq/n-mean*mean, 0)
		mu, is := float32(mean), float32(1/math.Sqrt(v+float64(b.eps)))
		b.mean[c], b.invstd[c] = mu, is
		g, be := b.gamma.Data[c], b.beta.Data[c]
		for r := 0; r < rows; r++ {
			o := r*cp + c*p
			normalize(out[o:o+p], y[o:o+p], mu, is, g, be)
		}
		b.bmean[c], b.bvar[c] = mean, v
		if m > 1 {
			b.bvar[c] = v * m / (m - 1)
		}
	})
	b.pending = true
}

// commit moves the running statistics towards the last batch's (PyTorch's
// momentum rule), after the training step that computed them succeeded.
func (b *batchNorm) commit() {
	if !b.pending {
		return
	}
	mom := float64(b.momentum)
	for c := range b.runMean {
		b.runMean[c] = float32((1-mom)*float64(b.runMean[c]) + mom*b.bmean[c])
		b.runVar[c] = float32((1-mom)*float64(b.runVar[c]) + mom*b.bvar[c])
	}
	b.pending = false
}

// sums returns Σx and Σx² in float64.
func sums(xs []float32) (s1, s2 float64) {
	var a0, a1, b0, b1 float64
	i := 0
	for ; i+2 <= len(xs); i += 2 {
		x0, x1 := float64(xs[i]), float64(xs[i+1])
		a0 += x0
		a1 += x1
		b0 += x0 * x0
		b1 += x1 * x1
	}
	if i < len(xs) {
		x := float64(xs[i])
		a0 += x
		b0 += x * x
	}
	return a0 + a1, b0 + b1
}

// normalize writes float32(float32(float32(y − mu)·is)·g) + be.
func normalize(dst, y []float32, mu, is, g, be float32) {
	dst = dst[:len(y)]
	for i, v := range y {
		dst[i] = float32(float32(float32(v-mu)*is)*g) + be
	}
}

// dotXhat returns Σd and Σd·x̂ with x̂ = (y − mu)·is.
func dotXhat(d, y []float32, mu, is float32) (sd, sdx float64) {
	y = y[:len(d)]
	var a, b float32
	var a64, b64 float64
	for i, v := range d {
		xh := float32(y[i]-mu) * is
		a += v
		b += v * xh
		if i&255 == 255 {
			a64 += float64(a)
			b64 += float64(b)
			a, b = 0, 0
		}
	}
	return a64 + float64(a), b64 + float64(b)
}

// backwardBatch turns dout into dy (the gradient w.r.t. the normalized
// input y) for a forward with batch statistics and accumulates dγ and dβ.
// dout and dy may be the same slice.
func (b *batchNorm) backwardBatch(w workers, y, dout, dy []float32, rows, p, rep int) {
	m := float64(rows * p * rep)
	cp := b.c * p
	w.each(b.c, func(_, c int) {
		mu, is := b.mean[c], b.invstd[c]
		var sdy, sdyx float64
		for r := 0; r < rows; r++ {
			o := r*cp + c*p
			a, bb := dotXhat(dout[o:o+p], y[o:o+p], mu, is)
			sdy += a
			sdyx += bb
		}
		b.beta.Grad[c] += float32(sdy)
		b.gamma.Grad[c] += float32(sdyx)
		k := b.gamma.Data[c] * is
		a := float32(float64(rep) * sdy / m)
		bb := float32(float64(rep) * sdyx / m)
		for r := 0; r < rows; r++ {
			o := r*cp + c*p
			bnGrad(dy[o:o+p], dout[o:o+p], y[o:o+p], mu, is, k, a, bb)
		}
	})
}

// bnGrad writes dy = k·(d − a − x̂·bb), x̂ = (y − mu)·is.
func bnGrad(dy, d, y []float32, mu, is, k, a, bb float32) {
	d = d[:len(dy)]
	y = y[:len(dy)]
	for i := range dy {
		xh := float32(y[i]-mu) * is
		dy[i] = k * (d[i] - a - xh*bb)
	}
}

// backwardFrozen is backwardBatch for a forward with running statistics.
func (b *batchNorm) backwardFrozen(w workers, y, dout, dy []float32, rows, p int) {
	cp := b.c * p
	w.each(b.c, func(_, c int) {
		sd := b.std(c)
		sc, _ := b.fold(c)
		rm := b.runMean[c]
		var sdy, sdyx float64
		for r := 0; r < rows; r++ {
			o := r*cp + c*p
			ys := y[o : o+p]
			for i, d := range dout[o : o+p] {
				sdy += float64(d)
				sdyx += float64(d) * float64((ys[i]-rm)/sd)
				dy[o+i] = d * sc
			}
		}
		b.beta.Grad[c] += float32(sdy)
		b.gamma.Grad[c] += float32(sdyx)
	})
}
