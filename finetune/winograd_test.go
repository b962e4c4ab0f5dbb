package finetune

import (
	"math/rand/v2"
	"testing"

	"github.com/bsnn/bsnn/model"
)

// TestWinogradMatchesDirect compares the Winograd input gradient with the
// direct (shifted-GEMM) one on odd and even map sizes and more rows than a
// 16-tile block.
func TestWinogradMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	cfg, _ := DefaultConfig(PresetMNIST).withDefaults()
	for _, sh := range []model.Shape{{C: 3, H: 7, W: 5}, {C: 8, H: 8, W: 8}, {C: 5, H: 1, W: 4}, {C: 2, H: 9, W: 2}} {
		spec := &nodeSpec{Op: model.OpConv2D, Name: "c", Binary: true, InC: sh.C, OutC: 6, KH: 3, KW: 3, Stride: 1, Pad: 1, BatchNorm: true}
		n, out, err := newConv(spec, 0, sh, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !n.winogradOK() {
			t.Fatal("3×3/1/1 conv does not take the Winograd path")
		}
		for i := range n.w.Data {
			n.w.Data[i] = float32(r.NormFloat64())
		}
		n.prepare()
		n.effectiveWeights()
		n.w.Frozen = true // input gradient only
		const rows = 5
		x := &tensor{}
		x.reshape(rows, 1, false, sh, false)
		dy := make([]float32, rows*out.Size())
		for i := range dy {
			dy[i] = float32(r.NormFloat64())
		}
		for _, threads := range []int{1, 2} {
			p := &pass{w: workers{threads}, buf: &bufPool{}}
			want := make([]float32, rows*sh.Size())
			got := make([]float32, rows*sh.Size())
			n.inputGradShift(p, x, dy, want)
			n.backwardBinaryConv(p, x, dy, got)
			if e := relErr(got, want); e > 1e-6 {
				t.Errorf("%v, %d threads: Winograd differs from direct by %.2e", sh, threads, e)
			}
		}
	}
}
