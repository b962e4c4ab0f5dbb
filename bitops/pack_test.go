package bitops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// padClear reports whether the bits past n elements in the packed x are 0.
func padClear(x []uint64, n int) bool {
	if n%64 == 0 {
		return true
	}
	return x[n/64]>>(n%64) == 0
}

func TestPackSpikesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for n := 0; n <= 200; n++ {
		src := make([]float32, n)
		u8 := make([]uint8, n)
		for i := range src {
			if rng.IntN(3) == 0 {
				src[i] = float32(1 + rng.IntN(3)) // any non-zero value is a spike
				u8[i] = uint8(1 + rng.IntN(255))
			}
		}
		dst := make([]uint64, Words(n)+2)
		for i := range dst {
			dst[i] = ^uint64(0) // stale data must be cleared
		}
		if err := PackSpikes(dst, src); err != nil {
			t.Fatal(err)
		}
		if !padClear(dst, n) {
			t.Fatalf("n=%d: pad bits set: %#x", n, dst[n/64])
		}
		if dst[Words(n)] != ^uint64(0) {
			t.Fatalf("n=%d: PackSpikes wrote past Words(n)", n)
		}
		back := make([]float32, n)
		if err := UnpackSpikes(back, dst); err != nil {
			t.Fatal(err)
		}
		for i := range src {
			want := float32(0)
			if src[i] != 0 {
				want = 1
			}
			if back[i] != want {
				t.Fatalf("n=%d: element %d: %v -> %v", n, i, src[i], back[i])
			}
			if bit := dst[i/64] >> (i % 64) & 1; bit != uint64(want) {
				t.Fatalf("n=%d: element %d is not bit %d of word %d", n, i, i%64, i/64)
			}
		}
		dst8 := make([]uint64, Words(n))
		if err := PackSpikesU8(dst8, u8); err != nil {
			t.Fatal(err)
		}
		for i := range u8 {
			if got := dst8[i/64] >> (i % 64) & 1; got != uint64(min(u8[i], 1)) {
				t.Fatalf("PackSpikesU8 n=%d element %d: bit %d for %d", n, i, got, u8[i])
			}
		}
		if !padClear(dst8, n) {
			t.Fatalf("PackSpikesU8 n=%d: pad bits set", n)
		}
	}
}

func TestPackSignsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for n := 0; n <= 200; n++ {
		src := make([]float32, n)
		i8 := make([]int8, n)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
			i8[i] = int8(rng.IntN(256) - 128)
		}
		if n > 3 {
			src[0], src[1], src[2] = 0, float32(math.Copysign(0, -1)), float32(math.NaN())
			i8[0] = 0
		}
		dst := make([]uint64, Words(n))
		if err := PackSigns(dst, src); err != nil {
			t.Fatal(err)
		}
		if !padClear(dst, n) {
			t.Fatalf("n=%d: pad bits set", n)
		}
		back := make([]float32, n)
		if err := UnpackSigns(back, dst); err != nil {
			t.Fatal(err)
		}
		for i, x := range src {
			want := float32(-1)
			if x >= 0 { // sign(0) = sign(-0) = +1, NaN = -1
				want = 1
			}
			if back[i] != want {
				t.Fatalf("n=%d: sign of %v -> %v, want %v", n, x, back[i], want)
			}
		}
		if err := PackSignsInt8(dst, i8); err != nil {
			t.Fatal(err)
		}
		for i, x := range i8 {
			want := uint64(0)
			if x >= 0 {
				want = 1
			}
			if dst[i/64]>>(i%64)&1 != want {
				t.Fatalf("PackSignsInt8 n=%d: element %d = %d packed wrong", n, i, x)
			}
		}
		if !padClear(dst, n) {
			t.Fatalf("PackSignsInt8 n=%d: pad bits set", n)
		}
	}
}

func TestPackCHWRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, c := range []int{1, 3, 63, 64, 65, 130, 256} {
		h, w := 1+rng.IntN(4), 1+rng.IntN(5)
		pw := PixelWords(c)
		for _, signs := range []bool{false, true} {
			src := make([]float32, c*h*w)
			for i := range src {
				if signs {
					src[i] = float32(rng.NormFloat64())
				} else {
					src[i] = float32(rng.IntN(2))
				}
			}
			dst := make([]uint64, h*w*pw)
			if err := PackCHW(dst, src, c, h, w, signs); err != nil {
				t.Fatal(err)
			}
			for p := 0; p < h*w; p++ {
				if !padClear(dst[p*pw:(p+1)*pw], c) {
					t.Fatalf("c=%d signs=%v: pixel %d has pad bits set", c, signs, p)
				}
				for ch := 0; ch < c; ch++ {
					v := src[ch*h*w+p]
					want := uint64(0)
					if (signs && v >= 0) || (!signs && v != 0) {
						want = 1
					}
					if dst[p*pw+ch/64]>>(ch%64)&1 != want {
						t.Fatalf("c=%d: pixel %d channel %d not at bit %d of word %d", c, p, ch, ch%64, p*pw+ch/64)
					}
				}
			}
			back := make([]float32, len(src))
			if err := UnpackCHW(back, dst, c, h, w, signs); err != nil {
				t.Fatal(err)
			}
			for i, v := range src {
				want := v
				if signs {
					want = -1
					if v >= 0 {
						want = 1
					}
				}
				if back[i] != want {
					t.Fatalf("c=%d signs=%v: element %d: %v -> %v", c, signs, i, v, back[i])
				}
			}
		}
	}
}

func TestPackOIHWRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	for _, c := range []int{1, 64, 70, 128} {
		o, kh, kw := 1+rng.IntN(5), 1+rng.IntN(3), 1+rng.IntN(3)
		src := make([]float32, o*c*kh*kw)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		rw := ConvRowWords(c, kh, kw)
		dst := make([]uint64, o*rw)
		if err := PackOIHW(dst, src, o, c, kh, kw); err != nil {
			t.Fatal(err)
		}
		for r := 0; r < o*kh*kw; r++ {
			if !padClear(dst[r*PixelWords(c):(r+1)*PixelWords(c)], c) {
				t.Fatalf("c=%d: tap run %d has pad bits set", c, r)
			}
		}
		back := make([]float32, len(src))
		if err := UnpackOIHW(back, dst, o, c, kh, kw); err != nil {
			t.Fatal(err)
		}
		for i, v := range src {
			want := float32(-1)
			if v >= 0 {
				want = 1
			}
			if back[i] != want {
				t.Fatalf("c=%d: element %d: %v -> %v", c, i, v, back[i])
			}
		}
	}
}

// TestConvIm2colMatchesFloatConv is the end-to-end check of the packing
// convention: a 3×3, stride 1, zero-padding 1 conv of a spike map with ±1
// weights, computed as AndGemm over im2col patches gathered from PackCHW
// words against PackOIHW rows, equals the naive float conv on every set.
func TestConvIm2colMatchesFloatConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(39, 40))
	for _, c := range []int{5, 64, 70, 256} {
		const h, w, o, k = 5, 6, 9, 3
		spikes := make([]float32, c*h*w)
		for i := range spikes {
			if rng.IntN(4) == 0 {
				spikes[i] = 1
			}
		}
		weights := make([]float32, o*c*k*k)
		for i := range weights {
			weights[i] = float32(rng.NormFloat64())
		}
		pw := PixelWords(c)
		packed := make([]uint64, h*w*pw)
		if err := PackCHW(packed, spikes, c, h, w, false); err != nil {
			t.Fatal(err)
		}
		rw := ConvRowWords(c, k, k)
		wp := make([]uint64, o*rw)
		if err := PackOIHW(wp, weights, o, c, k, k); err != nil {
			t.Fatal(err)
		}
		// im2col: one row per output pixel, tap (ky, kx) at words
		// [(ky*k+kx)*pw, ...); out-of-map taps stay zero (no spikes).
		patches := make([]uint64, h*w*rw)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				row := patches[(y*w+x)*rw : (y*w+x+1)*rw]
				for ky := 0; ky < k; ky++ {
					for kx := 0; kx < k; kx++ {
						yy, xx := y+ky-1, x+kx-1
						if yy < 0 || yy >= h || xx < 0 || xx >= w {
							continue
						}
						copy(row[(ky*k+kx)*pw:(ky*k+kx+1)*pw], packed[(yy*w+xx)*pw:(yy*w+xx+1)*pw])
					}
				}
			}
		}
		// Naive float conv, NCHW output.
		want := make([]float32, o*h*w)
		for oc := 0; oc < o; oc++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					var sum float32
					for ch := 0; ch < c; ch++ {
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								yy, xx := y+ky-1, x+kx-1
								if yy < 0 || yy >= h || xx < 0 || xx >= w {
									continue
								}
								sgn := float32(-1)
								if weights[((oc*c+ch)*k+ky)*k+kx] >= 0 {
									sgn = 1
								}
								sum += spikes[(ch*h+yy)*w+xx] * sgn
							}
						}
					}
					want[(oc*h+y)*w+x] = sum
				}
			}
		}
		for _, ks := range Available() {
			got := make([]int32, h*w*o)
			if err := ks.AndGemm(got, patches, h*w, wp, o, rw); err != nil {
				t.Fatal(err)
			}
			sparse := make([]int32, h*w*o)
			if _, err := ks.AndGemmSparse(sparse, patches, h*w, wp, o, rw); err != nil {
				t.Fatal(err)
			}
			for p := 0; p < h*w; p++ {
				for oc := 0; oc < o; oc++ {
					wv := want[oc*h*w+p]
					if float32(got[p*o+oc]) != wv || float32(sparse[p*o+oc]) != wv {
						t.Fatalf("%s c=%d pixel %d channel %d: AndGemm %d, AndGemmSparse %d, float conv %v",
							ks.Name, c, p, oc, got[p*o+oc], sparse[p*o+oc], wv)
					}
				}
			}
		}
		if slices.Equal(want, make([]float32, len(want))) {
			t.Fatal("degenerate test: the conv output is all zero")
		}
	}
}

func TestPackOIHWTight(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sh := range [][4]int{{1, 1, 1, 1}, {3, 32, 3, 3}, {2, 70, 3, 3}, {4, 64, 1, 1}, {2, 5, 7, 7}, {1, 0, 3, 3}} {
		o, c, kh, kw := sh[0], sh[1], sh[2], sh[3]
		w := make([]float32, o*c*kh*kw)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		rw := TightConvRowWords(c, kh, kw)
		dst := make([]uint64, o*rw+1)
		dst[o*rw] = 0xdead // guard word past the rows
		for i := range dst[:o*rw] {
			dst[i] = ^uint64(0) // stale bits must be cleared
		}
		if err := PackOIHWTight(dst, w, o, c, kh, kw); err != nil {
			t.Fatal(err)
		}
		for oc := 0; oc < o; oc++ {
			for b := 0; b < 64*rw; b++ {
				want := false
				if b < kh*kw*c {
					tap, ch := b/c, b%c
					want = w[((oc*c+ch)*kh*kw)+tap] >= 0
				}
				if got := dst[oc*rw+b/64]>>uint(b%64)&1 == 1; got != want {
					t.Fatalf("%v: row %d bit %d = %v, want %v", sh, oc, b, got, want)
				}
			}
		}
		if dst[o*rw] != 0xdead {
			t.Fatalf("%v: guard word overwritten", sh)
		}
	}
	if err := PackOIHWTight(make([]uint64, 1), make([]float32, 2*32*9), 2, 32, 3, 3); err == nil {
		t.Error("short dst accepted")
	}
	if err := PackOIHWTight(make([]uint64, 10), make([]float32, 3), 2, 32, 3, 3); err == nil {
		t.Error("short src accepted")
	}
}
