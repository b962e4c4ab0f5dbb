//go:build gc && !purego && !noasm

#include "textflag.h"

// The AVX-512 kernel of AndGemmRowsT: 4 rows × 32 output channels per
// block. Each of the 16 zmm accumulators holds 8 channels of one row as
// qword counts; per word k of the rows, 4 weight vectors (word k of 32
// consecutive channels, contiguous in the word-major weights) meet each
// row's word k broadcast from memory: 16 VPANDQ + VPOPCNTQ + VPADDQ, and no
// horizontal reduction at the end. Registers:
//   Z0-Z15  accumulators, Z(4·row + channel octet)
//   Z16-Z19 weight vectors, Z20-Z23 scratch
//   R8-R11  row pointers, SI weight pointer, DX byte offset into the rows,
//   AX weight row stride (n·8 bytes), BX/CX word and segment counters,
//   DI weight block base, R12 blocks left, R13 dst block pointer.

#define ROW(R, A0, A1, A2, A3) \
	VPANDQ.BCST (R)(DX*1), Z16, Z20; \
	VPANDQ.BCST (R)(DX*1), Z17, Z21; \
	VPANDQ.BCST (R)(DX*1), Z18, Z22; \
	VPANDQ.BCST (R)(DX*1), Z19, Z23; \
	VPOPCNTQ    Z20, Z20;            \
	VPOPCNTQ    Z21, Z21;            \
	VPOPCNTQ    Z22, Z22;            \
	VPOPCNTQ    Z23, Z23;            \
	VPADDQ      Z20, A0, A0;         \
	VPADDQ      Z21, A1, A1;         \
	VPADDQ      Z22, A2, A2;         \
	VPADDQ      Z23, A3, A3

// STORE writes one row: 2·count − pop, narrowed to int32, 32 channels.
#define STORE(A0, A1, A2, A3, P) \
	VPADDQ      A0, A0, A0;      \
	VPADDQ      A1, A1, A1;      \
	VPADDQ      A2, A2, A2;      \
	VPADDQ      A3, A3, A3;      \
	VPSUBQ.BCST P(BX), A0, A0;   \
	VPSUBQ.BCST P(BX), A1, A1;   \
	VPSUBQ.BCST P(BX), A2, A2;   \
	VPSUBQ.BCST P(BX), A3, A3;   \
	VPMOVQD     A0, (DX);        \
	VPMOVQD     A1, 32(DX);      \
	VPMOVQD     A2, 64(DX);      \
	VPMOVQD     A3, 96(DX)

// func rowsT4x32AVX512(src *uint64, off *int32, pop *int64, rows int, segs, segStride, segWords int, wt *uint64, n, nb int, dst *int32)
//
// Rows off[0..3] (word offsets into src; every one valid, repeated past
// the rows to store), output channels 0..32·nb−1. Stores rows 0..rows−1 of
// dst (row stride n int32). segs ≥ 1 and segWords ≥ 1.
TEXT ·rowsT4x32AVX512(SB), NOSPLIT, $0-88
	MOVQ    src+0(FP), SI
	MOVQ    off+8(FP), AX
	MOVLQSX 0(AX), R8
	LEAQ    (SI)(R8*8), R8
	MOVLQSX 4(AX), R9
	LEAQ    (SI)(R9*8), R9
	MOVLQSX 8(AX), R10
	LEAQ    (SI)(R10*8), R10
	MOVLQSX 12(AX), R11
	LEAQ    (SI)(R11*8), R11
	MOVQ    wt+56(FP), DI
	MOVQ    n+64(FP), AX
	SHLQ    $3, AX
	MOVQ    nb+72(FP), R12
	MOVQ    dst+80(FP), R13

block:
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
	MOVQ   DI, SI
	XORQ   DX, DX
	MOVQ   segs+32(FP), CX

seg:
	MOVQ segWords+48(FP), BX

word:
	VMOVDQU64 (SI), Z16
	VMOVDQU64 64(SI), Z17
	VMOVDQU64 128(SI), Z18
	VMOVDQU64 192(SI), Z19
	ROW(R8, Z0, Z1, Z2, Z3)
	ROW(R9, Z4, Z5, Z6, Z7)
	ROW(R10, Z8, Z9, Z10, Z11)
	ROW(R11, Z12, Z13, Z14, Z15)
	ADDQ      AX, SI
	ADDQ      $8, DX
	DECQ      BX
	JNZ       word

	// Next segment: skip segStride − segWords words of the map.
	MOVQ segStride+40(FP), BX
	SUBQ segWords+48(FP), BX
	LEAQ (DX)(BX*8), DX
	DECQ CX
	JNZ  seg

	MOVQ  pop+16(FP), BX
	MOVQ  n+64(FP), CX
	SHLQ  $2, CX
	MOVQ  R13, DX
	MOVQ  rows+24(FP), SI
	STORE(Z0, Z1, Z2, Z3, 0)
	DECQ  SI
	JZ    next
	ADDQ  CX, DX
	STORE(Z4, Z5, Z6, Z7, 8)
	DECQ  SI
	JZ    next
	ADDQ  CX, DX
	STORE(Z8, Z9, Z10, Z11, 16)
	DECQ  SI
	JZ    next
	ADDQ  CX, DX
	STORE(Z12, Z13, Z14, Z15, 24)

next:
	ADDQ $256, DI
	ADDQ $128, R13
	DECQ R12
	JNZ  block
	VZEROUPPER
	RET


// AFFINE writes one row of 32 floats at DX: the four qword accumulators
// narrowed to two vectors of 16 dwords, 2·count − pop (the row's int32
// count at byte P of BX), converted exactly to float32 (|value| < 2²⁴),
// times scale (Z24, Z25), plus bias (Z26, Z27).
#define AFFINE(A0, A1, A2, A3, P) \
	VPMOVQD       A0, Y20;           \
	VPMOVQD       A1, Y21;           \
	VINSERTI64X4  $1, Y21, Z20, Z20; \
	VPMOVQD       A2, Y22;           \
	VPMOVQD       A3, Y23;           \
	VINSERTI64X4  $1, Y23, Z22, Z22; \
	VPADDD        Z20, Z20, Z20;     \
	VPADDD        Z22, Z22, Z22;     \
	VPSUBD.BCST   P(BX), Z20, Z20;   \
	VPSUBD.BCST   P(BX), Z22, Z22;   \
	VCVTDQ2PS     Z20, Z20;          \
	VCVTDQ2PS     Z22, Z22;          \
	VMULPS        Z24, Z20, Z20;     \
	VMULPS        Z25, Z22, Z22;     \
	VADDPS        Z26, Z20, Z20;     \
	VADDPS        Z27, Z22, Z22;     \
	VMOVUPS       Z20, (DX);         \
	VMOVUPS       Z22, 64(DX)

// func rowsT4x32AffineAVX512(src *uint64, off *int32, pop *int32, rows int, segs, segStride, segWords int, wt *uint64, n, nb int, out **float32, scale, bias *float32)
//
// As rowsT4x32AVX512, but row i's 32·nb results go through the conv's
// affine, float32(float32(2·count − pop)·scale[j]) + bias[j] (VMULPS then
// VADDPS: no FMA), and are stored as float32 at out[i] (a pointer per row).
// pop holds int32 counts here.
TEXT ·rowsT4x32AffineAVX512(SB), NOSPLIT, $0-104
	MOVQ    src+0(FP), SI
	MOVQ    off+8(FP), AX
	MOVLQSX 0(AX), R8
	LEAQ    (SI)(R8*8), R8
	MOVLQSX 4(AX), R9
	LEAQ    (SI)(R9*8), R9
	MOVLQSX 8(AX), R10
	LEAQ    (SI)(R10*8), R10
	MOVLQSX 12(AX), R11
	LEAQ    (SI)(R11*8), R11
	MOVQ    wt+56(FP), DI
	MOVQ    n+64(FP), AX
	SHLQ    $3, AX
	MOVQ    nb+72(FP), R12
	XORQ    R13, R13

block:
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
	MOVQ   DI, SI
	XORQ   DX, DX
	MOVQ   segs+32(FP), CX

seg:
	MOVQ segWords+48(FP), BX

word:
	VMOVDQU64 (SI), Z16
	VMOVDQU64 64(SI), Z17
	VMOVDQU64 128(SI), Z18
	VMOVDQU64 192(SI), Z19
	ROW(R8, Z0, Z1, Z2, Z3)
	ROW(R9, Z4, Z5, Z6, Z7)
	ROW(R10, Z8, Z9, Z10, Z11)
	ROW(R11, Z12, Z13, Z14, Z15)
	ADDQ      AX, SI
	ADDQ      $8, DX
	DECQ      BX
	JNZ       word

	// Next segment: skip segStride − segWords words of the map.
	MOVQ segStride+40(FP), BX
	SUBQ segWords+48(FP), BX
	LEAQ (DX)(BX*8), DX
	DECQ CX
	JNZ  seg

	MOVQ  pop+16(FP), BX
	MOVQ  out+80(FP), CX
	MOVQ  scale+88(FP), DX
	ADDQ  R13, DX
	VMOVUPS (DX), Z24
	VMOVUPS 64(DX), Z25
	MOVQ  bias+96(FP), DX
	ADDQ  R13, DX
	VMOVUPS (DX), Z26
	VMOVUPS 64(DX), Z27
	MOVQ  rows+24(FP), SI
	MOVQ  0(CX), DX
	ADDQ  R13, DX
	AFFINE(Z0, Z1, Z2, Z3, 0)
	DECQ  SI
	JZ    next
	MOVQ  8(CX), DX
	ADDQ  R13, DX
	AFFINE(Z4, Z5, Z6, Z7, 4)
	DECQ  SI
	JZ    next
	MOVQ  16(CX), DX
	ADDQ  R13, DX
	AFFINE(Z8, Z9, Z10, Z11, 8)
	DECQ  SI
	JZ    next
	MOVQ  24(CX), DX
	ADDQ  R13, DX
	AFFINE(Z12, Z13, Z14, Z15, 12)

next:
	ADDQ $256, DI
	ADDQ $128, R13
	DECQ R12
	JNZ  block
	VZEROUPPER
	RET
