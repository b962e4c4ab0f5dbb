//go:build gc && !purego && !noasm

#include "textflag.h"

// func gemm4x16AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)
//
// C[0:4][0:16] += A[0:4][0:k]·B[0:k][0:16], each product rounded (VMULPS)
// and then added (VADDPS) in k order: exactly gemmGeneric's arithmetic.
TEXT ·gemm4x16AVX2(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R10
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, R10
	LEAQ (R8)(R8*2), R13 // 3·lda
	LEAQ (R10)(R10*2), R12 // 3·ldc

	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS (DX)(R10*1), Y2
	VMOVUPS 32(DX)(R10*1), Y3
	VMOVUPS (DX)(R10*2), Y4
	VMOVUPS 32(DX)(R10*2), Y5
	VMOVUPS (DX)(R12*1), Y6
	VMOVUPS 32(DX)(R12*1), Y7

	// Two k steps per iteration (the loop overhead is a sizeable share of
	// the µops: without FMA every product is a mul and an add).
	SHRQ $1, CX
	JZ   tail

loop:
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	VBROADCASTSS (SI), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y0, Y0
	VADDPS Y12, Y1, Y1
	VBROADCASTSS (SI)(R8*1), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y2, Y2
	VADDPS Y12, Y3, Y3
	VBROADCASTSS (SI)(R8*2), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y4, Y4
	VADDPS Y12, Y5, Y5
	VBROADCASTSS (SI)(R13*1), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y6, Y6
	VADDPS Y12, Y7, Y7
	ADDQ $4, SI
	ADDQ R9, DI
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	VBROADCASTSS (SI), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y0, Y0
	VADDPS Y12, Y1, Y1
	VBROADCASTSS (SI)(R8*1), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y2, Y2
	VADDPS Y12, Y3, Y3
	VBROADCASTSS (SI)(R8*2), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y4, Y4
	VADDPS Y12, Y5, Y5
	VBROADCASTSS (SI)(R13*1), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y6, Y6
	VADDPS Y12, Y7, Y7
	ADDQ $4, SI
	ADDQ R9, DI
	DECQ CX
	JNZ  loop

tail:
	TESTQ $1, k+0(FP)
	JZ    done
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	VBROADCASTSS (SI), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y0, Y0
	VADDPS Y12, Y1, Y1
	VBROADCASTSS (SI)(R8*1), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y2, Y2
	VADDPS Y12, Y3, Y3
	VBROADCASTSS (SI)(R8*2), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y4, Y4
	VADDPS Y12, Y5, Y5
	VBROADCASTSS (SI)(R13*1), Y10
	VMULPS Y8, Y10, Y11
	VMULPS Y9, Y10, Y12
	VADDPS Y11, Y6, Y6
	VADDPS Y12, Y7, Y7
	ADDQ $4, SI
	ADDQ R9, DI

done:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, (DX)(R10*1)
	VMOVUPS Y3, 32(DX)(R10*1)
	VMOVUPS Y4, (DX)(R10*2)
	VMOVUPS Y5, 32(DX)(R10*2)
	VMOVUPS Y6, (DX)(R12*1)
	VMOVUPS Y7, 32(DX)(R12*1)
	VZEROUPPER
	RET

// func gemm1x16AVX2(k int, a *float32, b *float32, ldb int, c *float32)
//
// C[0][0:16] += A[0][0:k]·B[0:k][0:16], as gemm4x16AVX2.
TEXT ·gemm1x16AVX2(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R9
	MOVQ c+32(FP), DX
	SHLQ $2, R9
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1

loop1:
	VBROADCASTSS (SI), Y10
	VMULPS (DI), Y10, Y11
	VMULPS 32(DI), Y10, Y12
	VADDPS Y11, Y0, Y0
	VADDPS Y12, Y1, Y1
	ADDQ $4, SI
	ADDQ R9, DI
	DECQ CX
	JNZ  loop1

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func addRowsAVX2(dst *float32, ldd int, src *float32, n int, bits *uint64, words int)
//
// For every set bit i of bits[0:words] (bit i of word j is row 64·j+i):
// dst[i·ldd : i·ldd+n] += src[0:n]. n is a positive multiple of 8.
TEXT ·addRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ bits+32(FP), BX
	MOVQ words+40(FP), DX
	SHLQ $2, R8
	SHLQ $2, CX // n in bytes
	XORQ R9, R9 // word index

wloop:
	CMPQ R9, DX
	JGE  done
	MOVQ (BX)(R9*8), AX
	TESTQ AX, AX
	JZ   wnext

bloop:
	BSFQ AX, R10
	MOVQ R9, R11
	SHLQ $6, R11
	ADDQ R10, R11
	IMULQ R8, R11
	LEAQ (DI)(R11*1), R12
	XORQ R13, R13

vloop:
	VMOVUPS (SI)(R13*1), Y0
	VADDPS  (R12)(R13*1), Y0, Y0
	VMOVUPS Y0, (R12)(R13*1)
	ADDQ $32, R13
	CMPQ R13, CX
	JLT  vloop

	LEAQ -1(AX), R10
	ANDQ R10, AX
	JNZ  bloop

wnext:
	INCQ R9
	JMP  wloop

done:
	VZEROUPPER
	RET

// func lifBackwardAVX2(n int, u, s, gs, dx, dh *float32, vth, gm, g2, lam float32, flags int)
//
// lifBackwardGeneric on n (a positive multiple of 8) neurons; flags bit 0:
// hard reset, bit 1: detached reset.
TEXT ·lifBackwardAVX2(SB), NOSPLIT, $0-72
	MOVQ n+0(FP), CX
	MOVQ u+8(FP), SI
	MOVQ s+16(FP), DI
	MOVQ gs+24(FP), R8
	MOVQ dx+32(FP), R9
	MOVQ dh+40(FP), R10
	VBROADCASTSS vth+48(FP), Y8
	VBROADCASTSS gm+52(FP), Y9
	VBROADCASTSS g2+56(FP), Y10
	VBROADCASTSS lam+60(FP), Y11
	MOVQ flags+64(FP), DX
	MOVL $0x7fffffff, AX
	MOVL AX, X12
	VBROADCASTSS X12, Y12 // |·| mask
	MOVL $0x3f800000, AX
	MOVL AX, X13
	VBROADCASTSS X13, Y13 // 1.0
	VXORPS Y14, Y14, Y14  // 0.0
	XORQ BX, BX

lloop:
	VMOVUPS (SI)(BX*4), Y0  // u
	VMOVUPS (R10)(BX*4), Y1 // h = dh
	VMOVUPS (R8)(BX*4), Y2  // gs = g
	TESTQ $1, DX
	JZ    soft
	// hard: keep = h·(1−s); gs −= h·u unless detached
	VMOVUPS (DI)(BX*4), Y3
	VSUBPS  Y3, Y13, Y3 // 1 − s
	VMULPS  Y3, Y1, Y3  // keep
	TESTQ $2, DX
	JNZ   surr
	VMULPS Y0, Y1, Y4
	VSUBPS Y4, Y2, Y2
	JMP    surr

soft:
	VMOVAPS Y1, Y3 // keep = h
	TESTQ $2, DX
	JNZ   surr
	VMULPS Y8, Y1, Y4
	VSUBPS Y4, Y2, Y2

surr:
	VSUBPS Y8, Y0, Y5   // u − vth
	VANDPS Y12, Y5, Y5  // |u − vth|
	VSUBPS Y5, Y9, Y5   // gm − |u − vth|
	VMAXPS Y14, Y5, Y5  // max(·, 0)
	VMULPS Y10, Y5, Y5  // sg
	VMULPS Y5, Y2, Y5   // gs·sg
	VADDPS Y3, Y5, Y5   // du
	VADDPS (R9)(BX*4), Y5, Y6
	VMOVUPS Y6, (R9)(BX*4)
	VMULPS Y11, Y5, Y5  // lam·du
	VMOVUPS Y5, (R10)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  lloop
	VZEROUPPER
	RET

// func winogradInAVX2(dst *float32, ldd int, src *float32, lds int, n int)
//
// winogradInGeneric for n a positive multiple of 8.
TEXT ·winogradInAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	MOVQ n+32(FP), CX
	SHLQ $2, R8 // bytes
	SHLQ $2, R9
	MOVQ CX, R10
	SHLQ $2, R10 // pixel stride in bytes
	XORQ BX, BX  // channel offset in bytes
	SHLQ $2, CX  // n in bytes
	LEAQ (R8)(R8*2), R11  // 3·ldd
	LEAQ (R10)(R10*2), R12 // 3·pixel

winloop:
	LEAQ (SI)(BX*1), AX // row 0
	LEAQ (AX)(R9*1), DX // row 1
	// d1 row → Y4..Y7, d2 row → Y8..Y11
	VMOVUPS (DX), Y4
	VMOVUPS (DX)(R10*1), Y5
	VMOVUPS (DX)(R10*2), Y6
	VMOVUPS (DX)(R12*1), Y7
	ADDQ R9, DX
	VMOVUPS (DX), Y8
	VMOVUPS (DX)(R10*1), Y9
	VMOVUPS (DX)(R10*2), Y10
	VMOVUPS (DX)(R12*1), Y11
	LEAQ (DI)(BX*1), R13 // dst + channel

	// a = 0: e = d0 − d2
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(R10*1), Y1
	VMOVUPS (AX)(R10*2), Y2
	VMOVUPS (AX)(R12*1), Y3
	VSUBPS Y8, Y0, Y0
	VSUBPS Y9, Y1, Y1
	VSUBPS Y10, Y2, Y2
	VSUBPS Y11, Y3, Y3
	CALL winoRow<>(SB)

	// a = 1: e = d1 + d2
	VADDPS Y8, Y4, Y0
	VADDPS Y9, Y5, Y1
	VADDPS Y10, Y6, Y2
	VADDPS Y11, Y7, Y3
	CALL winoRow<>(SB)

	// a = 2: e = d2 − d1
	VSUBPS Y4, Y8, Y0
	VSUBPS Y5, Y9, Y1
	VSUBPS Y6, Y10, Y2
	VSUBPS Y7, Y11, Y3
	CALL winoRow<>(SB)

	// a = 3: e = d1 − d3
	LEAQ (AX)(R9*2), DX
	ADDQ R9, DX // row 3
	VMOVUPS (DX), Y0
	VMOVUPS (DX)(R10*1), Y1
	VMOVUPS (DX)(R10*2), Y2
	VMOVUPS (DX)(R12*1), Y3
	VSUBPS Y0, Y4, Y0
	VSUBPS Y1, Y5, Y1
	VSUBPS Y2, Y6, Y2
	VSUBPS Y3, Y7, Y3
	CALL winoRow<>(SB)

	ADDQ $32, BX
	CMPQ BX, CX
	JLT  winloop
	VZEROUPPER
	RET

// winoRow stores the column transform of e = Y0..Y3 to R13, R13+ldd,
// R13+2·ldd, R13+3·ldd (R11 = 3·ldd) and advances R13 by 4·ldd.
TEXT winoRow<>(SB), NOSPLIT|NOFRAME, $0-0
	VSUBPS  Y2, Y0, Y12 // e0 − e2
	VADDPS  Y2, Y1, Y13 // e1 + e2
	VSUBPS  Y1, Y2, Y14 // e2 − e1
	VSUBPS  Y3, Y1, Y15 // e1 − e3
	VMOVUPS Y12, (R13)
	VMOVUPS Y13, (R13)(R8*1)
	VMOVUPS Y14, (R13)(R8*2)
	VMOVUPS Y15, (R13)(R11*1)
	LEAQ    (R13)(R8*4), R13
	RET

// func winogradOutAVX2(dst *float32, ldd int, src *float32, lds int, n int)
//
// winogradOutGeneric for n a positive multiple of 8.
TEXT ·winogradOutAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	MOVQ n+32(FP), CX
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, CX // n in bytes (= the pixel stride of dst)
	LEAQ (R9)(R9*2), R11 // 3·lds
	XORQ BX, BX

woutloop:
	LEAQ (SI)(BX*1), AX
	// s0[b] = q0b + q1b + q2b → Y0..Y3; s1[b] = q1b − q2b − q3b → Y4..Y7
	// q row a, column b at AX + (4a+b)·lds
	VMOVUPS (AX), Y8          // q00
	VMOVUPS (AX)(R9*1), Y9    // q01
	VMOVUPS (AX)(R9*2), Y10   // q02
	VMOVUPS (AX)(R11*1), Y11  // q03
	LEAQ (AX)(R9*4), DX       // row 1
	VADDPS (DX), Y8, Y0
	VADDPS (DX)(R9*1), Y9, Y1
	VADDPS (DX)(R9*2), Y10, Y2
	VADDPS (DX)(R11*1), Y11, Y3
	VMOVUPS (DX), Y4
	VMOVUPS (DX)(R9*1), Y5
	VMOVUPS (DX)(R9*2), Y6
	VMOVUPS (DX)(R11*1), Y7
	LEAQ (DX)(R9*4), DX       // row 2
	VMOVUPS (DX), Y8
	VMOVUPS (DX)(R9*1), Y9
	VMOVUPS (DX)(R9*2), Y10
	VMOVUPS (DX)(R11*1), Y11
	VADDPS Y8, Y0, Y0
	VADDPS Y9, Y1, Y1
	VADDPS Y10, Y2, Y2
	VADDPS Y11, Y3, Y3
	VSUBPS Y8, Y4, Y4
	VSUBPS Y9, Y5, Y5
	VSUBPS Y10, Y6, Y6
	VSUBPS Y11, Y7, Y7
	LEAQ (DX)(R9*4), DX       // row 3
	VSUBPS (DX), Y4, Y4
	VSUBPS (DX)(R9*1), Y5, Y5
	VSUBPS (DX)(R9*2), Y6, Y6
	VSUBPS (DX)(R11*1), Y7, Y7
	LEAQ (DI)(BX*1), R13
	// y[a][0] = s0 + s1 + s2; y[a][1] = s1 − s2 − s3
	VADDPS Y1, Y0, Y12
	VADDPS Y2, Y12, Y12
	VSUBPS Y2, Y1, Y13
	VSUBPS Y3, Y13, Y13
	VMOVUPS Y12, (R13)
	VMOVUPS Y13, (R13)(CX*1)
	VADDPS Y5, Y4, Y12
	VADDPS Y6, Y12, Y12
	VSUBPS Y6, Y5, Y13
	VSUBPS Y7, Y13, Y13
	ADDQ R8, R13
	VMOVUPS Y12, (R13)
	VMOVUPS Y13, (R13)(CX*1)
	ADDQ $32, BX
	CMPQ BX, CX
	JLT  woutloop
	VZEROUPPER
	RET

// func lifStepAVX2(n int, x, u, s, uo, so *float32, rb *uint64, bit uint64, lam, vth float32, hard int) int
//
// lifStepGeneric for n a positive multiple of 8.
TEXT ·lifStepAVX2(SB), NOSPLIT, $0-88
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ u+16(FP), R8
	MOVQ s+24(FP), R9
	MOVQ uo+32(FP), R10
	MOVQ so+40(FP), R11
	MOVQ rb+48(FP), DI
	VPBROADCASTQ bit+56(FP), Y15
	VBROADCASTSS lam+64(FP), Y14
	VBROADCASTSS vth+68(FP), Y13
	MOVQ hard+72(FP), DX
	MOVL $0x3f800000, AX
	MOVL AX, X12
	VBROADCASTSS X12, Y12 // 1.0
	XORQ BX, BX  // index
	XORQ R12, R12 // count

sloop:
	VMOVUPS (R8)(BX*4), Y0 // u
	VMOVUPS (R9)(BX*4), Y1 // s
	TESTQ DX, DX
	JZ    ssoft
	VSUBPS Y1, Y12, Y2 // 1 − s
	VMULPS Y2, Y0, Y2  // h = u·(1−s)
	JMP    sv

ssoft:
	VMULPS Y1, Y13, Y2 // vth·s
	VSUBPS Y2, Y0, Y2  // h = u − vth·s

sv:
	VMULPS  Y14, Y2, Y2      // lam·h
	VADDPS  (SI)(BX*4), Y2, Y2 // v
	VMOVUPS Y2, (R10)(BX*4)
	VCMPPS  $0x1d, Y13, Y2, Y3 // v >= vth (ordered)
	VANDPS  Y12, Y3, Y4
	VMOVUPS Y4, (R11)(BX*4)
	VMOVMSKPS Y3, AX
	POPCNTL AX, AX
	ADDQ    AX, R12
	// Spike bits: sign-extend the lane masks to 64 bits, AND the bit in,
	// OR into the neurons' words.
	VPMOVSXDQ X3, Y4
	VEXTRACTF128 $1, Y3, X5
	VPMOVSXDQ X5, Y5
	VPAND   Y15, Y4, Y4
	VPAND   Y15, Y5, Y5
	VPOR    (DI)(BX*8), Y4, Y4
	VPOR    32(DI)(BX*8), Y5, Y5
	VMOVDQU Y4, (DI)(BX*8)
	VMOVDQU Y5, 32(DI)(BX*8)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  sloop
	MOVQ R12, ret+80(FP)
	VZEROUPPER
	RET
