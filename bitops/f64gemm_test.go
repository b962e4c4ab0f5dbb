package bitops

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The float64 GEMM of every set is checked bit for bit against the generic
// set, and the generic set against a naive in-order sum with no skipping,
// over row counts 0..(3 blocks + 1) and short last blocks, column counts 0..(3 panels of the
// widest set + 1), reduction lengths including 1 and odd ones, inputs that
// are dense, sparse, all zero and −0, unaligned slice starts, and guard
// values around the outputs.

// f64 fill modes for the patch rows.
const (
	f64Dense   = iota // random float32 values over a wide exponent range
	f64Pooled         // AvgPool2 of spikes: {0, .25, .5, .75, 1}, about half zero
	f64Sparse         // 90 % zeros, some −0
	f64Columns        // whole reduction indices zero in every row, the rest dense
	f64Zero           // all +0 and −0
	f64NumModes
)

func f32Wide(rng *rand.Rand) float64 {
	return float64(float32(math.Ldexp(rng.NormFloat64(), rng.IntN(40)-20)))
}

func fillF64(rng *rand.Rand, a []float64, m, kk, mode int) {
	dead := make([]bool, kk)
	for i := range dead {
		dead[i] = rng.IntN(3) == 0
	}
	for r := 0; r < m; r++ {
		for i := 0; i < kk; i++ {
			v := 0.0
			switch mode {
			case f64Dense:
				v = f32Wide(rng)
			case f64Pooled:
				v = float64(rng.IntN(5)) / 4
				if rng.IntN(2) == 0 {
					v = 0
				}
			case f64Sparse:
				if rng.IntN(10) == 0 {
					v = f32Wide(rng)
				} else if rng.IntN(4) == 0 {
					v = math.Copysign(0, -1)
				}
			case f64Columns:
				if !dead[i] {
					v = f32Wide(rng)
				}
			case f64Zero:
				if rng.IntN(2) == 0 {
					v = math.Copysign(0, -1)
				}
			}
			a[r*kk+i] = v
		}
	}
}

// f64Weights returns kk×n transposed weights: float32, int8 or ±1 values.
func f64Weights(rng *rand.Rand, kk, n int) []float64 {
	w := f64Workspace(rng, kk*n)
	kind := rng.IntN(3)
	for i := range w {
		switch kind {
		case 0:
			w[i] = f32Wide(rng)
		case 1:
			w[i] = float64(int8(rng.Uint32()))
		case 2:
			w[i] = float64(1 - 2*rng.IntN(2))
		}
	}
	return w
}

// f64Workspace is a slice of n float64 at a random offset in a larger one.
func f64Workspace(rng *rand.Rand, n int) []float64 {
	off := rng.IntN(8)
	buf := make([]float64, off+n+3)
	return buf[off : off+n : off+n]
}

func f32Scales(rng *rand.Rand, n int) (scale, bias []float32) {
	scale, bias = make([]float32, n), make([]float32, n)
	for i := range scale {
		scale[i] = float32(math.Ldexp(rng.Float64()+0.5, rng.IntN(8)-4))
		bias[i] = float32(rng.NormFloat64())
	}
	return scale, bias
}

// naiveF64 is the definition: each output one float64 sum in index order.
func naiveF64(a []float64, m, kk int, wT []float64, n int) []float64 {
	acc := make([]float64, m*n)
	for r := 0; r < m; r++ {
		for o := 0; o < n; o++ {
			s := 0.0
			for i := 0; i < kk; i++ {
				s += float64(a[r*kk+i] * wT[i*n+o])
			}
			acc[r*n+o] = s
		}
	}
	return acc
}

const (
	f64Canary = -1.2345e300
	f32Canary = float32(-1.2345e30)
)

// guardedF64 and guardedF32 return outputs inside canary-filled buffers and
// a check that the canaries survived.
func guardedF64(rng *rand.Rand, n int) ([]float64, func(t *testing.T, what string)) {
	pre := 1 + rng.IntN(9)
	buf := make([]float64, pre+n+40)
	for i := range buf {
		buf[i] = f64Canary
	}
	return buf[pre : pre+n : pre+n], func(t *testing.T, what string) {
		t.Helper()
		for i, v := range buf {
			if (i < pre || i >= pre+n) && v != f64Canary {
				t.Fatalf("%s: guard value %d (dst at %d, len %d) overwritten: %v", what, i, pre, n, v)
			}
		}
	}
}

func guardedF32(rng *rand.Rand, n int) ([]float32, func(t *testing.T, what string)) {
	pre := 1 + rng.IntN(9)
	buf := make([]float32, pre+n+40)
	for i := range buf {
		buf[i] = f32Canary
	}
	return buf[pre : pre+n : pre+n], func(t *testing.T, what string) {
		t.Helper()
		for i, v := range buf {
			if (i < pre || i >= pre+n) && v != f32Canary {
				t.Fatalf("%s: guard value %d (dst at %d, len %d) overwritten: %v", what, i, pre, n, v)
			}
		}
	}
}

func sameBits64(a, b []float64) int {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}

func sameBits32(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// verifyF64Gemm runs F64Gemm and F64GemmScaled of k, dense and skipping, on
// one input and compares them bit for bit with want (the in-order sums).
func verifyF64Gemm(t *testing.T, rng *rand.Rand, k *Kernels, a []float64, m, kk int, wT []float64, n int, want []float64, what string) {
	t.Helper()
	scale, bias := f32Scales(rng, n)
	wantOut := make([]float32, m*n)
	for r := 0; r < m; r++ {
		for o := 0; o < n; o++ {
			wantOut[r*n+o] = float32(float32(want[r*n+o])*scale[o]) + bias[o]
		}
	}
	for _, useSkip := range []bool{false, true} {
		var skip []int32
		if useSkip {
			skip = make([]int32, kk+rng.IntN(3))
		}
		name := fmt.Sprintf("%s %s skip=%v", k.Name, what, useSkip)
		acc, check := guardedF64(rng, m*n)
		if err := k.F64Gemm(acc, a, m, kk, wT, n, skip); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		check(t, name+" F64Gemm")
		if i := sameBits64(acc, want); i >= 0 {
			t.Fatalf("%s: F64Gemm acc[%d] (row %d, col %d) = %v (%#x), want %v (%#x)", name, i, i/n, i%n, acc[i], math.Float64bits(acc[i]), want[i], math.Float64bits(want[i]))
		}
		out, check32 := guardedF32(rng, m*n)
		if err := k.F64GemmScaled(out, a, m, kk, wT, n, scale, bias, skip); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		check32(t, name+" F64GemmScaled")
		if i := sameBits32(out, wantOut); i >= 0 {
			t.Fatalf("%s: F64GemmScaled dst[%d] (row %d, col %d) = %v, want %v", name, i, i/n, i%n, out[i], wantOut[i])
		}
	}
}

func TestF64GemmGenericMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for _, kk := range []int{0, 1, 2, 3, 7, 27, 64} {
		for _, m := range []int{0, 1, 3, 4, 5, 9} {
			for _, n := range []int{0, 1, 2, 3, 5, 10} {
				for mode := range f64NumModes {
					a := f64Workspace(rng, m*kk)
					fillF64(rng, a, m, kk, mode)
					wT := f64Weights(rng, kk, n)
					want := naiveF64(a, m, kk, wT, n)
					verifyF64Gemm(t, rng, Generic, a, m, kk, wT, n, want, fmt.Sprintf("m=%d k=%d n=%d mode=%d", m, kk, n, mode))
				}
			}
		}
	}
}

// f64TestCols covers 0 to three 32-column panels + 1 (the AVX-512 panel is
// 16) and the model's widths.
var f64TestCols = func() []int {
	var c []int
	for n := 0; n <= 3*32+1; n++ {
		c = append(c, n)
	}
	return append(c, 128, 130, 256)
}()

func TestF64GemmSetsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	for _, k := range Available() {
		for _, n := range f64TestCols {
			for _, m := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 25} {
				kk := []int{1, 2, 3, 5, 27, 40, 128}[rng.IntN(7)]
				mode := rng.IntN(f64NumModes)
				a := f64Workspace(rng, m*kk)
				fillF64(rng, a, m, kk, mode)
				wT := f64Weights(rng, kk, n)
				want := make([]float64, m*n)
				if err := Generic.F64Gemm(want, a, m, kk, wT, n, nil); err != nil {
					t.Fatal(err)
				}
				verifyF64Gemm(t, rng, k, a, m, kk, wT, n, want, fmt.Sprintf("m=%d k=%d n=%d mode=%d", m, kk, n, mode))
			}
		}
	}
}

// TestF64GemmSkipsExactly runs blocks whose union of non-zero indices is
// far below every set's threshold (so the indexed kernels run) and blocks
// with −0 everywhere, against the naive dense sum.
func TestF64GemmSkipsExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(75, 76))
	for _, k := range Available() {
		for _, mode := range []int{f64Sparse, f64Columns, f64Zero, f64Pooled} {
			for _, kk := range []int{1, 4, 9, 27, 128, 256} {
				m, n := 1+rng.IntN(12), 1+rng.IntN(70)
				a := f64Workspace(rng, m*kk)
				fillF64(rng, a, m, kk, mode)
				wT := f64Weights(rng, kk, n)
				verifyF64Gemm(t, rng, k, a, m, kk, wT, n, naiveF64(a, m, kk, wT, n), fmt.Sprintf("m=%d k=%d n=%d mode=%d", m, kk, n, mode))
			}
		}
	}
}

func TestNonzeroUnion(t *testing.T) {
	neg := math.Copysign(0, -1)
	var b f64Block
	b.a = [F64BlockRows][]float64{
		{0, 1, 0, neg, 0, 0},
		{0, 0, 0, neg, 0, 2},
		{neg, 0, 0, 0, 0, 0},
		{0, 0, 3, 0, 0, 0},
		{0, 0, 0, 0, 0, 0},
		{0, 0, 0, neg, 0, 0},
		{0, 0, 0, 0, 0, 0},
		{0, 0, 0, 0, 4, 0},
	}
	got := nonzeroUnion(make([]int32, 6), &b.a)
	if fmt.Sprint(got) != "[1 2 4 5]" {
		t.Fatalf("nonzeroUnion = %v, want [1 2 4 5]", got)
	}
}

func TestF64GemmErrors(t *testing.T) {
	k := Best()
	a, w := make([]float64, 12), make([]float64, 12)
	acc, out := make([]float64, 16), make([]float32, 16)
	sc := make([]float32, 4)
	cases := []struct {
		name string
		err  error
	}{
		{"negative m", k.F64Gemm(acc, a, -1, 3, w, 4, nil)},
		{"negative k", k.F64Gemm(acc, a, 4, -3, w, 4, nil)},
		{"negative n", k.F64Gemm(acc, a, 4, 3, w, -4, nil)},
		{"huge", k.F64Gemm(acc, a, 1<<40, 1<<40, w, 4, nil)},
		{"short a", k.F64Gemm(acc, a, 5, 3, w, 4, nil)},
		{"short w", k.F64Gemm(acc, a, 4, 3, w, 5, nil)},
		{"short acc", k.F64Gemm(acc[:15], a, 4, 3, w, 4, nil)},
		{"short skip", k.F64Gemm(acc, a, 4, 3, w, 4, make([]int32, 2))},
		{"short dst", k.F64GemmScaled(out[:15], a, 4, 3, w, 4, sc, sc, nil)},
		{"short scale", k.F64GemmScaled(out, a, 4, 3, w, 4, sc[:3], sc, nil)},
		{"short bias", k.F64GemmScaled(out, a, 4, 3, w, 4, sc, sc[:3], nil)},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if err := k.F64Gemm(acc, a, 4, 3, w, 4, make([]int32, 3)); err != nil {
		t.Errorf("valid call: %v", err)
	}
}

func TestF64GemmAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(77, 78))
	const m, kk, n = 9, 40, 37
	a := f64Workspace(rng, m*kk)
	fillF64(rng, a, m, kk, f64Pooled)
	wT := f64Weights(rng, kk, n)
	scale, bias := f32Scales(rng, n)
	out, skip := make([]float32, m*n), make([]int32, kk)
	for _, k := range Available() {
		if got := testing.AllocsPerRun(20, func() { _ = k.F64GemmScaled(out, a, m, kk, wT, n, scale, bias, skip) }); got != 0 {
			t.Errorf("%s: F64GemmScaled allocates %v times per call", k.Name, got)
		}
	}
}

// FuzzF64Gemm compares every set with generic (and generic with the naive
// sum) on fuzzer-chosen shapes; the first bytes of data become float32
// values directly (so the fuzzer controls zeros, −0, denormals and huge
// values), a PRNG seeded from the rest fills the remainder.
func FuzzF64Gemm(f *testing.F) {
	f.Add([]byte{}, uint8(4), uint8(27), uint8(33))
	f.Add(make([]byte, 64), uint8(5), uint8(9), uint8(10))
	f.Add([]byte{0, 0, 0, 0x80, 0, 0, 0x80, 0x3f, 1, 0, 0, 0}, uint8(3), uint8(130), uint8(64))
	f.Fuzz(func(t *testing.T, data []byte, m8, k8, n8 uint8) {
		m, kk, n := int(m8%10), int(k8%140), int(n8%100)
		rng := rand.New(rand.NewPCG(uint64(len(data)), uint64(m8)<<16|uint64(k8)<<8|uint64(n8)))
		val := func() float64 {
			if len(data) >= 4 {
				v := math.Float32frombits(binary.LittleEndian.Uint32(data))
				data = data[4:]
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					v = 1
				}
				return float64(v)
			}
			if rng.IntN(2) == 0 {
				return 0
			}
			return f32Wide(rng)
		}
		a := make([]float64, m*kk)
		for i := range a {
			a[i] = val()
		}
		wT := make([]float64, kk*n)
		for i := range wT {
			wT[i] = val()
		}
		want := naiveF64(a, m, kk, wT, n)
		for _, k := range Available() {
			verifyF64Gemm(t, rng, k, a, m, kk, wT, n, want, fmt.Sprintf("m=%d k=%d n=%d", m, kk, n))
		}
	})
}
