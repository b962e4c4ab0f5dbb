//go:build gc && !purego && !noasm

#include "textflag.h"

// AVX2 kernels. Popcount is the nibble lookup: split each byte into its two
// nibbles, VPSHUFB both through a 16-entry popcount table, and add the bytes
// into byte accumulators. A byte accumulator gains at most 8 per 256-bit
// vector, so it is folded into 32-bit sums (VPSADBW, then a transposition
// that turns four accumulators into four dwords) after at most 31 vectors.
//
// Register use in the GEMM kernels:
//   Y0-Y7  byte accumulators, Y(4*row + weight row of the quad)
//   Y8     nibble popcount table, Y9 0x0f bytes
//   Y10,Y11 activation vectors, Y12 weight vector, Y13,Y14 scratch
//   Y15    mask of the partial last vector (words%4 qwords)
// Row tails (words%4) use VPMASKMOVQ, which neither reads nor faults on the
// masked-off qwords, so no kernel touches memory past its rows. All lengths
// are checked by the Go callers in avx2_amd64.go.

DATA lutPop<>+0(SB)/8, $0x0302020102010100
DATA lutPop<>+8(SB)/8, $0x0403030203020201
DATA lutPop<>+16(SB)/8, $0x0302020102010100
DATA lutPop<>+24(SB)/8, $0x0403030203020201
GLOBL lutPop<>(SB), RODATA|NOPTR, $32

DATA nib0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0f<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0f<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL nib0f<>(SB), RODATA|NOPTR, $32

// tailMask+8*(3-t) is the VPMASKMOVQ mask selecting the first t qwords.
DATA tailMask<>+0(SB)/8, $-1
DATA tailMask<>+8(SB)/8, $-1
DATA tailMask<>+16(SB)/8, $-1
DATA tailMask<>+24(SB)/8, $0
DATA tailMask<>+32(SB)/8, $0
DATA tailMask<>+40(SB)/8, $0
GLOBL tailMask<>(SB), RODATA|NOPTR, $48

// PAIR adds popcount(S OP W) bytewise into ACC.
#define PAIR(OP, S, W, ACC) \
	OP      S, W, Y13;    \
	VPSRLW  $4, Y13, Y14; \
	VPAND   Y9, Y13, Y13; \
	VPAND   Y9, Y14, Y14; \
	VPSHUFB Y13, Y8, Y13; \
	VPSHUFB Y14, Y8, Y14; \
	VPADDB  Y13, ACC, ACC; \
	VPADDB  Y14, ACC, ACC

// QUAD2 runs PAIR for activation vectors Y10, Y11 against the four weight
// rows R10-R13 at byte offset CX; LD is LDFULL or LDMASK.
#define QUAD2(OP, LD) \
	LD(R10);                 \
	PAIR(OP, Y10, Y12, Y0);  \
	PAIR(OP, Y11, Y12, Y4);  \
	LD(R11);                 \
	PAIR(OP, Y10, Y12, Y1);  \
	PAIR(OP, Y11, Y12, Y5);  \
	LD(R12);                 \
	PAIR(OP, Y10, Y12, Y2);  \
	PAIR(OP, Y11, Y12, Y6);  \
	LD(R13);                 \
	PAIR(OP, Y10, Y12, Y3);  \
	PAIR(OP, Y11, Y12, Y7)

#define QUAD1(OP, LD) \
	LD(R10);                 \
	PAIR(OP, Y10, Y12, Y0);  \
	LD(R11);                 \
	PAIR(OP, Y10, Y12, Y1);  \
	LD(R12);                 \
	PAIR(OP, Y10, Y12, Y2);  \
	LD(R13);                 \
	PAIR(OP, Y10, Y12, Y3)

#define LDFULL(R) VMOVDQU (R)(CX*1), Y12
#define LDMASK(R) VPMASKMOVQ (R)(CX*1), Y15, Y12

// ZERO8/ZERO4 clear the byte accumulators.
#define ZERO4 \
	VPXOR Y0, Y0, Y0; \
	VPXOR Y1, Y1, Y1; \
	VPXOR Y2, Y2, Y2; \
	VPXOR Y3, Y3, Y3

#define ZERO8 \
	ZERO4;            \
	VPXOR Y4, Y4, Y4; \
	VPXOR Y5, Y5, Y5; \
	VPXOR Y6, Y6, Y6; \
	VPXOR Y7, Y7, Y7

// PACK folds the four qword sums of A and B (after VPSADBW, each < 2^32)
// into A as dwords [a0 b0 a1 b1 | a2 b2 a3 b3].
#define PACK(A, B) \
	VPSLLQ   $32, B, B; \
	VPBLENDD $0xaa, B, A, A

// FLUSH2 adds the popcounts in Y0-Y7 to the dword sums at 0(SP):
// [s0·w0 s0·w1 s0·w2 s0·w3 | s1·w0 s1·w1 s1·w2 s1·w3].
#define FLUSH2 \
	VPXOR       Y12, Y12, Y12; \
	VPSADBW     Y12, Y0, Y0;   \
	VPSADBW     Y12, Y1, Y1;   \
	VPSADBW     Y12, Y2, Y2;   \
	VPSADBW     Y12, Y3, Y3;   \
	VPSADBW     Y12, Y4, Y4;   \
	VPSADBW     Y12, Y5, Y5;   \
	VPSADBW     Y12, Y6, Y6;   \
	VPSADBW     Y12, Y7, Y7;   \
	PACK(Y0, Y1);              \
	PACK(Y2, Y3);              \
	PACK(Y4, Y5);              \
	PACK(Y6, Y7);              \
	VPERM2I128  $0x20, Y4, Y0, Y10; \
	VPERM2I128  $0x31, Y4, Y0, Y11; \
	VPADDD      Y11, Y10, Y10; \
	VPERM2I128  $0x20, Y6, Y2, Y12; \
	VPERM2I128  $0x31, Y6, Y2, Y13; \
	VPADDD      Y13, Y12, Y12; \
	VPUNPCKLQDQ Y12, Y10, Y11; \
	VPUNPCKHQDQ Y12, Y10, Y13; \
	VPADDD      Y13, Y11, Y11; \
	VPADDD      0(SP), Y11, Y11; \
	VMOVDQU     Y11, 0(SP)

// FLUSH1 adds the popcounts in Y0-Y3 to the dword sums at 0(SP).
#define FLUSH1 \
	VPXOR        Y12, Y12, Y12; \
	VPSADBW      Y12, Y0, Y0;   \
	VPSADBW      Y12, Y1, Y1;   \
	VPSADBW      Y12, Y2, Y2;   \
	VPSADBW      Y12, Y3, Y3;   \
	PACK(Y0, Y1);               \
	PACK(Y2, Y3);               \
	VEXTRACTI128 $1, Y0, X10;   \
	VPADDD       X10, X0, X10;  \
	VEXTRACTI128 $1, Y2, X12;   \
	VPADDD       X12, X2, X12;  \
	VPUNPCKLQDQ  X12, X10, X11; \
	VPUNPCKHQDQ  X12, X10, X13; \
	VPADDD       X13, X11, X11; \
	VPADDD       0(SP), X11, X11; \
	VMOVDQU      X11, 0(SP)

// Final affine maps: AND gives 2·pc + add (add = -popcount(s)), XOR gives
// add - 2·pc (add = nbits).
#define FINAL_AND(Y, T) \
	VPSLLD $1, Y, Y; \
	VPADDD 32(SP), Y, Y

#define FINAL_XOR(Y, T) \
	VPSLLD  $1, Y, Y;  \
	VMOVDQU 32(SP), T; \
	VPSUBD  Y, T, Y

#define FINAL1_AND(X, T) \
	VPSLLD $1, X, X; \
	VPADDD 16(SP), X, X

#define FINAL1_XOR(X, T) \
	VPSLLD  $1, X, X;  \
	VMOVDQU 16(SP), T; \
	VPSUBD  X, T, X

// COMMON_SETUP loads the constant registers and the tail mask for a row of
// WORDS words (in R8), then turns R8 into the row stride in bytes.
#define COMMON_SETUP \
	VMOVDQU lutPop<>(SB), Y8;      \
	VMOVDQU nib0f<>(SB), Y9;       \
	MOVQ    R8, AX;                \
	ANDQ    $3, AX;                \
	SHLQ    $3, AX;                \
	LEAQ    tailMask<>+24(SB), DX; \
	SUBQ    AX, DX;                \
	VMOVDQU (DX), Y15;             \
	SHLQ    $3, R8

// GEMM2X4 computes a 2-row × (4·nq)-column block:
// GEMM1X4 computes a 1-row × (4·nq)-column block:

// func gemm2x4AndAVX2(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)
//
// 2 activation rows × 4·nq weight rows, AND-popcount.
TEXT ·gemm2x4AndAVX2(SB), NOSPLIT, $64-72
	MOVQ         s0+0(FP), SI
	MOVQ         s1+8(FP), DI
	MOVQ         w+16(FP), BX
	MOVQ         words+24(FP), R8
	MOVQ         nq+32(FP), R9
	MOVQ         out0+40(FP), R14
	MOVQ         out1+48(FP), R15
	VPBROADCASTD add0+56(FP), X0
	VPBROADCASTD add1+64(FP), X1
	VINSERTI128  $1, X1, Y0, Y0
	VMOVDQU      Y0, 32(SP)
	COMMON_SETUP
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ         BX, R10
	LEAQ         (R10)(R8*1), R11
	LEAQ         (R11)(R8*1), R12
	LEAQ         (R12)(R8*1), R13
	VPXOR        Y0, Y0, Y0
	VMOVDQU      Y0, 0(SP)
	XORQ         CX, CX
	MOVQ         words+24(FP), DX
	SHRQ         $2, DX

chunk:
	ZERO8
	MOVQ         DX, AX
	CMPQ         AX, $30
	JLE          sized
	MOVQ         $30, AX

sized:
	SUBQ         AX, DX
	TESTQ        AX, AX
	JZ           chunkdone

inner:
	VMOVDQU      (SI)(CX*1), Y10
	VMOVDQU      (DI)(CX*1), Y11
	QUAD2(VPAND, LDFULL)
	ADDQ         $32, CX
	DECQ         AX
	JNZ          inner

chunkdone:
	TESTQ        DX, DX
	JZ           lastchunk
	FLUSH2
	JMP          chunk

lastchunk:
	MOVQ         words+24(FP), AX
	ANDQ         $3, AX
	JZ           final
	VPMASKMOVQ   (SI)(CX*1), Y15, Y10
	VPMASKMOVQ   (DI)(CX*1), Y15, Y11
	QUAD2(VPAND, LDMASK)

final:
	FLUSH2
	VMOVDQU      0(SP), Y10
	FINAL_AND(Y10, Y11)
	VMOVDQU      X10, (R14)
	VEXTRACTI128 $1, Y10, X11
	VMOVDQU      X11, (R15)
	ADDQ         $16, R14
	ADDQ         $16, R15
	LEAQ         (BX)(R8*4), BX
	DECQ         R9
	JNZ          quad

done:
	VZEROUPPER
	RET

// func gemm2x4XorAVX2(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)
//
// 2 activation rows × 4·nq weight rows, XOR-popcount.
TEXT ·gemm2x4XorAVX2(SB), NOSPLIT, $64-72
	MOVQ         s0+0(FP), SI
	MOVQ         s1+8(FP), DI
	MOVQ         w+16(FP), BX
	MOVQ         words+24(FP), R8
	MOVQ         nq+32(FP), R9
	MOVQ         out0+40(FP), R14
	MOVQ         out1+48(FP), R15
	VPBROADCASTD add0+56(FP), X0
	VPBROADCASTD add1+64(FP), X1
	VINSERTI128  $1, X1, Y0, Y0
	VMOVDQU      Y0, 32(SP)
	COMMON_SETUP
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ         BX, R10
	LEAQ         (R10)(R8*1), R11
	LEAQ         (R11)(R8*1), R12
	LEAQ         (R12)(R8*1), R13
	VPXOR        Y0, Y0, Y0
	VMOVDQU      Y0, 0(SP)
	XORQ         CX, CX
	MOVQ         words+24(FP), DX
	SHRQ         $2, DX

chunk:
	ZERO8
	MOVQ         DX, AX
	CMPQ         AX, $30
	JLE          sized
	MOVQ         $30, AX

sized:
	SUBQ         AX, DX
	TESTQ        AX, AX
	JZ           chunkdone

inner:
	VMOVDQU      (SI)(CX*1), Y10
	VMOVDQU      (DI)(CX*1), Y11
	QUAD2(VPXOR, LDFULL)
	ADDQ         $32, CX
	DECQ         AX
	JNZ          inner

chunkdone:
	TESTQ        DX, DX
	JZ           lastchunk
	FLUSH2
	JMP          chunk

lastchunk:
	MOVQ         words+24(FP), AX
	ANDQ         $3, AX
	JZ           final
	VPMASKMOVQ   (SI)(CX*1), Y15, Y10
	VPMASKMOVQ   (DI)(CX*1), Y15, Y11
	QUAD2(VPXOR, LDMASK)

final:
	FLUSH2
	VMOVDQU      0(SP), Y10
	FINAL_XOR(Y10, Y11)
	VMOVDQU      X10, (R14)
	VEXTRACTI128 $1, Y10, X11
	VMOVDQU      X11, (R15)
	ADDQ         $16, R14
	ADDQ         $16, R15
	LEAQ         (BX)(R8*4), BX
	DECQ         R9
	JNZ          quad

done:
	VZEROUPPER
	RET

// func gemm1x4AndAVX2(s, w *uint64, words, nq int, out *int32, add int)
//
// 1 activation row × 4·nq weight rows, AND-popcount.
TEXT ·gemm1x4AndAVX2(SB), NOSPLIT, $32-48
	MOVQ         s+0(FP), SI
	MOVQ         w+8(FP), BX
	MOVQ         words+16(FP), R8
	MOVQ         nq+24(FP), R9
	MOVQ         out+32(FP), R14
	VPBROADCASTD add+40(FP), X0
	VMOVDQU      X0, 16(SP)
	COMMON_SETUP
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ         BX, R10
	LEAQ         (R10)(R8*1), R11
	LEAQ         (R11)(R8*1), R12
	LEAQ         (R12)(R8*1), R13
	VPXOR        X0, X0, X0
	VMOVDQU      X0, 0(SP)
	XORQ         CX, CX
	MOVQ         words+16(FP), DX
	SHRQ         $2, DX

chunk:
	ZERO4
	MOVQ         DX, AX
	CMPQ         AX, $30
	JLE          sized
	MOVQ         $30, AX

sized:
	SUBQ         AX, DX
	TESTQ        AX, AX
	JZ           chunkdone

inner:
	VMOVDQU      (SI)(CX*1), Y10
	QUAD1(VPAND, LDFULL)
	ADDQ         $32, CX
	DECQ         AX
	JNZ          inner

chunkdone:
	TESTQ        DX, DX
	JZ           lastchunk
	FLUSH1
	JMP          chunk

lastchunk:
	MOVQ         words+16(FP), AX
	ANDQ         $3, AX
	JZ           final
	VPMASKMOVQ   (SI)(CX*1), Y15, Y10
	QUAD1(VPAND, LDMASK)

final:
	FLUSH1
	VMOVDQU      0(SP), X10
	FINAL1_AND(X10, X11)
	VMOVDQU      X10, (R14)
	ADDQ         $16, R14
	LEAQ         (BX)(R8*4), BX
	DECQ         R9
	JNZ          quad

done:
	VZEROUPPER
	RET

// func gemm1x4XorAVX2(s, w *uint64, words, nq int, out *int32, add int)
//
// 1 activation row × 4·nq weight rows, XOR-popcount.
TEXT ·gemm1x4XorAVX2(SB), NOSPLIT, $32-48
	MOVQ         s+0(FP), SI
	MOVQ         w+8(FP), BX
	MOVQ         words+16(FP), R8
	MOVQ         nq+24(FP), R9
	MOVQ         out+32(FP), R14
	VPBROADCASTD add+40(FP), X0
	VMOVDQU      X0, 16(SP)
	COMMON_SETUP
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ         BX, R10
	LEAQ         (R10)(R8*1), R11
	LEAQ         (R11)(R8*1), R12
	LEAQ         (R12)(R8*1), R13
	VPXOR        X0, X0, X0
	VMOVDQU      X0, 0(SP)
	XORQ         CX, CX
	MOVQ         words+16(FP), DX
	SHRQ         $2, DX

chunk:
	ZERO4
	MOVQ         DX, AX
	CMPQ         AX, $30
	JLE          sized
	MOVQ         $30, AX

sized:
	SUBQ         AX, DX
	TESTQ        AX, AX
	JZ           chunkdone

inner:
	VMOVDQU      (SI)(CX*1), Y10
	QUAD1(VPXOR, LDFULL)
	ADDQ         $32, CX
	DECQ         AX
	JNZ          inner

chunkdone:
	TESTQ        DX, DX
	JZ           lastchunk
	FLUSH1
	JMP          chunk

lastchunk:
	MOVQ         words+16(FP), AX
	ANDQ         $3, AX
	JZ           final
	VPMASKMOVQ   (SI)(CX*1), Y15, Y10
	QUAD1(VPXOR, LDMASK)

final:
	FLUSH1
	VMOVDQU      0(SP), X10
	FINAL1_XOR(X10, X11)
	VMOVDQU      X10, (R14)
	ADDQ         $16, R14
	LEAQ         (BX)(R8*4), BX
	DECQ         R9
	JNZ          quad

done:
	VZEROUPPER
	RET

// func rowBlocksAndAVX2(s, w *uint64, words, nq int, blocks *int32, nb, tail int, out *int32, add int)
//
// The sparse row kernel: like GEMM1X4 with AND, but the full vectors it
// visits are the nb indices in blocks (each < words/4), and the partial last
// vector is visited only when tail is non-zero.
TEXT ·rowBlocksAndAVX2(SB), NOSPLIT, $32-72
	MOVQ         s+0(FP), SI
	MOVQ         w+8(FP), BX
	MOVQ         words+16(FP), R8
	MOVQ         nq+24(FP), R9
	MOVQ         blocks+32(FP), DI
	MOVQ         out+56(FP), R14
	VPBROADCASTD add+64(FP), X0
	VMOVDQU      X0, 16(SP)
	COMMON_SETUP
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ    BX, R10
	LEAQ    (R10)(R8*1), R11
	LEAQ    (R11)(R8*1), R12
	LEAQ    (R12)(R8*1), R13
	VPXOR   X0, X0, X0
	VMOVDQU X0, 0(SP)
	XORQ    R15, R15            // index into blocks
	MOVQ    nb+40(FP), DX       // blocks left

chunk:
	ZERO4
	MOVQ    DX, AX
	CMPQ    AX, $30
	JLE     sized
	MOVQ    $30, AX

sized:
	SUBQ    AX, DX
	TESTQ   AX, AX
	JZ      chunkdone

inner:
	MOVLQSX (DI)(R15*4), CX
	SHLQ    $5, CX
	VMOVDQU (SI)(CX*1), Y10
	QUAD1(VPAND, LDFULL)
	INCQ    R15
	DECQ    AX
	JNZ     inner

chunkdone:
	TESTQ   DX, DX
	JZ      lastchunk
	FLUSH1
	JMP     chunk

lastchunk:
	MOVQ       tail+48(FP), AX
	TESTQ      AX, AX
	JZ         final
	MOVQ       words+16(FP), CX
	SHRQ       $2, CX
	SHLQ       $5, CX
	VPMASKMOVQ (SI)(CX*1), Y15, Y10
	QUAD1(VPAND, LDMASK)

final:
	FLUSH1
	VMOVDQU 0(SP), X10
	FINAL1_AND(X10, X11)
	VMOVDQU X10, (R14)
	ADDQ    $16, R14
	LEAQ    (BX)(R8*4), BX
	DECQ    R9
	JNZ     quad

done:
	VZEROUPPER
	RET

// POPV adds the popcount of the qwords in Y10 to the qword sums in ACC.
#define POPV(ACC) \
	VPSRLW  $4, Y10, Y14;  \
	VPAND   Y9, Y10, Y13;  \
	VPAND   Y9, Y14, Y14;  \
	VPSHUFB Y13, Y8, Y13;  \
	VPSHUFB Y14, Y8, Y14;  \
	VPADDB  Y13, Y14, Y13; \
	VPSADBW Y12, Y13, Y13; \
	VPADDQ  Y13, ACC, ACC

// func popcntAVX2(p *uint64, nv int) int
// Counts the set bits of nv full 256-bit vectors.
TEXT ·popcntAVX2(SB), NOSPLIT, $0-24
	MOVQ    p+0(FP), SI
	MOVQ    nv+8(FP), DX
	VMOVDQU lutPop<>(SB), Y8
	VMOVDQU nib0f<>(SB), Y9
	VPXOR   Y12, Y12, Y12
	VPXOR   Y0, Y0, Y0
	TESTQ   DX, DX
	JZ      sum

loop:
	VMOVDQU (SI), Y10
	POPV(Y0)
	ADDQ    $32, SI
	DECQ    DX
	JNZ     loop

sum:
	VEXTRACTI128 $1, Y0, X1
	VPADDQ       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	MOVQ         AX, ret+16(FP)
	VZEROUPPER
	RET

// func peakAVX2(a, b *uint64, iters int) int
//
// The AVX2 compute peak: the 2×4 kernel's inner loop with its operands held
// in registers (two vectors of a in Y10, Y11, four of b in Y4-Y7) and no
// loads, iters passes of eight AND + nibble-lookup popcounts. Each byte
// accumulator gains at most 16 per pass, so they are folded (VPSADBW) into
// the qword sums in Y12 every 15 passes, as the kernel folds every 30
// vectors. Returns the total count.
TEXT ·peakAVX2(SB), NOSPLIT, $0-32
	MOVQ    a+0(FP), SI
	MOVQ    b+8(FP), DI
	MOVQ    iters+16(FP), DX
	VMOVDQU lutPop<>(SB), Y8
	VMOVDQU nib0f<>(SB), Y9
	VMOVDQU (SI), Y10
	VMOVDQU 32(SI), Y11
	VMOVDQU (DI), Y4
	VMOVDQU 32(DI), Y5
	VMOVDQU 64(DI), Y6
	VMOVDQU 96(DI), Y7
	VPXOR   Y12, Y12, Y12
	VPXOR   Y15, Y15, Y15

chunk:
	TESTQ DX, DX
	JZ    sum
	MOVQ  DX, AX
	CMPQ  AX, $15
	JLE   sized
	MOVQ  $15, AX

sized:
	SUBQ AX, DX
	ZERO4

loop:
	PAIR(VPAND, Y10, Y4, Y0)
	PAIR(VPAND, Y10, Y5, Y1)
	PAIR(VPAND, Y10, Y6, Y2)
	PAIR(VPAND, Y10, Y7, Y3)
	PAIR(VPAND, Y11, Y4, Y0)
	PAIR(VPAND, Y11, Y5, Y1)
	PAIR(VPAND, Y11, Y6, Y2)
	PAIR(VPAND, Y11, Y7, Y3)
	DECQ AX
	JNZ  loop

	VPSADBW Y15, Y0, Y0
	VPSADBW Y15, Y1, Y1
	VPSADBW Y15, Y2, Y2
	VPSADBW Y15, Y3, Y3
	VPADDQ  Y0, Y1, Y0
	VPADDQ  Y2, Y3, Y2
	VPADDQ  Y0, Y12, Y12
	VPADDQ  Y2, Y12, Y12
	JMP     chunk

sum:
	VEXTRACTI128 $1, Y12, X1
	VPADDQ       X1, X12, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	MOVQ         AX, ret+24(FP)
	VZEROUPPER
	RET

// func peakPOPCNT(a, b *uint64, nw, reps int) int
//
// The scalar popcount-peak loop: AND + POPCNTQ over nw words (a multiple of
// 4) with four independent counters, for comparison with the vector peak.
TEXT ·peakPOPCNT(SB), NOSPLIT, $0-40
	MOVQ reps+24(FP), R9
	XORQ R10, R10
	XORQ R11, R11
	XORQ R12, R12
	XORQ R13, R13
	TESTQ R9, R9
	JZ    sum

rep:
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ nw+16(FP), DX
	SHRQ $2, DX
	TESTQ DX, DX
	JZ    next

loop:
	MOVQ    (SI), AX
	ANDQ    (DI), AX
	POPCNTQ AX, AX
	ADDQ    AX, R10
	MOVQ    8(SI), BX
	ANDQ    8(DI), BX
	POPCNTQ BX, BX
	ADDQ    BX, R11
	MOVQ    16(SI), CX
	ANDQ    16(DI), CX
	POPCNTQ CX, CX
	ADDQ    CX, R12
	MOVQ    24(SI), R8
	ANDQ    24(DI), R8
	POPCNTQ R8, R8
	ADDQ    R8, R13
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    DX
	JNZ     loop

next:
	DECQ R9
	JNZ  rep

sum:
	ADDQ R11, R10
	ADDQ R13, R12
	ADDQ R12, R10
	MOVQ R10, ret+32(FP)
	RET

// Event-driven scatter (see events.go): bit-sliced counters in Y0-Y7 (plane
// p of 256 outputs in Y(p)), columns added sixteen at a time through a
// Harley–Seal carry-save tree, the rest one at a time by ripple-carry.

// LDC loads the 256-bit group of the column whose index is at OFF(DI).
#define LDC(OFF, Y) \
	MOVLQSX OFF(DI), AX;  \
	IMULQ   R8, AX;       \
	VMOVDQU (SI)(AX*1), Y

// CSA: (H, L) = (carry, sum) of L + B + C, per bit; Y14 is scratch.
#define CSA(H, L, B, C) \
	VPXOR L, B, Y14;   \
	VPAND L, B, H;     \
	VPXOR Y14, C, L;   \
	VPAND Y14, C, Y14; \
	VPOR  Y14, H, H

// HALF2 adds columns OFF and OFF+4 into ones (Y0), carry into H.
#define HALF2(OFF, H) \
	LDC(OFF, Y12);   \
	LDC(OFF+4, Y13); \
	CSA(H, Y0, Y12, Y13)

// func eventsAVX2(cols *uint64, colBytes int, idx *int32, nspk int, planes *uint64, planeBytes int)
//
// Sets the 8 planes of one 256-output group to the counts of the nspk
// (≤ 255) columns listed in idx. cols and planes point at the group's first
// word in column 0 and plane 0; colBytes and planeBytes are the distances
// from one column or plane to the next.
TEXT ·eventsAVX2(SB), NOSPLIT, $0-48
	MOVQ  cols+0(FP), SI
	MOVQ  colBytes+8(FP), R8
	MOVQ  idx+16(FP), DI
	MOVQ  nspk+24(FP), DX
	MOVQ  planes+32(FP), R14
	MOVQ  planeBytes+40(FP), R9
	ZERO8
	MOVQ  DX, CX
	SHRQ  $4, CX
	JZ    rest

group:
	HALF2(0, Y8)            // twosA
	HALF2(8, Y9)            // twosB
	CSA(Y10, Y1, Y8, Y9)    // foursA
	HALF2(16, Y8)
	HALF2(24, Y9)
	CSA(Y15, Y1, Y8, Y9)    // foursB
	CSA(Y11, Y2, Y10, Y15)  // eightsA
	HALF2(32, Y8)
	HALF2(40, Y9)
	CSA(Y10, Y1, Y8, Y9)
	HALF2(48, Y8)
	HALF2(56, Y9)
	CSA(Y15, Y1, Y8, Y9)
	CSA(Y12, Y2, Y10, Y15)  // eightsB
	CSA(Y13, Y3, Y11, Y12)  // sixteens
	VPAND Y4, Y13, Y14      // ripple the sixteens into planes 4-7
	VPXOR Y13, Y4, Y4
	VPAND Y5, Y14, Y13
	VPXOR Y14, Y5, Y5
	VPAND Y6, Y13, Y14
	VPXOR Y13, Y6, Y6
	VPXOR Y14, Y7, Y7       // ≤ 255 columns: no carry out of plane 7
	ADDQ  $64, DI
	DECQ  CX
	JNZ   group

rest:
	ANDQ $15, DX
	JZ   store

one:
	LDC(0, Y12)
	VPAND Y0, Y12, Y14
	VPXOR Y12, Y0, Y0
	VPAND Y1, Y14, Y12
	VPXOR Y14, Y1, Y1
	VPAND Y2, Y12, Y14
	VPXOR Y12, Y2, Y2
	VPAND Y3, Y14, Y12
	VPXOR Y14, Y3, Y3
	VPAND Y4, Y12, Y14
	VPXOR Y12, Y4, Y4
	VPAND Y5, Y14, Y12
	VPXOR Y14, Y5, Y5
	VPAND Y6, Y12, Y14
	VPXOR Y12, Y6, Y6
	VPXOR Y14, Y7, Y7
	ADDQ  $4, DI
	DECQ  DX
	JNZ   one

store:
	VMOVDQU Y0, (R14)
	ADDQ    R9, R14
	VMOVDQU Y1, (R14)
	ADDQ    R9, R14
	VMOVDQU Y2, (R14)
	ADDQ    R9, R14
	VMOVDQU Y3, (R14)
	ADDQ    R9, R14
	VMOVDQU Y4, (R14)
	ADDQ    R9, R14
	VMOVDQU Y5, (R14)
	ADDQ    R9, R14
	VMOVDQU Y6, (R14)
	ADDQ    R9, R14
	VMOVDQU Y7, (R14)
	VZEROUPPER
	RET
