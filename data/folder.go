package data

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the JPEG decoder for image.Decode
	_ "image/png"  // register the PNG decoder for image.Decode
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/bsnn/bsnn/model"
)

// ImageExt reports whether a file name has an extension LoadImageFolder
// reads (.png, .jpg, .jpeg, any case).
func ImageExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// LoadImageFolder loads a data set laid out as one subfolder per class,
// each holding PNG or JPEG files. Classes are the subfolder names in sorted
// order; files are read in sorted order. Every image is centre-cropped to the
// aspect of shape, resized to it (see FromImage) and converted to gray (C =
// 1) or RGB (C = 3), then kept as 8-bit values. Hidden entries (".name") and
// files with other extensions are skipped; a class folder without images, a
// file that does not decode, or a folder with no class subfolders is an error
// naming the path.
func LoadImageFolder(dir string, shape model.Shape) (*Images, error) {
	if shape.C != 1 && shape.C != 3 {
		return nil, fmt.Errorf("data: image folder %s: %d channels requested; only 1 (gray) or 3 (RGB)", dir, shape.C)
	}
	if shape.H <= 0 || shape.W <= 0 {
		return nil, fmt.Errorf("data: image folder %s: size %dx%d requested", dir, shape.W, shape.H)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	var classes []string
	var files []string
	var labels []uint8
	looseImages := 0
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		st, err := os.Stat(filepath.Join(dir, name)) // follows symlinks
		if err != nil {
			return nil, fmt.Errorf("data: image folder: %w", err)
		}
		if !st.IsDir() {
			if ImageExt(name) {
				looseImages++
			}
			continue
		}
		classes = append(classes, name)
	}
	slices.Sort(classes)
	if len(classes) == 0 {
		if looseImages > 0 {
			return nil, fmt.Errorf("data: image folder %s holds %d images but no class subfolders; put each class's images in a subfolder named after the class", dir, looseImages)
		}
		return nil, fmt.Errorf("data: image folder %s has no class subfolders", dir)
	}
	if len(classes) > 256 {
		return nil, fmt.Errorf("data: image folder %s has %d class subfolders; at most 256", dir, len(classes))
	}
	for ci, c := range classes {
		cdir := filepath.Join(dir, c)
		ents, err := os.ReadDir(cdir)
		if err != nil {
			return nil, fmt.Errorf("data: image folder: %w", err)
		}
		n := 0
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") || !ImageExt(e.Name()) || e.IsDir() {
				continue
			}
			files = append(files, filepath.Join(cdir, e.Name()))
			labels = append(labels, uint8(ci))
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("data: image folder: class folder %s holds no .png/.jpg/.jpeg files", cdir)
		}
	}

	size := shape.Size()
	pix := make([]uint8, len(files)*size)
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(files))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, size)
			for i := w; i < len(files); i += workers {
				if errs[i] = loadImageFile(files[i], shape, buf); errs[i] == nil {
					quantize(pix[i*size:(i+1)*size], buf)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return NewImages(shape, classes, pix, labels)
}

func loadImageFile(path string, shape model.Shape, dst []float32) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("data: %s: cannot decode image: %w", path, err)
	}
	if err := FromImage(dst, img, shape); err != nil {
		return fmt.Errorf("data: %s (%s): %w", path, format, err)
	}
	return nil
}

// quantize stores values in [0,1] as bytes, rounding to nearest.
func quantize(dst []uint8, src []float32) {
	for i, v := range src {
		dst[i] = uint8(math.Round(float64(min(max(v, 0), 1)) * 255))
	}
}

// FromImage writes img into dst as shape.C planes of shape.H×shape.W values
// in [0,1]: centre-cropped to the aspect of shape, resized with Resizer's
// filter, and converted to gray (C = 1, luma 0.299R+0.587G+0.114B; for JPEG's
// Y'CbCr images, Y itself) or RGB (C = 3; a gray image is repeated).
// Transparent pixels are composited on black. Large images are first
// averaged over k×k blocks (k ≥ 1 chosen so the result stays at least twice
// the target size), which bounds the memory and time a photo costs.
func FromImage(dst []float32, img image.Image, shape model.Shape) error {
	if shape.C != 1 && shape.C != 3 {
		return fmt.Errorf("%d channels requested; only 1 (gray) or 3 (RGB)", shape.C)
	}
	if len(dst) < shape.Size() {
		return fmt.Errorf("dst has %d values; %v needs %d", len(dst), shape, shape.Size())
	}
	b := img.Bounds()
	if b.Empty() {
		return fmt.Errorf("empty image")
	}
	x0, y0, cw, ch := CenterCrop(b.Dx(), b.Dy(), shape.W, shape.H)
	k := max(min(cw/shape.W, ch/shape.H)/2, 1)
	rw, rh := cw/k, ch/k
	planes := make([]float32, shape.C*rw*rh)
	toPlanes(planes, img, image.Rect(b.Min.X+x0, b.Min.Y+y0, b.Min.X+x0+rw*k, b.Min.Y+y0+rh*k), shape.C, k)
	r, err := NewResizer(rw, rh, 0, 0, rw, rh, shape.W, shape.H)
	if err != nil {
		return err
	}
	return r.Resize(dst, planes, shape.C)
}

// toPlanes converts the rectangle rect of img (a multiple of k in both
// sizes) into `channels` planes in [0,1], averaging k×k blocks.
func toPlanes(dst []float32, img image.Image, rect image.Rectangle, channels, k int) {
	w, h := rect.Dx()/k, rect.Dy()/k
	plane := w * h
	inv := 1 / float32(k*k)
	clear(dst[:channels*plane])
	add := func(x, y int, v [3]float32) {
		i := (y-rect.Min.Y)/k*w + (x-rect.Min.X)/k
		if channels == 1 {
			dst[i] += v[0]
			return
		}
		dst[i] += v[0]
		dst[plane+i] += v[1]
		dst[2*plane+i] += v[2]
	}
	switch im := img.(type) {
	case *image.Gray:
		for y := rect.Min.Y; y < rect.Max.Y; y++ {
			for x := rect.Min.X; x < rect.Max.X; x++ {
				g := u8ToFloat[im.Pix[im.PixOffset(x, y)]]
				add(x, y, [3]float32{g, g, g})
			}
		}
	case *image.YCbCr:
		for y := rect.Min.Y; y < rect.Max.Y; y++ {
			for x := rect.Min.X; x < rect.Max.X; x++ {
				yy := im.Y[im.YOffset(x, y)]
				if channels == 1 {
					add(x, y, [3]float32{u8ToFloat[yy]})
					continue
				}
				ci := im.COffset(x, y)
				r, g, b := color.YCbCrToRGB(yy, im.Cb[ci], im.Cr[ci])
				add(x, y, [3]float32{u8ToFloat[r], u8ToFloat[g], u8ToFloat[b]})
			}
		}
	default:
		for y := rect.Min.Y; y < rect.Max.Y; y++ {
			for x := rect.Min.X; x < rect.Max.X; x++ {
				r16, g16, b16, _ := img.At(x, y).RGBA()
				r, g, b := float32(r16)/65535, float32(g16)/65535, float32(b16)/65535
				if channels == 1 {
					add(x, y, [3]float32{luma(r, g, b)})
					continue
				}
				add(x, y, [3]float32{r, g, b})
			}
		}
	}
	if k > 1 {
		for i := range dst[:channels*plane] {
			dst[i] *= inv
		}
	}
}

// luma is Rec. 601 luma, the weights JPEG's Y uses.
func luma(r, g, b float32) float32 {
	return float32(0.299*r) + float32(0.587*g) + float32(0.114*b)
}
