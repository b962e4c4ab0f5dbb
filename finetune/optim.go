package finetune

import (
	"math"
)

// optimizer updates parameters with SGD (momentum, Nesterov) or Adam,
// following PyTorch's update rules so results are comparable.
type optimizer struct {
	// Per parameter, aligned with the Net's parameter list: SGD's momentum
	// buffer or Adam's first moment in m, Adam's second moment in v.
	m, v [][]float32
	// steps counts each parameter's updates, as PyTorch's per-parameter
	// state["step"]: Adam's bias correction, SGD's first momentum step
	// (which copies the gradient).
	steps []int64
}

func newOptimizer(cfg *OptimConfig, params []*Param) *optimizer {
	o := &optimizer{m: make([][]float32, len(params)), v: make([][]float32, len(params)), steps: make([]int64, len(params))}
	for i, p := range params {
		o.m[i] = make([]float32, len(p.Data))
		if cfg.Kind == "adam" {
			o.v[i] = make([]float32, len(p.Data))
		}
	}
	return o
}

// lr returns the learning rate of step s (counted from 0).
func (c *OptimConfig) lrAt(s int64) float32 {
	base := float64(c.LR)
	w := int64(c.WarmupSteps)
	if s < w {
		return float32(base * float64(s+1) / float64(w))
	}
	if c.Schedule == "cosine" && int64(c.TotalSteps) > w {
		f := math.Min(float64(s-w)/float64(int64(c.TotalSteps)-w), 1)
		return float32(base * 0.5 * (1 + math.Cos(math.Pi*f)))
	}
	return float32(base)
}

// groupLR returns the learning-rate factor of a parameter group.
func (c *OptimConfig) groupLR(g string) float32 {
	if f, ok := c.GroupLR[g]; ok {
		return f
	}
	return 1
}

// update applies one step with learning rate lr to every unfrozen
// parameter, using its Grad.
func (o *optimizer) update(c *OptimConfig, params []*Param, lr float32, w workers) {
	wd := c.WeightDecay
	adam := c.Kind == "adam"
	w.each(len(params), func(_, i int) {
		p := params[i]
		if p.Frozen {
			return
		}
		o.steps[i]++
		n := float64(o.steps[i])
		plr := lr * c.groupLR(p.Group)
		decay := p.decay && wd != 0
		m := o.m[i]
		if adam {
			v := o.v[i]
			b1, b2 := c.Beta1, c.Beta2
			step := float32(float64(plr) / (1 - math.Pow(float64(b1), n)))
			sbc2 := float32(math.Sqrt(1 - math.Pow(float64(b2), n)))
			for j, g := range p.Grad {
				x := p.Data[j]
				if decay {
					if c.DecoupledWD {
						x *= 1 - plr*wd
					} else {
						g += wd * x
					}
				}
				m[j] = b1*m[j] + (1-b1)*g
				v[j] = b2*v[j] + (1-b2)*g*g
				den := float32(math.Sqrt(float64(v[j])))/sbc2 + c.Eps
				p.Data[j] = x - step*m[j]/den
			}
			return
		}
		mu := c.Momentum
		first := o.steps[i] == 1
		for j, g := range p.Grad {
			x := p.Data[j]
			if decay {
				if c.DecoupledWD {
					x *= 1 - plr*wd
				} else {
					g += wd * x
				}
			}
			if mu != 0 {
				if first {
					m[j] = g
				} else {
					m[j] = mu*m[j] + g
				}
				if c.Nesterov {
					g += mu * m[j]
				} else {
					g = m[j]
				}
			}
			p.Data[j] = x - plr*g
		}
	})
}
