package bitops

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// lifCase is one LIF configuration with its inputs, built so that runs of
// different sets start from identical buffers.
type lifCase struct {
	r    LIFRun
	out0 []uint64  // Out before the call (random garbage)
	st0  []float32 // State before the call
	name string
}

// newLIFCase draws a configuration: strides with gaps (or 0 for a step
// stride), every optional input present or not, thresholds that make
// about half the neurons spike, and garbage in Out and in the spike
// shortcut's pad bits.
func newLIFCase(rng *rand.Rand, C, pixels, steps int) *lifCase {
	r := LIFRun{C: C, Pixels: pixels, Steps: steps, Hard: rng.IntN(2) == 0}
	r.Lambda = []float32{1, 0.5, 0.25, 0.9, float32(rng.Float64())}[rng.IntN(5)]
	r.Vth = []float32{1, 0.5, 0, -0.5, float32(rng.NormFloat64())}[rng.IntN(5)]
	pw := (C + 63) / 64
	stride := func(min int) int { return min + rng.IntN(4) }
	stepStride := func(min int) int {
		if rng.IntN(5) == 0 {
			return 0
		}
		return min + rng.IntN(7)
	}
	floats := func(pix, step, width int) []float32 {
		x := floatsAt(rng, (steps-1)*step+(pixels-1)*pix+width+rng.IntN(3))
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			if rng.IntN(20) == 0 {
				x[i] = randFloat(rng)
			}
		}
		return x
	}
	r.XPixel = stride(C)
	r.XStep = stepStride(pixels * r.XPixel)
	r.X = floats(r.XPixel, r.XStep, C)
	if rng.IntN(2) == 0 {
		r.GateStep = stepStride(C)
		r.Gate = floats(0, r.GateStep, C)
	}
	if rng.IntN(2) == 0 {
		r.ResPixel = stride(C)
		r.ResStep = stepStride(pixels * r.ResPixel)
		r.Res = floats(r.ResPixel, r.ResStep, C)
	}
	if rng.IntN(2) == 0 {
		r.SpkPixel = stride(pw)
		r.SpkStep = stepStride(pixels * r.SpkPixel)
		r.Spk = workspace(rng, (steps-1)*r.SpkStep+(pixels-1)*r.SpkPixel+pw)
		fillWords(rng, r.Spk, rng.IntN(numModes))
	}
	var st0 []float32
	if rng.IntN(2) == 0 {
		st0 = floats(C, 0, C)[:pixels*C]
	}
	// Output steps never share words: the step stride covers the pixels.
	r.OutPixel = stride(pw)
	r.OutStep = pixels*r.OutPixel + rng.IntN(3)
	if steps > 1 && rng.IntN(4) == 0 {
		// Interleaved: the steps of a pixel side by side.
		r.OutStep, r.OutPixel = pw, steps*pw+rng.IntN(2)
	}
	out0 := workspace(rng, (steps-1)*r.OutStep+(pixels-1)*r.OutPixel+pw+2)
	fillWords(rng, out0, modeRandom)
	name := fmt.Sprintf("C=%d pixels=%d steps=%d hard=%v λ=%v vth=%v gate=%v res=%v spk=%v state=%v strides x=%d,%d out=%d,%d",
		C, pixels, steps, r.Hard, r.Lambda, r.Vth, r.Gate != nil, r.Res != nil, r.Spk != nil, st0 != nil, r.XPixel, r.XStep, r.OutPixel, r.OutStep)
	return &lifCase{r: r, out0: out0, st0: st0, name: name}
}

// run runs the case on k with fresh copies of Out and State and returns
// them with the counts.
func (c *lifCase) run(t *testing.T, k *Kernels) (out []uint64, st []float32, counts []int64) {
	t.Helper()
	r := c.r
	r.Out = slices.Clone(c.out0)
	if c.st0 != nil {
		r.State = slices.Clone(c.st0)
	}
	in := [][]float32{slices.Clone(r.X), slices.Clone(r.Gate), slices.Clone(r.Res)}
	spk := slices.Clone(r.Spk)
	counts = make([]int64, 2*r.Steps+1)
	counts[2*r.Steps] = 12345
	if err := k.LIF(&r, counts[:2*r.Steps]); err != nil {
		t.Fatalf("%s %s: %v", k.Name, c.name, err)
	}
	if counts[2*r.Steps] != 12345 {
		t.Fatalf("%s %s: count past 2·Steps written", k.Name, c.name)
	}
	if !sameFloats(in[0], r.X) || !sameFloats(in[1], r.Gate) || !sameFloats(in[2], r.Res) || !slices.Equal(spk, r.Spk) {
		t.Fatalf("%s %s: LIF modified an input", k.Name, c.name)
	}
	return r.Out, r.State, counts[:2*r.Steps]
}

// naiveLIF is the model's LIF neuron by neuron, with the reset written as
// the model defines it (h = u·(1−s) or u − Vth·s): it returns the spikes
// per (step, pixel, channel) and the final membranes.
func naiveLIF(r *LIFRun, st0 []float32) (spk []bool, h []float32) {
	C := r.C
	spk = make([]bool, r.Steps*r.Pixels*C)
	h = make([]float32, r.Pixels*C)
	for q := 0; q < r.Pixels; q++ {
		for c := 0; c < C; c++ {
			var u, s float32 // u[−1] = s[−1] = 0
			hc := float32(0)
			if st0 != nil {
				hc = st0[q*C+c]
			}
			for t := 0; t < r.Steps; t++ {
				if t > 0 {
					if r.Hard {
						hc = u * (1 - s)
					} else {
						hc = u - float32(r.Vth*s)
					}
				}
				z := r.X[t*r.XStep+q*r.XPixel+c]
				if r.Gate != nil {
					z = r.Gate[t*r.GateStep+c] * z
				}
				if r.Res != nil {
					z = z + r.Res[t*r.ResStep+q*r.ResPixel+c]
				}
				if r.Spk != nil && r.Spk[t*r.SpkStep+q*r.SpkPixel+c/64]>>(c%64)&1 == 1 {
					z = z + 1
				}
				u = float32(r.Lambda*hc) + z
				s = 0
				if u >= r.Vth {
					s = 1
				}
				spk[(t*r.Pixels+q)*C+c] = s == 1
			}
			if r.Hard {
				hc = u * (1 - s)
			} else {
				hc = u - float32(r.Vth*s)
			}
			h[q*C+c] = hc
		}
	}
	return spk, h
}

func TestLIFGenericMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 400; i++ {
		c := newLIFCase(rng, 1+rng.IntN(150), 1+rng.IntN(4), 1+rng.IntN(4))
		out, st, counts := c.run(t, Generic)
		r := &c.r
		spk, h := naiveLIF(r, c.st0)
		pw := (r.C + 63) / 64
		written := make([]bool, len(out))
		var nnz, nzw []int64 = make([]int64, r.Steps), make([]int64, r.Steps)
		for tt := 0; tt < r.Steps; tt++ {
			for q := 0; q < r.Pixels; q++ {
				o := tt*r.OutStep + q*r.OutPixel
				for w := 0; w < pw; w++ {
					written[o+w] = true
					if out[o+w] != 0 {
						nzw[tt]++
					}
					nnz[tt] += int64(bits.OnesCount64(out[o+w]))
				}
				for ch := 0; ch < pw*64; ch++ {
					got := out[o+ch/64]>>(ch%64)&1 == 1
					want := ch < r.C && spk[(tt*r.Pixels+q)*r.C+ch]
					if got != want {
						t.Fatalf("%s: step %d pixel %d channel %d: spike %v, want %v", c.name, tt, q, ch, got, want)
					}
				}
			}
			if counts[2*tt] != nnz[tt] || counts[2*tt+1] != nzw[tt] {
				t.Fatalf("%s: step %d counts %d, %d, want %d, %d", c.name, tt, counts[2*tt], counts[2*tt+1], nnz[tt], nzw[tt])
			}
		}
		for i, w := range out {
			if !written[i] && w != c.out0[i] {
				t.Fatalf("%s: word %d of Out is no output word but was changed", c.name, i)
			}
		}
		if st != nil {
			for i := range h {
				// The model's u·(1−s) may give −0 where the kernels give +0.
				if st[i] != h[i] && !(math.IsNaN(float64(st[i])) && math.IsNaN(float64(h[i]))) {
					t.Fatalf("%s: state %d = %v, want %v", c.name, i, st[i], h[i])
				}
			}
		}
	}
}

func lifCompare(t *testing.T, k *Kernels, c *lifCase) {
	t.Helper()
	wout, wst, wcnt := c.run(t, Generic)
	out, st, cnt := c.run(t, k)
	if !slices.Equal(out, wout) {
		for i := range out {
			if out[i] != wout[i] {
				t.Fatalf("%s %s: Out word %d = %#x, generic %#x", k.Name, c.name, i, out[i], wout[i])
			}
		}
	}
	if !sameFloats(st, wst) {
		t.Fatalf("%s %s: State differs from generic: %s", k.Name, c.name, firstDiff(st, wst))
	}
	if !slices.Equal(cnt, wcnt) {
		t.Fatalf("%s %s: counts %v, generic %v", k.Name, c.name, cnt, wcnt)
	}
}

func TestLIF(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range allSets() {
		for _, C := range elemSizes[1:] {
			for range 6 {
				lifCompare(t, k, newLIFCase(rng, C, 1+rng.IntN(5), 1+rng.IntN(4)))
			}
		}
		for range 100 {
			lifCompare(t, k, newLIFCase(rng, 1+rng.IntN(600), 1+rng.IntN(20), 1+rng.IntN(6)))
		}
		// Whole output words only: the AVX-512 quad path does all the
		// work, counting included.
		for _, C := range []int{64, 128, 192, 256, 512} {
			for range 12 {
				lifCompare(t, k, newLIFCase(rng, C, 1+rng.IntN(9), 1+rng.IntN(5)))
			}
		}
	}
}

// TestLIFSpecial checks values where the exact form matters: signed zeros
// through the hard and the soft reset, thresholds hit exactly, NaN and
// infinities (which must not spike or must, as u >= Vth says).
func TestLIFSpecial(t *testing.T) {
	negz := float32(math.Copysign(0, -1))
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	vals := []float32{0, negz, 1, -1, 0.5, inf, -inf, nan, 1e-45, 3e38}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, k := range allSets() {
		for range 200 {
			c := newLIFCase(rng, []int{64, 128, 1 + rng.IntN(70)}[rng.IntN(3)], 1+rng.IntN(3), 1+rng.IntN(4))
			for _, x := range [][]float32{c.r.X, c.r.Gate, c.r.Res, c.st0} {
				for i := range x {
					if rng.IntN(2) == 0 {
						x[i] = vals[rng.IntN(len(vals))]
					}
				}
			}
			c.r.Vth = vals[rng.IntN(5)]
			lifCompare(t, k, c)
		}
	}
}

func TestLIFErrors(t *testing.T) {
	ok := func() LIFRun {
		return LIFRun{C: 70, Pixels: 3, Steps: 2, X: make([]float32, 420), XPixel: 70, XStep: 210,
			Out: make([]uint64, 12), OutPixel: 2, OutStep: 6}
	}
	for _, k := range allSets() {
		r := ok()
		if err := k.LIF(&r, nil); err != nil {
			t.Fatalf("%s: valid run: %v", k.Name, err)
		}
		for i, mod := range []func(r *LIFRun){
			func(r *LIFRun) { r.C = -1 },
			func(r *LIFRun) { r.Steps = -1 },
			func(r *LIFRun) { r.X = r.X[:419] },
			func(r *LIFRun) { r.XStep = -1 },
			func(r *LIFRun) { r.XPixel = 1 << 62 },
			func(r *LIFRun) { r.Out = r.Out[:11] },
			func(r *LIFRun) { r.OutPixel = -2 },
			func(r *LIFRun) { r.Gate, r.GateStep = make([]float32, 139), 70 },
			func(r *LIFRun) { r.Res, r.ResPixel, r.ResStep = make([]float32, 419), 70, 210 },
			func(r *LIFRun) { r.Spk, r.SpkPixel, r.SpkStep = make([]uint64, 11), 2, 6 },
			func(r *LIFRun) { r.State = make([]float32, 209) },
		} {
			r := ok()
			mod(&r)
			if err := k.LIF(&r, nil); err == nil {
				t.Errorf("%s: case %d: no error", k.Name, i)
			}
		}
		r = ok()
		if err := k.LIF(&r, make([]int64, 3)); err == nil {
			t.Errorf("%s: short counts: no error", k.Name)
		}
		r = LIFRun{C: 5, Pixels: 0, Steps: 3}
		if err := k.LIF(&r, nil); err != nil {
			t.Errorf("%s: empty run: %v", k.Name, err)
		}
	}
}

func FuzzLIF(f *testing.F) {
	f.Add(uint64(1), uint16(64), uint8(3), uint8(2))
	f.Add(uint64(2), uint16(17), uint8(1), uint8(1))
	f.Add(uint64(3), uint16(300), uint8(7), uint8(5))
	f.Fuzz(func(t *testing.T, seed uint64, C uint16, pixels, steps uint8) {
		rng := rand.New(rand.NewPCG(seed, 2))
		c := newLIFCase(rng, 1+int(C%600), 1+int(pixels%16), 1+int(steps%8))
		for _, k := range allSets() {
			lifCompare(t, k, c)
		}
	})
}
