package input

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/model"
)

// areaRef is the straightforward area resize: every output pixel is the
// mean of the crop's pixels weighted by their overlap with the output
// pixel's rectangle, summed in float64 over every source pixel and rounded
// half up. Coordinates are scaled by the output size so the overlaps (and
// so the sums) are exact.
func areaRef(l *Luma, dstW, dstH int) []uint8 {
	x0, y0, cw, ch := data.CenterCrop(l.W, l.H, dstW, dstH)
	overlap := func(a0, a1, b0, b1 float64) float64 { return math.Max(0, math.Min(a1, b1)-math.Max(a0, b0)) }
	out := make([]uint8, dstW*dstH)
	for j := range dstH {
		for i := range dstW {
			var sum float64
			for y := range ch {
				oy := overlap(float64(j*ch), float64((j+1)*ch), float64(y*dstH), float64((y+1)*dstH))
				for x := range cw {
					ox := overlap(float64(i*cw), float64((i+1)*cw), float64(x*dstW), float64((x+1)*dstW))
					sum += ox * oy * float64(l.Pix[(y0+y)*l.Stride+(x0+x)*l.Step])
				}
			}
			// An output pixel's overlaps sum to cw·ch in these units.
			out[j*dstW+i] = uint8(math.Floor(sum/(float64(cw)*float64(ch)) + 0.5))
		}
	}
	return out
}

func randomLuma(rng *rand.Rand, w, h, step, pad int) *Luma {
	l := &Luma{W: w, H: h, Step: step, Stride: (w-1)*step + 1 + pad}
	l.Pix = make([]byte, (h-1)*l.Stride+(w-1)*step+1)
	for i := range l.Pix {
		l.Pix[i] = byte(rng.IntN(256))
	}
	return l
}

func TestBoxResizeMatchesAreaReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sizes := [][4]int{{28, 28, 28, 28}, {640, 480, 28, 28}, {1, 1, 3, 2}, {7, 5, 7, 5}, {5, 7, 3, 3}, {3, 3, 8, 8}, {100, 37, 10, 4}}
	for range 60 {
		sizes = append(sizes, [4]int{1 + rng.IntN(90), 1 + rng.IntN(90), 1 + rng.IntN(40), 1 + rng.IntN(40)})
	}
	for _, sz := range sizes {
		for _, step := range []int{1, 2} {
			l := randomLuma(rng, sz[0], sz[1], step, rng.IntN(3))
			r := newBoxResizer(l, sz[2], sz[3])
			got := make([]uint8, sz[2]*sz[3]+1)
			got[len(got)-1] = 0xa5 // guard
			r.resize(got, l)
			want := areaRef(l, sz[2], sz[3])
			if !bytes.Equal(got[:len(want)], want) || got[len(got)-1] != 0xa5 {
				t.Fatalf("%dx%d (step %d, stride %d) → %dx%d:\n got %v\nwant %v", sz[0], sz[1], step, l.Stride, sz[2], sz[3], got, want)
			}
		}
	}
}

func TestBoxResizeConstantAndExtremes(t *testing.T) {
	// A constant plane stays constant at every ratio: the weights of each
	// output sum to exactly the area.
	for _, v := range []byte{0, 1, 128, 254, 255} {
		l := &Luma{W: 641, H: 479, Stride: 641, Step: 1, Pix: bytes.Repeat([]byte{v}, 641*479)}
		r := newBoxResizer(l, 28, 28)
		out := make([]uint8, 28*28)
		r.resize(out, l)
		for i, o := range out {
			if o != v {
				t.Fatalf("constant %d: pixel %d = %d", v, i, o)
			}
		}
	}
	// Halving averages 2x2 blocks, rounding half up: (0+0+0+1)/4 → 0,
	// (1+1+0+0)/4 = 0.5 → 1.
	l := &Luma{W: 4, H: 2, Stride: 4, Step: 1, Pix: []byte{0, 1, 1, 1, 0, 0, 0, 0}}
	out := make([]uint8, 2)
	newBoxResizer(l, 2, 1).resize(out, l)
	if out[0] != 0 || out[1] != 1 {
		t.Errorf("2x2 means %v, want [0 1]", out)
	}
}

// loop is an endless Y4M or raw stream: the header once, then the same
// frame over and over.
type loop struct {
	head, frame []byte
	off         int
}

func (l *loop) Read(p []byte) (int, error) {
	if len(l.head) > 0 {
		n := copy(p, l.head)
		l.head = l.head[n:]
		return n, nil
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.frame[l.off:])
		n += c
		l.off = (l.off + c) % len(l.frame)
	}
	return n, nil
}

func TestLumaStreamsAndRange(t *testing.T) {
	const w, h = 6, 4
	y := seqBytes(w*h, func(i int) byte { return byte(7 + 11*i) })
	chroma := bytes.Repeat([]byte{90}, 2*3*2)
	frame := append(append([]byte{}, y...), chroma...)
	gray := spec(model.EncodingDirect, 1, h, w, 1)
	pre, err := NewPreprocessor(gray, data.BinBinary)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		open    func(opt Options) (Source, error)
		limited bool
	}{
		{"y4m untagged", func(o Options) (Source, error) {
			return NewY4M(bytes.NewReader(y4mStream("YUV4MPEG2 W6 H4 F30:1 C420jpeg", frame)), o)
		}, true},
		{"y4m tagged full", func(o Options) (Source, error) {
			return NewY4M(bytes.NewReader(y4mStream("YUV4MPEG2 W6 H4 F30:1 C420jpeg XCOLORRANGE=FULL", frame)), o)
		}, false},
		{"y4m mono", func(o Options) (Source, error) {
			return NewY4M(bytes.NewReader(y4mStream("YUV4MPEG2 W6 H4 Cmono", y)), o)
		}, false},
		{"raw i420", func(o Options) (Source, error) { return NewRaw(bytes.NewReader(frame), "i420", w, h, false, o) }, true},
		{"raw gray", func(o Options) (Source, error) { return NewRaw(bytes.NewReader(y), "gray", w, h, false, o) }, false},
	} {
		for _, rg := range []Range{RangeAuto, RangeLimited, RangeFull} {
			limited := rg.limited(c.limited)
			// The float frame path and the luma path give the same input
			// when no resize happens.
			want := make([]float32, w*h)
			src, err := c.open(Options{Range: rg})
			if err != nil {
				t.Fatal(err)
			}
			s, err := src.Next()
			if err != nil {
				t.Fatal(err)
			}
			if err := pre.Convert(want, Frames, s); err != nil {
				t.Fatal(err)
			}
			tab := tablesFor(limited)
			for i, v := range want {
				if v != tab.y[y[i]] {
					t.Fatalf("%s range %v: frame pixel %d = %v, want %v", c.name, rg, i, v, tab.y[y[i]])
				}
			}
			src, _ = c.open(Options{Range: rg, Luma: true})
			s, err = src.Next()
			if err != nil {
				t.Fatal(err)
			}
			if s.Luma.Pix == nil || s.Frame.Pix != nil || s.Luma.Limited != limited || s.Luma.W != w || s.Luma.H != h {
				t.Fatalf("%s range %v: luma sample %+v", c.name, rg, s.Luma)
			}
			got := make([]float32, w*h)
			if err := pre.Convert(got, Frames, s); err != nil {
				t.Fatal(err)
			}
			if !equal(got, want) {
				t.Fatalf("%s range %v: luma path %v, frame path %v", c.name, rg, got, want)
			}
			if _, err := src.Next(); err != io.EOF {
				t.Fatalf("%s: after the last frame: %v", c.name, err)
			}
		}
	}
	if r, err := ParseRange("limited"); err != nil || r != RangeLimited || r.String() != "limited" {
		t.Errorf("ParseRange(limited) = %v, %v", r, err)
	}
	if _, err := ParseRange("tv"); err == nil || !strings.Contains(err.Error(), "auto, limited or full") {
		t.Errorf("ParseRange(tv): %v", err)
	}
	// A forced range accepts a tag this package does not know.
	if _, err := NewY4M(strings.NewReader("YUV4MPEG2 W1 H1 Cmono XCOLORRANGE=WEIRD\n"), Options{Range: RangeFull}); err != nil {
		t.Errorf("forced range with an unknown tag: %v", err)
	}
}

func TestLumaResizedYUYV(t *testing.T) {
	// Raw yuyv: luma every other byte; a resize to 3x2 reads it in place.
	rng := rand.New(rand.NewPCG(5, 6))
	const w, h = 8, 6
	buf := make([]byte, 2*w*h)
	for i := range buf {
		buf[i] = byte(rng.IntN(256))
	}
	pre, _ := NewPreprocessor(spec(model.EncodingDirect, 1, 2, 3, 1), data.BinBinary)
	src, err := NewRaw(bytes.NewReader(buf), "yuyv", w, h, true, Options{Luma: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := src.Next()
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 6)
	if err := pre.Convert(got, Frames, s); err != nil {
		t.Fatal(err)
	}
	want := areaRef(&Luma{W: w, H: h, Pix: buf, Stride: 2 * w, Step: 2}, 3, 2)
	for i := range got {
		if got[i] != fullYUV.y[want[i]] {
			t.Fatalf("pixel %d = %v, want %v", i, got[i], fullYUV.y[want[i]])
		}
	}
	// A colour model cannot take a luma plane.
	rgb, _ := NewPreprocessor(spec(model.EncodingDirect, 3, 2, 3, 1), data.BinBinary)
	if err := rgb.Convert(make([]float32, 18), Frames, s); err == nil || !strings.Contains(err.Error(), "gray") {
		t.Errorf("RGB model on luma: %v", err)
	}
}

// TestLumaPathAllocs checks the per-frame stream path (read a frame, make
// the model input) allocates nothing, for a stream already of the model's
// size and one resized.
func TestLumaPathAllocs(t *testing.T) {
	for _, c := range []struct {
		name string
		src  func() (Source, error)
	}{
		{"y4m 28x28", func() (Source, error) {
			return NewY4M(&loop{head: []byte("YUV4MPEG2 W28 H28 F1000:1 C420jpeg\n"), frame: append([]byte("FRAME\n"), make([]byte, 28*28+2*14*14)...)}, Options{Luma: true})
		}},
		{"y4m 640x480", func() (Source, error) {
			return NewY4M(&loop{head: []byte("YUV4MPEG2 W640 H480 F30:1 C420jpeg\n"), frame: append([]byte("FRAME\n"), make([]byte, 640*480*3/2)...)}, Options{Luma: true})
		}},
		{"raw i420 64x48", func() (Source, error) {
			return NewRaw(&loop{frame: make([]byte, 64*48*3/2)}, "i420", 64, 48, false, Options{Luma: true, FrameRate: 30})
		}},
	} {
		src, err := c.src()
		if err != nil {
			t.Fatal(err)
		}
		pre, _ := NewPreprocessor(spec(model.EncodingDirect, 1, 28, 28, 1), data.BinBinary)
		x := make([]float32, pre.Len())
		var ferr error
		step := func() {
			s, err := src.Next()
			if err == nil {
				err = pre.Convert(x, Frames, s)
			}
			if err != nil && ferr == nil {
				ferr = err
			}
		}
		step() // the first frame builds the resizer
		if a := testing.AllocsPerRun(50, step); a != 0 {
			t.Errorf("%s: %v allocations per frame", c.name, a)
		}
		if ferr != nil {
			t.Fatalf("%s: %v", c.name, ferr)
		}
	}
}

func BenchmarkLumaPath(b *testing.B) {
	for _, c := range []struct {
		name string
		w, h int
	}{{"28x28", 28, 28}, {"640x480", 640, 480}} {
		b.Run(c.name, func(b *testing.B) {
			cw, ch := (c.w+1)/2, (c.h+1)/2
			frame := make([]byte, c.w*c.h+2*cw*ch)
			rng := rand.New(rand.NewPCG(1, 1))
			for i := range frame {
				frame[i] = byte(rng.IntN(256))
			}
			hdr := []byte("YUV4MPEG2 W" + strconv.Itoa(c.w) + " H" + strconv.Itoa(c.h) + " F30:1 C420jpeg\n")
			src, err := NewY4M(&loop{head: hdr, frame: append([]byte("FRAME\n"), frame...)}, Options{Luma: true})
			if err != nil {
				b.Fatal(err)
			}
			pre, _ := NewPreprocessor(spec(model.EncodingDirect, 1, 28, 28, 1), data.BinBinary)
			x := make([]float32, pre.Len())
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				s, err := src.Next()
				if err != nil {
					b.Fatal(err)
				}
				if err := pre.Convert(x, Frames, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBoxResize(b *testing.B) {
	l := randomLuma(rand.New(rand.NewPCG(1, 2)), 640, 480, 1, 0)
	r := newBoxResizer(l, 28, 28)
	out := make([]uint8, 28*28)
	b.SetBytes(480 * 480)
	for b.Loop() {
		r.resize(out, l)
	}
}
