package reference

import (
	"math"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
)

// TestHandComputed checks the oracle itself against values worked out by
// hand on a 1×2×2 input, T = 2.
func TestHandComputed(t *testing.T) {
	m := &model.Model{
		Input: model.InputSpec{Shape: model.Shape{C: 1, H: 2, W: 2}, Timesteps: 2, Mean: []float32{0.5}, Std: []float32{0.5}},
		Layers: []model.Layer{
			// 0: 2 output channels, 2×2 kernel, pad 1 → 2×3×3. Both
			// channels weigh the top-left tap −1 and the others +1;
			// channel 1 has scale 2 and bias 0.5.
			{Op: model.OpConv2D, Inputs: []int{-1}, Precision: model.PrecisionFloat32, InC: 1, OutC: 2, KH: 2, KW: 2, Stride: 1, Pad: 1,
				Weights: []float32{-1, 1, 1, 1, -1, 1, 1, 1}, Scale: []float32{1, 2}, Bias: []float32{0, 0.5}},
			// 1: average over 2×2 windows, stride 2, pad 1 (pad not counted) → 2×2×2.
			{Op: model.OpAvgPool, Inputs: []int{0}, Kernel: 2, Stride: 2, Pad: 1},
			// 2: AGMM with α = (1, 2) and the per-channel spatial mean.
			{Op: model.OpAGMM, Inputs: []int{1}, Alpha: []float32{1, 2}, Stat: model.StatSpatial},
			// 3: LIF, λ = 0.5, V_th = 1.
			{Op: model.OpLIF, Inputs: []int{2}, Lambda: 0.5, Vth: 1},
			{Op: model.OpGlobalAvgPool, Inputs: []int{3}},
			{Op: model.OpReadout, Inputs: []int{4}},
		},
	}
	x, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	x.KeepOutputs = true
	// Pixels 0.5, 1, 1, 0 normalize to 0, 1, 1, −1.
	r, err := x.Run([]float32{0.5, 1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	// Conv channel 0 at (y, x) sums the taps in range: the bottom-right tap
	// (weight +1) of output (0,0) sees input (0,0) = 0, …
	// out(0,0) = w11·in(0,0) = 0; out(0,1) = w10·in(0,0) + w11·in(0,1) = 0+1 = 1;
	// out(0,2) = w10·in(0,1) = 1; out(1,0) = w01·in(0,0) + w11·in(1,0) = 1;
	// out(1,1) = −in(0,0) + in(0,1) + in(1,0) + in(1,1) = 0+1+1−1 = 1;
	// out(1,2) = −in(0,1) + in(1,1) = −1−1 = −2; out(2,0) = w01·in(1,0) = 1;
	// out(2,1) = −in(1,0) + in(1,1) = −2; out(2,2) = −in(1,1) = 1.
	c0 := []float32{0, 1, 1, 1, 1, -2, 1, -2, 1}
	want0 := append(append([]float32{}, c0...), make([]float32, 9)...)
	for i, v := range c0 {
		want0[9+i] = v*2 + 0.5 // channel 1: same sums, scale 2, bias 0.5
	}
	eq(t, "conv", r.Outputs[0][0], want0)
	eq(t, "conv step 1", r.Outputs[0][1], want0)
	// Avg pool windows (stride 2, pad 1) cover {(0,0)}, {(0,1),(0,2)},
	// {(1,0),(2,0)}, {(1,1),(1,2),(2,1),(2,2)}.
	p0 := []float32{0, 1, 1, float32((1 - 2 - 2 + 1) / 4.0)}
	p1 := []float32{0.5, 2.5, 2.5, float32((2.5 - 3.5 - 3.5 + 2.5) / 4.0)}
	eq(t, "avgpool", r.Outputs[1][0], append(append([]float32{}, p0...), p1...))
	// AGMM: E = channel means 0.375 and 1.25 (1.5/4 and 5/4).
	g0, g1 := Sigmoid(0.375), Sigmoid(1.25)
	var want2 []float32
	for _, v := range p0 {
		want2 = append(want2, g0*v)
	}
	for _, v := range p1 {
		want2 = append(want2, g1*v)
	}
	eq(t, "agmm", r.Outputs[2][0], want2)
	// LIF at t=0 fires where the gated value >= 1: only channel 1's 2.5s
	// (g1 ≈ 0.777 → 1.94).
	eq(t, "lif t0", r.Outputs[3][0], []float32{0, 0, 0, 0, 0, 1, 1, 0})
	// t=1, α = 2: channel 0's ones become 2·g0 ≈ 1.19 → fire; channel 1:
	// the spikes reset to 0, then 2·g1·2.5 fires again; the 0.5 at (0,0):
	// u = 0.5·(g1·0.5) + 2·g1·0.5 ≈ 0.97 < 1.
	eq(t, "lif t1", r.Outputs[3][1], []float32{0, 1, 1, 0, 0, 1, 1, 0})
	// Readout: GAP rates (0, 0.5) at t=0 and (0.5, 0.5) at t=1, mean over T.
	eq(t, "logits", r.Logits, []float32{0.25, 0.5})
	if r.Class != 1 {
		t.Errorf("class %d, want 1", r.Class)
	}
}

func eq(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
}

// TestRate checks the rate encoder's rule: p = 0 never fires, p = 1 always
// does, and p = 0.25 fires about a quarter of the time.
func TestRate(t *testing.T) {
	var g uint64 = 42
	n := 0
	for i := 0; i < 100000; i++ {
		if Rate(&g, 0) {
			t.Fatal("p = 0 fired")
		}
		if !Rate(&g, 1) {
			t.Fatal("p = 1 did not fire")
		}
		if Rate(&g, 0.25) {
			n++
		}
	}
	if f := float64(n) / 100000; math.Abs(f-0.25) > 0.01 {
		t.Errorf("p = 0.25 fired at %v", f)
	}
}

// TestStream: a continuous stream carries membrane state, so a constant
// input sub-threshold at every frame's first step fires in a later frame;
// per-frame streams repeat frame 0's result.
func TestStream(t *testing.T) {
	m := &model.Model{
		Input: model.InputSpec{Shape: model.Shape{C: 1, H: 1, W: 1}, Timesteps: 1},
		Layers: []model.Layer{
			{Op: model.OpLIF, Inputs: []int{-1}, Lambda: 1, Vth: 1},
			{Op: model.OpReadout, Inputs: []int{0}},
		},
	}
	x, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, cont := range []bool{false, true} {
		s := x.NewStream(cont)
		var got []float32
		for i := 0; i < 3; i++ {
			r, err := s.Step([]float32{0.4})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Logits[0])
		}
		want := []float32{0, 0, 0}
		if cont {
			want = []float32{0, 0, 1} // 0.4, 0.8, 1.2
		}
		eq(t, "stream", got, want)
	}
	if _, err := x.Run(make([]float32, 2)); err == nil || !strings.Contains(err.Error(), "1×1×1") {
		t.Errorf("wrong input length: %v", err)
	}
}
