//go:build gc && !purego && !noasm

#include "textflag.h"

// Element-wise float kernels, AVX-512 (AVX512F) and AVX2. Every float32
// operation is its own instruction (VMULPS then VADDPS, never an FMA), so
// each lane computes what the generic Go code computes, rounded the same
// way. Tails are handled with masked loads and stores (K registers on
// AVX-512, VMASKMOVPS/VPMASKMOVD on AVX2), which neither read nor write the
// masked-off elements. Lengths are checked by the Go callers.

// maskTail<>: 8 dwords of -1 then 8 of 0. The 8 dwords at byte offset
// 4·(8−r) are the AVX2 mask of the first r lanes.
DATA maskTail<>+0(SB)/8, $-1
DATA maskTail<>+8(SB)/8, $-1
DATA maskTail<>+16(SB)/8, $-1
DATA maskTail<>+24(SB)/8, $-1
DATA maskTail<>+32(SB)/8, $0
DATA maskTail<>+40(SB)/8, $0
DATA maskTail<>+48(SB)/8, $0
DATA maskTail<>+56(SB)/8, $0
GLOBL maskTail<>(SB), RODATA|NOPTR, $64

// func scaleBiasAVX512(dst *float32, acc *int32, m, n int, scale, bias *float32)
// m, n > 0.
TEXT ·scaleBiasAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ acc+8(FP), SI
	MOVQ m+16(FP), BX
	MOVQ n+24(FP), DX
	MOVQ scale+32(FP), R8
	MOVQ bias+40(FP), R9
	MOVQ DX, CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1 // lanes of the n%16 last columns
	MOVQ DX, R10
	ANDQ $-16, R10 // columns in full vectors
	SHLQ $2, DX    // row stride in bytes

sb512row:
	XORQ CX, CX
	CMPQ CX, R10
	JGE  sb512tail

sb512full:
	VCVTDQ2PS (SI)(CX*4), Z0
	VMULPS    (R8)(CX*4), Z0, Z0
	VADDPS    (R9)(CX*4), Z0, Z0
	VMOVUPS   Z0, (DI)(CX*4)
	ADDQ      $16, CX
	CMPQ      CX, R10
	JLT       sb512full

sb512tail:
	KORTESTW    K1, K1
	JZ          sb512next
	VMOVDQU32.Z (SI)(CX*4), K1, Z0
	VCVTDQ2PS   Z0, Z0
	VMOVUPS.Z   (R8)(CX*4), K1, Z1
	VMULPS      Z1, Z0, Z0
	VMOVUPS.Z   (R9)(CX*4), K1, Z1
	VADDPS      Z1, Z0, Z0
	VMOVUPS     Z0, K1, (DI)(CX*4)

sb512next:
	ADDQ DX, SI
	ADDQ DX, DI
	DECQ BX
	JNZ  sb512row
	VZEROUPPER
	RET

// func scaleBiasAVX2(dst *float32, acc *int32, m, n int, scale, bias *float32)
// m, n > 0.
TEXT ·scaleBiasAVX2(SB), NOSPLIT, $0-48
	MOVQ    dst+0(FP), DI
	MOVQ    acc+8(FP), SI
	MOVQ    m+16(FP), BX
	MOVQ    n+24(FP), DX
	MOVQ    scale+32(FP), R8
	MOVQ    bias+40(FP), R9
	MOVQ    DX, CX
	ANDQ    $7, CX
	SHLQ    $2, CX
	LEAQ    maskTail<>+32(SB), AX
	SUBQ    CX, AX
	VMOVDQU (AX), Y15 // lanes of the n%8 last columns
	MOVQ    DX, R10
	ANDQ    $-8, R10  // columns in full vectors
	SHLQ    $2, DX    // row stride in bytes

sb2row:
	XORQ CX, CX
	CMPQ CX, R10
	JGE  sb2tail

sb2full:
	VCVTDQ2PS (SI)(CX*4), Y0
	VMULPS    (R8)(CX*4), Y0, Y0
	VADDPS    (R9)(CX*4), Y0, Y0
	VMOVUPS   Y0, (DI)(CX*4)
	ADDQ      $8, CX
	CMPQ      CX, R10
	JLT       sb2full

sb2tail:
	CMPQ       CX, n+24(FP)
	JGE        sb2next
	VPMASKMOVD (SI)(CX*4), Y15, Y0
	VCVTDQ2PS  Y0, Y0
	VMASKMOVPS (R8)(CX*4), Y15, Y1
	VMULPS     Y1, Y0, Y0
	VMASKMOVPS (R9)(CX*4), Y15, Y1
	VADDPS     Y1, Y0, Y0
	VMASKMOVPS Y0, Y15, (DI)(CX*4)

sb2next:
	ADDQ DX, SI
	ADDQ DX, DI
	DECQ BX
	JNZ  sb2row
	VZEROUPPER
	RET
