package input

import (
	"strings"
	"testing"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/model"
)

func spec(enc model.Encoding, c, h, w, T int) model.InputSpec {
	return model.InputSpec{Shape: model.Shape{C: c, H: h, W: w}, Encoding: enc, Timesteps: T}
}

func TestPreprocessFrame(t *testing.T) {
	// A 12×6 RGB frame whose centre square (columns 3..8) is pure red and
	// the rest blue: a square model sees only the red.
	f := Frame{Shape: model.Shape{C: 3, H: 6, W: 12}, Pix: make([]float32, 3*72)}
	for y := range 6 {
		for x := range 12 {
			if x >= 3 && x < 9 {
				f.Pix[y*12+x] = 1 // R
			} else {
				f.Pix[2*72+y*12+x] = 1 // B
			}
		}
	}
	// Gray 3×3: the centre crop is all red, luma 0.299.
	p, err := NewPreprocessor(spec(model.EncodingDirect, 1, 3, 3, 4), data.BinBinary)
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 9 {
		t.Fatalf("Len %d", p.Len())
	}
	dst := make([]float32, 9)
	if err := p.Frame(dst, &f); err != nil {
		t.Fatal(err)
	}
	for _, v := range dst {
		if !approx(float64(v), 0.299, 1e-6) {
			t.Fatalf("gray %v, want 0.299", dst)
		}
	}
	// RGB 2×2 from the same frame: red.
	p, _ = NewPreprocessor(spec(model.EncodingRate, 3, 2, 2, 4), data.BinBinary)
	dst = make([]float32, 12)
	p.Frame(dst, &f)
	if want := []float32{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}; !equal(dst, want) {
		t.Errorf("RGB %v, want %v", dst, want)
	}
	// A gray frame for an RGB model is repeated in all channels; a frame of
	// another size rebuilds the resizer.
	g := constFrame(1, 5, 7, 0.25)
	if err := p.Frame(dst, &g); err != nil {
		t.Fatal(err)
	}
	for _, v := range dst {
		if !approx(float64(v), 0.25, 1e-6) {
			t.Fatalf("gray → RGB %v", dst)
		}
	}
	if err := p.Frame(dst[:5], &g); err == nil {
		t.Error("short dst accepted")
	}
	ev, _ := NewPreprocessor(spec(model.EncodingEvents, 2, 2, 2, 4), data.BinBinary)
	if err := ev.Frame(make([]float32, 32), &g); err == nil || !strings.Contains(err.Error(), "dvs:SOURCE") {
		t.Errorf("frame for an event model: %v", err)
	}
}

func equal(a, b []float32) bool {
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

func TestPreprocessEvents(t *testing.T) {
	// A 40×20 sensor, model 2×2 at T=2: the centre 20×20 maps to 2×2.
	b := EventBatch{Width: 40, Height: 20, Start: 100, End: 300, Events: []data.Event{
		{T: 100, X: 10, Y: 0, P: 1},  // (0,0) ON, bin 0
		{T: 150, X: 29, Y: 19, P: 0}, // (1,1) OFF, bin 0
		{T: 199, X: 29, Y: 19, P: 0}, // same pixel again
		{T: 200, X: 20, Y: 5, P: 1},  // (1,0) ON, bin 1
		{T: 250, X: 5, Y: 5, P: 1},   // cropped away
		{T: 300, X: 15, Y: 15, P: 1}, // after the window
	}}
	p, err := NewPreprocessor(spec(model.EncodingEvents, 2, 2, 2, 2), data.BinCount)
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 16 {
		t.Fatalf("Len %d", p.Len())
	}
	dst := make([]float32, 16)
	if err := p.Events(dst, &b); err != nil {
		t.Fatal(err)
	}
	// [t][p][y][x]
	want := []float32{
		0, 0, 0, 2, // t0 OFF
		1, 0, 0, 0, // t0 ON
		0, 0, 0, 0, // t1 OFF
		0, 1, 0, 0, // t1 ON
	}
	if !equal(dst, want) {
		t.Errorf("binned %v, want %v", dst, want)
	}
	// One channel: polarities merged (binary: max).
	p1, _ := NewPreprocessor(spec(model.EncodingEvents, 1, 2, 2, 2), data.BinBinary)
	dst = dst[:8]
	if err := p1.Convert(dst, Events, &Sample{Events: b}); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 0, 0, 1, 0, 1, 0, 0}; !equal(dst, want) {
		t.Errorf("merged %v, want %v", dst, want)
	}
	fp, _ := NewPreprocessor(spec(model.EncodingDirect, 1, 2, 2, 2), data.BinBinary)
	if err := fp.Events(dst, &b); err == nil || !strings.Contains(err.Error(), "not events") {
		t.Errorf("events for a frame model: %v", err)
	}
	for _, s := range []model.InputSpec{spec(model.EncodingDirect, 2, 4, 4, 1), spec(model.EncodingEvents, 3, 4, 4, 2), spec(model.EncodingEvents, 2, 4, 4, 0), spec(model.EncodingDirect, 1, 0, 4, 1)} {
		if _, err := NewPreprocessor(s, data.BinBinary); err == nil {
			t.Errorf("spec %+v accepted", s)
		}
	}
}
