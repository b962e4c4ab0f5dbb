package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/modeltest"
)

// TestFloatConvGeometry checks float convs of every window, stride and
// padding against the reference, on a direct input and on a rate-encoded
// one (spikes, read through their float copy), at one and three threads:
// the patch gathering clips each tap's columns to the map.
func TestFloatConvGeometry(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	for _, g := range []struct{ k, s, p int }{{3, 2, 1}, {5, 1, 2}, {3, 3, 0}, {1, 2, 0}, {4, 2, 1}, {2, 1, 1}, {7, 2, 3}} {
		for _, enc := range []model.Encoding{model.EncodingDirect, model.EncodingRate} {
			b := modeltest.NewBuilder(rng, model.Shape{C: 3, H: 11, W: 13}, 2, enc)
			x := b.Conv(model.InputIndex, model.PrecisionFloat32, 6, g.k, g.s, g.p)
			x = b.LIF(x, model.ResetHard, 0, 0)
			x = b.Conv(x, model.PrecisionInt8, 5, g.k, g.s, g.p)
			b.Readout(b.GlobalAvgPool(x))
			m := b.Model()
			in := randomInput(m, rng, 1)[0]
			ref := refRun(t, m, 1, in)
			for _, th := range []int{1, 3} {
				e, err := New(m, WithThreads(th), WithTrace(), WithSeed(1))
				if err != nil {
					t.Fatal(err)
				}
				res, err := e.Infer(in)
				if err != nil {
					t.Fatal(err)
				}
				what := fmt.Sprintf("k%d s%d p%d %v threads %d", g.k, g.s, g.p, enc, th)
				checkLogits(t, what, res.Logits, ref.Logits)
				checkLayers(t, what, e, 0, ref)
				e.Close()
			}
		}
	}
}
