package data

import (
	"math"
	"testing"
)

func TestResizeIdentityAndConstant(t *testing.T) {
	src := make([]float32, 2*5*7)
	for i := range src {
		src[i] = float32(i%13) / 13
	}
	r, err := NewResizer(7, 5, 0, 0, 7, 5, 7, 5)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, len(src))
	if err := r.Resize(dst, src, 2); err != nil {
		t.Fatal(err)
	}
	for i := range src {
		if dst[i] != src[i] {
			t.Fatalf("same-size resize changed value %d: %v → %v", i, src[i], dst[i])
		}
	}
	// A constant image stays constant at any scale, up or down.
	for _, sz := range [][4]int{{640, 480, 28, 28}, {3, 3, 17, 11}, {100, 1, 7, 1}} {
		c := make([]float32, sz[0]*sz[1])
		for i := range c {
			c[i] = 0.375
		}
		r, err := NewResizer(sz[0], sz[1], 0, 0, sz[0], sz[1], sz[2], sz[3])
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float32, sz[2]*sz[3])
		r.Resize(out, c, 1)
		for _, v := range out {
			if math.Abs(float64(v)-0.375) > 1e-6 {
				t.Fatalf("%v: constant 0.375 became %v", sz, v)
			}
		}
	}
}

func TestResizeDownscaleAverages(t *testing.T) {
	// Halving a checkerboard must give flat grey (the widened filter covers
	// both colours), where point sampling would keep one colour.
	const n = 16
	src := make([]float32, n*n)
	for y := range n {
		for x := range n {
			src[y*n+x] = float32((x + y) % 2)
		}
	}
	r, _ := NewResizer(n, n, 0, 0, n, n, n/4, n/4)
	out := make([]float32, n*n/16)
	r.Resize(out, src, 1)
	for _, v := range out {
		if math.Abs(float64(v)-0.5) > 0.07 {
			t.Fatalf("downscaled checkerboard value %v, want ≈ 0.5: %v", v, out)
		}
	}
	// A crop: the right half of a left-dark/right-bright image is bright.
	for y := range n {
		for x := range n {
			src[y*n+x] = float32(x / (n / 2))
		}
	}
	r, _ = NewResizer(n, n, n/2, 0, n/2, n, 4, 8)
	out = make([]float32, 32)
	r.Resize(out, src, 1)
	for _, v := range out {
		if v != 1 {
			t.Fatalf("cropped bright half has %v", out)
		}
	}
	if _, err := NewResizer(4, 4, 2, 0, 3, 4, 2, 2); err == nil {
		t.Error("crop outside the image accepted")
	}
}

func TestCenterCrop(t *testing.T) {
	for _, c := range []struct{ sw, sh, dw, dh, x0, y0, w, h int }{
		{640, 480, 28, 28, 80, 0, 480, 480},
		{480, 640, 28, 28, 0, 80, 480, 480},
		{640, 480, 32, 24, 0, 0, 640, 480},
		{100, 100, 20, 10, 0, 25, 100, 50},
	} {
		x0, y0, w, h := CenterCrop(c.sw, c.sh, c.dw, c.dh)
		if x0 != c.x0 || y0 != c.y0 || w != c.w || h != c.h {
			t.Errorf("CenterCrop(%d,%d,%d,%d) = %d,%d,%d,%d; want %d,%d,%d,%d", c.sw, c.sh, c.dw, c.dh, x0, y0, w, h, c.x0, c.y0, c.w, c.h)
		}
	}
}

func TestRotate(t *testing.T) {
	const n = 5
	src := make([]float32, n*n)
	src[2*n+4] = 1 // right of centre (2,2)
	dst := make([]float32, n*n)
	RotateInto(dst, src, 1, n, n, 90, 0)
	// Counter-clockwise on screen (y down): right goes to top.
	for i, v := range dst {
		want := float32(0)
		if i == 0*n+2 {
			want = 1
		}
		if math.Abs(float64(v-want)) > 1e-6 {
			t.Fatalf("rotated by 90: pixel %d = %v, want %v; %v", i, v, want, dst)
		}
	}
	RotateInto(dst, src, 1, n, n, 0, 0)
	for i := range src {
		if dst[i] != src[i] {
			t.Fatal("rotation by 0 changed the image")
		}
	}
	// Rotating by 30 keeps most of a centred blob's mass.
	blob := make([]float32, 28*28)
	var before float64
	for y := 10; y < 18; y++ {
		for x := 12; x < 16; x++ {
			blob[y*28+x] = 1
			before++
		}
	}
	out := make([]float32, len(blob))
	RotateInto(out, blob, 1, 28, 28, 30, 0)
	var after float64
	for _, v := range out {
		after += float64(v)
	}
	if math.Abs(after-before) > 0.1*before {
		t.Errorf("mass %v became %v", before, after)
	}
}

func TestShiftFlip(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6} // 2×3
	Shift(x, 1, 2, 3, 1, 0, 0)
	if want := []float32{0, 1, 2, 0, 4, 5}; !equalF(x, want) {
		t.Errorf("shift right: %v", x)
	}
	x = []float32{1, 2, 3, 4, 5, 6}
	Shift(x, 1, 2, 3, -1, 1, 9)
	if want := []float32{9, 9, 9, 2, 3, 9}; !equalF(x, want) {
		t.Errorf("shift left-down: %v", x)
	}
	x = []float32{1, 2, 3, 4, 5, 6}
	FlipH(x, 1, 2, 3)
	if want := []float32{3, 2, 1, 6, 5, 4}; !equalF(x, want) {
		t.Errorf("flip: %v", x)
	}
}

func equalF(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSample(t *testing.T) {
	p := []float32{0, 1, 2, 3} // 2×2
	for _, c := range []struct{ x, y, want float32 }{
		{0, 0, 0}, {1, 1, 3}, {0.5, 0, 0.5}, {0.5, 0.5, 1.5}, {-1, 0, 7}, {1.5, 1, 0.5*3 + 0.5*7},
	} {
		if got := Sample(p, 2, 2, c.x, c.y, 7); math.Abs(float64(got-c.want)) > 1e-6 {
			t.Errorf("Sample(%v,%v) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}
