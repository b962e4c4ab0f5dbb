//go:build gc && !purego && !noasm

#include "textflag.h"

// AVX-512 kernels (AVX512F + AVX512BW + AVX512_VPOPCNTDQ): VPANDQ/VPXORQ,
// VPOPCNTQ, VPADDQ into 64-bit lane accumulators, so no overflow handling is
// needed. The words%8 tail of a row is loaded with a zeroing K1-masked load,
// which neither reads nor faults on the masked-off qwords. The reduction
// turns eight zmm accumulators into the eight dwords of one ymm with the same
// transposition as the AVX2 kernels. All lengths are checked by the Go
// callers in avx512_amd64.go.
//
// Register use in the GEMM kernels:
//   Z0-Z7  qword accumulators, Z(4*row + weight row of the quad)
//   Z8,Z9  activation vectors, Z10 weight vector, Z11 scratch
//   K1     mask of the words%8 tail

#define P512(OP, S, W, ACC) \
	OP       S, W, Z11; \
	VPOPCNTQ Z11, Z11;  \
	VPADDQ   Z11, ACC, ACC

#define LD512(R) VMOVDQU64 (R)(CX*1), Z10
#define LD512M(R) VMOVDQU64.Z (R)(CX*1), K1, Z10

#define QUAD2_512(OP, LD) \
	LD(R10);                  \
	P512(OP, Z8, Z10, Z0);    \
	P512(OP, Z9, Z10, Z4);    \
	LD(R11);                  \
	P512(OP, Z8, Z10, Z1);    \
	P512(OP, Z9, Z10, Z5);    \
	LD(R12);                  \
	P512(OP, Z8, Z10, Z2);    \
	P512(OP, Z9, Z10, Z6);    \
	LD(R13);                  \
	P512(OP, Z8, Z10, Z3);    \
	P512(OP, Z9, Z10, Z7)

#define QUAD1_512(OP, LD) \
	LD(R10);                  \
	P512(OP, Z8, Z10, Z0);    \
	LD(R11);                  \
	P512(OP, Z8, Z10, Z1);    \
	LD(R12);                  \
	P512(OP, Z8, Z10, Z2);    \
	LD(R13);                  \
	P512(OP, Z8, Z10, Z3)

#define ZERO4_512 \
	VPXORQ Z0, Z0, Z0; \
	VPXORQ Z1, Z1, Z1; \
	VPXORQ Z2, Z2, Z2; \
	VPXORQ Z3, Z3, Z3

#define ZERO8_512 \
	ZERO4_512;         \
	VPXORQ Z4, Z4, Z4; \
	VPXORQ Z5, Z5, Z5; \
	VPXORQ Z6, Z6, Z6; \
	VPXORQ Z7, Z7, Z7

// HALF folds the upper 256 bits of Z into its lower 256 bits.
#define HALF(Z, Y) \
	VEXTRACTI64X4 $1, Z, Y11; \
	VPADDQ        Y11, Y, Y

// PACK512 puts the low dwords of A's and B's qwords into A:
// [a0 b0 a1 b1 | a2 b2 a3 b3]. Only the low 32 bits of each lane matter: the
// results are int32, and two's complement sums wrap the same way.
#define PACK512(A, B) \
	VPSLLQ   $32, B, B; \
	VPBLENDD $0xaa, B, A, A

// SUMS2 reduces Z0-Z7 into Y10 = [s0·w0..s0·w3 | s1·w0..s1·w3] (dwords).
#define SUMS2 \
	HALF(Z0, Y0); HALF(Z1, Y1); HALF(Z2, Y2); HALF(Z3, Y3); \
	HALF(Z4, Y4); HALF(Z5, Y5); HALF(Z6, Y6); HALF(Z7, Y7); \
	PACK512(Y0, Y1);                 \
	PACK512(Y2, Y3);                 \
	PACK512(Y4, Y5);                 \
	PACK512(Y6, Y7);                 \
	VPERM2I128  $0x20, Y4, Y0, Y10;  \
	VPERM2I128  $0x31, Y4, Y0, Y11;  \
	VPADDD      Y11, Y10, Y10;       \
	VPERM2I128  $0x20, Y6, Y2, Y12;  \
	VPERM2I128  $0x31, Y6, Y2, Y13;  \
	VPADDD      Y13, Y12, Y12;       \
	VPUNPCKLQDQ Y12, Y10, Y11;       \
	VPUNPCKHQDQ Y12, Y10, Y13;       \
	VPADDD      Y13, Y11, Y10

// SUMS1 reduces Z0-Z3 into X10 = [s·w0 s·w1 s·w2 s·w3] (dwords).
#define SUMS1 \
	HALF(Z0, Y0); HALF(Z1, Y1); HALF(Z2, Y2); HALF(Z3, Y3); \
	PACK512(Y0, Y1);             \
	PACK512(Y2, Y3);             \
	VEXTRACTI128 $1, Y0, X10;    \
	VPADDD       X10, X0, X10;   \
	VEXTRACTI128 $1, Y2, X12;    \
	VPADDD       X12, X2, X12;   \
	VPUNPCKLQDQ  X12, X10, X11;  \
	VPUNPCKHQDQ  X12, X10, X13;  \
	VPADDD       X13, X11, X10

// Affine maps, with the add vector at 0(SP): AND gives 2·pc + add (add =
// -popcount(s)), XOR gives add - 2·pc (add = nbits).
#define F512_AND(Y, T) \
	VPSLLD $1, Y, Y; \
	VPADDD 0(SP), Y, Y

#define F512_XOR(Y, T) \
	VPSLLD  $1, Y, Y; \
	VMOVDQU 0(SP), T; \
	VPSUBD  Y, T, Y

// SETUP512 builds K1 for a row of R8 words, then turns R8 into the row
// stride in bytes.
#define SETUP512 \
	MOVQ  R8, CX;  \
	ANDQ  $7, CX;  \
	MOVL  $1, AX;  \
	SHLL  CX, AX;  \
	DECL  AX;      \
	KMOVW AX, K1;  \
	SHLQ  $3, R8

// func gemm2x4AndAVX512(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)
//
// 2 activation rows × 4·nq weight rows, AND-popcount.
TEXT ·gemm2x4AndAVX512(SB), NOSPLIT, $32-72
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
	VMOVDQU      Y0, 0(SP)
	SETUP512
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ         BX, R10
	LEAQ         (R10)(R8*1), R11
	LEAQ         (R11)(R8*1), R12
	LEAQ         (R12)(R8*1), R13
	ZERO8_512
	XORQ         CX, CX
	MOVQ         words+24(FP), DX
	SHRQ         $3, DX
	TESTQ        DX, DX
	JZ           tail

inner:
	VMOVDQU64    (SI)(CX*1), Z8
	VMOVDQU64    (DI)(CX*1), Z9
	QUAD2_512(VPANDQ, LD512)
	ADDQ         $64, CX
	DECQ         DX
	JNZ          inner

tail:
	MOVQ         words+24(FP), AX
	ANDQ         $7, AX
	JZ           final
	VMOVDQU64.Z  (SI)(CX*1), K1, Z8
	VMOVDQU64.Z  (DI)(CX*1), K1, Z9
	QUAD2_512(VPANDQ, LD512M)

final:
	SUMS2
	F512_AND(Y10, Y11)
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

// func gemm2x4XorAVX512(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)
//
// 2 activation rows × 4·nq weight rows, XOR-popcount.
TEXT ·gemm2x4XorAVX512(SB), NOSPLIT, $32-72
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
	VMOVDQU      Y0, 0(SP)
	SETUP512
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ         BX, R10
	LEAQ         (R10)(R8*1), R11
	LEAQ         (R11)(R8*1), R12
	LEAQ         (R12)(R8*1), R13
	ZERO8_512
	XORQ         CX, CX
	MOVQ         words+24(FP), DX
	SHRQ         $3, DX
	TESTQ        DX, DX
	JZ           tail

inner:
	VMOVDQU64    (SI)(CX*1), Z8
	VMOVDQU64    (DI)(CX*1), Z9
	QUAD2_512(VPXORQ, LD512)
	ADDQ         $64, CX
	DECQ         DX
	JNZ          inner

tail:
	MOVQ         words+24(FP), AX
	ANDQ         $7, AX
	JZ           final
	VMOVDQU64.Z  (SI)(CX*1), K1, Z8
	VMOVDQU64.Z  (DI)(CX*1), K1, Z9
	QUAD2_512(VPXORQ, LD512M)

final:
	SUMS2
	F512_XOR(Y10, Y11)
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

// func gemm1x4AndAVX512(s, w *uint64, words, nq int, out *int32, add int)
//
// 1 activation row × 4·nq weight rows, AND-popcount.
TEXT ·gemm1x4AndAVX512(SB), NOSPLIT, $16-48
	MOVQ         s+0(FP), SI
	MOVQ         w+8(FP), BX
	MOVQ         words+16(FP), R8
	MOVQ         nq+24(FP), R9
	MOVQ         out+32(FP), R14
	VPBROADCASTD add+40(FP), X0
	VMOVDQU      X0, 0(SP)
	SETUP512
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ         BX, R10
	LEAQ         (R10)(R8*1), R11
	LEAQ         (R11)(R8*1), R12
	LEAQ         (R12)(R8*1), R13
	ZERO4_512
	XORQ         CX, CX
	MOVQ         words+16(FP), DX
	SHRQ         $3, DX
	TESTQ        DX, DX
	JZ           tail

inner:
	VMOVDQU64    (SI)(CX*1), Z8
	QUAD1_512(VPANDQ, LD512)
	ADDQ         $64, CX
	DECQ         DX
	JNZ          inner

tail:
	MOVQ         words+16(FP), AX
	ANDQ         $7, AX
	JZ           final
	VMOVDQU64.Z  (SI)(CX*1), K1, Z8
	QUAD1_512(VPANDQ, LD512M)

final:
	SUMS1
	F512_AND(X10, X11)
	VMOVDQU      X10, (R14)
	ADDQ         $16, R14
	LEAQ         (BX)(R8*4), BX
	DECQ         R9
	JNZ          quad

done:
	VZEROUPPER
	RET

// func gemm1x4XorAVX512(s, w *uint64, words, nq int, out *int32, add int)
//
// 1 activation row × 4·nq weight rows, XOR-popcount.
TEXT ·gemm1x4XorAVX512(SB), NOSPLIT, $16-48
	MOVQ         s+0(FP), SI
	MOVQ         w+8(FP), BX
	MOVQ         words+16(FP), R8
	MOVQ         nq+24(FP), R9
	MOVQ         out+32(FP), R14
	VPBROADCASTD add+40(FP), X0
	VMOVDQU      X0, 0(SP)
	SETUP512
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ         BX, R10
	LEAQ         (R10)(R8*1), R11
	LEAQ         (R11)(R8*1), R12
	LEAQ         (R12)(R8*1), R13
	ZERO4_512
	XORQ         CX, CX
	MOVQ         words+16(FP), DX
	SHRQ         $3, DX
	TESTQ        DX, DX
	JZ           tail

inner:
	VMOVDQU64    (SI)(CX*1), Z8
	QUAD1_512(VPXORQ, LD512)
	ADDQ         $64, CX
	DECQ         DX
	JNZ          inner

tail:
	MOVQ         words+16(FP), AX
	ANDQ         $7, AX
	JZ           final
	VMOVDQU64.Z  (SI)(CX*1), K1, Z8
	QUAD1_512(VPXORQ, LD512M)

final:
	SUMS1
	F512_XOR(X10, X11)
	VMOVDQU      X10, (R14)
	ADDQ         $16, R14
	LEAQ         (BX)(R8*4), BX
	DECQ         R9
	JNZ          quad

done:
	VZEROUPPER
	RET

// func rowBlocksAndAVX512(s, w *uint64, words, nq int, blocks *int32, nb, tail int, out *int32, add int)
//
// The sparse row kernel: GEMM1X4 with AND over the nb full 8-word blocks
// listed in blocks (each < words/8), plus the words%8 tail when tail != 0.
TEXT ·rowBlocksAndAVX512(SB), NOSPLIT, $16-72
	MOVQ         s+0(FP), SI
	MOVQ         w+8(FP), BX
	MOVQ         words+16(FP), R8
	MOVQ         nq+24(FP), R9
	MOVQ         blocks+32(FP), DI
	MOVQ         out+56(FP), R14
	VPBROADCASTD add+64(FP), X0
	VMOVDQU      X0, 0(SP)
	SETUP512
	TESTQ        R9, R9
	JZ           done

quad:
	MOVQ  BX, R10
	LEAQ  (R10)(R8*1), R11
	LEAQ  (R11)(R8*1), R12
	LEAQ  (R12)(R8*1), R13
	ZERO4_512
	XORQ  R15, R15
	MOVQ  nb+40(FP), DX
	TESTQ DX, DX
	JZ    tail

inner:
	MOVLQSX   (DI)(R15*4), CX
	SHLQ      $6, CX
	VMOVDQU64 (SI)(CX*1), Z8
	QUAD1_512(VPANDQ, LD512)
	INCQ      R15
	DECQ      DX
	JNZ       inner

tail:
	MOVQ        tail+48(FP), AX
	TESTQ       AX, AX
	JZ          final
	MOVQ        words+16(FP), CX
	SHRQ        $3, CX
	SHLQ        $6, CX
	VMOVDQU64.Z (SI)(CX*1), K1, Z8
	QUAD1_512(VPANDQ, LD512M)

final:
	SUMS1
	F512_AND(X10, X11)
	VMOVDQU X10, (R14)
	ADDQ    $16, R14
	LEAQ    (BX)(R8*4), BX
	DECQ    R9
	JNZ     quad

done:
	VZEROUPPER
	RET

// func popcntAVX512(p *uint64, nv int) int
TEXT ·popcntAVX512(SB), NOSPLIT, $0-24
	MOVQ   p+0(FP), SI
	MOVQ   nv+8(FP), DX
	VPXORQ Z0, Z0, Z0
	TESTQ  DX, DX
	JZ     sum

loop:
	VPOPCNTQ (SI), Z1
	VPADDQ   Z1, Z0, Z0
	ADDQ     $64, SI
	DECQ     DX
	JNZ      loop

sum:
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDQ        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDQ        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDQ        X1, X0, X0
	VMOVQ         X0, AX
	MOVQ          AX, ret+16(FP)
	VZEROUPPER
	RET

// func peakAVX512(a, b *uint64, nv, reps int) int
//
// The AVX-512 popcount-peak loop: reps passes of VPANDQ + VPOPCNTQ + VPADDQ
// over nv zmm vectors of a and b (nv a multiple of 4), four independent
// accumulators. The caller keeps a and b in L1.
TEXT ·peakAVX512(SB), NOSPLIT, $0-40
	MOVQ   reps+24(FP), R9
	ZERO4_512
	TESTQ  R9, R9
	JZ     sum

rep:
	MOVQ  a+0(FP), SI
	MOVQ  b+8(FP), DI
	MOVQ  nv+16(FP), DX
	SHRQ  $2, DX
	TESTQ DX, DX
	JZ    next

loop:
	VMOVDQU64 (SI), Z8
	VMOVDQU64 (DI), Z10
	P512(VPANDQ, Z8, Z10, Z0)
	VMOVDQU64 64(SI), Z8
	VMOVDQU64 64(DI), Z10
	P512(VPANDQ, Z8, Z10, Z1)
	VMOVDQU64 128(SI), Z8
	VMOVDQU64 128(DI), Z10
	P512(VPANDQ, Z8, Z10, Z2)
	VMOVDQU64 192(SI), Z8
	VMOVDQU64 192(DI), Z10
	P512(VPANDQ, Z8, Z10, Z3)
	ADDQ $256, SI
	ADDQ $256, DI
	DECQ DX
	JNZ  loop

next:
	DECQ R9
	JNZ  rep

sum:
	VPADDQ        Z1, Z0, Z0
	VPADDQ        Z3, Z2, Z2
	VPADDQ        Z2, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDQ        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDQ        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDQ        X1, X0, X0
	VMOVQ         X0, AX
	MOVQ          AX, ret+32(FP)
	VZEROUPPER
	RET
