package finetune

import (
	"fmt"

	"github.com/bsnn/bsnn/model"
)

// poolNode is an average or max pool (model.OpAvgPool, OpMaxPool): K×K
// window, stride S, padding P; padding is excluded from the average's count
// and never wins a max; the max takes the first maximum in window order, as
// PyTorch does, which is where its gradient goes.
type poolNode struct {
	max           bool
	k, stride, pd int
	inS, outS     model.Shape
	arg           []int32 // index within the input plane of each output's max
}

func newPool(s *nodeSpec, in model.Shape) (*poolNode, model.Shape, error) {
	if s.Kernel < 1 || s.Stride < 1 || s.Pad < 0 || 2*s.Pad > s.Kernel || in.H+2*s.Pad < s.Kernel || in.W+2*s.Pad < s.Kernel {
		return nil, model.Shape{}, fmt.Errorf("bad pooling window %d, stride %d, pad %d on a %v input", s.Kernel, s.Stride, s.Pad, in)
	}
	out := model.Shape{C: in.C, H: (in.H+2*s.Pad-s.Kernel)/s.Stride + 1, W: (in.W+2*s.Pad-s.Kernel)/s.Stride + 1}
	return &poolNode{max: s.Op == model.OpMaxPool, k: s.Kernel, stride: s.Stride, pd: s.Pad, inS: in, outS: out}, out, nil
}

func (l *poolNode) params() []*Param { return nil }

// window returns the in-range input rows [y0,y1) and columns [x0,x1) of
// output pixel (oy, ox).
func (l *poolNode) window(oy, ox int) (y0, y1, x0, x1 int) {
	y0, x0 = oy*l.stride-l.pd, ox*l.stride-l.pd
	y1, x1 = min(y0+l.k, l.inS.H), min(x0+l.k, l.inS.W)
	return max(y0, 0), y1, max(x0, 0), x1
}

func (l *poolNode) forward(p *pass, in []*tensor, out *tensor) error {
	x := in[0]
	bin := l.max && x.binary
	out.reshape(x.T, x.B, x.rep, l.outS, bin)
	out.binary = bin
	rows := x.rows()
	ih, iw := l.inS.H, l.inS.W
	oh, ow := l.outS.H, l.outS.W
	if l.max {
		l.arg = grow(l.arg, rows*l.outS.Size())
	}
	fast := l.k == 2 && l.stride == 2 && l.pd == 0
	p.w.each(rows, func(_, r int) {
		src, dst := x.row(r), out.row(r)
		for c := 0; c < l.inS.C; c++ {
			plane := src[c*ih*iw : (c+1)*ih*iw]
			if fast {
				o := dst[c*oh*ow : (c+1)*oh*ow]
				if l.max {
					pool2Max(o, l.arg[r*l.outS.Size()+c*oh*ow:r*l.outS.Size()+(c+1)*oh*ow], plane, iw, oh, ow)
				} else {
					pool2Avg(o, plane, iw, oh, ow)
				}
				continue
			}
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					y0, y1, x0, x1 := l.window(oy, ox)
					o := (c*oh+oy)*ow + ox
					if l.max {
						best, m := y0*iw+x0, plane[y0*iw+x0]
						for iy := y0; iy < y1; iy++ {
							for ix := x0; ix < x1; ix++ {
								if v := plane[iy*iw+ix]; v > m {
									best, m = iy*iw+ix, v
								}
							}
						}
						dst[o] = m
						l.arg[r*l.outS.Size()+o] = int32(best)
						continue
					}
					var s float64
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							s += float64(plane[iy*iw+ix])
						}
					}
					dst[o] = float32(s / float64((y1-y0)*(x1-x0)))
				}
			}
		}
		if bin {
			packRow(out.rowBits(r), dst, l.outS)
		}
	})
	return nil
}

func (l *poolNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	dx := din[0]
	if dx == nil {
		return
	}
	rows := in[0].rows()
	ih, iw := l.inS.H, l.inS.W
	oh, ow := l.outS.H, l.outS.W
	isz, osz := l.inS.Size(), l.outS.Size()
	p.w.each(rows, func(_, r int) {
		d := dout[r*osz : (r+1)*osz]
		g := dx[r*isz : (r+1)*isz]
		for c := 0; c < l.inS.C; c++ {
			plane := g[c*ih*iw : (c+1)*ih*iw]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					o := (c*oh+oy)*ow + ox
					if l.max {
						plane[l.arg[r*osz+o]] += d[o]
						continue
					}
					y0, y1, x0, x1 := l.window(oy, ox)
					v := d[o] / float32((y1-y0)*(x1-x0))
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							plane[iy*iw+ix] += v
						}
					}
				}
			}
		}
	})
}

// gapNode is a global average pool (model.OpGlobalAvgPool).
type gapNode struct{ inS model.Shape }

func (l *gapNode) params() []*Param { return nil }

func (l *gapNode) forward(p *pass, in []*tensor, out *tensor) error {
	x := in[0]
	out.reshape(x.T, x.B, x.rep, model.Shape{C: l.inS.C, H: 1, W: 1}, false)
	hw := l.inS.H * l.inS.W
	p.w.each(x.rows(), func(_, r int) {
		src, dst := x.row(r), out.row(r)
		for c := range dst {
			dst[c] = mean64(src[c*hw : (c+1)*hw])
		}
	})
	return nil
}

func (l *gapNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	dx := din[0]
	if dx == nil {
		return
	}
	hw := l.inS.H * l.inS.W
	C := l.inS.C
	p.w.each(in[0].rows(), func(_, r int) {
		for c := 0; c < C; c++ {
			v := dout[r*C+c] / float32(hw)
			g := dx[(r*C+c)*hw : (r*C+c+1)*hw]
			for i := range g {
				g[i] += v
			}
		}
	})
}

// pool2Max is the 2×2, stride-2, unpadded max pool of one plane (the
// presets' pool), with the same first-maximum rule as the general path.
func pool2Max(dst []float32, arg []int32, plane []float32, iw, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		r0 := plane[2*oy*iw : 2*oy*iw+2*ow]
		r1 := plane[(2*oy+1)*iw : (2*oy+1)*iw+2*ow]
		d := dst[oy*ow : (oy+1)*ow]
		a := arg[oy*ow : (oy+1)*ow]
		base := int32(2 * oy * iw)
		for ox := range d {
			best, m := base+int32(2*ox), r0[2*ox]
			if v := r0[2*ox+1]; v > m {
				best, m = base+int32(2*ox+1), v
			}
			if v := r1[2*ox]; v > m {
				best, m = base+int32(iw+2*ox), v
			}
			if v := r1[2*ox+1]; v > m {
				best, m = base+int32(iw+2*ox+1), v
			}
			d[ox], a[ox] = m, best
		}
	}
}

// pool2Avg is the 2×2, stride-2, unpadded average pool of one plane.
func pool2Avg(dst, plane []float32, iw, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		r0 := plane[2*oy*iw : 2*oy*iw+2*ow]
		r1 := plane[(2*oy+1)*iw : (2*oy+1)*iw+2*ow]
		d := dst[oy*ow : (oy+1)*ow]
		for ox := range d {
			s := float64(r0[2*ox]) + float64(r0[2*ox+1]) + float64(r1[2*ox]) + float64(r1[2*ox+1])
			d[ox] = float32(s / 4)
		}
	}
}
