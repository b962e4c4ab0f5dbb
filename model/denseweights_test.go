package model_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bsnn/bsnn/model"
)

// TestDenseWeightsBinary packs random signs by the documented row layout
// (tap (ky,kx) at word (ky·KW+kx)·⌈InC/64⌉, channel c at bit c%64 of word
// c/64 after it) and checks that DenseWeights unpacks them in PyTorch order.
func TestDenseWeightsBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range []model.Layer{
		{Op: model.OpConv2D, Precision: model.PrecisionBinary, InC: 70, OutC: 3, KH: 3, KW: 2},
		{Op: model.OpLinear, Precision: model.PrecisionBinary, InC: 130, OutC: 2, KH: 1, KW: 1},
	} {
		rw, pw := l.RowWords(), (l.InC+63)/64
		l.Bits = make([]uint64, l.OutC*rw)
		want := make([]float32, l.OutC*l.InC*l.KH*l.KW)
		for o := 0; o < l.OutC; o++ {
			for c := 0; c < l.InC; c++ {
				for ky := 0; ky < l.KH; ky++ {
					for kx := 0; kx < l.KW; kx++ {
						i := ((o*l.InC+c)*l.KH+ky)*l.KW + kx
						want[i] = -1
						if rng.IntN(2) == 1 {
							want[i] = 1
							l.Bits[o*rw+(ky*l.KW+kx)*pw+c/64] |= 1 << (c % 64)
						}
					}
				}
			}
		}
		if got := l.DenseWeights(); !slices.Equal(got, want) {
			t.Errorf("%v %d→%d %d×%d: DenseWeights differs from the packed signs", l.Op, l.InC, l.OutC, l.KH, l.KW)
		}
	}
	i8 := model.Layer{Op: model.OpLinear, Precision: model.PrecisionInt8, InC: 2, OutC: 2, KH: 1, KW: 1, WeightsI8: []int8{-128, 0, 5, 127}}
	if got := i8.DenseWeights(); !slices.Equal(got, []float32{-128, 0, 5, 127}) {
		t.Errorf("int8: got %v", got)
	}
}
