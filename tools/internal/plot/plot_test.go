package plot

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

// colored counts pixels that are neither white-ish nor gray (the frame,
// grid and text are gray or black; the series are drawn in colour).
func colored(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			mx := max(c.R, c.G, c.B)
			mn := min(c.R, c.G, c.B)
			if c.A > 0 && mx-mn > 60 {
				n++
			}
		}
	}
	return n
}

func TestWritePNG(t *testing.T) {
	c := Chart{
		Title: "accuracy", XLabel: "epoch", YLabel: "accuracy",
		Series: []Series{
			{Name: "train", X: []float64{1, 2, 3}, Y: []float64{0.5, 0.7, 0.8}},
			{Name: "test", X: []float64{1, 2, 3}, Y: []float64{0.45, math.NaN(), 0.79}},
		},
	}
	var buf bytes.Buffer
	if err := c.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes())
	if b := img.Bounds(); b.Dx() != DefaultWidth || b.Dy() != DefaultHeight {
		t.Errorf("size %v, want %d×%d", b, DefaultWidth, DefaultHeight)
	}
	withLines := colored(img)
	if withLines < 200 {
		t.Errorf("only %d coloured pixels: the series were not drawn", withLines)
	}

	// The same chart without series draws no colour: the count above comes
	// from the lines, not the frame.
	c.Series = nil
	buf.Reset()
	if err := c.WritePNG(&buf); err != nil {
		t.Fatalf("empty chart: %v", err)
	}
	if n := colored(decode(t, buf.Bytes())); n >= withLines/10 {
		t.Errorf("empty chart has %d coloured pixels (with lines: %d)", n, withLines)
	}
}

func TestSinglePointAndSize(t *testing.T) {
	c := Chart{Title: "loss", Width: 300, Height: 200, Series: []Series{{Name: "train", X: []float64{0}, Y: []float64{2.3}}}}
	var buf bytes.Buffer
	if err := c.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes())
	if b := img.Bounds(); b.Dx() != 300 || b.Dy() != 200 {
		t.Errorf("size %v, want 300×200", b)
	}
	if colored(img) == 0 {
		t.Error("a single point was not drawn")
	}
}

func TestErrors(t *testing.T) {
	bad := Chart{Series: []Series{{Name: "s", X: []float64{1, 2}, Y: []float64{1}}}}
	if err := bad.WritePNG(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"s"`) {
		t.Errorf("mismatched lengths: %v", err)
	}
	small := Chart{Width: 10, Height: 10}
	if err := small.WritePNG(&bytes.Buffer{}); err == nil {
		t.Error("10×10 accepted")
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "acc.png")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A failed render leaves the old file alone.
	if err := (Chart{Width: 1, Height: 1}).Save(path); err == nil {
		t.Fatal("bad chart saved")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("failed save changed the file to %q", b)
	}
	c := Chart{Series: []Series{{Name: "a", X: []float64{0, 1}, Y: []float64{0, 1}}}}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	if err := c.Save(filepath.Join(dir, "missing", "x.png")); err == nil {
		t.Error("save into a missing directory succeeded")
	}
}
