//go:build (amd64 || arm64) && gc && !purego && !noasm

package bitops

import "unsafe"

// elemSet is one SIMD set's element-wise kernels (elem.go), wrapped for
// the Kernels fields: each function takes the checked arguments of its
// field and is equivalent to the generic twin.
type elemSet struct {
	scaleBias   func(dst []float32, acc []int32, m int, scale, bias []float32)
	lif         func(r LIFRun, counts []int64)
	statSpatial func(sum []float64, x []float32, pixels, stride int)
	avgSpikes   func(dst []float32, src []uint64, off []int32, table []float32)
}

// statSpatialAsm runs f on the first nblk·bw channels of sum, bw channels
// per block, and the generic code on the rest.
func statSpatialAsm(f func(sum *float64, x *float32, pixels, stride, nblk int), bw int, sum []float64, x []float32, pixels, stride int) {
	nblk := len(sum) / bw
	if nblk > 0 {
		n := nblk * bw
		if raceEnabled {
			for p := 0; p < pixels; p++ {
				raceRead(x[p*stride : p*stride+n])
			}
			raceWrite(sum[:n])
		}
		f(&sum[0], &x[0], pixels, stride, nblk)
	}
	if n := nblk * bw; n < len(sum) {
		statSpatialGeneric(sum[n:], x[n:], pixels, stride)
	}
}

// lifFrame is what an assembly LIF routine reads (through go_asm.h's field
// offsets): the base pointers of the first pixel, strides in bytes (0 for
// an absent input, so its nil pointer stays nil as the routine advances
// it), and the blocks of 16 channels to run. The routine advances the
// pixel pointers in place.
type lifFrame struct {
	x, g, r, s, h, out                           unsafe.Pointer
	xPix, xStep, gStep, rPix, rStep, sPix, sStep int
	hPix, oPix, oStep                            int
	npix, steps                                  int
	nblk                                         int            // 16-channel blocks, the last one possibly partial
	tailN                                        int            // channels in the last block, 1..16
	hard                                         int            // 1: hard reset
	qblk                                         int            // AVX-512: blocks in whole words of C channels, run unmasked
	lastK                                        uint64         // AVX-512: lane mask of the last output word (bits below C)
	cnt                                          unsafe.Pointer // AVX-512: nil, or the counts to add to
	lam, vth                                     float32
}

// lifFrameOf returns the frame for the first nblk·16 channels of r, at
// most C, with the race annotations of what the routine will touch.
func lifFrameOf(r *LIFRun, nblk int) lifFrame {
	cn := min(nblk*16, r.C)
	raceLIF(r, cn)
	f := lifFrame{
		x: unsafe.Pointer(&r.X[0]), xPix: 4 * r.XPixel, xStep: 4 * r.XStep,
		out: unsafe.Pointer(&r.Out[0]), oPix: 8 * r.OutPixel, oStep: 8 * r.OutStep,
		npix: r.Pixels, steps: r.Steps, nblk: nblk,
		tailN: cn - (nblk-1)*16, lam: r.Lambda, vth: r.Vth,
	}
	f.lastK = ^uint64(0)
	if cn%64 != 0 {
		f.lastK = 1<<uint(cn%64) - 1
	}
	if r.Hard {
		f.hard = 1
	}
	if r.Gate != nil {
		f.g, f.gStep = unsafe.Pointer(&r.Gate[0]), 4*r.GateStep
	}
	if r.Res != nil {
		f.r, f.rPix, f.rStep = unsafe.Pointer(&r.Res[0]), 4*r.ResPixel, 4*r.ResStep
	}
	if r.Spk != nil {
		f.s, f.sPix, f.sStep = unsafe.Pointer(&r.Spk[0]), 8*r.SpkPixel, 8*r.SpkStep
	}
	if r.State != nil {
		f.h, f.hPix = unsafe.Pointer(&r.State[0]), 4*r.C
	}
	return f
}
