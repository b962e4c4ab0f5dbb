//go:build gc && !purego && !noasm

#include "textflag.h"

// NEON kernels: VAND/VEOR, VCNT (per-byte popcount), VADD into byte
// accumulators. A byte gains at most 8 per 128-bit vector, so the
// accumulators are folded with VUADDLV (sum of all 16 bytes into a 16-bit
// scalar) into general registers after at most 31 vectors. An odd last word
// is loaded with FMOVD, which reads exactly 8 bytes and zeroes the upper half
// of the vector, so no kernel reads past its rows. All lengths are checked
// by the Go callers in neon_arm64.go. Go's assembler has every mnemonic used
// here; no WORD encodings are needed.
//
// Register use in the GEMM kernels:
//   R0,R1  activation row bases; R14,R15 activation pointers (post-incremented)
//   R2     first weight row of the quad; R9 row stride in bytes
//   R10-R13 weight row pointers (post-incremented)
//   R16    full vectors left in the row, R17 vectors in this chunk
//   R7,R8,R19-R24 popcount sums, R25 scratch
//   V0-V7  byte accumulators, V(4*row + weight row of the quad)
//   V8,V9  activation vectors, V10 weight vector, V11,V12 scratch, V13 fold

#define PAIRN(OP, S, ACC, T) \
	OP   S.B16, V10.B16, T.B16; \
	VCNT T.B16, T.B16;          \
	VADD T.B16, ACC.B16, ACC.B16

#define QUAD2N(OP, LD) \
	LD(R10);                    \
	PAIRN(OP, V8, V0, V11);     \
	PAIRN(OP, V9, V4, V12);     \
	LD(R11);                    \
	PAIRN(OP, V8, V1, V11);     \
	PAIRN(OP, V9, V5, V12);     \
	LD(R12);                    \
	PAIRN(OP, V8, V2, V11);     \
	PAIRN(OP, V9, V6, V12);     \
	LD(R13);                    \
	PAIRN(OP, V8, V3, V11);     \
	PAIRN(OP, V9, V7, V12)

#define QUAD1N(OP, LD) \
	LD(R10);                    \
	PAIRN(OP, V8, V0, V11);     \
	LD(R11);                    \
	PAIRN(OP, V8, V1, V12);     \
	LD(R12);                    \
	PAIRN(OP, V8, V2, V11);     \
	LD(R13);                    \
	PAIRN(OP, V8, V3, V12)

#define LDV(R) VLD1.P 16(R), [V10.B16]
#define LDD(R) FMOVD (R), F10

#define ZERO4N \
	VEOR V0.B16, V0.B16, V0.B16; \
	VEOR V1.B16, V1.B16, V1.B16; \
	VEOR V2.B16, V2.B16, V2.B16; \
	VEOR V3.B16, V3.B16, V3.B16

#define ZERO8N \
	ZERO4N;                      \
	VEOR V4.B16, V4.B16, V4.B16; \
	VEOR V5.B16, V5.B16, V5.B16; \
	VEOR V6.B16, V6.B16, V6.B16; \
	VEOR V7.B16, V7.B16, V7.B16

// FOLD adds the 16 bytes of V to the general register R.
#define FOLD(V, R) \
	VUADDLV V.B16, V13;    \
	VMOV    V13.H[0], R25; \
	ADD     R25, R, R

#define FLUSH1N \
	FOLD(V0, R19); FOLD(V1, R20); FOLD(V2, R21); FOLD(V3, R22)

#define FLUSH2N \
	FLUSH1N; \
	FOLD(V4, R23); FOLD(V5, R24); FOLD(V6, R7); FOLD(V7, R8)

// AFFINE_AND: out = 2·pc + add (add = -popcount(s)); AFFINE_XOR: add - 2·pc.
#define AFFINE_AND(R, ADDR) ADD R<<1, ADDR, R
#define AFFINE_XOR(R, ADDR) SUB R<<1, ADDR, R

// func gemm2x4AndNEON(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)
//
// 2 activation rows × 4·nq weight rows, AND-popcount.
TEXT ·gemm2x4AndNEON(SB), NOSPLIT, $0-72
	MOVD         s0+0(FP), R0
	MOVD         s1+8(FP), R1
	MOVD         w+16(FP), R2
	MOVD         words+24(FP), R3
	MOVD         nq+32(FP), R4
	MOVD         out0+40(FP), R5
	MOVD         out1+48(FP), R6
	LSL          $3, R3, R9
	CBZ          R4, done

quad:
	MOVD         R2, R10
	ADD          R9, R10, R11
	ADD          R9, R11, R12
	ADD          R9, R12, R13
	MOVD         R0, R14
	MOVD         R1, R15
	MOVD         ZR, R19
	MOVD         ZR, R20
	MOVD         ZR, R21
	MOVD         ZR, R22
	MOVD         ZR, R23
	MOVD         ZR, R24
	MOVD         ZR, R7
	MOVD         ZR, R8
	LSR          $1, R3, R16

chunk:
	ZERO8N
	MOVD         R16, R17
	CMP          $30, R17
	BLE          sized
	MOVD         $30, R17

sized:
	SUB          R17, R16, R16
	CBZ          R17, chunkdone

inner:
	VLD1.P       16(R14), [V8.B16]
	VLD1.P       16(R15), [V9.B16]
	QUAD2N(VAND, LDV)
	SUB          $1, R17, R17
	CBNZ         R17, inner

chunkdone:
	CBZ          R16, last
	FLUSH2N
	B            chunk

last:
	TBZ          $0, R3, final
	FMOVD        (R14), F8
	FMOVD        (R15), F9
	QUAD2N(VAND, LDD)

final:
	FLUSH2N
	MOVD         add0+56(FP), R25
	AFFINE_AND(R19, R25)
	AFFINE_AND(R20, R25)
	AFFINE_AND(R21, R25)
	AFFINE_AND(R22, R25)
	MOVW         R19, 0(R5)
	MOVW         R20, 4(R5)
	MOVW         R21, 8(R5)
	MOVW         R22, 12(R5)
	MOVD         add1+64(FP), R25
	AFFINE_AND(R23, R25)
	AFFINE_AND(R24, R25)
	AFFINE_AND(R7, R25)
	AFFINE_AND(R8, R25)
	MOVW         R23, 0(R6)
	MOVW         R24, 4(R6)
	MOVW         R7, 8(R6)
	MOVW         R8, 12(R6)
	ADD          $16, R5, R5
	ADD          $16, R6, R6
	ADD          R9<<2, R2, R2
	SUB          $1, R4, R4
	CBNZ         R4, quad

done:
	RET

// func gemm2x4XorNEON(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)
//
// 2 activation rows × 4·nq weight rows, XOR-popcount.
TEXT ·gemm2x4XorNEON(SB), NOSPLIT, $0-72
	MOVD         s0+0(FP), R0
	MOVD         s1+8(FP), R1
	MOVD         w+16(FP), R2
	MOVD         words+24(FP), R3
	MOVD         nq+32(FP), R4
	MOVD         out0+40(FP), R5
	MOVD         out1+48(FP), R6
	LSL          $3, R3, R9
	CBZ          R4, done

quad:
	MOVD         R2, R10
	ADD          R9, R10, R11
	ADD          R9, R11, R12
	ADD          R9, R12, R13
	MOVD         R0, R14
	MOVD         R1, R15
	MOVD         ZR, R19
	MOVD         ZR, R20
	MOVD         ZR, R21
	MOVD         ZR, R22
	MOVD         ZR, R23
	MOVD         ZR, R24
	MOVD         ZR, R7
	MOVD         ZR, R8
	LSR          $1, R3, R16

chunk:
	ZERO8N
	MOVD         R16, R17
	CMP          $30, R17
	BLE          sized
	MOVD         $30, R17

sized:
	SUB          R17, R16, R16
	CBZ          R17, chunkdone

inner:
	VLD1.P       16(R14), [V8.B16]
	VLD1.P       16(R15), [V9.B16]
	QUAD2N(VEOR, LDV)
	SUB          $1, R17, R17
	CBNZ         R17, inner

chunkdone:
	CBZ          R16, last
	FLUSH2N
	B            chunk

last:
	TBZ          $0, R3, final
	FMOVD        (R14), F8
	FMOVD        (R15), F9
	QUAD2N(VEOR, LDD)

final:
	FLUSH2N
	MOVD         add0+56(FP), R25
	AFFINE_XOR(R19, R25)
	AFFINE_XOR(R20, R25)
	AFFINE_XOR(R21, R25)
	AFFINE_XOR(R22, R25)
	MOVW         R19, 0(R5)
	MOVW         R20, 4(R5)
	MOVW         R21, 8(R5)
	MOVW         R22, 12(R5)
	MOVD         add1+64(FP), R25
	AFFINE_XOR(R23, R25)
	AFFINE_XOR(R24, R25)
	AFFINE_XOR(R7, R25)
	AFFINE_XOR(R8, R25)
	MOVW         R23, 0(R6)
	MOVW         R24, 4(R6)
	MOVW         R7, 8(R6)
	MOVW         R8, 12(R6)
	ADD          $16, R5, R5
	ADD          $16, R6, R6
	ADD          R9<<2, R2, R2
	SUB          $1, R4, R4
	CBNZ         R4, quad

done:
	RET

// func gemm1x4AndNEON(s, w *uint64, words, nq int, out *int32, add int)
//
// 1 activation row × 4·nq weight rows, AND-popcount.
TEXT ·gemm1x4AndNEON(SB), NOSPLIT, $0-48
	MOVD         s+0(FP), R0
	MOVD         w+8(FP), R2
	MOVD         words+16(FP), R3
	MOVD         nq+24(FP), R4
	MOVD         out+32(FP), R5
	LSL          $3, R3, R9
	CBZ          R4, done

quad:
	MOVD         R2, R10
	ADD          R9, R10, R11
	ADD          R9, R11, R12
	ADD          R9, R12, R13
	MOVD         R0, R14
	MOVD         ZR, R19
	MOVD         ZR, R20
	MOVD         ZR, R21
	MOVD         ZR, R22
	LSR          $1, R3, R16

chunk:
	ZERO4N
	MOVD         R16, R17
	CMP          $30, R17
	BLE          sized
	MOVD         $30, R17

sized:
	SUB          R17, R16, R16
	CBZ          R17, chunkdone

inner:
	VLD1.P       16(R14), [V8.B16]
	QUAD1N(VAND, LDV)
	SUB          $1, R17, R17
	CBNZ         R17, inner

chunkdone:
	CBZ          R16, last
	FLUSH1N
	B            chunk

last:
	TBZ          $0, R3, final
	FMOVD        (R14), F8
	QUAD1N(VAND, LDD)

final:
	FLUSH1N
	MOVD         add+40(FP), R25
	AFFINE_AND(R19, R25)
	AFFINE_AND(R20, R25)
	AFFINE_AND(R21, R25)
	AFFINE_AND(R22, R25)
	MOVW         R19, 0(R5)
	MOVW         R20, 4(R5)
	MOVW         R21, 8(R5)
	MOVW         R22, 12(R5)
	ADD          $16, R5, R5
	ADD          R9<<2, R2, R2
	SUB          $1, R4, R4
	CBNZ         R4, quad

done:
	RET

// func gemm1x4XorNEON(s, w *uint64, words, nq int, out *int32, add int)
//
// 1 activation row × 4·nq weight rows, XOR-popcount.
TEXT ·gemm1x4XorNEON(SB), NOSPLIT, $0-48
	MOVD         s+0(FP), R0
	MOVD         w+8(FP), R2
	MOVD         words+16(FP), R3
	MOVD         nq+24(FP), R4
	MOVD         out+32(FP), R5
	LSL          $3, R3, R9
	CBZ          R4, done

quad:
	MOVD         R2, R10
	ADD          R9, R10, R11
	ADD          R9, R11, R12
	ADD          R9, R12, R13
	MOVD         R0, R14
	MOVD         ZR, R19
	MOVD         ZR, R20
	MOVD         ZR, R21
	MOVD         ZR, R22
	LSR          $1, R3, R16

chunk:
	ZERO4N
	MOVD         R16, R17
	CMP          $30, R17
	BLE          sized
	MOVD         $30, R17

sized:
	SUB          R17, R16, R16
	CBZ          R17, chunkdone

inner:
	VLD1.P       16(R14), [V8.B16]
	QUAD1N(VEOR, LDV)
	SUB          $1, R17, R17
	CBNZ         R17, inner

chunkdone:
	CBZ          R16, last
	FLUSH1N
	B            chunk

last:
	TBZ          $0, R3, final
	FMOVD        (R14), F8
	QUAD1N(VEOR, LDD)

final:
	FLUSH1N
	MOVD         add+40(FP), R25
	AFFINE_XOR(R19, R25)
	AFFINE_XOR(R20, R25)
	AFFINE_XOR(R21, R25)
	AFFINE_XOR(R22, R25)
	MOVW         R19, 0(R5)
	MOVW         R20, 4(R5)
	MOVW         R21, 8(R5)
	MOVW         R22, 12(R5)
	ADD          $16, R5, R5
	ADD          R9<<2, R2, R2
	SUB          $1, R4, R4
	CBNZ         R4, quad

done:
	RET

// LDB loads the weight vector of row R at byte offset R23 (a listed block).
#define LDB(R) \
	ADD  R23, R, R24; \
	VLD1 (R24), [V10.B16]

// func rowBlocksAndNEON(s, w *uint64, words, nq int, blocks *int32, nb, tail int, out *int32, add int)
//
// The sparse row kernel: GEMM1X4N with AND over the nb full 2-word blocks
// listed in blocks (each < words/2), plus the odd last word when tail != 0.
TEXT ·rowBlocksAndNEON(SB), NOSPLIT, $0-72
	MOVD s+0(FP), R0
	MOVD w+8(FP), R2
	MOVD words+16(FP), R3
	MOVD nq+24(FP), R4
	MOVD blocks+32(FP), R6
	MOVD out+56(FP), R5
	LSL  $3, R3, R9
	CBZ  R4, done

quad:
	MOVD R2, R10
	ADD  R9, R10, R11
	ADD  R9, R11, R12
	ADD  R9, R12, R13
	MOVD ZR, R19
	MOVD ZR, R20
	MOVD ZR, R21
	MOVD ZR, R22
	MOVD ZR, R15                // index into blocks
	MOVD nb+40(FP), R16

chunk:
	ZERO4N
	MOVD R16, R17
	CMP  $30, R17
	BLE  sized
	MOVD $30, R17

sized:
	SUB R17, R16, R16
	CBZ R17, chunkdone

inner:
	MOVW (R6)(R15<<2), R23
	LSL  $4, R23, R23
	ADD  R23, R0, R24
	VLD1 (R24), [V8.B16]
	QUAD1N(VAND, LDB)
	ADD  $1, R15, R15
	SUB  $1, R17, R17
	CBNZ R17, inner

chunkdone:
	CBZ R16, last
	FLUSH1N
	B   chunk

last:
	MOVD tail+48(FP), R23
	CBZ  R23, final
	LSR  $1, R3, R23
	LSL  $4, R23, R23
	ADD  R23, R0, R24
	FMOVD (R24), F8
	ADD  R23, R10, R24
	FMOVD (R24), F10
	PAIRN(VAND, V8, V0, V11)
	ADD  R23, R11, R24
	FMOVD (R24), F10
	PAIRN(VAND, V8, V1, V12)
	ADD  R23, R12, R24
	FMOVD (R24), F10
	PAIRN(VAND, V8, V2, V11)
	ADD  R23, R13, R24
	FMOVD (R24), F10
	PAIRN(VAND, V8, V3, V12)

final:
	FLUSH1N
	MOVD add+64(FP), R25
	AFFINE_AND(R19, R25)
	AFFINE_AND(R20, R25)
	AFFINE_AND(R21, R25)
	AFFINE_AND(R22, R25)
	MOVW R19, 0(R5)
	MOVW R20, 4(R5)
	MOVW R21, 8(R5)
	MOVW R22, 12(R5)
	ADD  $16, R5, R5
	ADD  R9<<2, R2, R2
	SUB  $1, R4, R4
	CBNZ R4, quad

done:
	RET

// func popcntNEON(p *uint64, nv int) int
// Counts the set bits of nv full 128-bit vectors.
TEXT ·popcntNEON(SB), NOSPLIT, $0-24
	MOVD p+0(FP), R0
	MOVD nv+8(FP), R1
	MOVD ZR, R2
	CBZ  R1, done

loop:
	VLD1.P  16(R0), [V0.B16]
	VCNT    V0.B16, V0.B16
	VUADDLV V0.B16, V1
	VMOV    V1.H[0], R3
	ADD     R3, R2, R2
	SUB     $1, R1, R1
	CBNZ    R1, loop

done:
	MOVD R2, ret+16(FP)
	RET

// func peakNEON(a, b *uint64, nv, reps int) int
//
// The NEON popcount-peak loop: reps passes of VAND + VCNT + VADD over nv
// vectors of a and b (nv a multiple of 8, at most 248), eight independent
// byte accumulators folded once per pass. The caller keeps a and b in L1.
TEXT ·peakNEON(SB), NOSPLIT, $0-40
	MOVD reps+24(FP), R4
	MOVD ZR, R19
	CBZ  R4, done

rep:
	MOVD a+0(FP), R0
	MOVD b+8(FP), R1
	MOVD nv+16(FP), R2
	LSR  $3, R2, R2
	ZERO8N
	CBZ  R2, fold

loop:
	VLD1.P 64(R0), [V16.B16, V17.B16, V18.B16, V19.B16]
	VLD1.P 64(R1), [V20.B16, V21.B16, V22.B16, V23.B16]
	VAND   V16.B16, V20.B16, V24.B16
	VAND   V17.B16, V21.B16, V25.B16
	VAND   V18.B16, V22.B16, V26.B16
	VAND   V19.B16, V23.B16, V27.B16
	VCNT   V24.B16, V24.B16
	VCNT   V25.B16, V25.B16
	VCNT   V26.B16, V26.B16
	VCNT   V27.B16, V27.B16
	VADD   V24.B16, V0.B16, V0.B16
	VADD   V25.B16, V1.B16, V1.B16
	VADD   V26.B16, V2.B16, V2.B16
	VADD   V27.B16, V3.B16, V3.B16
	VLD1.P 64(R0), [V16.B16, V17.B16, V18.B16, V19.B16]
	VLD1.P 64(R1), [V20.B16, V21.B16, V22.B16, V23.B16]
	VAND   V16.B16, V20.B16, V24.B16
	VAND   V17.B16, V21.B16, V25.B16
	VAND   V18.B16, V22.B16, V26.B16
	VAND   V19.B16, V23.B16, V27.B16
	VCNT   V24.B16, V24.B16
	VCNT   V25.B16, V25.B16
	VCNT   V26.B16, V26.B16
	VCNT   V27.B16, V27.B16
	VADD   V24.B16, V4.B16, V4.B16
	VADD   V25.B16, V5.B16, V5.B16
	VADD   V26.B16, V6.B16, V6.B16
	VADD   V27.B16, V7.B16, V7.B16
	SUB    $1, R2, R2
	CBNZ   R2, loop

fold:
	FOLD(V0, R19)
	FOLD(V1, R19)
	FOLD(V2, R19)
	FOLD(V3, R19)
	FOLD(V4, R19)
	FOLD(V5, R19)
	FOLD(V6, R19)
	FOLD(V7, R19)
	SUB  $1, R4, R4
	CBNZ R4, rep

done:
	MOVD R19, ret+32(FP)
	RET
