package data

import (
	"fmt"
	"math"
)

// Resizer resamples planar float32 images of one size, cropped to a
// rectangle, to another size with a bilinear (triangle) filter. When
// shrinking, the filter widens with the scale factor (as PIL's resize does) so
// every source pixel contributes and a 640-pixel row shrunk to 28 does not
// alias. Weights are computed once, so a stream of frames resizes without
// allocating.
type Resizer struct {
	srcW, srcH, dstW, dstH int
	xs, ys                 taps
	tmp                    []float32 // one plane after the horizontal pass: srcH·dstW
}

// taps holds, for every output coordinate, a window of input coordinates
// and their weights (summing to 1).
type taps struct {
	start []int // first input index of output i
	n     []int // number of inputs of output i
	w     []float32
	off   []int // offset of output i's weights in w
}

// NewResizer returns a resizer from srcW×srcH images, cropped to the
// rectangle [x0,x0+cw)×[y0,y0+ch), to dstW×dstH.
func NewResizer(srcW, srcH, x0, y0, cw, ch, dstW, dstH int) (*Resizer, error) {
	if srcW <= 0 || srcH <= 0 || dstW <= 0 || dstH <= 0 {
		return nil, fmt.Errorf("data: resize %d×%d → %d×%d: sizes must be positive", srcW, srcH, dstW, dstH)
	}
	if x0 < 0 || y0 < 0 || cw <= 0 || ch <= 0 || x0+cw > srcW || y0+ch > srcH {
		return nil, fmt.Errorf("data: crop %d×%d at (%d,%d) does not fit in a %d×%d image", cw, ch, x0, y0, srcW, srcH)
	}
	return &Resizer{
		srcW: srcW, srcH: srcH, dstW: dstW, dstH: dstH,
		xs:  makeTaps(x0, cw, dstW),
		ys:  makeTaps(y0, ch, dstH),
		tmp: make([]float32, srcH*dstW),
	}, nil
}

// CenterCrop returns the largest rectangle of aspect dstW:dstH centred in a
// srcW×srcH image, as (x0, y0, w, h).
func CenterCrop(srcW, srcH, dstW, dstH int) (x0, y0, w, h int) {
	// Compare srcW/srcH with dstW/dstH in integers.
	if srcW*dstH > srcH*dstW { // source is wider: crop columns
		w = max((srcH*dstW+dstH/2)/dstH, 1)
		return (srcW - w) / 2, 0, w, srcH
	}
	h = max((srcW*dstH+dstW/2)/dstW, 1)
	return 0, (srcH - h) / 2, srcW, h
}

func makeTaps(x0, in, out int) taps {
	scale := float64(in) / float64(out)
	support := max(scale, 1) // triangle radius, widened when shrinking
	t := taps{start: make([]int, out), n: make([]int, out), off: make([]int, out)}
	for i := range out {
		center := float64(x0) + (float64(i)+0.5)*scale
		lo := max(int(math.Floor(center-support+0.5)), x0)
		hi := min(int(math.Floor(center+support+0.5)), x0+in)
		t.start[i], t.off[i] = lo, len(t.w)
		var sum float64
		for x := lo; x < hi; x++ {
			sum += math.Max(0, 1-math.Abs((float64(x)+0.5-center)/support))
		}
		for x := lo; x < hi; x++ {
			w := math.Max(0, 1-math.Abs((float64(x)+0.5-center)/support))
			if sum > 0 {
				w /= sum
			} else {
				w = 1 / float64(hi-lo)
			}
			t.w = append(t.w, float32(w))
		}
		t.n[i] = hi - lo
		if t.n[i] == 0 { // cannot happen for in ≥ 1, kept for safety
			t.start[i], t.n[i] = min(max(int(center), x0), x0+in-1), 1
			t.w = append(t.w, 1)
		}
	}
	return t
}

// Resize resamples `channels` planes of src (each srcH×srcW) into dst (each
// dstH×dstW). It is not safe for concurrent use (it reuses a scratch plane).
func (r *Resizer) Resize(dst, src []float32, channels int) error {
	if len(src) < channels*r.srcW*r.srcH || len(dst) < channels*r.dstW*r.dstH {
		return fmt.Errorf("data: Resize: buffers of %d and %d values for %d planes of %d×%d → %d×%d",
			len(src), len(dst), channels, r.srcW, r.srcH, r.dstW, r.dstH)
	}
	for c := range channels {
		sp := src[c*r.srcW*r.srcH : (c+1)*r.srcW*r.srcH]
		dp := dst[c*r.dstW*r.dstH : (c+1)*r.dstW*r.dstH]
		// Horizontal pass over the rows the vertical pass will read.
		y0 := r.ys.start[0]
		y1 := r.ys.start[r.dstH-1] + r.ys.n[r.dstH-1]
		for y := y0; y < y1; y++ {
			row := sp[y*r.srcW : (y+1)*r.srcW]
			out := r.tmp[y*r.dstW : (y+1)*r.dstW]
			for i := range out {
				w := r.xs.w[r.xs.off[i] : r.xs.off[i]+r.xs.n[i]]
				in := row[r.xs.start[i] : r.xs.start[i]+len(w)]
				var acc float32
				for k, v := range in {
					acc += float32(w[k] * v)
				}
				out[i] = acc
			}
		}
		for j := range r.dstH {
			w := r.ys.w[r.ys.off[j] : r.ys.off[j]+r.ys.n[j]]
			out := dp[j*r.dstW : (j+1)*r.dstW]
			clear(out)
			for k, wk := range w {
				in := r.tmp[(r.ys.start[j]+k)*r.dstW : (r.ys.start[j]+k+1)*r.dstW]
				for i, v := range in {
					out[i] += float32(wk * v)
				}
			}
		}
	}
	return nil
}

// Sample returns the bilinear interpolation of the h×w plane p at the
// continuous position (fx, fy) in pixels: integer positions return pixel
// values exactly. Neighbours outside the plane read as fill.
func Sample(p []float32, h, w int, fx, fy, fill float32) float32 {
	x0f, y0f := float32(math.Floor(float64(fx))), float32(math.Floor(float64(fy)))
	ax, ay := fx-x0f, fy-y0f
	x0, y0 := int(x0f), int(y0f)
	at := func(x, y int) float32 {
		if x < 0 || y < 0 || x >= w || y >= h {
			return fill
		}
		return p[y*w+x]
	}
	top := at(x0, y0) + float32(ax*(at(x0+1, y0)-at(x0, y0)))
	bot := at(x0, y0+1) + float32(ax*(at(x0+1, y0+1)-at(x0, y0+1)))
	return top + float32(ay*(bot-top))
}

// RotateInto writes to dst the `channels` h×w planes of src rotated by
// `degrees` counter-clockwise (as seen on screen, y pointing down) about the
// image centre, sampled bilinearly; pixels that come from outside the image
// are fill. dst and src must not overlap.
func RotateInto(dst, src []float32, channels, h, w int, degrees float64, fill float32) {
	th := degrees * math.Pi / 180
	cos, sin := float32(math.Cos(th)), float32(math.Sin(th))
	cx, cy := float32(w-1)/2, float32(h-1)/2
	for c := range channels {
		sp := src[c*h*w : (c+1)*h*w]
		dp := dst[c*h*w : (c+1)*h*w]
		for y := range h {
			dy := float32(y) - cy
			for x := range w {
				dx := float32(x) - cx
				// Inverse map: the source point that lands on (x, y).
				sx := float32(cos*dx) - float32(sin*dy) + cx
				sy := float32(sin*dx) + float32(cos*dy) + cy
				dp[y*w+x] = Sample(sp, h, w, sx, sy, fill)
			}
		}
	}
}

// FlipH mirrors `channels` h×w planes left to right in place.
func FlipH(x []float32, channels, h, w int) {
	for r := range channels * h {
		row := x[r*w : (r+1)*w]
		for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
}

// Shift moves `channels` h×w planes by (dx, dy) pixels in place (positive dx
// moves content right), filling the uncovered border with fill. It is the
// pad-and-crop augmentation: padding by P and cropping at offset (P−dx, P−dy)
// gives the same image.
func Shift(x []float32, channels, h, w, dx, dy int, fill float32) {
	for c := range channels {
		p := x[c*h*w : (c+1)*h*w]
		// Walk in the direction that never reads an already-written pixel.
		ys, ye, ystep := 0, h, 1
		if dy > 0 {
			ys, ye, ystep = h-1, -1, -1
		}
		xs, xe, xstep := 0, w, 1
		if dx > 0 {
			xs, xe, xstep = w-1, -1, -1
		}
		for y := ys; y != ye; y += ystep {
			sy := y - dy
			for xx := xs; xx != xe; xx += xstep {
				sx := xx - dx
				if sy < 0 || sy >= h || sx < 0 || sx >= w {
					p[y*w+xx] = fill
				} else {
					p[y*w+xx] = p[sy*w+sx]
				}
			}
		}
	}
}
