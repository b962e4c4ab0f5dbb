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

	// Statistics of the last training forward with batch statistics.
	mean, invstd []float32
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
// statistics and updates the running statistics. rep is the number of
// logical rows each physical row stands for (T for a tensor stored once for
// every step, else 1); it matters only for the unbiased running variance.
func (b *batchNorm) forwardBatch(w workers, y, out []float32, rows, p, rep int) {
	n := float64(rows * p)
	m := float64(rows * p * rep)
	cp := b.c * p
	w.each(b.c, func(_, c int) {
		var sum float64
		for r := 0; r < rows; r++ {
			for _, v := range y[r*cp+c*p : r*cp+(c+1)*p] {
				sum += float64(v)
			}
		}
		mean := sum / n
		var ss float64
		for r := 0; r < rows; r++ {
			for _, v := range y[r*cp+c*p : r*cp+(c+1)*p] {
				d := float64(v) - mean
				ss += d * d
			}
		}
		v := ss / n
		mu, is := float32(mean), float32(1/math.Sqrt(v+float64(b.eps)))
		b.mean[c], b.invstd[c] = mu, is
		g, be := b.gamma.Data[c], b.beta.Data[c]
		for r := 0; r < rows; r++ {
			o := r*cp + c*p
			for i, v := range y[o : o+p] {
				out[o+i] = float32(float32(float32(v-mu)*is)*g) + be
			}
		}
		mom := float64(b.momentum)
		unbiased := v
		if m > 1 {
			unbiased = ss / (m - 1) * (m / n) // the variance over m logical elements, n/(n−1)-corrected
		}
		b.runMean[c] = float32((1-mom)*float64(b.runMean[c]) + mom*mean)
		b.runVar[c] = float32((1-mom)*float64(b.runVar[c]) + mom*unbiased)
	})
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
			ys := y[o : o+p]
			for i, d := range dout[o : o+p] {
				xh := float32(ys[i]-mu) * is
				sdy += float64(d)
				sdyx += float64(d) * float64(xh)
			}
		}
		b.beta.Grad[c] += float32(sdy)
		b.gamma.Grad[c] += float32(sdyx)
		k := b.gamma.Data[c] * is
		a := float32(float64(rep) * sdy / m)
		bb := float32(float64(rep) * sdyx / m)
		for r := 0; r < rows; r++ {
			o := r*cp + c*p
			ys := y[o : o+p]
			for i, d := range dout[o : o+p] {
				xh := float32(ys[i]-mu) * is
				dy[o+i] = k * (d - a - float32(xh*bb))
			}
		}
	})
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
