package data

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
)

func savePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func saveJPEG(t *testing.T, path string, img image.Image) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func solid(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func TestImageFolder(t *testing.T) {
	dir := t.TempDir()
	red := color.NRGBA{255, 0, 0, 255}
	// Class "b" sorts after "a" whatever the creation order.
	savePNG(t, filepath.Join(dir, "b", "1.png"), solid(40, 30, red))
	saveJPEG(t, filepath.Join(dir, "b", "2.JPG"), solid(17, 23, color.NRGBA{0, 0, 255, 255}))
	g := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range g.Pix {
		g.Pix[i] = 200
	}
	savePNG(t, filepath.Join(dir, "a", "x.png"), g)
	os.WriteFile(filepath.Join(dir, "a", "notes.txt"), []byte("ignored"), 0o644)
	os.WriteFile(filepath.Join(dir, "README"), []byte("ignored"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".hidden"), 0o755)

	d, err := LoadImageFolder(dir, model.Shape{C: 3, H: 6, W: 6})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || len(d.Classes()) != 2 || d.Classes()[0] != "a" || d.Classes()[1] != "b" {
		t.Fatalf("len %d classes %v", d.Len(), d.Classes())
	}
	x := make([]float32, 3*36)
	want := []struct {
		label   int
		r, g, b float32
		tol     float32
	}{
		{0, 200.0 / 255, 200.0 / 255, 200.0 / 255, 1e-6}, // gray repeated in RGB
		{1, 1, 0, 0, 1e-6},
		{1, 0, 0, 1, 0.03}, // JPEG is lossy
	}
	for i, w := range want {
		l, _ := d.Get(i, x)
		if l != w.label {
			t.Errorf("sample %d label %d, want %d", i, l, w.label)
		}
		for c, v := range []float32{w.r, w.g, w.b} {
			for _, got := range x[c*36 : (c+1)*36] {
				if math.Abs(float64(got-v)) > float64(w.tol) {
					t.Fatalf("sample %d channel %d value %v, want %v", i, c, got, v)
				}
			}
		}
	}

	// Gray output: red has luma 0.299.
	d, err = LoadImageFolder(dir, model.Shape{C: 1, H: 4, W: 5})
	if err != nil {
		t.Fatal(err)
	}
	x = x[:20]
	d.Get(1, x)
	if math.Abs(float64(x[7])-0.299) > 0.003 {
		t.Errorf("gray of red = %v, want 0.299", x[7])
	}
}

func TestImageFolderErrors(t *testing.T) {
	shape := model.Shape{C: 1, H: 4, W: 4}
	cases := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"empty", func(string) {}, "no class subfolders"},
		{"loose images", func(dir string) { savePNG(t, filepath.Join(dir, "a.png"), solid(2, 2, color.White)) }, "no class subfolders; put each"},
		{"empty class", func(dir string) {
			savePNG(t, filepath.Join(dir, "cat", "a.png"), solid(2, 2, color.White))
			os.MkdirAll(filepath.Join(dir, "dog"), 0o755)
			os.WriteFile(filepath.Join(dir, "dog", "x.gif"), []byte("GIF89a"), 0o644)
		}, "dog holds no .png/.jpg/.jpeg files"},
		{"corrupt", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "cat"), 0o755)
			os.WriteFile(filepath.Join(dir, "cat", "bad.png"), []byte("\x89PNG\r\n\x1a\nnope"), 0o644)
		}, "bad.png: cannot decode image"},
		{"wrong extension content", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "cat"), 0o755)
			os.WriteFile(filepath.Join(dir, "cat", "text.jpg"), []byte("hello"), 0o644)
		}, "text.jpg: cannot decode image"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		c.setup(dir)
		_, err := LoadImageFolder(dir, shape)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := LoadImageFolder(filepath.Join(t.TempDir(), "missing"), shape); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing folder: %v", err)
	}
	if _, err := LoadImageFolder(t.TempDir(), model.Shape{C: 2, H: 4, W: 4}); err == nil || !strings.Contains(err.Error(), "2 channels") {
		t.Errorf("2 channels: %v", err)
	}
}

func TestFromImageCropsToAspect(t *testing.T) {
	// A 30×10 image: left third black, middle white, right third black.
	img := image.NewGray(image.Rect(0, 0, 30, 10))
	for y := range 10 {
		for x := 10; x < 20; x++ {
			img.Pix[y*30+x] = 255
		}
	}
	dst := make([]float32, 25)
	if err := FromImage(dst, img, model.Shape{C: 1, H: 5, W: 5}); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst {
		if v != 1 {
			t.Fatalf("square centre crop should be all white; value %d is %v", i, v)
		}
	}
	// A large image goes through block averaging first; a gradient keeps
	// its mean.
	big := image.NewGray(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			big.Pix[y*640+x] = uint8(x * 255 / 639)
		}
	}
	dst = make([]float32, 28*28)
	FromImage(dst, big, model.Shape{C: 1, H: 28, W: 28})
	var mean float64
	for _, v := range dst {
		mean += float64(v)
	}
	mean /= float64(len(dst))
	if math.Abs(mean-0.5) > 0.01 || dst[0] > dst[27] {
		t.Errorf("gradient mean %v, first %v last %v", mean, dst[0], dst[27])
	}
}
