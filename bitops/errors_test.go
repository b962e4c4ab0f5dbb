package bitops

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// Every exported function rejects mismatched lengths and shapes with an
// error naming the function, and leaves its output untouched.

func TestGemmErrors(t *testing.T) {
	u := func(n int) []uint64 { return make([]uint64, n) }
	for _, k := range Available() {
		type call struct {
			name string
			f    func(dst []int32) error
		}
		// m=2, n=3, words=4 needs s: 8 words, w: 12 words, dst: 6 values.
		cases := []struct {
			what     string
			ls, lw   int
			ldst     int
			m, n, wd int
		}{
			{"short activations", 7, 12, 6, 2, 3, 4},
			{"short weights", 8, 11, 6, 2, 3, 4},
			{"short dst", 8, 12, 5, 2, 3, 4},
			{"negative m", 8, 12, 6, -1, 3, 4},
			{"negative n", 8, 12, 6, 2, -3, 4},
			{"negative words", 8, 12, 6, 2, 3, -4},
			{"huge shape", 8, 12, 6, 1 << 30, 1 << 30, 1 << 30},
		}
		for _, c := range cases {
			calls := []call{
				{"AndGemm", func(dst []int32) error { return k.AndGemm(dst, u(c.ls), c.m, u(c.lw), c.n, c.wd) }},
				{"XnorGemm", func(dst []int32) error { return k.XnorGemm(dst, u(c.ls), c.m, u(c.lw), c.n, c.wd, c.wd*64) }},
				{"AndGemmSparse", func(dst []int32) error {
					_, err := k.AndGemmSparse(dst, u(c.ls), c.m, u(c.lw), c.n, c.wd)
					return err
				}},
			}
			for _, cl := range calls {
				dst := make([]int32, c.ldst)
				for i := range dst {
					dst[i] = canary
				}
				err := cl.f(dst)
				if err == nil || !strings.Contains(err.Error(), cl.name) {
					t.Errorf("%s %s: %s: error = %v, want one naming %s", k.Name, cl.name, c.what, err, cl.name)
				}
				if slices.ContainsFunc(dst, func(v int32) bool { return v != canary }) {
					t.Errorf("%s %s: %s: dst written despite the error", k.Name, cl.name, c.what)
				}
			}
		}
		// AndGemmEvents takes n and words from its EventWeights.
		ew, err := NewEventWeights(u(12), 3, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what   string
			ls, ld int
			m      int
		}{{"short activations", 7, 6, 2}, {"short dst", 8, 5, 2}, {"negative m", 8, 6, -1}} {
			dst := make([]int32, c.ld)
			if _, err := k.AndGemmEvents(dst, u(c.ls), c.m, ew); err == nil || !strings.Contains(err.Error(), "AndGemmEvents") {
				t.Errorf("%s AndGemmEvents %s: %v", k.Name, c.what, err)
			}
		}
		if _, err := k.AndGemmEvents(make([]int32, 6), u(8), 2, nil); err == nil {
			t.Errorf("%s AndGemmEvents accepted nil weights", k.Name)
		}
		// XnorGemm: nbits must fill exactly `words` words.
		for _, nbits := range []int{-1, 0, 3 * 64, 4*64 + 1} {
			if err := k.XnorGemm(make([]int32, 6), u(8), 2, u(12), 3, 4, nbits); err == nil {
				t.Errorf("%s XnorGemm accepted nbits=%d for 4-word rows", k.Name, nbits)
			}
		}
		// Dots and GEMVs.
		if _, err := k.AndDot(u(3), u(4)); err == nil || !strings.Contains(err.Error(), "AndDot") {
			t.Errorf("%s AndDot with 3 and 4 words: %v", k.Name, err)
		}
		if _, err := k.XnorDot(u(3), u(4), 3*64); err == nil || !strings.Contains(err.Error(), "XnorDot") {
			t.Errorf("%s XnorDot with 3 and 4 words: %v", k.Name, err)
		}
		for _, nbits := range []int{-1, 2 * 64, 3*64 + 1} {
			if _, err := k.XnorDot(u(3), u(3), nbits); err == nil {
				t.Errorf("%s XnorDot accepted nbits=%d for 3 words", k.Name, nbits)
			}
		}
		if err := k.AndGemv(make([]int32, 2), u(12), 3, u(4)); err == nil {
			t.Errorf("%s AndGemv accepted a short dst", k.Name)
		}
		if err := k.AndGemv(make([]int32, 3), u(11), 3, u(4)); err == nil {
			t.Errorf("%s AndGemv accepted short weights", k.Name)
		}
		if err := k.XnorGemv(make([]int32, 2), u(12), 3, u(4), 256); err == nil {
			t.Errorf("%s XnorGemv accepted a short dst", k.Name)
		}
		if err := k.XnorGemv(make([]int32, 3), u(12), 3, u(4), 300); err == nil {
			t.Errorf("%s XnorGemv accepted nbits=300 for 4 words", k.Name)
		}
	}
}

func TestNewEventWeights(t *testing.T) {
	if _, err := NewEventWeights(make([]uint64, 11), 3, 4); err == nil || !strings.Contains(err.Error(), "NewEventWeights") {
		t.Errorf("short weights: %v", err)
	}
	if _, err := NewEventWeights(nil, -1, 4); err == nil {
		t.Error("negative n accepted")
	}
	if _, err := NewEventWeights(nil, math.MaxInt/2, math.MaxInt/2); err == nil {
		t.Error("huge shape accepted")
	}
	e, err := NewEventWeights(make([]uint64, 33*5), 33, 5)
	if err != nil {
		t.Fatal(err)
	}
	if e.Rows() != 33 || e.Words() != 5 || e.Stride() != 256 {
		t.Errorf("Rows, Words, Stride = %d, %d, %d; want 33, 5, 256", e.Rows(), e.Words(), e.Stride())
	}
}

func TestPackErrors(t *testing.T) {
	f := make([]float32, 130)
	if err := PackSpikes(make([]uint64, 2), f); err == nil || !strings.Contains(err.Error(), "PackSpikes") {
		t.Errorf("PackSpikes into 2 words for 130 elements: %v", err)
	}
	if err := PackSpikesU8(make([]uint64, 2), make([]uint8, 130)); err == nil {
		t.Error("PackSpikesU8 accepted a short dst")
	}
	if err := PackSigns(make([]uint64, 2), f); err == nil {
		t.Error("PackSigns accepted a short dst")
	}
	if err := PackSignsInt8(make([]uint64, 2), make([]int8, 130)); err == nil {
		t.Error("PackSignsInt8 accepted a short dst")
	}
	if err := UnpackSpikes(f, make([]uint64, 2)); err == nil {
		t.Error("UnpackSpikes accepted a short src")
	}
	if err := UnpackSigns(f, make([]uint64, 2)); err == nil {
		t.Error("UnpackSigns accepted a short src")
	}

	// c=70 channels → 2 words per pixel; 3×4 map → 24 words.
	chw := make([]float32, 70*3*4)
	for _, c := range []struct {
		what          string
		dst           int
		src           []float32
		c, h, w       int
		wantSubstring string
	}{
		{"short dst", 23, chw, 70, 3, 4, "dst"},
		{"src/shape mismatch", 24, chw[1:], 70, 3, 4, "src"},
		{"negative shape", 24, chw, -70, -3, 4, "negative"},
	} {
		if err := PackCHW(make([]uint64, c.dst), c.src, c.c, c.h, c.w, false); err == nil || !strings.Contains(err.Error(), "PackCHW") || !strings.Contains(err.Error(), c.wantSubstring) {
			t.Errorf("PackCHW %s: %v", c.what, err)
		}
	}
	if err := UnpackCHW(chw, make([]uint64, 23), 70, 3, 4, false); err == nil {
		t.Error("UnpackCHW accepted a short src")
	}
	if err := UnpackCHW(chw[1:], make([]uint64, 24), 70, 3, 4, false); err == nil {
		t.Error("UnpackCHW accepted a dst that does not match the shape")
	}
	if err := UnpackCHW(chw, make([]uint64, 24), 70, -3, -4, false); err == nil {
		t.Error("UnpackCHW accepted a negative shape")
	}

	// o=5, c=70, 3×3 → ConvRowWords = 18 words per row, 90 in all.
	oihw := make([]float32, 5*70*9)
	if err := PackOIHW(make([]uint64, 89), oihw, 5, 70, 3, 3); err == nil || !strings.Contains(err.Error(), "PackOIHW") {
		t.Errorf("PackOIHW short dst: %v", err)
	}
	if err := PackOIHW(make([]uint64, 90), oihw[1:], 5, 70, 3, 3); err == nil {
		t.Error("PackOIHW accepted a src that does not match the shape")
	}
	if err := PackOIHW(make([]uint64, 90), oihw, 5, 70, -3, -3); err == nil {
		t.Error("PackOIHW accepted a negative shape")
	}
	if err := UnpackOIHW(oihw, make([]uint64, 89), 5, 70, 3, 3); err == nil {
		t.Error("UnpackOIHW accepted a short src")
	}
	if err := UnpackOIHW(oihw[1:], make([]uint64, 90), 5, 70, 3, 3); err == nil {
		t.Error("UnpackOIHW accepted a dst that does not match the shape")
	}
	if err := UnpackOIHW(oihw, make([]uint64, 90), -5, -70, 3, 3); err == nil {
		t.Error("UnpackOIHW accepted a negative shape")
	}
}
