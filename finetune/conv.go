package finetune

import (
	"fmt"
	"math"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/finetune/internal/f32"
	"github.com/bsnn/bsnn/model"
)

// convNode is a conv2d or linear layer, full precision or binary, with an
// optional BatchNorm (folded into Scale/Bias on export) or bias.
//
// Forward: acc = Σ in·w, exactly as model.Conv2D/Linear (binary: an exact
// integer from AND-popcount on packed spikes and packed weight signs;
// float: summed in float64, rounded once). Then y = acc·α_o (binary,
// α_o = mean|w| over the fan-in) or acc (float), and BatchNorm with batch
// statistics in training; otherwise the layer computes model's
// float32(acc·Scale[o]) + Bias[o] with the folded Scale and Bias Export
// writes, so evaluation here and in the runtime agree bit for bit.
//
// Backward, in float32: dW_b = Σ dy ⊗ in (for spike input, adding dy only
// where a spike is 1: f32.AddRows over the packed im2col rows kept from the
// forward pass) and dIn = W_b^T ⋆ dy (Winograd F(2×2,3×3) for 3×3 stride-1
// convs, shifted GEMMs for other stride-1 convs, im2col GEMMs otherwise),
// then the binarization's gradient (bsnnref.binarize): through the
// straight-through estimator masked at |w| > 1 and through α_o.
type convNode struct {
	s         *nodeSpec
	inS, outS model.Shape
	linear    bool
	binary    bool
	k         int // KH·KW
	j         int // fan-in InC·KH·KW
	p         int // output pixels
	rw        int // packed weight row words (binary)

	w    *Param // [OutC][InC][KH][KW]
	bias *Param // [OutC], layers without BN that have a bias
	bn   *batchNorm

	// Prepared by every forward.
	alpha        []float32 // α_o (binary)
	wbits        []uint64  // packed signs, OutC rows of rw words
	scale, shift []float32 // epilogue without batch statistics
	useBatch     bool      // this forward normalized with batch statistics
	keepY        bool      // y holds acc·α for the backward pass
	keepCols     bool      // cols holds every row's packed im2col rows
	cols         []uint64
	y            []float32 // [rows][OutC][P]

	// Backward scratch.
	wt    []float32   // effective weights transposed, [J][OutC]
	wtk   []float32   // effective weights per tap, [KH·KW][InC][OutC]
	dwt   []float32   // dW_b by bit, [bit][OutC]
	wu    []float32   // Winograd-transformed weights, [16][OutC][InC]
	dwb   []float32   // dL/dW_b, [OutC][J]
	parts [][]float32 // per-chunk partial dW_b
	scr   []convScratch
}

// convScratch is one goroutine's scratch memory.
type convScratch struct {
	bits  []uint64  // packed input row, when the input carries no bits
	cols  []uint64  // packed im2col rows, P × rw
	acc   []int32   // AND-popcount results, P × OutC
	fcols []float32 // float im2col
	facc  []float32
	dyt   []float32 // padded [pixel][channel] output gradient of one row
	wv    []float32 // Winograd block buffers
	wm    []float32
	wout  []float32
}

// dwChunks is the number of partial sums dW is reduced from: a constant, so
// the summation order (and so the result) does not depend on the number of
// goroutines.
const dwChunks = 8

func newConv(s *nodeSpec, idx int, in model.Shape, cfg *Config) (*convNode, model.Shape, error) {
	n := &convNode{s: s, inS: in, linear: s.Op == model.OpLinear, binary: s.Binary}
	if n.linear {
		if in.H != 1 || in.W != 1 {
			return nil, model.Shape{}, fmt.Errorf("linear layer reads a %v map; flatten first", in)
		}
		if s.KH != 1 || s.KW != 1 || s.Stride != 1 || s.Pad != 0 {
			return nil, model.Shape{}, fmt.Errorf("linear layer with kernel %d×%d/%d pad %d", s.KH, s.KW, s.Stride, s.Pad)
		}
	}
	if s.InC != in.C {
		return nil, model.Shape{}, fmt.Errorf("layer expects %d input channels, its input has %d (shape %v)", s.InC, in.C, in)
	}
	if s.OutC < 1 || s.KH < 1 || s.KW < 1 || s.Stride < 1 || s.Pad < 0 || s.Pad >= s.KH || s.Pad >= s.KW ||
		in.H+2*s.Pad < s.KH || in.W+2*s.Pad < s.KW {
		return nil, model.Shape{}, fmt.Errorf("bad geometry: %d→%d, kernel %d×%d, stride %d, pad %d on a %v input", s.InC, s.OutC, s.KH, s.KW, s.Stride, s.Pad, in)
	}
	if s.BatchNorm && s.Bias {
		return nil, model.Shape{}, fmt.Errorf("a layer has either a BatchNorm or a bias, not both")
	}
	n.outS = model.Shape{C: s.OutC, H: (in.H+2*s.Pad-s.KH)/s.Stride + 1, W: (in.W+2*s.Pad-s.KW)/s.Stride + 1}
	n.k = s.KH * s.KW
	n.j = s.InC * n.k
	n.p = n.outS.H * n.outS.W
	group := GroupFP
	if s.Binary {
		group = GroupBinary
		// Training packs a patch densely: tap k's channels at bits
		// k·InC..k·InC+InC−1 (the model format starts every tap at a word;
		// Export repacks). With 32 channels that halves the words.
		n.rw = bitops.TightConvRowWords(s.InC, s.KH, s.KW)
		n.alpha = make([]float32, s.OutC)
		n.wbits = make([]uint64, s.OutC*n.rw)
	}
	shape := []int{s.OutC, s.InC, s.KH, s.KW}
	if n.linear {
		shape = []int{s.OutC, s.InC}
	}
	n.w = newParam(s.Name+".weight", group, idx, true, shape...)
	if s.Bias {
		n.bias = newParam(s.Name+".bias", GroupFP, idx, false, s.OutC)
	}
	if s.BatchNorm {
		n.bn = newBatchNorm(s.OutC, s.Name, idx, cfg)
	}
	n.scale = make([]float32, s.OutC)
	n.shift = make([]float32, s.OutC)
	n.dwb = make([]float32, s.OutC*n.j)
	n.wt = make([]float32, n.j*s.OutC)
	return n, n.outS, nil
}

func (n *convNode) params() []*Param {
	ps := []*Param{n.w}
	if n.bias != nil {
		ps = append(ps, n.bias)
	}
	if n.bn != nil {
		ps = append(ps, n.bn.gamma, n.bn.beta)
	}
	return ps
}

// prepare computes α_o and the packed signs (binary) and the epilogue.
func (n *convNode) prepare() {
	O := n.s.OutC
	if n.binary {
		for o := 0; o < O; o++ {
			var s float64
			for _, v := range n.w.Data[o*n.j : (o+1)*n.j] {
				s += math.Abs(float64(v))
			}
			n.alpha[o] = float32(s / float64(n.j))
		}
		// The latent weights are in PyTorch's [out][in][kh][kw] order, and
		// shapes were checked when the node was made.
		_ = bitops.PackOIHWTight(n.wbits, n.w.Data, O, n.s.InC, n.s.KH, n.s.KW)
	}
	for o := 0; o < O; o++ {
		n.scale[o], n.shift[o] = n.affine(o)
	}
}

// affine returns the folded Scale and Bias of output channel o: what Export
// writes and what a forward without batch statistics computes.
func (n *convNode) affine(o int) (scale, bias float32) {
	a := float32(1)
	if n.binary {
		a = n.alpha[o]
	}
	switch {
	case n.bn != nil:
		sc, sh := n.bn.fold(o)
		return a * sc, sh
	case n.bias != nil:
		return a, n.bias.Data[o]
	}
	return a, 0
}

func (n *convNode) scratch(p *pass) []convScratch {
	if len(n.scr) < p.w.n {
		n.scr = make([]convScratch, p.w.n)
	}
	return n.scr
}

func (n *convNode) forward(p *pass, in []*tensor, out *tensor) error {
	x := in[0]
	if n.binary && !x.binary {
		return fmt.Errorf("binary %v reads non-spike input (values other than 0 and 1)", n.s.Op)
	}
	n.prepare()
	out.reshape(x.T, x.B, x.rep, n.outS, false)
	rows := x.rows()
	O := n.s.OutC
	n.useBatch = n.bn != nil && n.bn.batchStats(p.train)
	n.keepY = p.train && p.needGrad && n.bn != nil
	// The im2col rows of a binary conv are kept for its weight gradient.
	n.keepCols = n.binary && !n.linear && p.train && p.needGrad && !n.w.Frozen
	if n.keepCols {
		n.cols = grow(n.cols, rows*n.p*n.rw)
	}
	var yd []float32
	if n.keepY {
		n.y = grow(n.y, rows*O*n.p)
		yd = n.y
	}
	od := out.data
	if n.useBatch {
		od = nil // BatchNorm writes the output from y
	}
	scr := n.scratch(p)
	if n.linear {
		n.forwardLinear(p, x, yd, od, scr)
	} else {
		sz := O * n.p
		p.w.run(rows, func(wk, lo, hi int) {
			for r := lo; r < hi; r++ {
				var yr, or []float32
				if yd != nil {
					yr = yd[r*sz : (r+1)*sz]
				}
				if od != nil {
					or = od[r*sz : (r+1)*sz]
				}
				n.forwardConvRow(p, x, r, yr, or, &scr[wk])
			}
		})
	}
	if n.useBatch {
		rep := 1
		if x.rep {
			rep = x.T
		}
		n.bn.forwardBatch(p.w, n.y, out.data, rows, n.p, rep)
	}
	return nil
}

// forwardConvRow computes one row: yd (if not nil) gets y = acc·α (binary)
// or acc (float), od (if not nil) the folded epilogue float32(acc·Scale)+Bias.
func (n *convNode) forwardConvRow(p *pass, x *tensor, r int, yd, od []float32, sc *convScratch) {
	O, P := n.s.OutC, n.p
	if n.binary {
		n.accBinaryRow(p, x, r, sc)
		for o := 0; o < O; o++ {
			if yd != nil {
				d, a := yd[o*P:(o+1)*P], n.alpha[o]
				for q := range d {
					d[q] = float32(sc.acc[q*O+o]) * a
				}
			}
			if od != nil {
				d, s, b := od[o*P:(o+1)*P], n.scale[o], n.shift[o]
				for q := range d {
					d[q] = float32(float32(sc.acc[q*O+o])*s) + b
				}
			}
		}
		return
	}
	n.accFloatRow(x, r, sc)
	for o := 0; o < O; o++ {
		acc := sc.facc[o*P : (o+1)*P]
		if yd != nil {
			copy(yd[o*P:(o+1)*P], acc)
		}
		if od != nil {
			d, s, b := od[o*P:(o+1)*P], n.scale[o], n.shift[o]
			for q, v := range acc {
				d[q] = float32(v*s) + b
			}
		}
	}
}

// accBinaryRow leaves row r's accumulators in sc.acc ([P][OutC]).
func (n *convNode) accBinaryRow(p *pass, x *tensor, r int, sc *convScratch) {
	var bits []uint64
	if x.bits != nil {
		bits = x.rowBits(r)
	} else {
		sc.bits = grow(sc.bits, x.shape.H*x.shape.W*x.pixelWords())
		packRow(sc.bits, x.row(r), x.shape)
		bits = sc.bits
	}
	var cols []uint64
	if n.keepCols {
		cols = n.cols[r*n.p*n.rw : (r+1)*n.p*n.rw]
	} else {
		sc.cols = grow(sc.cols, n.p*n.rw)
		cols = sc.cols
	}
	im2colBits(cols, bits, n.inS, n.s, n.outS, n.rw)
	sc.acc = grow(sc.acc, n.p*n.s.OutC)
	if err := p.k.AndGemm(sc.acc, cols, n.p, n.wbits, n.s.OutC, n.rw); err != nil {
		panic(err) // shapes are fixed at construction
	}
}

// accFloatRow leaves row r's float accumulators in sc.facc ([OutC][P]).
func (n *convNode) accFloatRow(x *tensor, r int, sc *convScratch) {
	sc.fcols = grow(sc.fcols, n.j*n.p)
	im2colFloat(sc.fcols, x.row(r), n.inS, n.s, n.outS)
	sc.facc = grow(sc.facc, n.s.OutC*n.p)
	f32.GemmF64(n.s.OutC, n.p, n.j, n.w.Data, n.j, sc.fcols, n.p, sc.facc, n.p)
}

// forwardLinear computes every row of a linear layer into yd and od as
// forwardConvRow does.
func (n *convNode) forwardLinear(p *pass, x *tensor, yd, od []float32, scr []convScratch) {
	rows, O, I := x.rows(), n.s.OutC, n.s.InC
	emit := func(r, o int, acc float32) {
		if yd != nil {
			if n.binary {
				yd[r*O+o] = acc * n.alpha[o]
			} else {
				yd[r*O+o] = acc
			}
		}
		if od != nil {
			od[r*O+o] = float32(acc*n.scale[o]) + n.shift[o]
		}
	}
	if n.binary {
		p.w.run(rows, func(wk, lo, hi int) {
			sc := &scr[wk]
			m := hi - lo
			sc.cols = grow(sc.cols, m*n.rw)
			for r := lo; r < hi; r++ {
				row := sc.cols[(r-lo)*n.rw : (r-lo+1)*n.rw]
				if x.bits != nil && x.pixelWords() == n.rw {
					copy(row, x.rowBits(r))
				} else {
					_ = bitops.PackSpikes(row, x.row(r))
				}
			}
			sc.acc = grow(sc.acc, m*O)
			if err := p.k.AndGemm(sc.acc, sc.cols, m, n.wbits, O, n.rw); err != nil {
				panic(err)
			}
			for r := lo; r < hi; r++ {
				for o, a := range sc.acc[(r-lo)*O : (r-lo+1)*O] {
					emit(r, o, float32(a))
				}
			}
		})
		return
	}
	p.w.run(rows, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			xr := x.row(r)
			for o := 0; o < O; o++ {
				emit(r, o, f32.DotF64(xr, n.w.Data[o*I:(o+1)*I]))
			}
		}
	})
}

// im2colBits gathers the packed patch of every output pixel into a row in
// bitops' tight conv-row layout (tap k = ky·KW+kx's InC channel bits at bits
// k·InC.., as PackOIHWTight packs the weight rows; rw words per row;
// out-of-range taps are zero spikes).
func im2colBits(dst, src []uint64, in model.Shape, s *nodeSpec, out model.Shape, rw int) {
	C := in.C
	pw := bitops.PixelWords(C)
	for oy := 0; oy < out.H; oy++ {
		for ox := 0; ox < out.W; ox++ {
			row := dst[(oy*out.W+ox)*rw : (oy*out.W+ox+1)*rw]
			clear(row)
			for ky := 0; ky < s.KH; ky++ {
				iy := oy*s.Stride - s.Pad + ky
				if iy < 0 || iy >= in.H {
					continue
				}
				for kx := 0; kx < s.KW; kx++ {
					ix := ox*s.Stride - s.Pad + kx
					if ix < 0 || ix >= in.W {
						continue
					}
					px := src[(iy*in.W+ix)*pw : (iy*in.W+ix+1)*pw]
					off := (ky*s.KW + kx) * C
					if off&63 == 0 {
						copy(row[off>>6:], px)
						continue
					}
					// Pad bits of a pixel's last word are zero, so whole
					// words can be OR-ed in.
					for i, v := range px {
						b := off + 64*i
						w, sh := b>>6, uint(b&63)
						row[w] |= v << sh
						if w+1 < rw {
							row[w+1] |= v >> (64 - sh)
						}
					}
				}
			}
		}
	}
}

// im2colFloat writes the [J][P] patch matrix of one CHW row: row
// j = (c·KH + ky)·KW + kx, column q = output pixel; out-of-range taps are 0.
func im2colFloat(dst, src []float32, in model.Shape, s *nodeSpec, out model.Shape) {
	P := out.H * out.W
	for c := 0; c < in.C; c++ {
		plane := src[c*in.H*in.W : (c+1)*in.H*in.W]
		for ky := 0; ky < s.KH; ky++ {
			for kx := 0; kx < s.KW; kx++ {
				j := (c*s.KH+ky)*s.KW + kx
				d := dst[j*P : (j+1)*P]
				for oy := 0; oy < out.H; oy++ {
					iy := oy*s.Stride - s.Pad + ky
					dr := d[oy*out.W : (oy+1)*out.W]
					if iy < 0 || iy >= in.H {
						clear(dr)
						continue
					}
					srow := plane[iy*in.W : (iy+1)*in.W]
					for ox := range dr {
						ix := ox*s.Stride - s.Pad + kx
						if ix < 0 || ix >= in.W {
							dr[ox] = 0
						} else {
							dr[ox] = srow[ix]
						}
					}
				}
			}
		}
	}
}

// col2imFloat adds the [J][P] patch-gradient matrix into a CHW row.
func col2imFloat(dst, src []float32, in model.Shape, s *nodeSpec, out model.Shape) {
	P := out.H * out.W
	for c := 0; c < in.C; c++ {
		plane := dst[c*in.H*in.W : (c+1)*in.H*in.W]
		for ky := 0; ky < s.KH; ky++ {
			for kx := 0; kx < s.KW; kx++ {
				j := (c*s.KH+ky)*s.KW + kx
				d := src[j*P : (j+1)*P]
				for oy := 0; oy < out.H; oy++ {
					iy := oy*s.Stride - s.Pad + ky
					if iy < 0 || iy >= in.H {
						continue
					}
					prow := plane[iy*in.W : (iy+1)*in.W]
					for ox, v := range d[oy*out.W : (oy+1)*out.W] {
						ix := ox*s.Stride - s.Pad + kx
						if ix >= 0 && ix < in.W {
							prow[ix] += v
						}
					}
				}
			}
		}
	}
}

func (n *convNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	x := in[0]
	rows, O, P := x.rows(), n.s.OutC, n.p
	rep := 1
	if x.rep {
		rep = x.T
	}
	// dy: gradient w.r.t. y = acc·α (binary) or acc (float).
	dy := p.buf.get(rows*O*P, false)
	defer p.buf.put(dy)
	switch {
	case n.useBatch:
		n.bn.backwardBatch(p.w, n.y, dout, dy, rows, P, rep)
	case n.bn != nil:
		n.bn.backwardFrozen(p.w, n.y, dout, dy, rows, P)
	default:
		copy(dy, dout[:rows*O*P])
		if n.bias != nil && !n.bias.Frozen {
			for r := 0; r < rows; r++ {
				for o := 0; o < O; o++ {
					var s float64
					for _, v := range dy[(r*O+o)*P : (r*O+o+1)*P] {
						s += float64(v)
					}
					n.bias.Grad[o] += float32(s)
				}
			}
		}
	}
	if n.binary && !n.linear {
		n.backwardBinaryConv(p, x, dy, din[0])
		return
	}
	if !n.w.Frozen {
		n.weightGrad(p, x, dy)
	}
	if din[0] != nil {
		n.inputGrad(p, x, dy, din[0])
	}
}

// backwardBinaryConv computes the weight gradient (through the
// binarization) and, if din is not nil, the input gradient of a binary
// conv in one pass over the rows: each row's output gradient is transposed
// once to [pixel][channel] and serves both the spike-driven dW_b
// (f32.AddRows) and, for 3×3/1/1 convs, the Winograd input gradient.
func (n *convNode) backwardBinaryConv(p *pass, x *tensor, dy, din []float32) {
	rows, O, P := x.rows(), n.s.OutC, n.p
	trainW := !n.w.Frozen
	wino := din != nil && n.winogradOK()
	if wino {
		n.effectiveWeights()
		n.winogradFilter()
	} else if din != nil {
		n.inputGrad(p, x, dy, din)
	}
	if !trainW && !wino {
		return
	}
	g := n.winoGeom()
	nb := n.rw * 64
	chunks := min(dwChunks, rows)
	if len(n.parts) < chunks {
		n.parts = make([][]float32, chunks)
	}
	scr := n.scratch(p)
	isz := n.inS.Size()
	Wo := n.outS.W
	p.w.each(chunks, func(wk, c int) {
		sc := &scr[wk]
		var part []float32
		if trainW {
			part = n.partial(c, nb*O)
		}
		sc.dyt = grow(sc.dyt, g.hp*g.wp*O)
		clear(sc.dyt)
		for r := c * rows / chunks; r < (c+1)*rows/chunks; r++ {
			padTranspose(sc.dyt, dy[r*O*P:(r+1)*O*P], O, n.outS.H, Wo, g.wp)
			if trainW {
				var cols []uint64
				if n.keepCols {
					cols = n.cols[r*P*n.rw : (r+1)*P*n.rw]
				} else {
					sc.cols = grow(sc.cols, P*n.rw)
					cols = sc.cols
					im2colBits(cols, n.inputBits(x, r, sc), n.inS, n.s, n.outS, n.rw)
				}
				for q := 0; q < P; q++ {
					d := sc.dyt[((q/Wo+1)*g.wp+q%Wo+1)*O:]
					f32.AddRows(part, O, d[:O], cols[q*n.rw:(q+1)*n.rw])
				}
			}
			if wino {
				n.winogradRow(din[r*isz:(r+1)*isz], sc.dyt, g, sc)
			}
		}
	})
	if trainW {
		n.binaryWeightGrad(chunks)
	}
}

// weightGrad computes dW_b = Σ_rows dy ⊗ in into n.dwb and adds the weight
// gradient (through the binarization for binary layers) to w.Grad.
func (n *convNode) weightGrad(p *pass, x *tensor, dy []float32) {
	switch {
	case n.binary:
		n.weightGradBinary(p, x, dy)
		return
	case n.linear:
		n.weightGradLinear(p, x, dy)
	default:
		n.weightGradFloat(p, x, dy)
	}
	for i, v := range n.dwb {
		n.w.Grad[i] += v
	}
}

// binarizeGrad adds the gradient of the latent weights, through the
// binarization, from dW_b in n.dwb.
func (n *convNode) binarizeGrad() {
	g := n.w.Grad
	// binarize: w_b = α_o·sign(w), α_o = mean|w|.
	// dw = α_o·dW_b·[|w| ≤ 1] + (Σ_j dW_b·sign(w))·sgn(w)/J, sgn(0) = 0.
	O, J := n.s.OutC, n.j
	w := n.w.Data
	for o := 0; o < O; o++ {
		var da float64
		for j := o * J; j < (o+1)*J; j++ {
			if w[j] >= 0 {
				da += float64(n.dwb[j])
			} else {
				da -= float64(n.dwb[j])
			}
		}
		dA := float32(da / float64(J))
		a := n.alpha[o]
		for j := o * J; j < (o+1)*J; j++ {
			v := w[j]
			var d float32
			if v <= 1 && v >= -1 {
				d = a * n.dwb[j]
			}
			switch {
			case v > 0:
				d += dA
			case v < 0:
				d -= dA
			}
			g[j] += d
		}
	}
}

// reduceParts sums the first k partial sums (each size floats) in order
// into dst.
func (n *convNode) reduceParts(dst []float32, k, size int) {
	copy(dst, n.parts[0][:size])
	for c := 1; c < k; c++ {
		for i, v := range n.parts[c][:size] {
			dst[i] += v
		}
	}
}

// partial returns the zeroed partial sum c of size floats.
func (n *convNode) partial(c, size int) []float32 {
	part := grow(n.parts[c], size)
	n.parts[c] = part
	clear(part)
	return part
}

// weightGradBinary accumulates dW_b of a binary linear layer: every input
// spike adds the output gradient of its row to the weight column of its
// feature (f32.AddRows, a [feature][OutC] layout), then transposed into
// n.dwb. (Binary convs do this in backwardBinaryConv.)
func (n *convNode) weightGradBinary(p *pass, x *tensor, dy []float32) {
	rows, O := x.rows(), n.s.OutC
	nb := n.rw * 64
	chunks := min(dwChunks, rows)
	if len(n.parts) < chunks {
		n.parts = make([][]float32, chunks)
	}
	scr := n.scratch(p)
	p.w.each(chunks, func(wk, c int) {
		sc := &scr[wk]
		part := n.partial(c, nb*O)
		for r := c * rows / chunks; r < (c+1)*rows/chunks; r++ {
			f32.AddRows(part, O, dy[r*O:(r+1)*O], n.inputBits(x, r, sc))
		}
	})
	n.binaryWeightGrad(chunks)
}

// binaryWeightGrad reduces the chunk partials ([bit][OutC]) into n.dwb
// ([OutC][InC·KH·KW]) and adds the weight gradient to w.Grad.
func (n *convNode) binaryWeightGrad(chunks int) {
	O := n.s.OutC
	nb := n.rw * 64
	dwt := grow(n.dwt, nb*O)
	n.dwt = dwt
	n.reduceParts(dwt, chunks, nb*O)
	if n.linear {
		transpose(n.dwb, dwt[:n.j*O], n.j, O)
	} else {
		C := n.s.InC
		for o := 0; o < O; o++ {
			for c := 0; c < C; c++ {
				for k := 0; k < n.k; k++ {
					n.dwb[o*n.j+c*n.k+k] = dwt[(k*C+c)*O+o]
				}
			}
		}
	}
	n.binarizeGrad()
}

// inputBits returns the packed spikes of input row r: the tensor's own
// bits, or a packing of its values into sc.
func (n *convNode) inputBits(x *tensor, r int, sc *convScratch) []uint64 {
	if n.linear {
		if x.bits != nil && x.pixelWords() == n.rw {
			return x.rowBits(r)
		}
		sc.bits = grow(sc.bits, n.rw)
		_ = bitops.PackSpikes(sc.bits, x.row(r))
		return sc.bits
	}
	if x.bits != nil {
		return x.rowBits(r)
	}
	sc.bits = grow(sc.bits, x.shape.H*x.shape.W*x.pixelWords())
	packRow(sc.bits, x.row(r), x.shape)
	return sc.bits
}

// weightGradFloat accumulates dW for a float conv: dW^T[j][o] =
// Σ_q cols[j][q]·dy^T[q][o] per row, in fixed chunks of rows.
func (n *convNode) weightGradFloat(p *pass, x *tensor, dy []float32) {
	rows, O, P, J := x.rows(), n.s.OutC, n.p, n.j
	chunks := min(dwChunks, rows)
	if len(n.parts) < chunks {
		n.parts = make([][]float32, chunks)
	}
	scr := n.scratch(p)
	p.w.each(chunks, func(wk, c int) {
		sc := &scr[wk]
		part := n.partial(c, J*O)
		sc.fcols = grow(sc.fcols, J*P)
		sc.facc = grow(sc.facc, P*O)
		for r := c * rows / chunks; r < (c+1)*rows/chunks; r++ {
			im2colFloat(sc.fcols, x.row(r), n.inS, n.s, n.outS)
			transpose(sc.facc, dy[r*O*P:(r+1)*O*P], O, P)
			f32.Gemm(J, O, P, sc.fcols, P, sc.facc, O, part, O)
		}
	})
	dwt := grow(n.wt, J*O)
	n.reduceParts(dwt, chunks, J*O)
	transpose(n.dwb, dwt, J, O)
}

// weightGradLinear: dW[o][i] = Σ_r dy[r][o]·x[r][i], split over column
// ranges of dW.
func (n *convNode) weightGradLinear(p *pass, x *tensor, dy []float32) {
	rows, O, J := x.rows(), n.s.OutC, n.j
	scr := n.scratch(p)
	dyT := grow(scr[0].facc, O*rows)
	scr[0].facc = dyT
	transpose(dyT, dy[:rows*O], rows, O)
	clear(n.dwb)
	p.w.run(J, func(_, lo, hi int) {
		f32.Gemm(O, hi-lo, rows, dyT, rows, x.data[lo:], J, n.dwb[lo:], J)
	})
}

// transpose writes the r×c matrix src as the c×r matrix dst.
func transpose(dst, src []float32, r, c int) {
	const bs = 16
	for i0 := 0; i0 < r; i0 += bs {
		for j0 := 0; j0 < c; j0 += bs {
			for i := i0; i < min(i0+bs, r); i++ {
				row := src[i*c : (i+1)*c]
				for j := j0; j < min(j0+bs, c); j++ {
					dst[j*r+i] = row[j]
				}
			}
		}
	}
}

// effectiveWeights fills n.wt with the forward weights transposed, [J][O]:
// α_o·sign(w) for binary layers, w for float ones.
func (n *convNode) effectiveWeights() {
	O, J := n.s.OutC, n.j
	for o := 0; o < O; o++ {
		for j := 0; j < J; j++ {
			v := n.w.Data[o*J+j]
			if n.binary {
				if v >= 0 {
					v = n.alpha[o]
				} else {
					v = -n.alpha[o]
				}
			}
			n.wt[j*O+o] = v
		}
	}
}

// inputGrad adds W_b^T dy to din.
func (n *convNode) inputGrad(p *pass, x *tensor, dy, din []float32) {
	rows, O, P, J := x.rows(), n.s.OutC, n.p, n.j
	if n.linear {
		// din[r][i] += Σ_o dy[r][o]·W_b[o][i].
		wb := n.w.Data
		if n.binary {
			wb = grow(n.scratch(p)[0].fcols, O*J)
			n.scr[0].fcols = wb
			for o := 0; o < O; o++ {
				for j, v := range n.w.Data[o*J : (o+1)*J] {
					wb[o*J+j] = n.alpha[o]
					if v < 0 {
						wb[o*J+j] = -n.alpha[o]
					}
				}
			}
		}
		p.w.run(rows, func(_, lo, hi int) {
			f32.Gemm(hi-lo, J, O, dy[lo*O:], O, wb, J, din[lo*J:], J)
		})
		return
	}
	n.effectiveWeights()
	if n.s.Stride == 1 {
		n.inputGradShift(p, x, dy, din)
		return
	}
	scr := n.scratch(p)
	isz := n.inS.Size()
	p.w.run(rows, func(wk, lo, hi int) {
		sc := &scr[wk]
		sc.facc = grow(sc.facc, J*P)
		for r := lo; r < hi; r++ {
			clear(sc.facc)
			f32.Gemm(J, P, O, n.wt, O, dy[r*O*P:], P, sc.facc, P)
			col2imFloat(din[r*isz:(r+1)*isz], sc.facc, n.inS, n.s, n.outS)
		}
	})
}

// inputGradShift computes din += W_b^T ⋆ dy for a stride-1 conv as KH·KW
// GEMMs, one per tap, on a zero-padded copy of dy: in "wide" coordinates
// q = iy·Wp + ix (Wp = W + KW − 1; columns ix ≥ W are scratch), tap
// (ky, kx) reads dy_pad at q + (KH−1−ky)·Wp + (KW−1−kx), so every tap is a
// plain GEMM over a shifted view and no col2im scatter is needed.
func (n *convNode) inputGradShift(p *pass, x *tensor, dy, din []float32) {
	rows, O, C := x.rows(), n.s.OutC, n.s.InC
	KH, KW := n.s.KH, n.s.KW
	H, W := n.inS.H, n.inS.W
	Ho, Wo := n.outS.H, n.outS.W
	t0, l0 := KH-1-n.s.Pad, KW-1-n.s.Pad
	Hp, Wp := H+KH-1, W+KW-1
	// N is a whole number of the GEMM kernel's 16-column blocks (the extra
	// columns are scratch too), and the plane stride an odd number of
	// cache lines, so the 64 rows the kernel reads per column block do not
	// crowd into a few cache sets.
	N := (H*Wp + 15) &^ 15
	plane := (Hp*Wp+15)&^15 | 16
	// wtk[k][c][o]: the effective weights of tap k.
	wtk := grow(n.wtk, n.k*C*O)
	n.wtk = wtk
	for k := 0; k < n.k; k++ {
		for c := 0; c < C; c++ {
			copy(wtk[(k*C+c)*O:(k*C+c+1)*O], n.wt[(c*n.k+k)*O:(c*n.k+k+1)*O])
		}
	}
	scr := n.scratch(p)
	isz, osz := n.inS.Size(), n.outS.Size()
	p.w.run(rows, func(wk, lo, hi int) {
		sc := &scr[wk]
		sc.fcols = grow(sc.fcols, O*plane+N)
		dyp := sc.fcols
		clear(dyp)
		sc.facc = grow(sc.facc, C*N)
		dxw := sc.facc
		for r := lo; r < hi; r++ {
			for o := 0; o < O; o++ {
				src := dy[r*osz+o*Ho*Wo : r*osz+(o+1)*Ho*Wo]
				for y := 0; y < Ho; y++ {
					copy(dyp[o*plane+(y+t0)*Wp+l0:], src[y*Wo:(y+1)*Wo])
				}
			}
			clear(dxw)
			for ky := 0; ky < KH; ky++ {
				for kx := 0; kx < KW; kx++ {
					k := ky*KW + kx
					off := (KH-1-ky)*Wp + (KW - 1 - kx)
					f32.Gemm(C, N, O, wtk[k*C*O:], O, dyp[off:], plane, dxw, N)
				}
			}
			d := din[r*isz : (r+1)*isz]
			for c := 0; c < C; c++ {
				for iy := 0; iy < H; iy++ {
					dr := d[(c*H+iy)*W : (c*H+iy+1)*W]
					for ix, v := range dxw[c*N+iy*Wp : c*N+iy*Wp+W] {
						dr[ix] += v
					}
				}
			}
		}
	})
}
