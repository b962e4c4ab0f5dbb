//go:build gc && !purego && !noasm

#include "textflag.h"

// Float64 GEMM blocks (f64gemm.go): four patch rows against all n columns
// of the transposed weights, one float64 accumulator per output, summed in
// index order. Lanes are output channels; the reduction is never split.
// FMA is exact here because every product is of two float32 values (exact
// in float64), so fma(a, w, s) rounds the same sum as s + a·w.

// func f64Gemm8AVX512(a0, a1, a2, a3, a4, a5, a6, a7, w *float64, ldw, kk, n int, idx *int32, nidx int, d0, d1, d2, d3, d4, d5, d6, d7 unsafe.Pointer, scale, bias *float32)
//
// 8 rows × 16 columns per panel: Z0–Z15 accumulate (row r, columns 8j..8j+7
// in Z(2r+j)), Z16/Z17 hold the weights of one index, Z18–Z25 the eight
// rows' values broadcast: 16 FMAs per 2 weight loads, so weights streamed
// from L2 cost 8 bytes per FMA. The last panel, when partial, masks its
// loads and stores (K1/K2 per 8 doubles, K3 per 16 floats), so any n works
// and nothing past column n is touched; full panels load unmasked (a masked
// load costs an extra vector uop on some cores). nidx < 0 runs every index
// 0..kk-1; otherwise the nidx indices at idx. scale == nil stores the
// float64 sums to d0..d7; otherwise d = float32(float32(s)·scale) + bias,
// each op rounded to float32.
//
// R8–R15 row pointers, SI panel weights, DX weight row stride in bytes,
// DI panel's first column, CX count, AX index, BX weight row or idx pointer.
TEXT ·f64Gemm8AVX512(SB), NOSPLIT, $0-192
	MOVQ a0+0(FP), R8
	MOVQ a1+8(FP), R9
	MOVQ a2+16(FP), R10
	MOVQ a3+24(FP), R11
	MOVQ a4+32(FP), R12
	MOVQ a5+40(FP), R13
	MOVQ a6+48(FP), R14
	MOVQ a7+56(FP), R15
	MOVQ w+64(FP), SI
	MOVQ ldw+72(FP), DX
	SHLQ $3, DX
	XORQ DI, DI

avx512panel:
	// Column masks of this panel: the low min(n−DI, 16) bits.
	MOVQ n+88(FP), CX
	SUBQ DI, CX
	MOVL $0xffff, AX
	CMPQ CX, $16
	JGE  avx512masks
	MOVL $1, AX
	SHLL CX, AX
	DECL AX

avx512masks:
	KMOVW AX, K3
	KMOVW AX, K1
	SHRL  $8, AX
	KMOVW AX, K2

	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15

	// Partial panel (CX < 16 columns left): the masked loops.
	MOVQ  nidx+104(FP), BX
	CMPQ  CX, $16
	JLT   avx512partial
	TESTQ BX, BX
	JGE   avx512sparse
	JMP   avx512dense

avx512partial:
	TESTQ BX, BX
	JGE   avx512sparsem
	JMP   avx512densem

avx512dense:
	MOVQ kk+80(FP), CX
	SHLQ $3, CX
	MOVQ SI, BX
	XORQ AX, AX

avx512denseloop:
	// Weight rows are n·8 bytes apart, too far for the stride prefetcher
	// when n is wide; fetch 8 rows ahead (prefetches never fault, so
	// running past the last row is harmless).
	PREFETCHT0   (BX)(DX*8)
	PREFETCHT0   64(BX)(DX*8)
	VMOVUPD      (BX), Z16
	VMOVUPD      64(BX), Z17
	VBROADCASTSD (R8)(AX*1), Z18
	VBROADCASTSD (R9)(AX*1), Z19
	VBROADCASTSD (R10)(AX*1), Z20
	VBROADCASTSD (R11)(AX*1), Z21
	VBROADCASTSD (R12)(AX*1), Z22
	VBROADCASTSD (R13)(AX*1), Z23
	VBROADCASTSD (R14)(AX*1), Z24
	VBROADCASTSD (R15)(AX*1), Z25
	VFMADD231PD  Z16, Z18, Z0
	VFMADD231PD  Z17, Z18, Z1
	VFMADD231PD  Z16, Z19, Z2
	VFMADD231PD  Z17, Z19, Z3
	VFMADD231PD  Z16, Z20, Z4
	VFMADD231PD  Z17, Z20, Z5
	VFMADD231PD  Z16, Z21, Z6
	VFMADD231PD  Z17, Z21, Z7
	VFMADD231PD  Z16, Z22, Z8
	VFMADD231PD  Z17, Z22, Z9
	VFMADD231PD  Z16, Z23, Z10
	VFMADD231PD  Z17, Z23, Z11
	VFMADD231PD  Z16, Z24, Z12
	VFMADD231PD  Z17, Z24, Z13
	VFMADD231PD  Z16, Z25, Z14
	VFMADD231PD  Z17, Z25, Z15
	ADDQ         DX, BX
	ADDQ         $8, AX
	CMPQ         AX, CX
	JLT          avx512denseloop
	JMP          avx512store

avx512densem:
	MOVQ kk+80(FP), CX
	SHLQ $3, CX
	MOVQ SI, BX
	XORQ AX, AX

avx512densemloop:
	// Weight rows are n·8 bytes apart, too far for the stride prefetcher
	// when n is wide; fetch 8 rows ahead (prefetches never fault, so
	// running past the last row is harmless).
	PREFETCHT0   (BX)(DX*8)
	PREFETCHT0   64(BX)(DX*8)
	VMOVUPD.Z    (BX), K1, Z16
	VMOVUPD.Z    64(BX), K2, Z17
	VBROADCASTSD (R8)(AX*1), Z18
	VBROADCASTSD (R9)(AX*1), Z19
	VBROADCASTSD (R10)(AX*1), Z20
	VBROADCASTSD (R11)(AX*1), Z21
	VBROADCASTSD (R12)(AX*1), Z22
	VBROADCASTSD (R13)(AX*1), Z23
	VBROADCASTSD (R14)(AX*1), Z24
	VBROADCASTSD (R15)(AX*1), Z25
	VFMADD231PD  Z16, Z18, Z0
	VFMADD231PD  Z17, Z18, Z1
	VFMADD231PD  Z16, Z19, Z2
	VFMADD231PD  Z17, Z19, Z3
	VFMADD231PD  Z16, Z20, Z4
	VFMADD231PD  Z17, Z20, Z5
	VFMADD231PD  Z16, Z21, Z6
	VFMADD231PD  Z17, Z21, Z7
	VFMADD231PD  Z16, Z22, Z8
	VFMADD231PD  Z17, Z22, Z9
	VFMADD231PD  Z16, Z23, Z10
	VFMADD231PD  Z17, Z23, Z11
	VFMADD231PD  Z16, Z24, Z12
	VFMADD231PD  Z17, Z24, Z13
	VFMADD231PD  Z16, Z25, Z14
	VFMADD231PD  Z17, Z25, Z15
	ADDQ         DX, BX
	ADDQ         $8, AX
	CMPQ         AX, CX
	JLT          avx512densemloop
	JMP          avx512store

avx512sparse:
	JZ   avx512store
	MOVQ BX, CX
	MOVQ idx+96(FP), BX

avx512sparseloop:
	MOVLQSX      (BX), AX
	VBROADCASTSD (R8)(AX*8), Z18
	VBROADCASTSD (R9)(AX*8), Z19
	VBROADCASTSD (R10)(AX*8), Z20
	VBROADCASTSD (R11)(AX*8), Z21
	VBROADCASTSD (R12)(AX*8), Z22
	VBROADCASTSD (R13)(AX*8), Z23
	VBROADCASTSD (R14)(AX*8), Z24
	VBROADCASTSD (R15)(AX*8), Z25
	IMULQ        DX, AX
	VMOVUPD      (SI)(AX*1), Z16
	VMOVUPD      64(SI)(AX*1), Z17
	VFMADD231PD  Z16, Z18, Z0
	VFMADD231PD  Z17, Z18, Z1
	VFMADD231PD  Z16, Z19, Z2
	VFMADD231PD  Z17, Z19, Z3
	VFMADD231PD  Z16, Z20, Z4
	VFMADD231PD  Z17, Z20, Z5
	VFMADD231PD  Z16, Z21, Z6
	VFMADD231PD  Z17, Z21, Z7
	VFMADD231PD  Z16, Z22, Z8
	VFMADD231PD  Z17, Z22, Z9
	VFMADD231PD  Z16, Z23, Z10
	VFMADD231PD  Z17, Z23, Z11
	VFMADD231PD  Z16, Z24, Z12
	VFMADD231PD  Z17, Z24, Z13
	VFMADD231PD  Z16, Z25, Z14
	VFMADD231PD  Z17, Z25, Z15
	ADDQ         $4, BX
	DECQ         CX
	JNZ          avx512sparseloop
	JMP          avx512store

avx512sparsem:
	JZ   avx512store
	MOVQ BX, CX
	MOVQ idx+96(FP), BX

avx512sparsemloop:
	MOVLQSX      (BX), AX
	VBROADCASTSD (R8)(AX*8), Z18
	VBROADCASTSD (R9)(AX*8), Z19
	VBROADCASTSD (R10)(AX*8), Z20
	VBROADCASTSD (R11)(AX*8), Z21
	VBROADCASTSD (R12)(AX*8), Z22
	VBROADCASTSD (R13)(AX*8), Z23
	VBROADCASTSD (R14)(AX*8), Z24
	VBROADCASTSD (R15)(AX*8), Z25
	IMULQ        DX, AX
	VMOVUPD.Z    (SI)(AX*1), K1, Z16
	VMOVUPD.Z    64(SI)(AX*1), K2, Z17
	VFMADD231PD  Z16, Z18, Z0
	VFMADD231PD  Z17, Z18, Z1
	VFMADD231PD  Z16, Z19, Z2
	VFMADD231PD  Z17, Z19, Z3
	VFMADD231PD  Z16, Z20, Z4
	VFMADD231PD  Z17, Z20, Z5
	VFMADD231PD  Z16, Z21, Z6
	VFMADD231PD  Z17, Z21, Z7
	VFMADD231PD  Z16, Z22, Z8
	VFMADD231PD  Z17, Z22, Z9
	VFMADD231PD  Z16, Z23, Z10
	VFMADD231PD  Z17, Z23, Z11
	VFMADD231PD  Z16, Z24, Z12
	VFMADD231PD  Z17, Z24, Z13
	VFMADD231PD  Z16, Z25, Z14
	VFMADD231PD  Z17, Z25, Z15
	ADDQ         $4, BX
	DECQ         CX
	JNZ          avx512sparsemloop
	JMP          avx512store

avx512store:
	MOVQ  scale+176(FP), AX
	TESTQ AX, AX
	JNZ   avx512store32
	MOVQ    d0+112(FP), BX
	VMOVUPD Z0, K1, (BX)(DI*8)
	VMOVUPD Z1, K2, 64(BX)(DI*8)
	MOVQ    d1+120(FP), BX
	VMOVUPD Z2, K1, (BX)(DI*8)
	VMOVUPD Z3, K2, 64(BX)(DI*8)
	MOVQ    d2+128(FP), BX
	VMOVUPD Z4, K1, (BX)(DI*8)
	VMOVUPD Z5, K2, 64(BX)(DI*8)
	MOVQ    d3+136(FP), BX
	VMOVUPD Z6, K1, (BX)(DI*8)
	VMOVUPD Z7, K2, 64(BX)(DI*8)
	MOVQ    d4+144(FP), BX
	VMOVUPD Z8, K1, (BX)(DI*8)
	VMOVUPD Z9, K2, 64(BX)(DI*8)
	MOVQ    d5+152(FP), BX
	VMOVUPD Z10, K1, (BX)(DI*8)
	VMOVUPD Z11, K2, 64(BX)(DI*8)
	MOVQ    d6+160(FP), BX
	VMOVUPD Z12, K1, (BX)(DI*8)
	VMOVUPD Z13, K2, 64(BX)(DI*8)
	MOVQ    d7+168(FP), BX
	VMOVUPD Z14, K1, (BX)(DI*8)
	VMOVUPD Z15, K2, 64(BX)(DI*8)
	JMP     avx512next

avx512store32:
	// Z26: scale of the panel's 16 columns, Z27 their bias.
	MOVQ      bias+184(FP), BX
	VMOVUPS.Z (AX)(DI*4), K3, Z26
	VMOVUPS.Z (BX)(DI*4), K3, Z27
	MOVQ         d0+112(FP), BX
	VCVTPD2PS    Z0, Y28
	VCVTPD2PS    Z1, Y29
	VINSERTF64X4 $1, Y29, Z28, Z28
	VMULPS       Z26, Z28, Z28
	VADDPS       Z27, Z28, Z28
	VMOVUPS      Z28, K3, (BX)(DI*4)
	MOVQ         d1+120(FP), BX
	VCVTPD2PS    Z2, Y28
	VCVTPD2PS    Z3, Y29
	VINSERTF64X4 $1, Y29, Z28, Z28
	VMULPS       Z26, Z28, Z28
	VADDPS       Z27, Z28, Z28
	VMOVUPS      Z28, K3, (BX)(DI*4)
	MOVQ         d2+128(FP), BX
	VCVTPD2PS    Z4, Y28
	VCVTPD2PS    Z5, Y29
	VINSERTF64X4 $1, Y29, Z28, Z28
	VMULPS       Z26, Z28, Z28
	VADDPS       Z27, Z28, Z28
	VMOVUPS      Z28, K3, (BX)(DI*4)
	MOVQ         d3+136(FP), BX
	VCVTPD2PS    Z6, Y28
	VCVTPD2PS    Z7, Y29
	VINSERTF64X4 $1, Y29, Z28, Z28
	VMULPS       Z26, Z28, Z28
	VADDPS       Z27, Z28, Z28
	VMOVUPS      Z28, K3, (BX)(DI*4)
	MOVQ         d4+144(FP), BX
	VCVTPD2PS    Z8, Y28
	VCVTPD2PS    Z9, Y29
	VINSERTF64X4 $1, Y29, Z28, Z28
	VMULPS       Z26, Z28, Z28
	VADDPS       Z27, Z28, Z28
	VMOVUPS      Z28, K3, (BX)(DI*4)
	MOVQ         d5+152(FP), BX
	VCVTPD2PS    Z10, Y28
	VCVTPD2PS    Z11, Y29
	VINSERTF64X4 $1, Y29, Z28, Z28
	VMULPS       Z26, Z28, Z28
	VADDPS       Z27, Z28, Z28
	VMOVUPS      Z28, K3, (BX)(DI*4)
	MOVQ         d6+160(FP), BX
	VCVTPD2PS    Z12, Y28
	VCVTPD2PS    Z13, Y29
	VINSERTF64X4 $1, Y29, Z28, Z28
	VMULPS       Z26, Z28, Z28
	VADDPS       Z27, Z28, Z28
	VMOVUPS      Z28, K3, (BX)(DI*4)
	MOVQ         d7+168(FP), BX
	VCVTPD2PS    Z14, Y28
	VCVTPD2PS    Z15, Y29
	VINSERTF64X4 $1, Y29, Z28, Z28
	VMULPS       Z26, Z28, Z28
	VADDPS       Z27, Z28, Z28
	VMOVUPS      Z28, K3, (BX)(DI*4)

avx512next:
	ADDQ $16, DI
	ADDQ $128, SI
	CMPQ DI, n+88(FP)
	JLT  avx512panel
	VZEROUPPER
	RET

// func f64Gemm4AVX2(a0, a1, a2, a3, w *float64, ldw, kk, n int, idx *int32, nidx int, d0, d1, d2, d3 unsafe.Pointer, scale, bias *float32)
//
// 4 rows × 8 columns per panel: Y0–Y7 accumulate (row r, columns 4j..4j+3
// in Y(2r+j)), Y8/Y9 the weights of one index, Y10–Y13 the rows' values
// broadcast. n must be a multiple of 8 (the Go side does the last columns).
// Arguments as for f64Gemm4AVX512.
TEXT ·f64Gemm4AVX2(SB), NOSPLIT, $0-128
	MOVQ a0+0(FP), R8
	MOVQ a1+8(FP), R9
	MOVQ a2+16(FP), R10
	MOVQ a3+24(FP), R11
	MOVQ w+32(FP), SI
	MOVQ ldw+40(FP), DX
	SHLQ $3, DX
	MOVQ n+56(FP), R12
	XORQ DI, DI

avx2panel:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

	MOVQ  nidx+72(FP), CX
	TESTQ CX, CX
	JGE   avx2sparse
	MOVQ  kk+48(FP), CX
	MOVQ  SI, BX
	XORQ  AX, AX

avx2dense:
	VMOVUPD      (BX), Y8
	VMOVUPD      32(BX), Y9
	VBROADCASTSD (R8)(AX*8), Y10
	VBROADCASTSD (R9)(AX*8), Y11
	VBROADCASTSD (R10)(AX*8), Y12
	VBROADCASTSD (R11)(AX*8), Y13
	VFMADD231PD  Y8, Y10, Y0
	VFMADD231PD  Y9, Y10, Y1
	VFMADD231PD  Y8, Y11, Y2
	VFMADD231PD  Y9, Y11, Y3
	VFMADD231PD  Y8, Y12, Y4
	VFMADD231PD  Y9, Y12, Y5
	VFMADD231PD  Y8, Y13, Y6
	VFMADD231PD  Y9, Y13, Y7
	ADDQ         DX, BX
	INCQ         AX
	CMPQ         AX, CX
	JLT          avx2dense
	JMP          avx2store

avx2sparse:
	JZ   avx2store
	MOVQ idx+64(FP), BX

avx2sloop:
	MOVLQSX      (BX), AX
	MOVQ         AX, R13
	IMULQ        DX, R13
	VMOVUPD      (SI)(R13*1), Y8
	VMOVUPD      32(SI)(R13*1), Y9
	VBROADCASTSD (R8)(AX*8), Y10
	VBROADCASTSD (R9)(AX*8), Y11
	VBROADCASTSD (R10)(AX*8), Y12
	VBROADCASTSD (R11)(AX*8), Y13
	VFMADD231PD  Y8, Y10, Y0
	VFMADD231PD  Y9, Y10, Y1
	VFMADD231PD  Y8, Y11, Y2
	VFMADD231PD  Y9, Y11, Y3
	VFMADD231PD  Y8, Y12, Y4
	VFMADD231PD  Y9, Y12, Y5
	VFMADD231PD  Y8, Y13, Y6
	VFMADD231PD  Y9, Y13, Y7
	ADDQ         $4, BX
	DECQ         CX
	JNZ          avx2sloop

avx2store:
	MOVQ  scale+112(FP), AX
	TESTQ AX, AX
	JNZ   avx2store32
	MOVQ    d0+80(FP), BX
	VMOVUPD Y0, (BX)(DI*8)
	VMOVUPD Y1, 32(BX)(DI*8)
	MOVQ    d1+88(FP), BX
	VMOVUPD Y2, (BX)(DI*8)
	VMOVUPD Y3, 32(BX)(DI*8)
	MOVQ    d2+96(FP), BX
	VMOVUPD Y4, (BX)(DI*8)
	VMOVUPD Y5, 32(BX)(DI*8)
	MOVQ    d3+104(FP), BX
	VMOVUPD Y6, (BX)(DI*8)
	VMOVUPD Y7, 32(BX)(DI*8)
	JMP     avx2next

avx2store32:
	// Y14: scale of the 8 columns, Y15 their bias.
	MOVQ    bias+120(FP), BX
	VMOVUPS (AX)(DI*4), Y14
	VMOVUPS (BX)(DI*4), Y15

	MOVQ        d0+80(FP), BX
	VCVTPD2PSY  Y0, X8
	VCVTPD2PSY  Y1, X9
	VINSERTF128 $1, X9, Y8, Y8
	VMULPS      Y14, Y8, Y8
	VADDPS      Y15, Y8, Y8
	VMOVUPS     Y8, (BX)(DI*4)

	MOVQ        d1+88(FP), BX
	VCVTPD2PSY  Y2, X8
	VCVTPD2PSY  Y3, X9
	VINSERTF128 $1, X9, Y8, Y8
	VMULPS      Y14, Y8, Y8
	VADDPS      Y15, Y8, Y8
	VMOVUPS     Y8, (BX)(DI*4)

	MOVQ        d2+96(FP), BX
	VCVTPD2PSY  Y4, X8
	VCVTPD2PSY  Y5, X9
	VINSERTF128 $1, X9, Y8, Y8
	VMULPS      Y14, Y8, Y8
	VADDPS      Y15, Y8, Y8
	VMOVUPS     Y8, (BX)(DI*4)

	MOVQ        d3+104(FP), BX
	VCVTPD2PSY  Y6, X8
	VCVTPD2PSY  Y7, X9
	VINSERTF128 $1, X9, Y8, Y8
	VMULPS      Y14, Y8, Y8
	VADDPS      Y15, Y8, Y8
	VMOVUPS     Y8, (BX)(DI*4)

avx2next:
	ADDQ $8, DI
	ADDQ $64, SI
	CMPQ DI, R12
	JLT  avx2panel
	VZEROUPPER
	RET

// func f64PeakAVX512(reps int) float64
//
// The float64 FMA peak: 16 independent zmm FMA chains, reps × 16 FMAs of 8
// lanes from registers only. Returns one lane so the work is observable.
TEXT ·f64PeakAVX512(SB), NOSPLIT, $0-16
	MOVQ   reps+0(FP), CX
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	TESTQ  CX, CX
	JZ     peak512done

peak512loop:
	VFMADD231PD Z16, Z17, Z0
	VFMADD231PD Z16, Z17, Z1
	VFMADD231PD Z16, Z17, Z2
	VFMADD231PD Z16, Z17, Z3
	VFMADD231PD Z16, Z17, Z4
	VFMADD231PD Z16, Z17, Z5
	VFMADD231PD Z16, Z17, Z6
	VFMADD231PD Z16, Z17, Z7
	VFMADD231PD Z16, Z17, Z8
	VFMADD231PD Z16, Z17, Z9
	VFMADD231PD Z16, Z17, Z10
	VFMADD231PD Z16, Z17, Z11
	VFMADD231PD Z16, Z17, Z12
	VFMADD231PD Z16, Z17, Z13
	VFMADD231PD Z16, Z17, Z14
	VFMADD231PD Z16, Z17, Z15
	DECQ        CX
	JNZ         peak512loop

peak512done:
	VADDPD     Z1, Z0, Z0
	VMOVSD     X0, ret+8(FP)
	VZEROUPPER
	RET

// func f64PeakAVX2(reps int) float64
//
// As f64PeakAVX512 with 12 ymm chains (4 lanes).
TEXT ·f64PeakAVX2(SB), NOSPLIT, $0-16
	MOVQ   reps+0(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VXORPD Y14, Y14, Y14
	VXORPD Y15, Y15, Y15
	TESTQ  CX, CX
	JZ     peak2done

peak2loop:
	VFMADD231PD Y14, Y15, Y0
	VFMADD231PD Y14, Y15, Y1
	VFMADD231PD Y14, Y15, Y2
	VFMADD231PD Y14, Y15, Y3
	VFMADD231PD Y14, Y15, Y4
	VFMADD231PD Y14, Y15, Y5
	VFMADD231PD Y14, Y15, Y6
	VFMADD231PD Y14, Y15, Y7
	VFMADD231PD Y14, Y15, Y8
	VFMADD231PD Y14, Y15, Y9
	VFMADD231PD Y14, Y15, Y10
	VFMADD231PD Y14, Y15, Y11
	DECQ        CX
	JNZ         peak2loop

peak2done:
	VADDPD     Y1, Y0, Y0
	VMOVSD     X0, ret+8(FP)
	VZEROUPPER
	RET
