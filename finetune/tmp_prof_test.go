package finetune

import (
	"fmt"
	"testing"
	"time"
)

func TestTmpLayerTimes(t *testing.T) {
	cfg := DefaultConfig(PresetMNIST)
	cfg.Threads = 1
	n, _ := NewNet(cfg)
	x, y, err := loadMNIST("train", 32*6)
	if err != nil {
		t.Skip(err)
	}
	fw := make([]time.Duration, len(n.layers))
	bw := make([]time.Duration, len(n.layers))
	const steps = 6
	for s := 0; s < steps; s++ {
		xb, yb := x[s*32*784:(s+1)*32*784], y[s*32:(s+1)*32]
		B := 32
		n.encode(xb, B)
		p := &pass{train: true, T: 4, B: B, w: n.w, k: n.cfg.Kernels}
		for i, l := range n.layers {
			p.needGrad = n.up[i]
			t0 := time.Now()
			l.forward(p, n.ins[i], &n.outs[i])
			if s > 0 {
				fw[i] += time.Since(t0)
			}
		}
		n.dlogits = grow(n.dlogits, B*10)
		crossEntropy(n.logits(), 10, yb, n.dlogits)
		for _, q := range n.params {
			clear(q.Grad)
		}
		for i := range n.layers {
			o := &n.outs[i]
			n.grads[i] = grow(n.grads[i], o.rows()*o.size())
			clear(n.grads[i])
		}
		copy(n.grads[len(n.layers)-1], n.dlogits)
		din := make([][]float32, 2)
		for i := len(n.layers) - 1; i >= 0; i-- {
			din = din[:len(n.specs[i].Inputs)]
			for k, src := range n.specs[i].Inputs {
				din[k] = nil
				if src >= 0 && n.up[src] {
					din[k] = n.grads[src]
				}
			}
			t0 := time.Now()
			n.layers[i].backward(p, n.ins[i], &n.outs[i], n.grads[i], din)
			if s > 0 {
				bw[i] += time.Since(t0)
			}
		}
		n.commitStats()
		n.opt.update(&n.cfg.Optim, n.params, 0.1, n.w)
	}
	var tf, tb time.Duration
	for i := range n.layers {
		fmt.Printf("%-10s fwd %6.1f ms  bwd %6.1f ms\n", n.specs[i].Name, float64(fw[i].Microseconds())/1000/(steps-1), float64(bw[i].Microseconds())/1000/(steps-1))
		tf += fw[i]
		tb += bw[i]
	}
	fmt.Printf("total fwd %.1f bwd %.1f ms\n", float64(tf.Microseconds())/1000/(steps-1), float64(tb.Microseconds())/1000/(steps-1))
}

func TestTmpConvParts(t *testing.T) {
	cfg := DefaultConfig(PresetMNIST)
	cfg.Threads = 1
	n, _ := NewNet(cfg)
	x, y, err := loadMNIST("train", 32)
	if err != nil {
		t.Skip(err)
	}
	n.TrainStep(x, y)
	for _, idx := range []int{2, 6} {
		c := n.layers[idx].(*convNode)
		in := n.ins[idx][0]
		p := &pass{train: true, needGrad: true, T: 4, B: 32, w: n.w, k: n.cfg.Kernels}
		dout := n.grads[idx]
		rows := in.rows()
		t0 := time.Now()
		c.dy = grow(c.dy, rows*c.s.OutC*c.p)
		c.bn.backwardBatch(p.w, c.y, dout, c.dy, rows, c.p, 1)
		t1 := time.Now()
		c.weightGrad(p, in, c.dy)
		t2 := time.Now()
		g := make([]float32, rows*in.size())
		c.inputGrad(p, in, c.dy, g)
		t3 := time.Now()
		fmt.Printf("%s: bn %v, dW %v, dX %v\n", c.s.Name, t1.Sub(t0), t2.Sub(t1), t3.Sub(t2))
	}
}
