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

// The 4×4 kernel: four activation rows against four weight rows per pass,
// sixteen zmm accumulators, so each K step loads 4 + 4 vectors for 16
// AND + VPOPCNTQ + VPADDQ triples (the 2×4 kernel loads 2 + 4 for 8).
//
// Register use:
//   Z0-Z15  qword accumulators, Z(4*row + weight row of the quad)
//   Z16-Z19 activation vectors, Z20-Z23 weight vectors, Z24-Z27 scratch
//   Z28     the add vector [add0 ×4 | add1 ×4 | add2 ×4 | add3 ×4] (dwords)
//   Z29-Z31 reduction permutations, K2-K4 reduction blend masks
//   K1      mask of the words%8 tail

#define MAC(A, W, T, ACC) \
	VPANDQ   W, A, T; \
	VPOPCNTQ T, T;    \
	VPADDQ   T, ACC, ACC

// MAC4X4 adds popcount(Z(16+r) AND Z(20+j)) into Z(4r+j) for r, j < 4.
#define MAC4X4 \
	MAC(Z16, Z20, Z24, Z0);  MAC(Z16, Z21, Z24, Z1);  MAC(Z16, Z22, Z24, Z2);  MAC(Z16, Z23, Z24, Z3);  \
	MAC(Z17, Z20, Z25, Z4);  MAC(Z17, Z21, Z25, Z5);  MAC(Z17, Z22, Z25, Z6);  MAC(Z17, Z23, Z25, Z7);  \
	MAC(Z18, Z20, Z26, Z8);  MAC(Z18, Z21, Z26, Z9);  MAC(Z18, Z22, Z26, Z10); MAC(Z18, Z23, Z26, Z11); \
	MAC(Z19, Z20, Z27, Z12); MAC(Z19, Z21, Z27, Z13); MAC(Z19, Z22, Z27, Z14); MAC(Z19, Z23, Z27, Z15)

// LOAD4X4 loads the vectors at byte offset CX of the activation rows SI,
// DI, R14, R15 and the weight rows R10-R13; LOAD4X4M loads the K1 tail.
#define LOAD4X4 \
	VMOVDQU64 (SI)(CX*1), Z16;  \
	VMOVDQU64 (DI)(CX*1), Z17;  \
	VMOVDQU64 (R14)(CX*1), Z18; \
	VMOVDQU64 (R15)(CX*1), Z19; \
	VMOVDQU64 (R10)(CX*1), Z20; \
	VMOVDQU64 (R11)(CX*1), Z21; \
	VMOVDQU64 (R12)(CX*1), Z22; \
	VMOVDQU64 (R13)(CX*1), Z23

#define LOAD4X4M \
	VMOVDQU64.Z (SI)(CX*1), K1, Z16;  \
	VMOVDQU64.Z (DI)(CX*1), K1, Z17;  \
	VMOVDQU64.Z (R14)(CX*1), K1, Z18; \
	VMOVDQU64.Z (R15)(CX*1), K1, Z19; \
	VMOVDQU64.Z (R10)(CX*1), K1, Z20; \
	VMOVDQU64.Z (R11)(CX*1), K1, Z21; \
	VMOVDQU64.Z (R12)(CX*1), K1, Z22; \
	VMOVDQU64.Z (R13)(CX*1), K1, Z23

#define ZERO16_512 \
	ZERO8_512;           \
	VPXORQ Z8, Z8, Z8;    \
	VPXORQ Z9, Z9, Z9;    \
	VPXORQ Z10, Z10, Z10; \
	VPXORQ Z11, Z11, Z11; \
	VPXORQ Z12, Z12, Z12; \
	VPXORQ Z13, Z13, Z13; \
	VPXORQ Z14, Z14, Z14; \
	VPXORQ Z15, Z15, Z15

// The reduction tree of the 4×4 kernel. COMB(A, B, K, IDX) turns A and B
// into one vector holding the pair sums of both: with chunks of g qwords
// (g = 1, 2, 4 at the three levels), even chunk 2c of the result is
// A[2c] + A[2c+1] and odd chunk 2c+1 is B[2c] + B[2c+1]. K (mask of the odd
// chunks) blends A's even and B's odd chunks, one VPERMT2Q (IDX) fetches the
// partners, and one add sums them: a single port-5 shuffle per pair, where
// unpack/shuffle pairs need two, and port 5 also runs every VPOPCNTQ.
#define COMB(A, B, K, IDX) \
	VPBLENDMQ B, A, K, Z24; \
	VPERMT2Q  B, IDX, A;    \
	VPADDQ    Z24, A, A

// permT2 indices (qword 0-7 = A, 8-15 = B) of the partners: level 1
// [A1 B0 A3 B2 ...], level 2 [A2 A3 B0 B1 ...], level 3 [A4-A7 B0-B3].
DATA comb1<>+0(SB)/8, $1
DATA comb1<>+8(SB)/8, $8
DATA comb1<>+16(SB)/8, $3
DATA comb1<>+24(SB)/8, $10
DATA comb1<>+32(SB)/8, $5
DATA comb1<>+40(SB)/8, $12
DATA comb1<>+48(SB)/8, $7
DATA comb1<>+56(SB)/8, $14
GLOBL comb1<>(SB), RODATA|NOPTR, $64

DATA comb2<>+0(SB)/8, $2
DATA comb2<>+8(SB)/8, $3
DATA comb2<>+16(SB)/8, $8
DATA comb2<>+24(SB)/8, $9
DATA comb2<>+32(SB)/8, $6
DATA comb2<>+40(SB)/8, $7
DATA comb2<>+48(SB)/8, $12
DATA comb2<>+56(SB)/8, $13
GLOBL comb2<>(SB), RODATA|NOPTR, $64

DATA comb3<>+0(SB)/8, $4
DATA comb3<>+8(SB)/8, $5
DATA comb3<>+16(SB)/8, $6
DATA comb3<>+24(SB)/8, $7
DATA comb3<>+32(SB)/8, $8
DATA comb3<>+40(SB)/8, $9
DATA comb3<>+48(SB)/8, $10
DATA comb3<>+56(SB)/8, $11
GLOBL comb3<>(SB), RODATA|NOPTR, $64

// evenDwords selects the low dwords of the 16 qwords of two vectors.
DATA evenDwords<>+0(SB)/8, $0x0000000200000000
DATA evenDwords<>+8(SB)/8, $0x0000000600000004
DATA evenDwords<>+16(SB)/8, $0x0000000a00000008
DATA evenDwords<>+24(SB)/8, $0x0000000e0000000c
DATA evenDwords<>+32(SB)/8, $0x0000001200000010
DATA evenDwords<>+40(SB)/8, $0x0000001600000014
DATA evenDwords<>+48(SB)/8, $0x0000001a00000018
DATA evenDwords<>+56(SB)/8, $0x0000001e0000001c
GLOBL evenDwords<>(SB), RODATA|NOPTR, $64

// SUMS16 reduces the sixteen accumulators to Z0 = their sums as dwords, in
// accumulator order. After level 1 (pairs 0-1, 2-3, ...) qword q of Z0 holds
// a partial sum of accumulator q%2, after level 2 of q%4, and level 3
// leaves the full sums of accumulators 0-7 in Z0 and 8-15 in Z8 (qwords,
// each < 2^32); one VPERMT2D packs their low dwords.
#define SUMS16 \
	COMB(Z0, Z1, K2, Z29);   COMB(Z2, Z3, K2, Z29);   COMB(Z4, Z5, K2, Z29);   COMB(Z6, Z7, K2, Z29);   \
	COMB(Z8, Z9, K2, Z29);   COMB(Z10, Z11, K2, Z29); COMB(Z12, Z13, K2, Z29); COMB(Z14, Z15, K2, Z29); \
	COMB(Z0, Z2, K3, Z30);   COMB(Z4, Z6, K3, Z30);   COMB(Z8, Z10, K3, Z30);  COMB(Z12, Z14, K3, Z30); \
	COMB(Z0, Z4, K4, Z31);   COMB(Z8, Z12, K4, Z31);  \
	VMOVDQU64 evenDwords<>(SB), Z26; \
	VPERMT2D  Z8, Z26, Z0

// func gemm4x4AndAVX512(s0, s1, s2, s3, w *uint64, words, nq int, out *int32, n int, add *int32)
//
// out[r*n + j] = 2·popcount(s_r AND w_j) + add[r] for rows r < 4 and weight
// rows j < 4·nq (w_j at w + j·words words).
TEXT ·gemm4x4AndAVX512(SB), NOSPLIT, $0-80
	MOVQ          s0+0(FP), SI
	MOVQ          s1+8(FP), DI
	MOVQ          s2+16(FP), R14
	MOVQ          s3+24(FP), R15
	MOVQ          w+32(FP), BX
	MOVQ          words+40(FP), R8
	MOVQ          nq+48(FP), R9
	MOVQ          add+72(FP), DX
	VPBROADCASTD  (DX), X28
	VPBROADCASTD  4(DX), X29
	VPBROADCASTD  8(DX), X30
	VPBROADCASTD  12(DX), X31
	VINSERTI32X4  $1, X29, Z28, Z28
	VINSERTI32X4  $2, X30, Z28, Z28
	VINSERTI32X4  $3, X31, Z28, Z28
	VMOVDQU64     comb1<>(SB), Z29
	VMOVDQU64     comb2<>(SB), Z30
	VMOVDQU64     comb3<>(SB), Z31
	MOVL          $0xaa, CX
	KMOVW         CX, K2
	MOVL          $0xcc, CX
	KMOVW         CX, K3
	MOVL          $0xf0, CX
	KMOVW         CX, K4
	SETUP512
	MOVQ          out+56(FP), AX
	TESTQ         R9, R9
	JZ            done

quad:
	MOVQ          BX, R10
	LEAQ          (R10)(R8*1), R11
	LEAQ          (R11)(R8*1), R12
	LEAQ          (R12)(R8*1), R13
	ZERO16_512
	XORQ          CX, CX
	MOVQ          words+40(FP), DX
	SHRQ          $3, DX
	JZ            tail

inner:
	LOAD4X4
	MAC4X4
	ADDQ          $64, CX
	DECQ          DX
	JNZ           inner

tail:
	MOVQ          words+40(FP), DX
	ANDQ          $7, DX
	JZ            final
	LOAD4X4M
	MAC4X4

final:
	SUMS16
	VPSLLD        $1, Z0, Z0
	VPADDD        Z28, Z0, Z0
	MOVQ          n+64(FP), DX
	SHLQ          $2, DX
	LEAQ          (AX)(DX*2), R10
	VMOVDQU       X0, (AX)
	VEXTRACTI32X4 $1, Z0, (AX)(DX*1)
	VEXTRACTI32X4 $2, Z0, (R10)
	VEXTRACTI32X4 $3, Z0, (R10)(DX*1)
	ADDQ          $16, AX
	LEAQ          (BX)(R8*4), BX
	DECQ          R9
	JNZ           quad

done:
	VZEROUPPER
	RET

// The 8×16 kernel vectorises across activation rows instead of along the
// row: lane l of every vector is row l of an 8-row block, whose rows the
// caller has transposed (at[8k+l] = word k of row l). Each K step loads the
// eight rows' word k once and ANDs it with a broadcast of word k of each of
// sixteen weight rows (an embedded-broadcast memory operand: a load, no
// shuffle), so every accumulator lane is one output and no horizontal
// reduction is needed; only the final 16×8 → 8×16 transposition. Any row
// length works at full vector width, with no masked tail.
//
// Register use:
//   Z0-Z15  qword accumulators, Z(j) = weight row j of the block, lane = row
//   Z16,Z17 the rows' words k, k+1; Z24, Z25 scratch; Z16-Z23 transposition
//   scratch
//   R10-R13 weight rows 0, 4, 8, 12 of the block at word k; R8 = row stride
//   in bytes, R9 = 3·R8 reach rows +1, +2, +3 from each

#define BMAC(M, X, T, ACC) \
	VPANDQ.BCST M, X, T; \
	VPOPCNTQ    T, T;    \
	VPADDQ      T, ACC, ACC

// BSTEP is one K step: the rows' word in X against word D/8 (from R10-R13)
// of the sixteen weight rows.
#define BSTEP(D, X, T) \
	BMAC(D(R10), X, T, Z0);        \
	BMAC(D(R10)(R8*1), X, T, Z1);  \
	BMAC(D(R10)(R8*2), X, T, Z2);  \
	BMAC(D(R10)(R9*1), X, T, Z3);  \
	BMAC(D(R11), X, T, Z4);        \
	BMAC(D(R11)(R8*1), X, T, Z5);  \
	BMAC(D(R11)(R8*2), X, T, Z6);  \
	BMAC(D(R11)(R9*1), X, T, Z7);  \
	BMAC(D(R12), X, T, Z8);        \
	BMAC(D(R12)(R8*1), X, T, Z9);  \
	BMAC(D(R12)(R8*2), X, T, Z10); \
	BMAC(D(R12)(R9*1), X, T, Z11); \
	BMAC(D(R13), X, T, Z12);       \
	BMAC(D(R13)(R8*1), X, T, Z13); \
	BMAC(D(R13)(R8*2), X, T, Z14); \
	BMAC(D(R13)(R9*1), X, T, Z15)

// PACKD puts the low dwords of A's qwords in the even and B's in the odd
// dwords of A (the counts are < 2^32).
#define PACKD(A, B) \
	VPSLLQ $32, B, B; \
	VPORQ  B, A, A

// STORE8 stores 2·Z + add[L] to the output row at R10.
#define STORE8(Z, L) \
	VPSLLD      $1, Z, Z;         \
	VPADDD.BCST (L*4)(DI), Z, Z;  \
	VMOVDQU32   Z, (R10)

// func gemm8x16AndAVX512(at, w *uint64, words, nb int, out *int32, n int, add *int32, rows int)
//
// out[l*n + j] = 2·popcount(row_l AND w_j) + add[l] for rows l < rows (of
// the 8 in at, transposed) and weight rows j < 16·nb (w_j at w + j·words
// words).
TEXT ·gemm8x16AndAVX512(SB), NOSPLIT, $0-64
	MOVQ at+0(FP), SI
	MOVQ w+8(FP), BX
	MOVQ words+16(FP), R8
	MOVQ nb+24(FP), R14
	MOVQ out+32(FP), AX
	MOVQ n+40(FP), R15
	MOVQ add+48(FP), DI
	MOVQ rows+56(FP), CX
	SHLQ $3, R8
	LEAQ (R8)(R8*2), R9
	SHLQ $2, R15
	TESTQ R14, R14
	JZ    done

block:
	MOVQ at+0(FP), SI
	MOVQ BX, R10
	LEAQ (R10)(R8*4), R11
	LEAQ (R11)(R8*4), R12
	LEAQ (R12)(R8*4), R13
	ZERO16_512
	MOVQ words+16(FP), DX
	TESTQ $1, DX
	JZ    pairs
	VMOVDQU64 (SI), Z16
	BSTEP(0, Z16, Z24)
	ADDQ $64, SI
	ADDQ $8, R10
	ADDQ $8, R11
	ADDQ $8, R12
	ADDQ $8, R13
	DECQ DX
	JZ   packed

pairs:
	VMOVDQU64 (SI), Z16
	VMOVDQU64 64(SI), Z17
	BSTEP(0, Z16, Z24)
	BSTEP(8, Z17, Z25)
	ADDQ $128, SI
	ADDQ $16, R10
	ADDQ $16, R11
	ADDQ $16, R12
	ADDQ $16, R13
	SUBQ $2, DX
	JNZ  pairs

packed:

	// Weight rows 2p and 2p+1 into the dwords of P_p, in Z(2p).
	PACKD(Z0, Z1)
	PACKD(Z2, Z3)
	PACKD(Z4, Z5)
	PACKD(Z6, Z7)
	PACKD(Z8, Z9)
	PACKD(Z10, Z11)
	PACKD(Z12, Z13)
	PACKD(Z14, Z15)
	// 8×8 qword transposition of P_0..P_7: row l lands in Z(8+l).
	VPUNPCKLQDQ Z2, Z0, Z16
	VPUNPCKHQDQ Z2, Z0, Z17
	VPUNPCKLQDQ Z6, Z4, Z18
	VPUNPCKHQDQ Z6, Z4, Z19
	VPUNPCKLQDQ Z10, Z8, Z20
	VPUNPCKHQDQ Z10, Z8, Z21
	VPUNPCKLQDQ Z14, Z12, Z22
	VPUNPCKHQDQ Z14, Z12, Z23
	VSHUFI64X2  $0x88, Z18, Z16, Z0
	VSHUFI64X2  $0x88, Z19, Z17, Z1
	VSHUFI64X2  $0xdd, Z18, Z16, Z2
	VSHUFI64X2  $0xdd, Z19, Z17, Z3
	VSHUFI64X2  $0x88, Z22, Z20, Z4
	VSHUFI64X2  $0x88, Z23, Z21, Z5
	VSHUFI64X2  $0xdd, Z22, Z20, Z6
	VSHUFI64X2  $0xdd, Z23, Z21, Z7
	VSHUFI64X2  $0x88, Z4, Z0, Z8
	VSHUFI64X2  $0x88, Z5, Z1, Z9
	VSHUFI64X2  $0x88, Z6, Z2, Z10
	VSHUFI64X2  $0x88, Z7, Z3, Z11
	VSHUFI64X2  $0xdd, Z4, Z0, Z12
	VSHUFI64X2  $0xdd, Z5, Z1, Z13
	VSHUFI64X2  $0xdd, Z6, Z2, Z14
	VSHUFI64X2  $0xdd, Z7, Z3, Z15

	MOVQ AX, R10
	STORE8(Z8, 0)
	CMPQ CX, $1
	JEQ  next
	ADDQ R15, R10
	STORE8(Z9, 1)
	CMPQ CX, $2
	JEQ  next
	ADDQ R15, R10
	STORE8(Z10, 2)
	CMPQ CX, $3
	JEQ  next
	ADDQ R15, R10
	STORE8(Z11, 3)
	CMPQ CX, $4
	JEQ  next
	ADDQ R15, R10
	STORE8(Z12, 4)
	CMPQ CX, $5
	JEQ  next
	ADDQ R15, R10
	STORE8(Z13, 5)
	CMPQ CX, $6
	JEQ  next
	ADDQ R15, R10
	STORE8(Z14, 6)
	CMPQ CX, $7
	JEQ  next
	ADDQ R15, R10
	STORE8(Z15, 7)

next:
	ADDQ $64, AX
	MOVQ words+16(FP), DX
	SHLQ $7, DX
	ADDQ DX, BX
	DECQ R14
	JNZ  block

done:
	VZEROUPPER
	RET

// func gather8AVX512(at, src *uint64, off *int32, segs, segStride, segWords int)
//
// Transposes 8 rows read in place into at: at[8k+l] = word k of row l, row
// l being segs segments of segWords words at src + off[l] + s·segStride.
// One VPGATHERQQ per word k (indices off[l], scale 8).
TEXT ·gather8AVX512(SB), NOSPLIT, $0-48
	MOVQ      at+0(FP), DI
	MOVQ      src+8(FP), SI
	MOVQ      off+16(FP), DX
	MOVQ      segs+24(FP), R8
	MOVQ      segStride+32(FP), R9
	MOVQ      segWords+40(FP), R10
	VPMOVSXDQ (DX), Z1
	SHLQ      $3, R9
	MOVL      $0xff, AX
	TESTQ     R8, R8
	JZ        done

seg:
	MOVQ  SI, BX
	MOVQ  R10, CX
	TESTQ CX, CX
	JZ    nextseg

word:
	KMOVW      AX, K2
	VPGATHERQQ (BX)(Z1*8), K2, Z2
	VMOVDQU64  Z2, (DI)
	ADDQ       $64, DI
	ADDQ       $8, BX
	DECQ       CX
	JNZ        word

nextseg:
	ADDQ R9, SI
	DECQ R8
	JNZ  seg

done:
	VZEROUPPER
	RET

// func peakAVX512(a, b *uint64, iters int) int
//
// The AVX-512 compute peak: the 4×4 kernel's inner loop with its operands
// held in registers (the first four vectors of a and of b) and no loads,
// iters passes of sixteen VPANDQ + VPOPCNTQ + VPADDQ triples. Returns the
// sum of the sixteen accumulators.
TEXT ·peakAVX512(SB), NOSPLIT, $0-32
	MOVQ          a+0(FP), SI
	MOVQ          b+8(FP), DI
	MOVQ          iters+16(FP), DX
	VMOVDQU64     (SI), Z16
	VMOVDQU64     64(SI), Z17
	VMOVDQU64     128(SI), Z18
	VMOVDQU64     192(SI), Z19
	VMOVDQU64     (DI), Z20
	VMOVDQU64     64(DI), Z21
	VMOVDQU64     128(DI), Z22
	VMOVDQU64     192(DI), Z23
	ZERO16_512
	TESTQ         DX, DX
	JZ            sum

loop:
	MAC4X4
	DECQ          DX
	JNZ           loop

sum:
	VPADDQ        Z1, Z0, Z0
	VPADDQ        Z3, Z2, Z2
	VPADDQ        Z5, Z4, Z4
	VPADDQ        Z7, Z6, Z6
	VPADDQ        Z9, Z8, Z8
	VPADDQ        Z11, Z10, Z10
	VPADDQ        Z13, Z12, Z12
	VPADDQ        Z15, Z14, Z14
	VPADDQ        Z2, Z0, Z0
	VPADDQ        Z6, Z4, Z4
	VPADDQ        Z10, Z8, Z8
	VPADDQ        Z14, Z12, Z12
	VPADDQ        Z4, Z0, Z0
	VPADDQ        Z12, Z8, Z8
	VPADDQ        Z8, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDQ        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDQ        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDQ        X1, X0, X0
	VMOVQ         X0, AX
	MOVQ          AX, ret+24(FP)
	VZEROUPPER
	RET
