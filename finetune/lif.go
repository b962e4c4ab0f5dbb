package finetune

import (
	"math"

	"github.com/bsnn/bsnn/finetune/internal/f32"

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

	u      []float32   // membrane potentials of the last training forward
	scr    [][]float32 // per-goroutine zero plane and membrane scratch
	counts []int64     // spikes per work unit
	spikes int64       // spikes in the last forward
}

func newLIF(s *nodeSpec, in model.Shape, cfg *Config) *lifNode {
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
	if len(l.scr) < p.w.n {
		l.scr = make([][]float32, p.w.n)
	}
	p.w.each(nu, func(wk, k int) {
		b, cw := k/pw, k%pw
		for t := 0; t < T; t++ {
			rb := out.rowBits(t*B + b)
			for q := 0; q < hw; q++ {
				rb[q*pw+cw] = 0
			}
		}
		var count int64
		// Step t reads step t−1's membranes and spikes where step t−1
		// wrote them (the kept potentials and the output), so nothing is
		// copied; zero stands for the state before step 0.
		st := l.state(wk, hw)
		zero, scratch := st[:hw], st[hw:]
		clear(zero)
		for c := cw * 64; c < min(C, cw*64+64); c++ {
			uPrev, sPrev := zero, zero
			bit := uint64(1) << uint(c&63)
			for t := 0; t < T; t++ {
				r := t*B + b
				xs := x.data[x.phys(r)*size+c*hw : x.phys(r)*size+(c+1)*hw]
				uOut := scratch
				if keep {
					uOut = l.u[r*size+c*hw : r*size+(c+1)*hw]
				}
				sOut := out.data[r*size+c*hw : r*size+(c+1)*hw]
				if pw == 1 {
					count += int64(f32.LIFStep(xs, uPrev, sPrev, uOut, sOut, out.rowBits(r), bit, lam, vth, hard))
				} else {
					count += lifStep(xs, uPrev, sPrev, uOut, sOut, out.rowBits(r), pw, cw, bit, lam, vth, hard)
				}
				uPrev, sPrev = uOut, sOut
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

// lifStep is f32.LIFStep for layers of more than 64 channels: it advances
// one plane of neurons by one step from the membranes u
// and spikes s of the previous step, writing this step's to uo and so (uo
// may be u); spikes are OR-ed into the packed row rb (bit `bit` of word cw
// of each pixel, pw words per pixel). It returns the number of spikes.
func lifStep(xs, u, s, uo, so []float32, rb []uint64, pw, cw int, bit uint64, lam, vth float32, hard bool) int64 {
	u, s, uo, so = u[:len(xs)], s[:len(xs)], uo[:len(xs)], so[:len(xs)]
	var count uint64
	if hard {
		for q, xv := range xs {
			// u·(1−s) is u or ±0: the reference's 0 up to the sign of
			// zero, which no comparison or sum can see.
			v := float32(lam*(u[q]*(1-s[q]))) + xv
			uo[q] = v
			var m uint64
			if v >= vth {
				m = 1
			}
			so[q] = float32(m)
			rb[q*pw+cw] |= bit & -m
			count += m
		}
	} else {
		for q, xv := range xs {
			v := float32(lam*(u[q]-float32(vth*s[q]))) + xv
			uo[q] = v
			var m uint64
			if v >= vth {
				m = 1
			}
			so[q] = float32(m)
			rb[q*pw+cw] |= bit & -m
			count += m
		}
	}
	return int64(count)
}

// state returns goroutine wk's scratch: two planes of hw neurons.
func (l *lifNode) state(wk, hw int) []float32 {
	l.scr[wk] = grow(l.scr[wk], 2*hw)
	return l.scr[wk]
}

// surrogateGrad returns ∂s/∂u at membrane potential u (bsnnref.SpikeFn).
func (l *lifNode) surrogateGrad(u float32) float32 {
	v := u - l.vth
	if l.surrogate == SurrogateSigmoid {
		k := l.gamma
		sg := float32(1 / (1 + math.Exp(-float64(k*v))))
		return k * sg * (1 - sg)
	}
	if v < 0 {
		v = -v
	}
	d := l.gamma - v
	if d <= 0 {
		return 0
	}
	return d / (l.gamma * l.gamma)
}

// backward runs BPTT over the steps, t = T−1 down to 0, on contiguous runs
// of neurons: with dh = dL/dh[t+1] = λ·du[t+1],
//
//	ds = dout[t] − dh·u[t] (hard) or − dh·V_th (soft)   (reset path; not when detached)
//	du = ds·surrogate(u[t]) + dh·(1 − s[t]) (hard) or + dh (soft)
func (l *lifNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	dx := din[0]
	if dx == nil {
		return
	}
	x := in[0]
	T, B := p.T, p.B
	size := l.shape.Size()
	hard := l.reset == model.ResetHard
	const run = 1024
	chunks := (size + run - 1) / run
	lam, vth, detach := l.lambda, l.vth, l.detach
	p.w.each(B*chunks, func(_, k int) {
		b, e0 := k/chunks, (k%chunks)*run
		e1 := min(e0+run, size)
		var dhs [run]float32
		dh := dhs[:e1-e0]
		for t := T - 1; t >= 0; t-- {
			o := (t*B+b)*size + e0
			us := l.u[o : o+len(dh)]
			ss := out.data[o : o+len(dh)]
			gs := dout[o : o+len(dh)]
			xo := x.phys(t*B+b)*size + e0
			dxs := dx[xo : xo+len(dh)]
			if l.surrogate == SurrogateTriangle {
				f32.LIFBackward(us, ss, gs, dxs, dh, vth, l.gamma, 1/(l.gamma*l.gamma), lam, hard, detach)
				continue
			}
			for i, u := range us {
				g := gs[i]
				h := dh[i]
				var keep float32
				if hard {
					if !detach {
						g -= h * u
					}
					keep = h * (1 - ss[i])
				} else {
					if !detach {
						g -= h * vth
					}
					keep = h
				}
				du := g*l.surrogateGrad(u) + keep
				dxs[i] += du
				dh[i] = lam * du
			}
		}
	})
}
