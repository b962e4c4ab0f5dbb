package finetune

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bsnn/bsnn/model"
)

// TestBinaryConvAgainstNaive checks a binary conv's forward and gradients
// against plain loops over the definitions, for channel counts that straddle
// 64-bit words and for strides 1 (Winograd input gradient) and 2.
func TestBinaryConvAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	cfg, _ := DefaultConfig(PresetMNIST).withDefaults()
	for _, tc := range []struct{ c, stride int }{{70, 1}, {70, 2}, {3, 1}, {64, 2}} {
		in := model.Shape{C: tc.c, H: 6, W: 5}
		spec := &nodeSpec{Op: model.OpConv2D, Name: "c", Binary: true, InC: tc.c, OutC: 9, KH: 3, KW: 3, Stride: tc.stride, Pad: 1}
		n, out, err := newConv(spec, 0, in, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n.w.Data {
			n.w.Data[i] = float32(r.NormFloat64() * 0.7) // some |w| > 1: masked
		}
		const rows = 3
		x := &tensor{}
		x.reshape(rows, 1, false, in, true)
		x.binary = true
		for i := range x.data {
			x.data[i] = float32(r.IntN(4) / 3) // 1 with probability 1/4
		}
		for q := 0; q < rows; q++ {
			packRow(x.rowBits(q), x.row(q), in)
		}
		p := &pass{train: true, needGrad: true, T: rows, B: 1, w: workers{2}, k: cfg.Kernels, buf: &bufPool{}}
		y := &tensor{}
		if err := n.forward(p, []*tensor{x}, y); err != nil {
			t.Fatal(err)
		}
		dout := make([]float32, rows*out.Size())
		for i := range dout {
			dout[i] = float32(r.NormFloat64())
		}
		din := make([]float32, rows*in.Size())
		n.backward(p, []*tensor{x}, y, dout, [][]float32{din})

		O, C, K, J := spec.OutC, tc.c, 9, tc.c*9
		alpha := make([]float64, O)
		for o := range alpha {
			for _, v := range n.w.Data[o*J : (o+1)*J] {
				alpha[o] += math.Abs(float64(v))
			}
			alpha[o] /= float64(J)
		}
		sgn := func(v float32) float64 {
			if v >= 0 {
				return 1
			}
			return -1
		}
		wantY := make([]float32, rows*out.Size())
		dwb := make([]float64, O*J)
		wantDin := make([]float32, rows*in.Size())
		for q := 0; q < rows; q++ {
			for o := 0; o < O; o++ {
				for oy := 0; oy < out.H; oy++ {
					for ox := 0; ox < out.W; ox++ {
						oi := (q*O+o)*out.H*out.W + oy*out.W + ox
						var acc float64
						for c := 0; c < C; c++ {
							for k := 0; k < K; k++ {
								iy, ix := oy*tc.stride-1+k/3, ox*tc.stride-1+k%3
								if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
									continue
								}
								ii := (q*C+c)*in.H*in.W + iy*in.W + ix
								s := sgn(n.w.Data[o*J+c*K+k])
								acc += float64(x.data[ii]) * s
								dwb[o*J+c*K+k] += float64(dout[oi]) * float64(x.data[ii])
								wantDin[ii] += float32(float64(dout[oi]) * alpha[o] * s)
							}
						}
						wantY[oi] = float32(acc * alpha[o])
					}
				}
			}
		}
		wantG := make([]float32, O*J)
		for o := 0; o < O; o++ {
			var da float64
			for j := 0; j < J; j++ {
				da += dwb[o*J+j] * sgn(n.w.Data[o*J+j])
			}
			for j := 0; j < J; j++ {
				v := n.w.Data[o*J+j]
				g := 0.0
				if math.Abs(float64(v)) <= 1 {
					g = alpha[o] * dwb[o*J+j]
				}
				g += da / float64(J) * math.Copysign(1, float64(v))
				wantG[o*J+j] = float32(g)
			}
		}
		if e := relErr(y.data[:len(wantY)], wantY); e > 1e-6 {
			t.Errorf("C=%d stride %d: forward differs by %.2e", tc.c, tc.stride, e)
		}
		if e := relErr(n.w.Grad, wantG); e > 1e-5 {
			t.Errorf("C=%d stride %d: weight gradient differs by %.2e", tc.c, tc.stride, e)
		}
		if e := relErr(din, wantDin); e > 1e-5 {
			t.Errorf("C=%d stride %d: input gradient differs by %.2e", tc.c, tc.stride, e)
		}
	}
}
