package finetune

import (
	"math"

	"github.com/bsnn/bsnn/model"
)

// agmmNode is the AGMM gate (model.OpAGMM; tools/pyref/bsnnref.py's AGMM is its PyTorch twin):
// Y[t] = G ⊙ X[t] with G = float32(α[t]·σ(E(X[t]))), E the per-sample,
// per-channel spatial mean (StatSpatial), the per-sample mean over C·H·W
// (StatChannelSpatial), or no statistic (G = α[t]). Backward:
// dX = G ⊙ dY + α·σ'(E)·(1/n)·Σ_group X ⊙ dY (the second term off when
// detached or without a statistic); dα[t] = Σ σ(E)·Σ_group X ⊙ dY.
type agmmNode struct {
	shape  model.Shape
	stat   model.Stat
	mode   AlphaMode
	detach bool
	alpha  *Param // α[t]; frozen unless mode is AlphaLearn

	sig   []float32 // σ(E) per row and group of the last training forward
	dpart []float64 // per-sample partial dα, [B][T]
}

func newAGMM(s *nodeSpec, idx int, in model.Shape, T int, cfg *Config) *agmmNode {
	g := &agmmNode{
		shape: in, stat: s.Stat, mode: cfg.AGMM.Alpha, detach: cfg.AGMM.Detach,
		alpha: newParam(s.Name+".alpha", GroupAlpha, idx, false, T),
	}
	for t := range g.alpha.Data {
		g.alpha.Data[t] = cfg.AGMM.AlphaInit
	}
	g.alpha.Frozen = g.mode != AlphaLearn
	return g
}

func (g *agmmNode) params() []*Param { return []*Param{g.alpha} }

// groups returns the number of gate values per row.
func (g *agmmNode) groups() int {
	if g.stat == model.StatSpatial {
		return g.shape.C
	}
	return 1
}

// setProgress moves a scheduled α to its value at training progress
// f ∈ [0, 1].
func (g *agmmNode) setProgress(f float64, c *AGMMConfig) {
	if g.mode != AlphaSchedule {
		return
	}
	a := c.AlphaInit + float32(float64(c.AlphaEnd-c.AlphaInit)*f)
	for t := range g.alpha.Data {
		g.alpha.Data[t] = a
	}
}

func sigmoid32(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func (g *agmmNode) forward(p *pass, in []*tensor, out *tensor) error {
	x := in[0]
	T, B := p.T, p.B
	out.reshape(T, B, false, g.shape, false)
	C, hw := g.shape.C, g.shape.H*g.shape.W
	ng := g.groups()
	g.sig = grow(g.sig, T*B*ng)
	p.w.each(T*B, func(_, r int) {
		t := r / B
		a := g.alpha.Data[t]
		xs := x.row(x.phys(r))
		os := out.row(r)
		sig := g.sig[r*ng : (r+1)*ng]
		switch g.stat {
		case model.StatNone:
			sig[0] = 1
			for i, v := range xs {
				os[i] = a * v
			}
		case model.StatChannelSpatial:
			sig[0] = sigmoid32(mean64(xs))
			gate := a * sig[0]
			for i, v := range xs {
				os[i] = gate * v
			}
		default:
			for c := 0; c < C; c++ {
				plane := xs[c*hw : (c+1)*hw]
				sig[c] = sigmoid32(mean64(plane))
				gate := a * sig[c]
				for i, v := range plane {
					os[c*hw+i] = gate * v
				}
			}
		}
	})
	return nil
}

// mean64 is float32(float64 sum / n), the model's mean.
func mean64(xs []float32) float32 {
	var s float64
	for _, v := range xs {
		s += float64(v)
	}
	return float32(s / float64(len(xs)))
}

func (g *agmmNode) backward(p *pass, in []*tensor, out *tensor, dout []float32, din [][]float32) {
	x := in[0]
	T, B := p.T, p.B
	C, hw := g.shape.C, g.shape.H*g.shape.W
	ng := g.groups()
	learn := !g.alpha.Frozen
	g.dpart = grow(g.dpart, B*T)
	dx := din[0]
	stat := g.stat != model.StatNone && !g.detach
	p.w.each(B, func(_, b int) {
		for t := 0; t < T; t++ {
			r := t*B + b
			a := g.alpha.Data[t]
			xs := x.row(x.phys(r))
			dy := dout[r*len(xs) : (r+1)*len(xs)]
			sig := g.sig[r*ng : (r+1)*ng]
			var dxr []float32
			if dx != nil {
				dxr = dx[x.phys(r)*len(xs) : (x.phys(r)+1)*len(xs)]
			}
			var da float64
			switch g.stat {
			case model.StatNone:
				for i, v := range xs {
					da += float64(v) * float64(dy[i])
				}
				if dxr != nil {
					for i, d := range dy {
						dxr[i] += a * d
					}
				}
			case model.StatChannelSpatial:
				var sxd float64
				for i, v := range xs {
					sxd += float64(v) * float64(dy[i])
				}
				da = float64(sig[0]) * sxd
				if dxr != nil {
					gate := a * sig[0]
					extra := float32(0)
					if stat {
						s := sig[0]
						extra = float32(float64(a*s*(1-s)) * sxd / float64(len(xs)))
					}
					for i, d := range dy {
						dxr[i] += gate*d + extra
					}
				}
			default:
				for c := 0; c < C; c++ {
					plane := xs[c*hw : (c+1)*hw]
					dp := dy[c*hw : (c+1)*hw]
					var sxd float64
					for i, v := range plane {
						sxd += float64(v) * float64(dp[i])
					}
					s := sig[c]
					da += float64(s) * sxd
					if dxr != nil {
						gate := a * s
						extra := float32(0)
						if stat {
							extra = float32(float64(a*s*(1-s)) * sxd / float64(hw))
						}
						dc := dxr[c*hw : (c+1)*hw]
						for i, d := range dp {
							dc[i] += gate*d + extra
						}
					}
				}
			}
			g.dpart[b*T+t] = da
		}
	})
	if learn {
		for t := 0; t < T; t++ {
			var s float64
			for b := 0; b < B; b++ {
				s += g.dpart[b*T+t]
			}
			g.alpha.Grad[t] += float32(s)
		}
	}
}
