package input

import (
	"encoding/binary"
	"fmt"

	"github.com/bsnn/bsnn/data"
)

// Range is the luma range of 8-bit Y'CbCr samples.
type Range uint8

// Luma ranges.
const (
	// RangeAuto takes the range from the stream where it says (Y4M's
	// XCOLORRANGE, V4L2's quantization, raw's :full or :limited), else from
	// the format's convention: untagged colour Y4M, raw i420/nv12/yuyv and
	// V4L2 YUYV are limited; Y4M mono, raw gray, V4L2 GREY and JPEG full.
	RangeAuto Range = iota
	// RangeLimited reads luma 16 as black and 235 as white (values outside
	// clip), the video convention (BT.601).
	RangeLimited
	// RangeFull reads luma 0 as black and 255 as white.
	RangeFull
)

// ParseRange parses "auto", "limited" or "full".
func ParseRange(s string) (Range, error) {
	switch s {
	case "auto", "":
		return RangeAuto, nil
	case "limited":
		return RangeLimited, nil
	case "full":
		return RangeFull, nil
	}
	return 0, fmt.Errorf("range %q: want auto, limited or full", s)
}

// String returns "auto", "limited" or "full".
func (r Range) String() string {
	switch r {
	case RangeLimited:
		return "limited"
	case RangeFull:
		return "full"
	}
	return "auto"
}

// limited resolves r for a stream whose own tag or convention says
// limited (def true) or full.
func (r Range) limited(def bool) bool {
	switch r {
	case RangeLimited:
		return true
	case RangeFull:
		return false
	}
	return def
}

// Luma is an 8-bit luma (gray) plane held in a source's own buffer: pixel
// (x, y) is Pix[y·Stride + x·Step]. Sources in luma mode (Options.Luma)
// yield it instead of a float Frame, so a gray model's input is made in
// one pass over the bytes.
type Luma struct {
	W, H         int
	Pix          []byte
	Stride, Step int
	Limited      bool // 16..235 (limited range), else 0..255 (full)
}

func (l *Luma) check() error {
	if l.W <= 0 || l.H <= 0 || l.Step <= 0 || l.Stride < (l.W-1)*l.Step+1 {
		return fmt.Errorf("input: luma plane %dx%d with stride %d, step %d", l.W, l.H, l.Stride, l.Step)
	}
	if need := (l.H-1)*l.Stride + (l.W-1)*l.Step + 1; len(l.Pix) < need {
		return fmt.Errorf("input: luma plane has %d bytes, a %dx%d plane needs %d", len(l.Pix), l.W, l.H, need)
	}
	return nil
}

// boxSpan is the source pixels one output pixel covers along one axis:
// lo..hi inclusive, lo weighing wlo and hi weighing whi (0 when lo == hi),
// the ones in between the full weight. Weights are overlap lengths in
// units of 1/out source pixels, so they are exact integers that sum to the
// crop length.
type boxSpan struct {
	lo, hi   int
	wlo, whi uint32
}

// boxSpans splits the crop [x0, x0+in) into out equal intervals: output
// i covers [i·in, (i+1)·in) in units of 1/out pixels, source pixel x
// covers [x·out, (x+1)·out).
func boxSpans(x0, in, out int) []boxSpan {
	s := make([]boxSpan, out)
	for i := range s {
		a, b := i*in, (i+1)*in
		lo, hi := a/out, (b-1)/out
		sp := boxSpan{lo: x0 + lo, hi: x0 + hi}
		if lo == hi {
			sp.wlo = uint32(in)
		} else {
			sp.wlo, sp.whi = uint32((lo+1)*out-a), uint32(b-hi*out)
		}
		s[i] = sp
	}
	return s
}

// boxResizer is an area (box filter) resize of 8-bit planes of one
// geometry, centre-cropped to the output's aspect, in integer arithmetic:
// every output pixel is the exact average of the source area it covers,
// rounded half up to 8 bits. Spans and weights are computed once per
// geometry; resizing a frame allocates nothing.
type boxResizer struct {
	key        [4]int // w, h, stride, step
	dstW, dstH int
	x0, cw, ch int
	cols, rows []boxSpan // cols relative to x0, rows absolute
	den        uint64    // cw·ch: the sum of all weights of one output pixel
	identity   bool      // no crop and no scaling: out = in
	inner, acc []uint32  // cw column sums
	even, odd  []uint64  // cw/8 words of 4 16-bit column sums (addRowsSWAR)
}

func newBoxResizer(l *Luma, dstW, dstH int) *boxResizer {
	x0, y0, cw, ch := data.CenterCrop(l.W, l.H, dstW, dstH)
	r := &boxResizer{
		key:  [4]int{l.W, l.H, l.Stride, l.Step},
		dstW: dstW, dstH: dstH, x0: x0, cw: cw, ch: ch,
		cols: boxSpans(0, cw, dstW), rows: boxSpans(y0, ch, dstH),
		den:      uint64(cw) * uint64(ch),
		identity: cw == l.W && ch == l.H && cw == dstW && ch == dstH,
		inner:    make([]uint32, cw),
		acc:      make([]uint32, cw),
		even:     make([]uint64, cw/8),
		odd:      make([]uint64, cw/8),
	}
	return r
}

// row returns the crop's part of source row y, cw pixels at l.Step.
func (r *boxResizer) row(l *Luma, y int) []byte {
	off := y*l.Stride + r.x0*l.Step
	return l.Pix[off : off+(r.cw-1)*l.Step+1]
}

// resize writes the dstH×dstW area average of l into dst.
func (r *boxResizer) resize(dst []uint8, l *Luma) {
	dst = dst[:r.dstW*r.dstH]
	if r.identity {
		for y := range r.dstH {
			src := r.row(l, y)
			out := dst[y*r.dstW : (y+1)*r.dstW]
			if l.Step == 1 {
				copy(out, src)
				continue
			}
			for x := range out {
				out[x] = src[x*l.Step]
			}
		}
		return
	}
	fullX, fullY := uint64(r.dstW), uint32(r.dstH)
	den2 := 2 * r.den
	for j, rs := range r.rows {
		acc := r.acc
		first := r.row(l, rs.lo)
		if rs.lo == rs.hi {
			mulRow(acc, first, l.Step, rs.wlo)
		} else {
			inner := r.inner
			clear(inner)
			y := rs.lo + 1
			if l.Step == 1 {
				for y < rs.hi {
					n := min(rs.hi-y, maxSWARRows)
					r.addRowsSWAR(l, y, n)
					y += n
				}
			}
			for ; y+1 < rs.hi; y += 2 {
				addRows2(inner, r.row(l, y), r.row(l, y+1), l.Step)
			}
			if y < rs.hi {
				addRow(inner, r.row(l, y), l.Step)
			}
			combineRows(acc, inner, fullY, first, rs.wlo, r.row(l, rs.hi), rs.whi, l.Step)
		}
		out := dst[j*r.dstW : (j+1)*r.dstW]
		for i, cs := range r.cols {
			s := uint64(cs.wlo) * uint64(acc[cs.lo])
			if cs.hi > cs.lo {
				var mid uint64
				for _, v := range acc[cs.lo+1 : cs.hi] {
					mid += uint64(v)
				}
				s += fullX*mid + uint64(cs.whi)*uint64(acc[cs.hi])
			}
			out[i] = uint8((2*s + r.den) / den2)
		}
	}
}

// maxSWARRows is how many rows of bytes fit in a 16-bit lane: 257·255 =
// 65535.
const maxSWARRows = 257

const lowBytes = 0x00ff00ff00ff00ff

// addRowsSWAR adds the n ≤ maxSWARRows step-1 rows from y on to r.inner,
// eight columns at a time: a little-endian load of 8 bytes holds the even
// columns in the low byte of four 16-bit lanes and the odd ones in the
// high byte, and the lanes sum n bytes without carrying into each other.
// The columns past the last whole 8 go one by one.
func (r *boxResizer) addRowsSWAR(l *Luma, y, n int) {
	even, odd := r.even, r.odd
	clear(even)
	clear(odd)
	words := len(even)
	tail := r.inner[8*words:]
	odd = odd[:len(even)]
	k := 0
	for ; k+1 < n; k += 2 {
		// Two rows per pass halve the accumulators' loads and stores.
		a, b := r.row(l, y+k), r.row(l, y+k+1)
		a, b = a[:8*words], b[:8*words]
		for w := range even {
			va := binary.LittleEndian.Uint64(a[8*w:])
			vb := binary.LittleEndian.Uint64(b[8*w:])
			even[w] += va&lowBytes + vb&lowBytes
			odd[w] += (va>>8)&lowBytes + (vb>>8)&lowBytes
		}
	}
	for ; k < n; k++ {
		a := r.row(l, y+k)[:8*words]
		for w := range even {
			v := binary.LittleEndian.Uint64(a[8*w:])
			even[w] += v & lowBytes
			odd[w] += (v >> 8) & lowBytes
		}
	}
	for k := range n {
		for x, v := range r.row(l, y+k)[8*words:] {
			tail[x] += uint32(v)
		}
	}
	inner := r.inner[:8*words]
	for w := range words {
		e, o := even[w], odd[w]
		c := inner[8*w : 8*w+8]
		c[0] += uint32(e & 0xffff)
		c[1] += uint32(o & 0xffff)
		c[2] += uint32(e >> 16 & 0xffff)
		c[3] += uint32(o >> 16 & 0xffff)
		c[4] += uint32(e >> 32 & 0xffff)
		c[5] += uint32(o >> 32 & 0xffff)
		c[6] += uint32(e >> 48)
		c[7] += uint32(o >> 48)
	}
}

// mulRow sets acc[x] = w·row[x·step].
func mulRow(acc []uint32, row []byte, step int, w uint32) {
	if step == 1 {
		row = row[:len(acc)]
		for x, v := range row {
			acc[x] = w * uint32(v)
		}
		return
	}
	for x := range acc {
		acc[x] = w * uint32(row[x*step])
	}
}

// addRow adds row[x·step] to acc[x].
func addRow(acc []uint32, row []byte, step int) {
	if step == 1 {
		row = row[:len(acc)]
		for x, v := range row {
			acc[x] += uint32(v)
		}
		return
	}
	for x := range acc {
		acc[x] += uint32(row[x*step])
	}
}

// addRows2 adds two rows at once, halving the loads and stores of acc.
func addRows2(acc []uint32, a, b []byte, step int) {
	if step == 1 {
		a, b = a[:len(acc)], b[:len(acc)]
		for x := range acc {
			acc[x] += uint32(a[x]) + uint32(b[x])
		}
		return
	}
	for x := range acc {
		acc[x] += uint32(a[x*step]) + uint32(b[x*step])
	}
}

// combineRows sets acc[x] = full·inner[x] + wa·a[x·step] + wb·b[x·step].
func combineRows(acc, inner []uint32, full uint32, a []byte, wa uint32, b []byte, wb uint32, step int) {
	inner = inner[:len(acc)]
	if step == 1 {
		a, b = a[:len(acc)], b[:len(acc)]
		for x := range acc {
			acc[x] = full*inner[x] + wa*uint32(a[x]) + wb*uint32(b[x])
		}
		return
	}
	for x := range acc {
		acc[x] = full*inner[x] + wa*uint32(a[x*step]) + wb*uint32(b[x*step])
	}
}
