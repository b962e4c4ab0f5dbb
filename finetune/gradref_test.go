package finetune

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// gradCase is one case of testdata/gradref.json, written by
// tools/pyref/gradref.py (regenerate: /usr/bin/python3 tools/pyref/gradref.py).
type gradCase struct {
	Name       string
	Specs      []nodeSpec
	Config     Config
	Input      []float32
	Labels     []int
	Params     map[string][]float32
	AlphaFixed map[string][]float32 `json:"alpha_fixed"`
	Loss       float64
	Logits     []float32
	Grads      map[string][]float32
	Running    map[string][]float32
}

func loadGradCases(t *testing.T) []gradCase {
	t.Helper()
	b, err := os.ReadFile("testdata/gradref.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []gradCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases in testdata/gradref.json")
	}
	return f.Cases
}

// relErr is the parity criterion: ‖a − b‖₂ / max(‖b‖₂, 1e-6), with b the
// PyTorch value. A norm-relative error is insensitive to the cancellation
// that makes single near-zero gradient entries differ in their low bits.
func relErr(a, b []float32) float64 {
	var d, n float64
	for i := range b {
		e := float64(a[i]) - float64(b[i])
		d += e * e
		n += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(n), 1e-6)
}

// buildGradCase builds the case's network with its parameters.
func buildGradCase(t *testing.T, c *gradCase, threads int) *Net {
	t.Helper()
	cfg := c.Config
	cfg.Threads = threads
	n, err := buildNet(cfg, c.Specs)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	set := 0
	for _, p := range n.Params() {
		v, ok := c.Params[p.Name]
		if !ok {
			v, ok = c.AlphaFixed[p.Name]
		}
		if !ok {
			t.Fatalf("%s: fixture has no value for parameter %s", c.Name, p.Name)
		}
		if len(v) != len(p.Data) {
			t.Fatalf("%s: %s: fixture has %d values, parameter %d", c.Name, p.Name, len(v), len(p.Data))
		}
		copy(p.Data, v)
		set++
	}
	if set != len(c.Params)+len(c.AlphaFixed) {
		t.Fatalf("%s: fixture has %d parameters, the network %d", c.Name, len(c.Params)+len(c.AlphaFixed), set)
	}
	return n
}

// runGradCase does one forward and backward pass and returns the loss.
func runGradCase(t *testing.T, n *Net, c *gradCase) float64 {
	t.Helper()
	B := len(c.Labels)
	if err := n.forward(c.Input, B, true); err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	k := n.cfg.Classes
	n.dlogits = grow(n.dlogits, B*k)
	loss, _ := crossEntropy(n.logits(), k, c.Labels, n.dlogits)
	n.backward(B, false)
	n.commitStats()
	return loss
}

func TestGradientParityWithPyTorch(t *testing.T) {
	const tol = 1e-4
	for _, c := range loadGradCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			n := buildGradCase(t, &c, 2)
			loss := runGradCase(t, n, &c)
			if e := math.Abs(loss-c.Loss) / math.Max(math.Abs(c.Loss), 1e-6); e > tol {
				t.Errorf("loss %v, PyTorch %v (relative error %.2e)", loss, c.Loss, e)
			}
			if e := relErr(n.logits(), c.Logits); e > tol {
				t.Errorf("logits: relative error %.2e", e)
			}
			for _, p := range n.Params() {
				want, ok := c.Grads[p.Name]
				if !ok {
					if !p.Frozen {
						t.Errorf("%s: PyTorch has no gradient for it", p.Name)
					}
					continue
				}
				e := relErr(p.Grad, want)
				t.Logf("%-16s relative error %.2e", p.Name, e)
				if e > tol {
					t.Errorf("%s: gradient relative error %.2e > %g", p.Name, e, tol)
				}
			}
			for name, want := range c.Running {
				got := n.runningStat(name)
				if got == nil {
					t.Errorf("no running statistic %s", name)
					continue
				}
				if e := relErr(got, want); e > tol {
					t.Errorf("%s: relative error %.2e", name, e)
				}
			}
		})
	}
}

// TestGradientsIndependentOfThreads checks that the thread count does not
// change a single bit of the gradients.
func TestGradientsIndependentOfThreads(t *testing.T) {
	cases := loadGradCases(t)
	for _, c := range cases[len(cases)-2:] {
		var ref [][]float32
		for _, threads := range []int{1, 3} {
			n := buildGradCase(t, &c, threads)
			runGradCase(t, n, &c)
			var gs [][]float32
			for _, p := range n.Params() {
				gs = append(gs, slices.Clone(p.Grad))
			}
			if ref == nil {
				ref = gs
				continue
			}
			for i, g := range gs {
				if !slices.Equal(g, ref[i]) {
					t.Errorf("%s: %s: gradient differs between 1 and %d threads", c.Name, n.Params()[i].Name, threads)
				}
			}
		}
	}
}
