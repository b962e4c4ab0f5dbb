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

// The 4×4 kernel: four activation rows against four weight rows per pass.
//
// Register use:
//   R0-R3   activation row bases; R14-R17 activation pointers
//   R4      first weight row of the quad; R9 row stride in bytes
//   R10-R13 weight row pointers (post-incremented)
//   R7      output of the quad's row 0; R8 output row stride in bytes
//   R19     full vectors left in the row, R20 vectors in this chunk
//   V0-V15  byte accumulators, V(4*row + weight row of the quad)
//   V16-V19 activation vectors, V20-V23 weight vectors, V24-V27 scratch
//   V28-V31 dword sums of rows 0-3 × the quad's four weight rows

#define MACN(A, W, T, ACC) \
	VAND A.B16, W.B16, T.B16; \
	VCNT T.B16, T.B16;        \
	VADD T.B16, ACC.B16, ACC.B16

#define MAC4X4N \
	MACN(V16, V20, V24, V0);  MACN(V16, V21, V25, V1);  MACN(V16, V22, V26, V2);  MACN(V16, V23, V27, V3);  \
	MACN(V17, V20, V24, V4);  MACN(V17, V21, V25, V5);  MACN(V17, V22, V26, V6);  MACN(V17, V23, V27, V7);  \
	MACN(V18, V20, V24, V8);  MACN(V18, V21, V25, V9);  MACN(V18, V22, V26, V10); MACN(V18, V23, V27, V11); \
	MACN(V19, V20, V24, V12); MACN(V19, V21, V25, V13); MACN(V19, V22, V26, V14); MACN(V19, V23, V27, V15)

#define ZERO16N \
	ZERO8N; \
	VEOR V8.B16, V8.B16, V8.B16;    \
	VEOR V9.B16, V9.B16, V9.B16;    \
	VEOR V10.B16, V10.B16, V10.B16; \
	VEOR V11.B16, V11.B16, V11.B16; \
	VEOR V12.B16, V12.B16, V12.B16; \
	VEOR V13.B16, V13.B16, V13.B16; \
	VEOR V14.B16, V14.B16, V14.B16; \
	VEOR V15.B16, V15.B16, V15.B16

// FLUSHROW adds the byte sums of accumulators A0-A3 (one row × the quad)
// to the dwords of SUM: four VUADDLVs (each sum ≤ 31·8·16 fits 16 bits), two
// zips of halfwords and one of words gather them into [a0 a1 a2 a3], and
// VUXTL widens them.
#define FLUSHROW(A0, A1, A2, A3, SUM) \
	VUADDLV A0.B16, V24;            \
	VUADDLV A1.B16, V25;            \
	VUADDLV A2.B16, V26;            \
	VUADDLV A3.B16, V27;            \
	VZIP1   V25.H8, V24.H8, V24.H8; \
	VZIP1   V27.H8, V26.H8, V26.H8; \
	VZIP1   V26.S4, V24.S4, V24.S4; \
	VUXTL   V24.H4, V24.S4;         \
	VADD    V24.S4, SUM.S4, SUM.S4

#define FLUSH16N \
	FLUSHROW(V0, V1, V2, V3, V28);     \
	FLUSHROW(V4, V5, V6, V7, V29);     \
	FLUSHROW(V8, V9, V10, V11, V30);   \
	FLUSHROW(V12, V13, V14, V15, V31)

// STOREROW stores 2·SUM + add[LANE] (add in V27) to the output row at R.
#define STOREROW(SUM, LANE, R) \
	VSHL $1, SUM.S4, SUM.S4;      \
	VDUP V27.S[LANE], V26.S4;     \
	VADD V26.S4, SUM.S4, SUM.S4;  \
	VST1 [SUM.S4], (R)

// func gemm4x4AndNEON(s0, s1, s2, s3, w *uint64, words, nq int, out *int32, n int, add *int32)
//
// out[r*n + j] = 2·popcount(s_r AND w_j) + add[r] for rows r < 4 and weight
// rows j < 4·nq (w_j at w + j·words words). An odd last word is loaded
// with FMOVD, which zeroes the upper half.
TEXT ·gemm4x4AndNEON(SB), NOSPLIT, $0-80
	MOVD s0+0(FP), R0
	MOVD s1+8(FP), R1
	MOVD s2+16(FP), R2
	MOVD s3+24(FP), R3
	MOVD w+32(FP), R4
	MOVD words+40(FP), R5
	MOVD nq+48(FP), R6
	MOVD out+56(FP), R7
	MOVD n+64(FP), R8
	MOVD add+72(FP), R21
	LSL  $2, R8, R8
	LSL  $3, R5, R9
	CBZ  R6, done

quad:
	MOVD R4, R10
	ADD  R9, R10, R11
	ADD  R9, R11, R12
	ADD  R9, R12, R13
	MOVD R0, R14
	MOVD R1, R15
	MOVD R2, R16
	MOVD R3, R17
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	LSR  $1, R5, R19

chunk:
	ZERO16N
	MOVD R19, R20
	CMP  $31, R20
	BLE  sized
	MOVD $31, R20

sized:
	SUB R20, R19, R19
	CBZ R20, chunkdone

inner:
	VLD1.P 16(R14), [V16.B16]
	VLD1.P 16(R15), [V17.B16]
	VLD1.P 16(R16), [V18.B16]
	VLD1.P 16(R17), [V19.B16]
	VLD1.P 16(R10), [V20.B16]
	VLD1.P 16(R11), [V21.B16]
	VLD1.P 16(R12), [V22.B16]
	VLD1.P 16(R13), [V23.B16]
	MAC4X4N
	SUB    $1, R20, R20
	CBNZ   R20, inner

chunkdone:
	CBZ R19, last
	FLUSH16N
	B   chunk

last:
	TBZ   $0, R5, final
	FMOVD (R14), F16
	FMOVD (R15), F17
	FMOVD (R16), F18
	FMOVD (R17), F19
	FMOVD (R10), F20
	FMOVD (R11), F21
	FMOVD (R12), F22
	FMOVD (R13), F23
	MAC4X4N

final:
	FLUSH16N
	VLD1 (R21), [V27.S4]
	STOREROW(V28, 0, R7)
	ADD  R8, R7, R22
	STOREROW(V29, 1, R22)
	ADD  R8, R22, R22
	STOREROW(V30, 2, R22)
	ADD  R8, R22, R22
	STOREROW(V31, 3, R22)
	ADD  $16, R7, R7
	ADD  R9<<2, R4, R4
	SUB  $1, R6, R6
	CBNZ R6, quad

done:
	RET

// func peakNEON(a, b *uint64, iters int) int
//
// The NEON compute peak: the 4×4 kernel's inner loop with its operands held
// in registers (the first four vectors of a and of b) and no loads, iters
// passes of sixteen VAND + VCNT + VADD, flushed every 31 passes as the
// kernel flushes. Returns the total count.
TEXT ·peakNEON(SB), NOSPLIT, $0-32
	MOVD a+0(FP), R0
	MOVD b+8(FP), R1
	MOVD iters+16(FP), R19
	VLD1 (R0), [V16.B16, V17.B16, V18.B16, V19.B16]
	VLD1 (R1), [V20.B16, V21.B16, V22.B16, V23.B16]
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16

chunk:
	CBZ  R19, sum
	ZERO16N
	MOVD R19, R20
	CMP  $31, R20
	BLE  sized
	MOVD $31, R20

sized:
	SUB R20, R19, R19

loop:
	MAC4X4N
	SUB  $1, R20, R20
	CBNZ R20, loop
	FLUSH16N
	B    chunk

sum:
	VADD  V29.S4, V28.S4, V28.S4
	VADD  V31.S4, V30.S4, V30.S4
	VADD  V30.S4, V28.S4, V28.S4
	VUXTL V28.S2, V29.D2
	VUXTL2 V28.S4, V30.D2
	VADD  V30.D2, V29.D2, V29.D2
	VMOV  V29.D[0], R2
	VMOV  V29.D[1], R3
	ADD   R3, R2, R2
	MOVD  R2, ret+24(FP)
	RET
