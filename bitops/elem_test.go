package bitops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The element-wise kernels of every set are compared with the generic twins
// bit for bit (float32 bit patterns, so −0 and NaN payloads count) on sizes
// from 0 to several vectors plus tails, unaligned starts and guard elements
// around every output.

const floatCanary = 0x7fc0dead // a NaN no kernel computes

// elemSizes are the channel counts checked: 0..3 AVX-512 blocks + 1 and a
// few wider ones.
var elemSizes = func() []int {
	var l []int
	for n := 0; n <= 3*16+1; n++ {
		l = append(l, n)
	}
	return append(l, 63, 64, 65, 127, 128, 129, 200, 256)
}()

// floatsAt returns n floats starting at a random offset of a larger buffer.
func floatsAt(rng *rand.Rand, n int) []float32 {
	off := rng.IntN(16)
	buf := make([]float32, off+n+3)
	return buf[off : off+n : off+n]
}

// guardedFloats returns n floats inside a buffer of canaries, and a check
// that the canaries are intact.
func guardedFloats(rng *rand.Rand, n int) ([]float32, func(t *testing.T, what string)) {
	pre := 1 + rng.IntN(17)
	buf := make([]float32, pre+n+17)
	for i := range buf {
		buf[i] = math.Float32frombits(floatCanary)
	}
	dst := buf[pre : pre+n : pre+n]
	return dst, func(t *testing.T, what string) {
		t.Helper()
		for i, v := range buf {
			if (i < pre || i >= pre+n) && math.Float32bits(v) != floatCanary {
				t.Fatalf("%s: guard float %d (dst at %d, len %d) overwritten: %v", what, i, pre, n, v)
			}
		}
	}
}

// randFloat returns a float32 of random sign and a wide range of
// magnitudes, with zeros, ±0 and exactly representable small integers
// mixed in, so rounding, signed zeros and ties all occur.
func randFloat(rng *rand.Rand) float32 {
	switch rng.IntN(10) {
	case 0:
		return 0
	case 1:
		return float32(math.Copysign(0, -1))
	case 2:
		return float32(rng.IntN(5) - 2)
	case 3:
		return math.Float32frombits(rng.Uint32()&^(0xff<<23) | uint32(100+rng.IntN(50))<<23)
	}
	return float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(20)-10)))
}

func fillFloats(rng *rand.Rand, x []float32) {
	for i := range x {
		x[i] = randFloat(rng)
	}
}

// sameFloat compares bit patterns, except that all NaNs are equal: which
// NaN an operation on two NaNs returns depends on its operand order, which
// Go leaves to the compiler (it differs between race and normal builds).
func sameFloat(x, y float32) bool {
	return math.Float32bits(x) == math.Float32bits(y) || x != x && y != y
}

func sameFloats(a, b []float32) bool { return slices.EqualFunc(a, b, sameFloat) }

func firstDiff(a, b []float32) string {
	for i := range a {
		if !sameFloat(a[i], b[i]) {
			return fmt.Sprintf("element %d: got %v (%#x) want %v (%#x)", i, a[i], math.Float32bits(a[i]), b[i], math.Float32bits(b[i]))
		}
	}
	return "lengths differ"
}

func scaleBiasCase(t *testing.T, rng *rand.Rand, k *Kernels, m, n int) {
	t.Helper()
	acc := make([]int32, m*n+rng.IntN(3))[:m*n]
	for i := range acc {
		switch rng.IntN(4) {
		case 0:
			acc[i] = int32(rng.Uint32()) // beyond 2^24: rounds
		case 1:
			acc[i] = 0
		default:
			acc[i] = int32(rng.IntN(4000) - 2000)
		}
	}
	scale, bias := floatsAt(rng, n), floatsAt(rng, n)
	fillFloats(rng, scale)
	fillFloats(rng, bias)
	want := make([]float32, m*n)
	scaleBiasGeneric(want, acc, m, scale, bias)
	dst, check := guardedFloats(rng, m*n)
	name := fmt.Sprintf("%s ScaleBias m=%d n=%d", k.Name, m, n)
	if err := k.ScaleBias(dst, acc, m, scale, bias); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	check(t, name)
	if !sameFloats(dst, want) {
		t.Fatalf("%s: differs from generic: %s", name, firstDiff(dst, want))
	}
}

func TestScaleBiasGeneric(t *testing.T) {
	acc := []int32{3, -2, 16777217, 0}
	scale := []float32{0.5, 3}
	bias := []float32{1, float32(math.Copysign(0, -1))}
	dst := make([]float32, 4)
	if err := Generic.ScaleBias(dst, acc, 2, scale, bias); err != nil {
		t.Fatal(err)
	}
	// 16777217 rounds to 16777216 before the multiply.
	want := []float32{2.5, -6, 8388609, 0}
	if !sameFloats(dst, want) {
		t.Fatalf("got %v want %v", dst, want)
	}
}

func TestScaleBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range allSets() {
		for _, n := range elemSizes {
			for _, m := range []int{1, 2, 3, 5} {
				scaleBiasCase(t, rng, k, m, n)
			}
		}
		for range 50 {
			scaleBiasCase(t, rng, k, rng.IntN(9), rng.IntN(300))
		}
	}
}

func TestScaleBiasErrors(t *testing.T) {
	s := make([]float32, 4)
	for _, k := range allSets() {
		for _, c := range []struct {
			dst  []float32
			acc  []int32
			m    int
			bias []float32
		}{
			{make([]float32, 8), make([]int32, 8), -1, s},
			{make([]float32, 8), make([]int32, 8), 2, s[:3]},
			{make([]float32, 8), make([]int32, 7), 2, s},
			{make([]float32, 7), make([]int32, 8), 2, s},
		} {
			if err := k.ScaleBias(c.dst, c.acc, c.m, s, c.bias); err == nil {
				t.Errorf("%s: ScaleBias(len(dst)=%d, len(acc)=%d, m=%d, len(bias)=%d) returned no error", k.Name, len(c.dst), len(c.acc), c.m, len(c.bias))
			}
		}
		if err := k.ScaleBias(nil, nil, 3, nil, nil); err != nil {
			t.Errorf("%s: ScaleBias with n=0: %v", k.Name, err)
		}
	}
}

func FuzzScaleBias(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(17))
	f.Add(uint64(2), uint8(1), uint8(7))
	f.Fuzz(func(t *testing.T, seed uint64, m, n uint8) {
		rng := rand.New(rand.NewPCG(seed, 1))
		for _, k := range allSets() {
			scaleBiasCase(t, rng, k, int(m%9), int(n))
		}
	})
}

func statSpatialCase(t *testing.T, rng *rand.Rand, k *Kernels, n, pixels, stride int) {
	t.Helper()
	x := floatsAt(rng, max(0, (pixels-1)*stride+n))
	fillFloats(rng, x)
	want := make([]float64, n)
	if pixels > 0 && n > 0 {
		statSpatialGeneric(want, x, pixels, stride)
	}
	pre := 1 + rng.IntN(5)
	buf := make([]float64, pre+n+9)
	for i := range buf {
		buf[i] = -7.25
	}
	sum := buf[pre : pre+n : pre+n]
	name := fmt.Sprintf("%s StatSpatial n=%d pixels=%d stride=%d", k.Name, n, pixels, stride)
	x0 := slices.Clone(x)
	if err := k.StatSpatial(sum, x, pixels, stride); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for i, v := range buf {
		if (i < pre || i >= pre+n) && v != -7.25 {
			t.Fatalf("%s: guard %d overwritten", name, i)
		}
	}
	for c := range sum {
		if math.Float64bits(sum[c]) != math.Float64bits(want[c]) {
			t.Fatalf("%s: sum[%d] = %v, generic %v", name, c, sum[c], want[c])
		}
	}
	if !sameFloats(x, x0) {
		t.Fatalf("%s: modified x", name)
	}
}

func TestStatSpatial(t *testing.T) {
	// The generic sum is the pixel-order float64 sum.
	x := []float32{1, 1e-8, 3, 2, 1, -3}
	sum := make([]float64, 2)
	if err := Generic.StatSpatial(sum, x, 3, 2); err != nil {
		t.Fatal(err)
	}
	if want := []float64{1 + 3 + 1, float64(float32(1e-8)) + 2 - 3}; !slices.Equal(sum, want) {
		t.Fatalf("generic: got %v want %v", sum, want)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, k := range allSets() {
		for _, n := range elemSizes {
			for _, pixels := range []int{0, 1, 2, 7} {
				statSpatialCase(t, rng, k, n, pixels, n+rng.IntN(3))
			}
		}
		for range 50 {
			n := rng.IntN(300)
			statSpatialCase(t, rng, k, n, rng.IntN(70), n+rng.IntN(20))
		}
		if err := k.StatSpatial(make([]float64, 4), make([]float32, 9), 3, 3); err == nil {
			t.Errorf("%s: short x: no error", k.Name)
		}
		if err := k.StatSpatial(make([]float64, 4), make([]float32, 10), -1, 3); err == nil {
			t.Errorf("%s: negative pixels: no error", k.Name)
		}
	}
}

func FuzzStatSpatial(f *testing.F) {
	f.Add(uint64(1), uint16(64), uint8(5), uint8(0))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, pixels, gap uint8) {
		rng := rand.New(rand.NewPCG(seed, 3))
		for _, k := range allSets() {
			statSpatialCase(t, rng, k, int(n%400), int(pixels), int(n%400)+int(gap%8))
		}
	})
}
