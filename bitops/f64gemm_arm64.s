//go:build gc && !purego && !noasm

#include "textflag.h"

// Float64 GEMM block (f64gemm.go): four patch rows against n columns of the
// transposed weights, one float64 accumulator per output, summed in index
// order; lanes are output channels, the reduction is never split. VFMLA is
// exact here because every product is of two float32 values (exact in
// float64), so fma(a, w, s) rounds the same sum as s + a·w.

// func f64Gemm4NEON(a0, a1, a2, a3, w *float64, ldw, kk, n int, idx *int32, nidx int, d0, d1, d2, d3 unsafe.Pointer, scale, bias *float32)
//
// 4 rows × 8 columns per panel: V0–V15 accumulate (row r, columns 2j, 2j+1
// in V(4r+j)), V16–V19 hold the weights of one index, V20–V23 the rows'
// values replicated. n must be a multiple of 8. nidx < 0 runs every index
// 0..kk-1, otherwise the nidx indices at idx. The float64 sums go to d0..d3;
// scale and bias are not used (Go's assembler lacks the float32 narrowing
// and vector multiply, so the Go side applies the epilogue).
//
// R0–R3 row bases, R4 panel weights, R5 weight row stride in bytes, R6 kk,
// R7 columns left, R8/R9 idx and nidx, R10–R13 output pointers,
// R14 count, R15 weight pointer, R16/R17/R19/R20 row pointers (dense),
// R21 idx pointer, R22 index, R23/R24 addresses.
TEXT ·f64Gemm4NEON(SB), NOSPLIT, $0-128
	MOVD a0+0(FP), R0
	MOVD a1+8(FP), R1
	MOVD a2+16(FP), R2
	MOVD a3+24(FP), R3
	MOVD w+32(FP), R4
	MOVD ldw+40(FP), R5
	LSL  $3, R5, R5
	MOVD kk+48(FP), R6
	MOVD n+56(FP), R7
	MOVD idx+64(FP), R8
	MOVD nidx+72(FP), R9
	MOVD d0+80(FP), R10
	MOVD d1+88(FP), R11
	MOVD d2+96(FP), R12
	MOVD d3+104(FP), R13

neonpanel:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	CMP  $0, R9
	BGE  neonsparse
	MOVD R6, R14
	MOVD R4, R15
	MOVD R0, R16
	MOVD R1, R17
	MOVD R2, R19
	MOVD R3, R20

neondense:
	VLD1.P  (R15)(R5), [V16.D2, V17.D2, V18.D2, V19.D2]
	VLD1R.P 8(R16), [V20.D2]
	VLD1R.P 8(R17), [V21.D2]
	VLD1R.P 8(R19), [V22.D2]
	VLD1R.P 8(R20), [V23.D2]
	VFMLA V16.D2, V20.D2, V0.D2
	VFMLA V17.D2, V20.D2, V1.D2
	VFMLA V18.D2, V20.D2, V2.D2
	VFMLA V19.D2, V20.D2, V3.D2
	VFMLA V16.D2, V21.D2, V4.D2
	VFMLA V17.D2, V21.D2, V5.D2
	VFMLA V18.D2, V21.D2, V6.D2
	VFMLA V19.D2, V21.D2, V7.D2
	VFMLA V16.D2, V22.D2, V8.D2
	VFMLA V17.D2, V22.D2, V9.D2
	VFMLA V18.D2, V22.D2, V10.D2
	VFMLA V19.D2, V22.D2, V11.D2
	VFMLA V16.D2, V23.D2, V12.D2
	VFMLA V17.D2, V23.D2, V13.D2
	VFMLA V18.D2, V23.D2, V14.D2
	VFMLA V19.D2, V23.D2, V15.D2
	SUBS $1, R14, R14
	BNE  neondense
	B    neonstore

neonsparse:
	CBZ  R9, neonstore
	MOVD R9, R14
	MOVD R8, R21

neonsloop:
	MOVW.P 4(R21), R22
	MUL    R5, R22, R23
	ADD    R4, R23, R23
	VLD1   (R23), [V16.D2, V17.D2, V18.D2, V19.D2]
	ADD    R22<<3, R0, R24
	VLD1R  (R24), [V20.D2]
	ADD    R22<<3, R1, R24
	VLD1R  (R24), [V21.D2]
	ADD    R22<<3, R2, R24
	VLD1R  (R24), [V22.D2]
	ADD    R22<<3, R3, R24
	VLD1R  (R24), [V23.D2]
	VFMLA V16.D2, V20.D2, V0.D2
	VFMLA V17.D2, V20.D2, V1.D2
	VFMLA V18.D2, V20.D2, V2.D2
	VFMLA V19.D2, V20.D2, V3.D2
	VFMLA V16.D2, V21.D2, V4.D2
	VFMLA V17.D2, V21.D2, V5.D2
	VFMLA V18.D2, V21.D2, V6.D2
	VFMLA V19.D2, V21.D2, V7.D2
	VFMLA V16.D2, V22.D2, V8.D2
	VFMLA V17.D2, V22.D2, V9.D2
	VFMLA V18.D2, V22.D2, V10.D2
	VFMLA V19.D2, V22.D2, V11.D2
	VFMLA V16.D2, V23.D2, V12.D2
	VFMLA V17.D2, V23.D2, V13.D2
	VFMLA V18.D2, V23.D2, V14.D2
	VFMLA V19.D2, V23.D2, V15.D2
	SUBS $1, R14, R14
	BNE  neonsloop

neonstore:
	VST1.P [V0.D2, V1.D2, V2.D2, V3.D2], 64(R10)
	VST1.P [V4.D2, V5.D2, V6.D2, V7.D2], 64(R11)
	VST1.P [V8.D2, V9.D2, V10.D2, V11.D2], 64(R12)
	VST1.P [V12.D2, V13.D2, V14.D2, V15.D2], 64(R13)
	ADD    $64, R4
	SUBS   $8, R7, R7
	BNE    neonpanel
	RET
