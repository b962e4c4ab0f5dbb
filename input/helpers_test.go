package input

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bsnn/bsnn/model"
)

// pattern returns a w×h test image whose RGB values vary smoothly (so lossy
// codecs keep them close) and differ between channels.
func pattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(40 + 170*x/max(w-1, 1)),
				G: uint8(40 + 170*y/max(h-1, 1)),
				B: uint8(200 - 120*x/max(w-1, 1)),
				A: 255,
			})
		}
	}
	return img
}

// grayOf returns the BT.601 gray value of pixel (x, y) of img in [0,1].
func grayOf(img image.Image, x, y int) float64 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)) / 65535
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func write(t testing.TB, path string, b []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// maxDiff returns the largest |a−b| over a frame and the values of img
// (gray if the frame has one channel).
func maxDiff(f *Frame, img image.Image) float64 {
	b := img.Bounds()
	worst := 0.0
	plane := f.Shape.H * f.Shape.W
	for y := range f.Shape.H {
		for x := range f.Shape.W {
			if f.Shape.C == 1 {
				worst = math.Max(worst, math.Abs(float64(f.Pix[y*f.Shape.W+x])-grayOf(img, b.Min.X+x, b.Min.Y+y)))
				continue
			}
			r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			for c, v := range []uint32{r, g, bb} {
				worst = math.Max(worst, math.Abs(float64(f.Pix[c*plane+y*f.Shape.W+x])-float64(v)/65535))
			}
		}
	}
	return worst
}

// drain reads a source to its end.
func drain(t testing.TB, s Source) []Sample {
	t.Helper()
	var out []Sample
	for {
		smp, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("after %d samples: %v", len(out), err)
		}
		c := *smp
		c.Frame.Pix = append([]float32(nil), smp.Frame.Pix...)
		c.Events.Events = append(c.Events.Events[:0:0], smp.Events.Events...)
		out = append(out, c)
		if len(out) > 10000 {
			t.Fatal("source does not end")
		}
	}
}

// frameSlice is a frame source over given frames, 10 ms apart.
type frameSlice struct {
	frames []Frame
	i      int
	s      Sample
	closed bool
}

func (f *frameSlice) Kind() Kind { return Frames }
func (f *frameSlice) Next() (*Sample, error) {
	if f.i >= len(f.frames) {
		return nil, io.EOF
	}
	f.s = Sample{Seq: f.i, Time: time.Duration(f.i) * 10 * time.Millisecond, Frame: f.frames[f.i]}
	f.i++
	return &f.s, nil
}
func (f *frameSlice) Close() error { f.closed = true; return nil }

func constFrame(c, h, w int, v float32) Frame {
	f := Frame{Shape: model.Shape{C: c, H: h, W: w}, Pix: make([]float32, c*h*w)}
	for i := range f.Pix {
		f.Pix[i] = v
	}
	return f
}

func y4mStream(header string, frames ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString(header + "\n")
	for _, f := range frames {
		b.WriteString("FRAME\n")
		b.Write(f)
	}
	return b.Bytes()
}

func seqBytes(n int, f func(i int) byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = f(i)
	}
	return b
}

func approx(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
