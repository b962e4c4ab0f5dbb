//go:build (amd64 || arm64) && gc && !purego && !noasm

package bitops

import "unsafe"

// f64AsmArgs are the arguments of every set's float64 GEMM block kernel
// (f64gemm_amd64.s, f64gemm_arm64.s): rows a[…] against columns [0, n) of
// w (row stride ldw), every index when nidx < 0, else the nidx indices at
// idx; float64 sums to d[…] when scale is nil, scaled float32 outputs
// otherwise. The wrappers call the assembly directly with them: a call
// through a func value would make every pointer escape, and the NEON tile
// lives on the stack.
type f64AsmArgs struct {
	a           [F64BlockRows]*float64
	w           *float64
	ldw, kk, n  int
	idx         *int32
	nidx        int
	d           [F64BlockRows]unsafe.Pointer
	scale, bias *float32
}

// f64AsmPrep makes the kernel arguments for columns [0, nc) of one block
// (nc ≥ 1), with the race annotations the assembly cannot make itself. The
// 4-row kernels take rows 0–3 from a[0:4] and rows 4–7 from a[4:8].
func f64AsmPrep(nc int, b *f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32) f64AsmArgs {
	p := f64AsmArgs{w: &wT[0], ldw: n, kk: kk, n: nc, nidx: -1}
	for j := range b.a {
		raceRead(b.a[j][:kk])
		p.a[j] = &b.a[j][0]
	}
	raceRead(wT[:(kk-1)*n+nc])
	if idx != nil {
		raceRead(idx)
		p.nidx, p.idx = len(idx), unsafe.SliceData(idx)
	}
	if b.out[0] != nil {
		for j := range p.d {
			raceWrite(b.out[j][:nc])
			p.d[j] = unsafe.Pointer(&b.out[j][0])
		}
		raceRead(scale[:nc])
		raceRead(bias[:nc])
		p.scale, p.bias = &scale[0], &bias[0]
	} else {
		for j := range p.d {
			raceWrite(b.acc[j][:nc])
			p.d[j] = unsafe.Pointer(&b.acc[j][0])
		}
	}
	return p
}
