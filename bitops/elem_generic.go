package bitops

import (
	"math"
	"math/bits"
)

// Generic twins of the element-wise kernels (elem.go): the reference every
// SIMD set is tested against, and the code that handles what a SIMD routine
// leaves over.

// scaleBiasGeneric is ScaleBias with checked arguments: m rows of
// n = len(scale).
func scaleBiasGeneric(dst []float32, acc []int32, m int, scale, bias []float32) {
	n := len(scale)
	bias = bias[:n]
	for i := 0; i < m; i++ {
		d, a := dst[i*n:(i+1)*n], acc[i*n:(i+1)*n]
		for o, s := range scale {
			d[o] = float32(float32(a[o])*s) + bias[o]
		}
	}
}

// lifGeneric is LIF with checked arguments.
func lifGeneric(r LIFRun, counts []int64) {
	lifChannels(&r, 0)
	lifFinish(&r, counts, false)
}

// lifChannels runs r on the channels c0 ≤ c < C; c0 is a multiple of 16.
// The spike bits of channels below c0 in the first word it writes are kept
// (a SIMD routine wrote them), the bits from c0 on are replaced.
func lifChannels(r *LIFRun, c0 int) {
	C, T := r.C, r.Steps
	pw := (C + 63) / 64
	var mem, z [64]float32
	for q := 0; q < r.Pixels; q++ {
		for j := c0 / 64; j < pw; j++ {
			lo, hi := max(j*64, c0), min(j*64+64, C)
			m := mem[:hi-lo]
			if r.State != nil {
				copy(m, r.State[q*C+lo:q*C+hi])
			} else {
				clear(m)
			}
			zz := z[:len(m)]
			sh := uint(lo % 64)
			for t := 0; t < T; t++ {
				xo := t*r.XStep + q*r.XPixel
				copy(zz, r.X[xo+lo:xo+hi])
				if r.Gate != nil {
					g := r.Gate[t*r.GateStep+lo : t*r.GateStep+hi]
					g = g[:len(zz)]
					for i, v := range zz {
						zz[i] = g[i] * v
					}
				}
				if r.Res != nil {
					ro := t*r.ResStep + q*r.ResPixel
					rs := r.Res[ro+lo : ro+hi]
					rs = rs[:len(zz)]
					for i := range zz {
						zz[i] = zz[i] + rs[i]
					}
				}
				if r.Spk != nil {
					// Adding 1 where the shortcut spiked only; adding +0
					// elsewhere would turn a −0 into +0.
					sw := r.Spk[t*r.SpkStep+q*r.SpkPixel+j] >> sh
					for ; sw != 0; sw &= sw - 1 {
						if i := bits.TrailingZeros64(sw); i < len(zz) {
							zz[i] = zz[i] + 1
						}
					}
				}
				s := lifStep(m, zz, r.Lambda, r.Vth, r.Hard)
				o := &r.Out[t*r.OutStep+q*r.OutPixel+j]
				*o = *o&(1<<sh-1) | s<<sh
			}
			if r.State != nil {
				copy(r.State[q*C+lo:q*C+hi], m)
			}
		}
	}
}

// lifStep runs one LIF step on up to 64 neurons and returns their spikes
// (bit i for neuron i). m holds each neuron's h, the membrane after the
// previous step's reset; lifStep leaves the new h there: u = λ·h + x,
// s = u >= Vth, then h = +0 (hard) or u − Vth (soft) where s, else u. It is
// branch-free: spikes are data, and a branch on them mispredicts at every
// rate worth running.
func lifStep(m, x []float32, lam, vth float32, hard bool) uint64 {
	x = x[:len(m)]
	var ns uint64
	if hard {
		for i, h := range m {
			v := float32(lam*h) + x[i]
			var bit uint64
			if v >= vth {
				bit = 1
			}
			ns |= bit << uint(i)
			m[i] = math.Float32frombits(math.Float32bits(v) &^ (uint32(0) - uint32(bit)))
		}
		return ns
	}
	vb := math.Float32bits(vth)
	for i, h := range m {
		v := float32(lam*h) + x[i]
		var bit uint64
		if v >= vth {
			bit = 1
		}
		ns |= bit << uint(i)
		m[i] = v - math.Float32frombits(vb&(uint32(0)-uint32(bit))) // u − Vth, or u − (+0) = u
	}
	return ns
}

// lifFinish clears the bits past C of every last output word when mask is
// set (a SIMD routine writes whole 16-channel chunks and leaves the chunks
// past C as they were) and adds the per-step counts.
func lifFinish(r *LIFRun, counts []int64, mask bool) {
	pw := (r.C + 63) / 64
	mask = mask && r.C%64 != 0
	if !mask && counts == nil {
		return
	}
	keep := uint64(1)<<uint(r.C%64) - 1
	for t := 0; t < r.Steps; t++ {
		var nnz, nzw int64
		for q := 0; q < r.Pixels; q++ {
			o := t*r.OutStep + q*r.OutPixel
			ws := r.Out[o : o+pw]
			if mask {
				ws[pw-1] &= keep
			}
			for _, w := range ws {
				nnz += int64(bits.OnesCount64(w))
				nzw += int64((w | -w) >> 63)
			}
		}
		if counts != nil {
			counts[2*t] += nnz
			counts[2*t+1] += nzw
		}
	}
}

// statSpatialGeneric is StatSpatial with checked arguments (pixels > 0).
func statSpatialGeneric(sum []float64, x []float32, pixels, stride int) {
	clear(sum)
	for p := 0; p < pixels; p++ {
		v := x[p*stride : p*stride+len(sum)]
		for c, f := range v {
			sum[c] += float64(f)
		}
	}
}

// avgSpikesGeneric is AvgSpikes with checked arguments (len(dst) > 0). It
// counts a word of 64 channels at a time by visiting the set bits, so it
// costs what the spikes cost.
func avgSpikesGeneric(dst []float32, src []uint64, off []int32, table []float32) {
	table = table[:len(off)+1]
	for j := 0; j*64 < len(dst); j++ {
		var cnt [64]int32
		for _, o := range off {
			for v := src[int(o)+j]; v != 0; v &= v - 1 {
				cnt[bits.TrailingZeros64(v)]++
			}
		}
		d := dst[j*64 : min(len(dst), j*64+64)]
		for c := range d {
			d[c] = table[cnt[c]]
		}
	}
}
