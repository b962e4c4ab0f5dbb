//go:build gc && !purego && !noasm

#include "textflag.h"

// The AVX2 kernel of AndGemmRowsT and AndConvRowsT: 2 rows × 16 output
// channels per block. AVX2 has no vector popcount, so each 64-bit lane
// (one output channel) counts its AND with the nibble table: VPSHUFB of the
// low and high nibbles, added into byte counters. A byte gains at most 8
// per word, so every 31 words VPSADBW folds the byte counters into qword
// totals kept on the stack frame (8 vectors, 256 bytes). Registers:
//   Y0-Y7   byte counters, Y(4·row + channel quad)
//   Y8      nibble popcount table, Y9 0x0f bytes
//   Y10,Y11 the two rows' current word, broadcast
//   Y12-Y15 scratch
//   R8,R9   row pointers, SI weight pointer, DX byte offset into the rows,
//   AX weight row stride (n·8 bytes), BX/CX word and segment counters,
//   R10 words until the next fold, DI weight block base, R12 blocks left,
//   R13 byte offset of the block's 16 channels in scale, bias and outputs.

DATA lutPopT<>+0(SB)/8, $0x0302020102010100
DATA lutPopT<>+8(SB)/8, $0x0403030203020201
DATA lutPopT<>+16(SB)/8, $0x0302020102010100
DATA lutPopT<>+24(SB)/8, $0x0403030203020201
GLOBL lutPopT<>(SB), RODATA|NOPTR, $32

DATA nib0fT<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0fT<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0fT<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0fT<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL nib0fT<>(SB), RODATA|NOPTR, $32

// NIB adds popcount(A AND weights at D(SI)) to the byte counters ACC.
#define NIB(A, D, ACC) \
	VPAND   D(SI), A, Y12; \
	VPSRLW  $4, Y12, Y13;  \
	VPAND   Y9, Y12, Y12;  \
	VPAND   Y9, Y13, Y13;  \
	VPSHUFB Y12, Y8, Y12;  \
	VPSHUFB Y13, Y8, Y13;  \
	VPADDB  Y12, ACC, ACC; \
	VPADDB  Y13, ACC, ACC

// FOLD adds the byte counters ACC into the qword totals at D(SP) and
// clears them (Y12 must be zero).
#define FOLD(ACC, D) \
	VPSADBW Y12, ACC, Y13; \
	VPADDQ  D(SP), Y13, Y13; \
	VMOVDQU Y13, D(SP);      \
	VPXOR   ACC, ACC, ACC

#define FOLDALL \
	VPXOR Y12, Y12, Y12; \
	FOLD(Y0, 0);         \
	FOLD(Y1, 32);        \
	FOLD(Y2, 64);        \
	FOLD(Y3, 96);        \
	FOLD(Y4, 128);       \
	FOLD(Y5, 160);       \
	FOLD(Y6, 192);       \
	FOLD(Y7, 224)

// NARROW turns the qword totals of 8 channels at D0(SP), D1(SP) into 8
// dwords in Y (T is scratch).
#define NARROW(D0, D1, Y, X, T, XT) \
	VMOVDQU     D0(SP), Y;      \
	VMOVDQU     D1(SP), T;      \
	VPSHUFD     $0x08, Y, Y;    \
	VPERMQ      $0x08, Y, Y;    \
	VPSHUFD     $0x08, T, T;    \
	VPERMQ      $0x08, T, T;    \
	VINSERTI128 $1, XT, Y, Y

// ROWOUT finishes one row: its 16 totals at D0..D3(SP) become
// 2·count − pop (pop the int32 at P(BX)) in Y12 (channels 0-7) and Y14
// (8-15).
#define ROWOUT(D0, D1, D2, D3, P) \
	NARROW(D0, D1, Y12, X12, Y13, X13); \
	NARROW(D2, D3, Y14, X14, Y15, X15); \
	VPADDD       Y12, Y12, Y12;         \
	VPADDD       Y14, Y14, Y14;         \
	VPBROADCASTD P(BX), Y10;            \
	VPSUBD       Y10, Y12, Y12;         \
	VPSUBD       Y10, Y14, Y14

// AFFINE stores one row's 16 results (Y12, Y14) at DX as
// float32(float32(v)·scale) + bias, scale at SI and bias at R11.
#define AFFINE \
	VCVTDQ2PS Y12, Y12;     \
	VCVTDQ2PS Y14, Y14;     \
	VMULPS    (SI), Y12, Y12;   \
	VMULPS    32(SI), Y14, Y14; \
	VADDPS    (R11), Y12, Y12;  \
	VADDPS    32(R11), Y14, Y14; \
	VMOVUPS   Y12, (DX);    \
	VMOVUPS   Y14, 32(DX)

// func rowsT2x16AVX2(src *uint64, off *int32, pop *int32, rows int, segs, segStride, segWords int, wt *uint64, n, nb int, out *unsafe.Pointer, scale, bias *float32, affine int)
//
// Rows off[0..1] (word offsets into src, both valid), output channels
// 0..16·nb−1. Row i (i < rows) goes to out[i]: as int32 counts, or with
// affine ≠ 0 as float32(float32(2·count − pop)·scale[j]) + bias[j] (VMULPS
// then VADDPS: no FMA). segs ≥ 1 and segWords ≥ 1.
TEXT ·rowsT2x16AVX2(SB), NOSPLIT, $256-112
	MOVQ    src+0(FP), SI
	MOVQ    off+8(FP), AX
	MOVLQSX 0(AX), R8
	LEAQ    (SI)(R8*8), R8
	MOVLQSX 4(AX), R9
	LEAQ    (SI)(R9*8), R9
	MOVQ    wt+56(FP), DI
	MOVQ    n+64(FP), AX
	SHLQ    $3, AX
	MOVQ    nb+72(FP), R12
	XORQ    R13, R13
	VMOVDQU lutPopT<>(SB), Y8
	VMOVDQU nib0fT<>(SB), Y9

block:
	VPXOR   Y0, Y0, Y0
	VPXOR   Y1, Y1, Y1
	VPXOR   Y2, Y2, Y2
	VPXOR   Y3, Y3, Y3
	VPXOR   Y4, Y4, Y4
	VPXOR   Y5, Y5, Y5
	VPXOR   Y6, Y6, Y6
	VPXOR   Y7, Y7, Y7
	VPXOR   Y12, Y12, Y12
	VMOVDQU Y12, 0(SP)
	VMOVDQU Y12, 32(SP)
	VMOVDQU Y12, 64(SP)
	VMOVDQU Y12, 96(SP)
	VMOVDQU Y12, 128(SP)
	VMOVDQU Y12, 160(SP)
	VMOVDQU Y12, 192(SP)
	VMOVDQU Y12, 224(SP)
	MOVQ    DI, SI
	XORQ    DX, DX
	MOVQ    $31, R10
	MOVQ    segs+32(FP), CX

seg:
	MOVQ segWords+48(FP), BX

word:
	VPBROADCASTQ (R8)(DX*1), Y10
	VPBROADCASTQ (R9)(DX*1), Y11
	NIB(Y10, 0, Y0)
	NIB(Y10, 32, Y1)
	NIB(Y10, 64, Y2)
	NIB(Y10, 96, Y3)
	NIB(Y11, 0, Y4)
	NIB(Y11, 32, Y5)
	NIB(Y11, 64, Y6)
	NIB(Y11, 96, Y7)
	ADDQ         AX, SI
	ADDQ         $8, DX
	DECQ         R10
	JNZ          counted
	FOLDALL
	MOVQ         $31, R10

counted:
	DECQ BX
	JNZ  word

	// Next segment: skip segStride − segWords words of the map.
	MOVQ segStride+40(FP), BX
	SUBQ segWords+48(FP), BX
	LEAQ (DX)(BX*8), DX
	DECQ CX
	JNZ  seg

	FOLDALL
	MOVQ pop+16(FP), BX
	MOVQ out+80(FP), CX
	MOVQ scale+88(FP), SI
	ADDQ R13, SI
	MOVQ bias+96(FP), R11
	ADDQ R13, R11
	MOVQ affine+104(FP), R10
	ROWOUT(0, 32, 64, 96, 0)
	MOVQ 0(CX), DX
	ADDQ R13, DX
	TESTQ R10, R10
	JZ   int0
	AFFINE
	JMP  row1

int0:
	VMOVDQU Y12, (DX)
	VMOVDQU Y14, 32(DX)

row1:
	MOVQ rows+24(FP), DX
	CMPQ DX, $1
	JEQ  next
	ROWOUT(128, 160, 192, 224, 4)
	MOVQ 8(CX), DX
	ADDQ R13, DX
	TESTQ R10, R10
	JZ   int1
	AFFINE
	JMP  next

int1:
	VMOVDQU Y12, (DX)
	VMOVDQU Y14, 32(DX)

next:
	MOVQ n+64(FP), AX
	SHLQ $3, AX
	ADDQ $128, DI
	ADDQ $64, R13
	DECQ R12
	JNZ  block
	VZEROUPPER
	RET
