package input

import (
	"fmt"
	"image"

	"github.com/bsnn/bsnn/model"
)

// yuvTables hold BT.601 Y'CbCr → [0,1] conversions for one luma range.
type yuvTables struct {
	y           [256]float32 // luma (also the gray value)
	crR, cbB    [256]float32
	cbG, crG    [256]float32
	description string
}

var (
	fullYUV    = makeYUVTables(false)
	limitedYUV = makeYUVTables(true)
)

func makeYUVTables(limited bool) *yuvTables {
	t := &yuvTables{description: "full"}
	ys, yo, cs := 1.0/255, 0.0, 1.0/255
	if limited {
		t.description = "limited"
		ys, yo, cs = 1.0/219, 16, 1.0/224
	}
	for i := range 256 {
		t.y[i] = float32(min(max((float64(i)-yo)*ys, 0), 1))
		c := (float64(i) - 128) * cs
		t.crR[i] = float32(1.402 * c)
		t.cbB[i] = float32(1.772 * c)
		t.cbG[i] = float32(-0.344136 * c)
		t.crG[i] = float32(-0.714136 * c)
	}
	return t
}

func tablesFor(limited bool) *yuvTables {
	if limited {
		return limitedYUV
	}
	return fullYUV
}

func clamp01(v float32) float32 { return min(max(v, 0), 1) }

// yuvLayout describes 8-bit Y'CbCr pixels in memory, general enough for
// planar (I420, Y4M), semi-planar (NV12) and packed (YUYV) layouts: luma of
// pixel (x, row) is at y[row·yStride + x·yStep]; its chroma at
// cb/cr[(row/subY)·cStride + (x/subX)·cStep]. cb == nil means gray only.
type yuvLayout struct {
	w, h           int
	y              []byte
	yStride, yStep int
	cb, cr         []byte
	cStride, cStep int
	subX, subY     int
	tables         *yuvTables
}

func (l *yuvLayout) check() error {
	if l.w <= 0 || l.h <= 0 {
		return fmt.Errorf("frame size %dx%d", l.w, l.h)
	}
	if need := (l.h-1)*l.yStride + (l.w-1)*l.yStep + 1; len(l.y) < need {
		return fmt.Errorf("luma data has %d bytes, a %dx%d frame needs %d", len(l.y), l.w, l.h, need)
	}
	if l.cb != nil {
		need := (l.h-1)/l.subY*l.cStride + (l.w-1)/l.subX*l.cStep + 1
		if len(l.cb) < need || len(l.cr) < need {
			return fmt.Errorf("chroma data has %d/%d bytes, a %dx%d frame needs %d", len(l.cb), len(l.cr), l.w, l.h, need)
		}
	}
	return nil
}

// toFrame converts to `channels` (1 or 3) planes.
func (l *yuvLayout) toFrame(f *Frame, channels int) error {
	if err := l.check(); err != nil {
		return err
	}
	setShape(f, channels, l.h, l.w)
	t := l.tables
	plane := l.w * l.h
	for row := range l.h {
		yr := l.y[row*l.yStride:]
		out := f.Pix[row*l.w : (row+1)*l.w]
		if channels == 1 || l.cb == nil {
			for x := range out {
				out[x] = t.y[yr[x*l.yStep]]
			}
			if channels == 3 {
				copy(f.Pix[plane+row*l.w:], out)
				copy(f.Pix[2*plane+row*l.w:], out)
			}
			continue
		}
		cbr := l.cb[row/l.subY*l.cStride:]
		crr := l.cr[row/l.subY*l.cStride:]
		g := f.Pix[plane+row*l.w : plane+(row+1)*l.w]
		b := f.Pix[2*plane+row*l.w : 2*plane+(row+1)*l.w]
		for x := range out {
			yy := t.y[yr[x*l.yStep]]
			ci := x / l.subX * l.cStep
			cb, cr := cbr[ci], crr[ci]
			out[x] = clamp01(yy + t.crR[cr])
			g[x] = clamp01(yy + t.cbG[cb] + t.crG[cr])
			b[x] = clamp01(yy + t.cbB[cb])
		}
	}
	return nil
}

// setShape sizes f for channels×h×w, reusing its memory.
func setShape(f *Frame, channels, h, w int) {
	f.Shape = model.Shape{C: channels, H: h, W: w}
	n := f.Shape.Size()
	if cap(f.Pix) < n {
		f.Pix = make([]float32, n)
	}
	f.Pix = f.Pix[:n]
}

var u8 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// imageToFrame converts a decoded image at its own resolution. JPEG's
// Y'CbCr is full range (JFIF).
func imageToFrame(f *Frame, img image.Image, channels int) error {
	b := img.Bounds()
	if b.Empty() {
		return fmt.Errorf("empty image")
	}
	switch im := img.(type) {
	case *image.YCbCr:
		l := yuvLayout{
			w: b.Dx(), h: b.Dy(),
			y: im.Y[im.YOffset(b.Min.X, b.Min.Y):], yStride: im.YStride, yStep: 1,
			cb: im.Cb[im.COffset(b.Min.X, b.Min.Y):], cr: im.Cr[im.COffset(b.Min.X, b.Min.Y):], cStride: im.CStride, cStep: 1,
			tables: fullYUV,
		}
		switch im.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
			l.subX, l.subY = 1, 1
		case image.YCbCrSubsampleRatio422:
			l.subX, l.subY = 2, 1
		case image.YCbCrSubsampleRatio420:
			l.subX, l.subY = 2, 2
		case image.YCbCrSubsampleRatio440:
			l.subX, l.subY = 1, 2
		case image.YCbCrSubsampleRatio411:
			l.subX, l.subY = 4, 1
		case image.YCbCrSubsampleRatio410:
			l.subX, l.subY = 4, 2
		default:
			return genericImage(f, img, channels)
		}
		if b.Min.X%l.subX != 0 || b.Min.Y%l.subY != 0 {
			return genericImage(f, img, channels)
		}
		return l.toFrame(f, channels)
	case *image.Gray:
		l := yuvLayout{w: b.Dx(), h: b.Dy(), y: im.Pix[im.PixOffset(b.Min.X, b.Min.Y):], yStride: im.Stride, yStep: 1, tables: fullYUV}
		return l.toFrame(f, channels)
	}
	return genericImage(f, img, channels)
}

func genericImage(f *Frame, img image.Image, channels int) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	setShape(f, channels, h, w)
	plane := w * h
	for y := range h {
		for x := range w {
			r16, g16, b16, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			r, g, bb := float32(r16)/65535, float32(g16)/65535, float32(b16)/65535
			i := y*w + x
			if channels == 1 {
				f.Pix[i] = luma(r, g, bb)
				continue
			}
			f.Pix[i], f.Pix[plane+i], f.Pix[2*plane+i] = r, g, bb
		}
	}
	return nil
}

// luma is BT.601 luma, the weights JPEG's Y uses.
func luma(r, g, b float32) float32 {
	return float32(0.299*r) + float32(0.587*g) + float32(0.114*b)
}

// rgb24ToFrame converts packed 8-bit RGB.
func rgb24ToFrame(f *Frame, buf []byte, w, h, channels int) {
	setShape(f, channels, h, w)
	plane := w * h
	for i := range plane {
		r, g, b := u8[buf[3*i]], u8[buf[3*i+1]], u8[buf[3*i+2]]
		if channels == 1 {
			f.Pix[i] = luma(r, g, b)
			continue
		}
		f.Pix[i], f.Pix[plane+i], f.Pix[2*plane+i] = r, g, b
	}
}
