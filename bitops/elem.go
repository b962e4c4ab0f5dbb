package bitops

import (
	"fmt"
	"math"
)

// Float element-wise kernels of the inference engine. They follow the model
// package's arithmetic contract: every float32 operation is rounded on its
// own (multiply, then add; never a fused multiply-add), and a reduction
// accumulates in float64 in index order. The SIMD sets vectorize across
// channels only, so every set returns the generic set's results bit for bit.

// maxElems bounds the element counts the element-wise kernels accept, so
// their index arithmetic cannot overflow.
const maxElems = min(1<<40, math.MaxInt)

// ScaleBias is the epilogue of a binary conv or linear layer: for m rows of
// n = len(scale) int32 accumulators,
//
//	dst[i*n+o] = float32(float32(acc[i*n+o])·scale[o]) + bias[o].
//
// bias must hold n values, acc and dst at least m·n.
func (k *Kernels) ScaleBias(dst []float32, acc []int32, m int, scale, bias []float32) error {
	n := len(scale)
	if m < 0 {
		return fmt.Errorf("bitops: ScaleBias: negative row count %d", m)
	}
	if len(bias) != n {
		return fmt.Errorf("bitops: ScaleBias: bias holds %d values, scale %d", len(bias), n)
	}
	if n != 0 && m > maxElems/n {
		return fmt.Errorf("bitops: ScaleBias: shape m=%d n=%d is too large", m, n)
	}
	if len(acc) < m*n {
		return fmt.Errorf("bitops: ScaleBias: acc holds %d values, %d rows of %d need %d", len(acc), m, n, m*n)
	}
	if len(dst) < m*n {
		return fmt.Errorf("bitops: ScaleBias: dst holds %d values, needs %d", len(dst), m*n)
	}
	if m == 0 || n == 0 {
		return nil
	}
	k.scaleBias(dst[:m*n], acc[:m*n], m, scale, bias)
	return nil
}

// LIFRun is one call of Kernels.LIF: a LIF layer on a run of Pixels pixels
// of C channels over Steps time steps. Every index below is in elements
// (floats or words) of its slice; strides may be 0 (for example a step
// stride of 0 for an input that is the same at every step).
//
// For each pixel q < Pixels, channel c < C and step t < Steps, in this order
// of float32 operations, each rounded on its own:
//
//	z = X[t·XStep + q·XPixel + c]
//	z = Gate[t·GateStep + c] · z                   (if Gate != nil)
//	z = z + Res[t·ResStep + q·ResPixel + c]        (if Res != nil)
//	z = z + 1   where spike bit c of Spk is set     (if Spk != nil; 0 is not added)
//	u = float32(Lambda·h) + z
//	s = u >= Vth
//	h = s ? +0 : u (Hard)   or   s ? u − Vth : u (soft)
//
// and spike s is bit c%64 of word Out[t·OutStep + q·OutPixel + c/64]. The
// spike shortcut is laid out like Out: bit c%64 of Spk[t·SpkStep +
// q·SpkPixel + c/64]. The (C+63)/64 output words of a pixel and step are
// written whole, their bits past C zero. h starts at +0, or, if State is
// not nil, at State[q·C + c], and the final h is stored back there, so a
// caller can carry membranes across calls. Out must not overlap Spk, and
// distinct (pixel, step) pairs must have distinct output words.
type LIFRun struct {
	C, Pixels, Steps int
	Lambda, Vth      float32
	Hard             bool // hard reset (h = +0 after a spike); false: soft (h = u − Vth)

	X             []float32
	XPixel, XStep int

	Gate     []float32 // optional per-step channel gate
	GateStep int

	Res               []float32 // optional float shortcut
	ResPixel, ResStep int

	Spk               []uint64 // optional spike shortcut
	SpkPixel, SpkStep int

	State []float32 // optional [Pixels][C] membranes, read and written

	Out               []uint64
	OutPixel, OutStep int
}

// LIF runs r (see LIFRun). If counts is not nil it must hold 2·Steps values,
// and LIF adds the spikes emitted at step t to counts[2t] and the output
// words at step t that are not zero to counts[2t+1].
func (k *Kernels) LIF(r *LIFRun, counts []int64) error {
	if r.C < 0 || r.Pixels < 0 || r.Steps < 0 {
		return fmt.Errorf("bitops: LIF: negative shape C=%d Pixels=%d Steps=%d", r.C, r.Pixels, r.Steps)
	}
	if r.C > maxElems || r.Pixels > maxElems || r.Steps > maxElems || r.C != 0 && r.Pixels > maxElems/r.C {
		return fmt.Errorf("bitops: LIF: shape C=%d Pixels=%d Steps=%d is too large", r.C, r.Pixels, r.Steps)
	}
	if counts != nil && len(counts) < 2*r.Steps {
		return fmt.Errorf("bitops: LIF: counts holds %d values, %d steps need %d", len(counts), r.Steps, 2*r.Steps)
	}
	if r.C == 0 || r.Pixels == 0 || r.Steps == 0 {
		return nil
	}
	pw := (r.C + 63) / 64
	if err := lifSpan("X", len(r.X), r.XPixel, r.XStep, r.Pixels, r.Steps, r.C); err != nil {
		return err
	}
	if r.Gate != nil {
		if err := lifSpan("Gate", len(r.Gate), 0, r.GateStep, 1, r.Steps, r.C); err != nil {
			return err
		}
	}
	if r.Res != nil {
		if err := lifSpan("Res", len(r.Res), r.ResPixel, r.ResStep, r.Pixels, r.Steps, r.C); err != nil {
			return err
		}
	}
	if r.Spk != nil {
		if err := lifSpan("Spk", len(r.Spk), r.SpkPixel, r.SpkStep, r.Pixels, r.Steps, pw); err != nil {
			return err
		}
	}
	if r.State != nil && len(r.State) < r.Pixels*r.C {
		return fmt.Errorf("bitops: LIF: State holds %d values, %d pixels of %d channels need %d", len(r.State), r.Pixels, r.C, r.Pixels*r.C)
	}
	if err := lifSpan("Out", len(r.Out), r.OutPixel, r.OutStep, r.Pixels, r.Steps, pw); err != nil {
		return err
	}
	k.lif(*r, counts)
	return nil
}

// lifSpan checks that the elements at t·step + q·pix + i, for t < steps,
// q < pixels, i < width, lie in a slice of n.
func lifSpan(name string, n, pix, step, pixels, steps, width int) error {
	if pix < 0 || step < 0 {
		return fmt.Errorf("bitops: LIF: negative %s stride (pixel %d, step %d)", name, pix, step)
	}
	if pix > maxElems/pixels || step > maxElems/steps {
		return fmt.Errorf("bitops: LIF: %s strides (pixel %d, step %d) are too large", name, pix, step)
	}
	if need := (steps-1)*step + (pixels-1)*pix + width; n < need {
		return fmt.Errorf("bitops: LIF: %s holds %d elements, %d pixels × %d steps at strides %d, %d need %d", name, n, pixels, steps, pix, step, need)
	}
	return nil
}

// StatSpatial is the per-channel spatial sum of an AGMM gate's statistic:
//
//	sum[c] = Σ_{p < pixels} float64(x[p·stride + c]),   c < len(sum),
//
// accumulated in float64 in pixel order (the reference's order, so every
// set gives the same sums). x holds pixels of stride floats in H,W,C order;
// sum may cover a block of channels of x (pass x from the block's first
// channel).
func (k *Kernels) StatSpatial(sum []float64, x []float32, pixels, stride int) error {
	if pixels < 0 || stride < 0 {
		return fmt.Errorf("bitops: StatSpatial: negative shape pixels=%d stride=%d", pixels, stride)
	}
	if len(sum) == 0 {
		return nil
	}
	if pixels == 0 {
		clear(sum)
		return nil
	}
	if stride > maxElems/pixels {
		return fmt.Errorf("bitops: StatSpatial: shape pixels=%d stride=%d is too large", pixels, stride)
	}
	if need := (pixels-1)*stride + len(sum); len(x) < need {
		return fmt.Errorf("bitops: StatSpatial: x holds %d floats, %d pixels at stride %d of %d channels need %d", len(x), pixels, stride, len(sum), need)
	}
	k.statSpatial(sum, x, pixels, stride)
	return nil
}

// AvgSpikes is an average pool over spikes through a quotient table: for
// the len(off) spike vectors whose words start at src[off[i]], each of
// ⌈len(dst)/64⌉ channel-packed words (channel c at bit c%64 of word c/64),
//
//	dst[c] = table[Σ_i bit c of vector i],   c < len(dst).
//
// The caller's table holds the averages it wants (for a window of n taps,
// table[k] = float32(k/n)); it needs len(off)+1 entries. Offsets may
// repeat; bits past len(dst) are not read.
func (k *Kernels) AvgSpikes(dst []float32, src []uint64, off []int32, table []float32) error {
	if len(table) <= len(off) {
		return fmt.Errorf("bitops: AvgSpikes: table holds %d values, %d vectors need %d", len(table), len(off), len(off)+1)
	}
	if len(dst) == 0 {
		return nil
	}
	if len(dst) > maxElems {
		return fmt.Errorf("bitops: AvgSpikes: %d channels is too many", len(dst))
	}
	pw := (len(dst) + 63) / 64
	for i, o := range off {
		if o < 0 || int(o) > len(src)-pw {
			return fmt.Errorf("bitops: AvgSpikes: vector %d at word %d: its %d words are not within src (%d words)", i, o, pw, len(src))
		}
	}
	k.avgSpikes(dst, src, off, table)
	return nil
}
