package finetune

import (
	"math"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// lifNode is a layer of leaky integrate-and-fire neurons (model.OpLIF,
// bsnnref.LIF): u[t] = float32(λ·h[t]) + x[t], s[t] = u[t] ≥ V_th, with
// h[t] = u[t−1]·(1−s[t−1]) (hard reset) or u[t−1] − V_th·s[t−1] (soft).
// The spike's gradient is a surrogate (triangle or sigmoid, on u − V_th);
// with detachReset the reset term carries no gradient.
type lifNode struct {
	shape       model.Shape
	lambda, vth float32
	reset       model.Reset
	detach      bool
	surrogate   Surrogate
	gamma       float32

	u      []float32 // membrane potentials of the last training forward
	counts []int64   // spikes per work unit
	spikes int64     // spikes in the last forward
}

func newLIF(s *LayerSpec, in model.Shape, cfg *Config) *lifNode {
	return &lifNode{
		shape: in, lambda: s.Lambda, vth: s.Vth, reset: s.Reset,
		detach: cfg.LIF.DetachReset, surrogate: cfg.LIF.Surrogate, gamma: cfg.LIF.Gamma,
	}
}

func (l *lifNode) params() []*Param { return nil }

// units splits the work into (sample, 64-channel group) units, so no two
// goroutines write the same packed word.
func (l *lifNode) units(B int) (n, pw int) {
	pw = bitops.PixelWords(l.shape.C)
	return B * pw, pw
}

func (l *lifNode) forward(p *pass, in []*tensor, out *tensor) error {
	x := in[0]
	T, B := p.T, p.B
	out.reshape(T, B, false, l.shape, true)
	out.binary = true
	C, hw, size := l.shape.C, l.shape.H*l.shape.W, l.shape.Size()
	keep := p.train && p.needGrad
	if keep {
		l.u = grow(l.u, T*B*size)
	}
	nu, pw := l.units(B)
	l.counts = grow(l.counts, nu)
	lam, vth, hard := l.lambda, l.vth, l.reset == model.ResetHard
	p.w.each(nu, func(_, k int) {
		b, cw := k/pw, k%pw
		for t := 0; t < T; t++ {
			rb := out.rowBits(t*B + b)
			for q := 0; q < hw; q++ {
				rb[q*pw+cw] = 0
			}
		}
		var count int64
		u := make([]float32, hw)
		s := make([]float32, hw)
		for c := cw * 64; c < min(C, cw*64+64); c++ {
			clear(u)
			clear(s)
			bit := uint64(1) << uint(c&63)
			for t := 0; t < T; t++ {
				r := t*B + b
				xs := x.data[x.phys(r)*size+c*hw : x.phys(r)*size+(c+1)*hw]
				os := out.data[r*size+c*hw : r*size+(c+1)*hw]
				rb := out.rowBits(r)
				for q, xv := range xs {
					h := u[q]
					if s[q] != 0 {
						if hard {
							h = 0
						} else {
							h -= vth
						}
					}
					v := float32(lam*h) + xv
					u[q] = v
					if v >= vth {
						s[q] = 1
						rb[q*pw+cw] |= bit
						count++
					} else {
						s[q] = 0
					}
					os[q] = s[q]
				}
				if keep {
					copy(l.u[r*size+c*hw:r*size+(c+1)*hw], u)
				}
			}
		}
		l.counts[k] = count
	})
	l.spikes = 0
	for _, c := range l.counts[:nu] {
		l.spikes += c
	}
	return nil
}

// surrogateGrad returns ∂s/∂u at membrane potential u.
func (l *lifNode) surrogateGrad(u float32) float32 {
	v := u - l.vth
	if l.surrogate == SurrogateSigmoid {
		k := l.gamma
		sg := float32(1 / (1 + math.Exp(-float64(k*v))))
		return k * sg * (1 - sg)
	}
	g := l.gamma
	d := g - float32(math.Abs(float64(v)))
	if d <= 0 {
		return 0
	}
	return d / (g * g)
}

func (l *lifNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	dx := din[0]
	if dx == nil {
		return
	}
	x := in[0]
	T, B := p.T, p.B
	size := l.shape.Size()
	hard := l.reset == model.ResetHard
	p.w.run(B*size, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			b, e := i/size, i%size
			var dh float32 // dL/dh[t+1]
			for t := T - 1; t >= 0; t-- {
				r := t*B + b
				u := l.u[r*size+e]
				s := out.data[r*size+e]
				gs := dout[r*size+e]
				last := t == T-1
				if !last && !l.detach {
					if hard {
						gs += dh * -u
					} else {
						gs += dh * -l.vth
					}
				}
				du := gs * l.surrogateGrad(u)
				if !last {
					if hard {
						du += dh * (1 - s)
					} else {
						du += dh
					}
				}
				dx[x.phys(r)*size+e] += du
				dh = l.lambda * du
			}
		}
	})
}
