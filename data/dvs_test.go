package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"testing"
)

// ring draws a digit-like ring (radius 8, width about 3) on a 28×28 image.
func ring() []float32 {
	img := make([]float32, 28*28)
	for y := range 28 {
		for x := range 28 {
			r := math.Hypot(float64(x)-13.5, float64(y)-13.5)
			img[y*28+x] = float32(math.Max(0, 1-math.Abs(r-8)/1.5))
		}
	}
	return img
}

func TestDVSPolarity(t *testing.T) {
	d, err := NewDVS(2, 1, DVSConfig{OnThreshold: 0.2, OffThreshold: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := d.Step([]float32{0.1, 0.9}, 0, nil)
	if len(ev) != 0 {
		t.Fatalf("first frame emitted %d events", len(ev))
	}
	// Pixel 0 brightens 0.1 → 0.9, pixel 1 darkens 0.9 → 0.1: log ratio
	// ln(1.0/0.2) = 1.609 = 8.05 thresholds of 0.2 each way.
	ev, err = d.Step([]float32{0.9, 0.1}, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	var on, off int
	for i, e := range ev {
		switch {
		case e.X == 0 && e.P == 1:
			on++
		case e.X == 1 && e.P == 0:
			off++
		default:
			t.Errorf("event %+v has the wrong polarity for its pixel", e)
		}
		if e.T <= 0 || e.T > 1000 || (i > 0 && e.T < ev[i-1].T) {
			t.Errorf("event %d time %d not in (0,1000] or out of order", i, e.T)
		}
	}
	if on != 8 || off != 8 {
		t.Errorf("%d ON and %d OFF events, want 8 and 8", on, off)
	}
	// The same frame again: nothing changed, nothing fires.
	ev, _ = d.Step([]float32{0.9, 0.1}, 2000, nil)
	if len(ev) != 0 {
		t.Errorf("unchanged frame fired %d events", len(ev))
	}
	// A small change below threshold accumulates against the reference:
	// +0.15 then +0.15 in log units fires once, on the second frame.
	d, _ = NewDVS(1, 1, DVSConfig{OnThreshold: 0.2, OffThreshold: 0.2, LogEps: 1e-9})
	d.Step([]float32{0.5}, 0, nil)
	e1, _ := d.Step([]float32{float32(0.5 * math.Exp(0.15))}, 10, nil)
	e2, _ := d.Step([]float32{float32(0.5 * math.Exp(0.30))}, 20, nil)
	if len(e1) != 0 || len(e2) != 1 || e2[0].P != 1 {
		t.Errorf("sub-threshold accumulation: %v then %v", e1, e2)
	}
	if _, err := d.Step([]float32{0.5}, 5, nil); err == nil {
		t.Error("a frame back in time was accepted")
	}
}

func TestSaccadesStaticNoEvents(t *testing.T) {
	s, err := NewSaccades(28, 28, SaccadeConfig{Shift: -1})
	if err != nil {
		t.Fatal(err)
	}
	if w, h := s.SensorSize(); w != 28 || h != 28 {
		t.Fatalf("no-motion sensor %dx%d", w, h)
	}
	ev, err := s.Events(ring(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 0 {
		t.Errorf("a static image produced %d events", len(ev))
	}
}

func eventHash(ev []Event) string {
	h := sha256.New()
	for _, e := range ev {
		binary.Write(h, binary.LittleEndian, e)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func TestSaccadesEvents(t *testing.T) {
	s, err := NewSaccades(28, 28, SaccadeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if w, h := s.SensorSize(); w != 34 || h != 34 {
		t.Fatalf("sensor %dx%d, want N-MNIST's 34×34", w, h)
	}
	img := ring()
	ev, err := s.Events(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	// N-MNIST digits average about 4500 events; a ring has a long edge.
	if len(ev) < 1000 || len(ev) > 15000 {
		t.Errorf("%d events for a ring; expected a few thousand", len(ev))
	}
	var on int
	for i, e := range ev {
		if e.T <= 0 || e.T > s.Duration() || (i > 0 && e.T < ev[i-1].T) {
			t.Fatalf("event %d time %d outside (0,%d] or out of order", i, e.T, s.Duration())
		}
		if e.X >= 34 || e.Y >= 34 {
			t.Fatalf("event %d at (%d,%d) off the sensor", i, e.X, e.Y)
		}
		// The ring spans image pixels 4..23; moved by at most 6 plus the
		// bilinear spill of one pixel, sensor pixels 3..30.
		if e.X < 3 || e.X > 30 || e.Y < 3 || e.Y > 30 {
			t.Fatalf("event %d at (%d,%d), where the image never changes", i, e.X, e.Y)
		}
		on += int(e.P)
	}
	// The image returns to its start, so brightening and darkening balance.
	if r := float64(on) / float64(len(ev)); r < 0.4 || r > 0.6 {
		t.Errorf("ON fraction %.2f; a closed saccade path should give about half", r)
	}
	// Each saccade produces events.
	var per [3]int
	for _, e := range ev {
		per[min(e.T/100_000, 2)]++
	}
	for k, n := range per {
		if n < len(ev)/10 {
			t.Errorf("saccade %d has only %d of %d events", k, n, len(ev))
		}
	}
	// Deterministic, also when the scratch is reused.
	again, _ := s.Events(img, nil)
	if !slices.Equal(ev, again) {
		t.Error("two runs on the same image differ")
	}
	// Same bits on every platform (amd64 and arm64 under qemu): change this
	// value only when the emulator is changed on purpose.
	if got, want := eventHash(ev), "2e4893e0a4db2418"; got != want {
		t.Errorf("event hash %s (%d events), want %s", got, len(ev), want)
	}
}

func TestSaccadeSet(t *testing.T) {
	const n = 3
	pix := make([]uint8, n*28*28)
	for i, v := range ring() {
		pix[i] = uint8(v * 255)             // ring
		pix[2*28*28+i] = uint8(v * 255 / 2) // dimmer ring
	}
	base, err := NewImages(shapeOf(1, 28, 28), MNISTClasses, pix, []uint8{3, 1, 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []BinMode{BinBinary, BinCount} {
		d, err := NewSaccadeSet(base, 5, mode, SaccadeConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Len() != n || d.Steps() != 5 || d.Shape() != shapeOf(2, 34, 34) || d.Label(2) != 4 {
			t.Fatalf("len %d steps %d shape %v", d.Len(), d.Steps(), d.Shape())
		}
		x := make([]float32, SampleSize(d))
		ev, _, _ := d.Events(0)
		if _, err := d.Get(0, x); err != nil {
			t.Fatal(err)
		}
		var sum float32
		for _, v := range x {
			sum += v
			if mode == BinBinary && v != 0 && v != 1 {
				t.Fatalf("binary frame value %v", v)
			}
		}
		if mode == BinCount && int(sum) != len(ev) {
			t.Errorf("count frames hold %v events, the emulator made %d", sum, len(ev))
		}
		if mode == BinBinary && (sum == 0 || int(sum) > len(ev)) {
			t.Errorf("binary frames hold %v ones for %d events", sum, len(ev))
		}
		// A black image makes no events.
		if _, err := d.Get(1, x); err != nil {
			t.Fatal(err)
		}
		for _, v := range x {
			if v != 0 {
				t.Fatal("a black image produced events")
			}
		}
		// A dimmer ring makes fewer events (log contrast against black is lower).
		ev2, _, _ := d.Events(2)
		if len(ev2) >= len(ev) {
			t.Errorf("dim ring %d events, bright %d", len(ev2), len(ev))
		}
	}
	if _, err := NewSaccadeSet(base, 0, BinBinary, SaccadeConfig{}); err == nil {
		t.Error("T = 0 accepted")
	}
}

func TestSaccadesOnMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST")
	}
	d, err := LoadMNIST("", Test)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewSaccades(28, 28, SaccadeConfig{})
	img := make([]float32, 28*28)
	total := 0
	const n = 20
	for i := range n {
		d.Get(i, img)
		ev, _ := s.Events(img, nil)
		total += len(ev)
	}
	// N-MNIST recordings average about 4500 events per digit.
	if avg := total / n; avg < 2500 || avg > 7000 {
		t.Errorf("average %d events per MNIST digit; N-MNIST has about 4500", avg)
	}
	t.Logf("average %d events per MNIST digit", total/n)
}

func BenchmarkSaccadeSetGet(b *testing.B) {
	pix := make([]uint8, 28*28)
	for i, v := range ring() {
		pix[i] = uint8(v * 255)
	}
	base, _ := NewImages(shapeOf(1, 28, 28), MNISTClasses, pix, []uint8{0})
	d, _ := NewSaccadeSet(base, 4, BinBinary, SaccadeConfig{})
	x := make([]float32, SampleSize(d))
	for b.Loop() {
		d.Get(0, x)
	}
}
