//go:build gc && !purego && !noasm

#include "go_asm.h"
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

// The LIF routines run a lifFrame (elem_simd.go) block by block: for each
// pixel, each block of 16 channels carries its membranes h in registers
// through the steps; each step writes the block's 16 spike bits as one
// uint16 at byte offset 2·block of the pixel's output words. The last block
// of a pixel is partial when C%16 ≠ 0: its loads, its state store and its
// spike bits are masked to its tailN channels. The chunks of the last
// output word past the last block are left for the Go caller to clear.
// Absent inputs have nil pointers and zero strides, so they stay nil.
//
// Register use:
//   DI frame, DX pixels left, BX block, CX block byte offset (floats),
//   SI hard flag, R13 steps left, AX scratch;
//   R8 x, R9 gate, R10 float shortcut, R11 spike shortcut, R12 out, each
//   at this step of this block.

// lifOne<>: float32 1.
DATA lifOne<>+0(SB)/4, $0x3f800000
GLOBL lifOne<>(SB), RODATA|NOPTR, $4

// LIFPTRS points R8-R12 at this pixel's block BX (byte offset CX) at step
// 0; a nil input stays nil.
#define LIFPTRS \
	MOVQ    lifFrame_x(DI), R8;       \
	ADDQ    CX, R8;                   \
	MOVQ    lifFrame_g(DI), R9;       \
	LEAQ    (R9)(CX*1), AX;           \
	TESTQ   R9, R9;                   \
	CMOVQNE AX, R9;                   \
	MOVQ    lifFrame_r(DI), R10;      \
	LEAQ    (R10)(CX*1), AX;          \
	TESTQ   R10, R10;                 \
	CMOVQNE AX, R10;                  \
	MOVQ    lifFrame_s(DI), R11;      \
	LEAQ    (R11)(BX*2), AX;          \
	TESTQ   R11, R11;                 \
	CMOVQNE AX, R11;                  \
	MOVQ    lifFrame_out(DI), R12;    \
	LEAQ    (R12)(BX*2), R12;         \
	MOVQ    lifFrame_steps(DI), R13

// LIFNEXT advances R8-R12 by one step and counts it.
#define LIFNEXT \
	ADDQ lifFrame_xStep(DI), R8;  \
	ADDQ lifFrame_gStep(DI), R9;  \
	ADDQ lifFrame_rStep(DI), R10; \
	ADDQ lifFrame_sStep(DI), R11; \
	ADDQ lifFrame_oStep(DI), R12; \
	DECQ R13

// LIFPIXEL advances the frame's pixel pointers by one pixel.
#define LIFPIXEL \
	MOVQ lifFrame_xPix(DI), AX; \
	ADDQ AX, lifFrame_x(DI);    \
	MOVQ lifFrame_rPix(DI), AX; \
	ADDQ AX, lifFrame_r(DI);    \
	MOVQ lifFrame_sPix(DI), AX; \
	ADDQ AX, lifFrame_s(DI);    \
	MOVQ lifFrame_hPix(DI), AX; \
	ADDQ AX, lifFrame_h(DI);    \
	MOVQ lifFrame_oPix(DI), AX; \
	ADDQ AX, lifFrame_out(DI)

// func lifAVX512(f *lifFrame)
// A word (four blocks, 64 channels) at a time: Z0/Z2/Z4/Z6 the membranes
// and Z1/Z3/Z5/Z7 the inputs of its blocks, so four dependency chains
// through the steps overlap and the pointer and branch work is shared.
// Full words run l512quad; the last word when C%64 ≠ 0 runs masked: K1,
// K4, K5, K6 hold the lanes of its four blocks, below C, so its loads,
// state store and spikes stop at C;
// K2 spike shortcut bits, K3 spikes, K7 lanes that did not spike. Each
// step gathers the word's spikes in SI, stores it with one MOVQ and, when
// lifFrame.cnt is set, adds its popcount and whether it is non-zero to the
// step's two counters (R14).
TEXT ·lifAVX512(SB), NOSPLIT, $0-8
	MOVQ         f+0(FP), DI
	VBROADCASTSS lifFrame_lam(DI), Z30
	VBROADCASTSS lifFrame_vth(DI), Z31
	VBROADCASTSS lifOne<>(SB), Z29
	MOVQ         lifFrame_npix(DI), DX

l512pix:
	XORQ BX, BX

l512word:
	CMPQ     BX, lifFrame_qblk(DI)
	JLT      l512quad
	MOVQ     $-1, AX
	LEAQ     4(BX), CX
	CMPQ     CX, lifFrame_nblk(DI)
	CMOVQGE  lifFrame_lastK(DI), AX // the last word: lanes below C
	KMOVQ    AX, K1
	KSHIFTRQ $16, K1, K4
	KSHIFTRQ $32, K1, K5
	KSHIFTRQ $48, K1, K6
	MOVQ     BX, CX
	SHLQ     $6, CX
	VPXORD   Z0, Z0, Z0
	VPXORD   Z2, Z2, Z2
	VPXORD   Z4, Z4, Z4
	VPXORD   Z6, Z6, Z6
	MOVQ     lifFrame_h(DI), AX
	TESTQ    AX, AX
	JZ       l512h0
	VMOVUPS.Z (AX)(CX*1), K1, Z0
	VMOVUPS.Z 64(AX)(CX*1), K4, Z2
	VMOVUPS.Z 128(AX)(CX*1), K5, Z4
	VMOVUPS.Z 192(AX)(CX*1), K6, Z6

l512h0:
	LIFPTRS
	MOVQ lifFrame_cnt(DI), R14

l512step:
	VMOVUPS.Z (R8), K1, Z1
	VMOVUPS.Z 64(R8), K4, Z3
	VMOVUPS.Z 128(R8), K5, Z5
	VMOVUPS.Z 192(R8), K6, Z7
	TESTQ     R9, R9
	JZ        l512nog
	VMULPS.Z  (R9), Z1, K1, Z1
	VMULPS.Z  64(R9), Z3, K4, Z3
	VMULPS.Z  128(R9), Z5, K5, Z5
	VMULPS.Z  192(R9), Z7, K6, Z7

l512nog:
	TESTQ    R10, R10
	JZ       l512nor
	VADDPS.Z (R10), Z1, K1, Z1
	VADDPS.Z 64(R10), Z3, K4, Z3
	VADDPS.Z 128(R10), Z5, K5, Z5
	VADDPS.Z 192(R10), Z7, K6, Z7

l512nor:
	TESTQ    R11, R11
	JZ       l512nos
	KMOVQ    (R11), K2 // the word's shortcut spikes (pad bits: masked lanes only)
	VADDPS   Z29, Z1, K2, Z1
	KSHIFTRQ $16, K2, K2
	VADDPS   Z29, Z3, K2, Z3
	KSHIFTRQ $16, K2, K2
	VADDPS   Z29, Z5, K2, Z5
	KSHIFTRQ $16, K2, K2
	VADDPS   Z29, Z7, K2, Z7

l512nos:
	VMULPS Z30, Z0, Z0
	VMULPS Z30, Z2, Z2
	VMULPS Z30, Z4, Z4
	VMULPS Z30, Z6, Z6
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z5, Z4, Z4
	VADDPS Z7, Z6, Z6
	XORQ   SI, SI
	CMPQ   lifFrame_hard(DI), $0
	JEQ    l512soft

	// Hard reset: u >= Vth spikes (ordered: NaN does not), h = +0 there.
	VCMPPS    $0x0d, Z31, Z0, K1, K3
	KNOTW     K3, K7
	VMOVAPS.Z Z0, K7, Z0
	KMOVW     K3, AX
	ORQ       AX, SI
	VCMPPS    $0x0d, Z31, Z2, K4, K3
	KNOTW     K3, K7
	VMOVAPS.Z Z2, K7, Z2
	KMOVW     K3, AX
	SHLQ      $16, AX
	ORQ       AX, SI
	VCMPPS    $0x0d, Z31, Z4, K5, K3
	KNOTW     K3, K7
	VMOVAPS.Z Z4, K7, Z4
	KMOVW     K3, AX
	SHLQ      $32, AX
	ORQ       AX, SI
	VCMPPS    $0x0d, Z31, Z6, K6, K3
	KNOTW     K3, K7
	VMOVAPS.Z Z6, K7, Z6
	KMOVW     K3, AX
	SHLQ      $48, AX
	ORQ       AX, SI
	JMP       l512out

l512soft:
	// Soft reset: h = u − Vth where it spiked, u elsewhere.
	VCMPPS $0x0d, Z31, Z0, K1, K3
	VSUBPS Z31, Z0, K3, Z0
	KMOVW  K3, AX
	ORQ    AX, SI
	VCMPPS $0x0d, Z31, Z2, K4, K3
	VSUBPS Z31, Z2, K3, Z2
	KMOVW  K3, AX
	SHLQ   $16, AX
	ORQ    AX, SI
	VCMPPS $0x0d, Z31, Z4, K5, K3
	VSUBPS Z31, Z4, K3, Z4
	KMOVW  K3, AX
	SHLQ   $32, AX
	ORQ    AX, SI
	VCMPPS $0x0d, Z31, Z6, K6, K3
	VSUBPS Z31, Z6, K3, Z6
	KMOVW  K3, AX
	SHLQ   $48, AX
	ORQ    AX, SI

l512out:
	MOVQ    SI, (R12)
	TESTQ   R14, R14
	JZ      l512nc
	POPCNTQ SI, AX
	ADDQ    AX, (R14)
	NEGQ    SI         // CF = 1 when the word is not zero
	ADCQ    $0, 8(R14)
	ADDQ    $16, R14

l512nc:
	LIFNEXT
	JNZ l512step

	MOVQ  lifFrame_h(DI), AX
	TESTQ AX, AX
	JZ    l512nh
	VMOVUPS Z0, K1, (AX)(CX*1)
	VMOVUPS Z2, K4, 64(AX)(CX*1)
	VMOVUPS Z4, K5, 128(AX)(CX*1)
	VMOVUPS Z6, K6, 192(AX)(CX*1)

l512nh:
	ADDQ $4, BX
	CMPQ BX, lifFrame_nblk(DI)
	JLT  l512word

l512pixend:
	LIFPIXEL
	DECQ DX
	JNZ  l512pix
	VZEROUPPER
	RET

// The full words of lifAVX512 (blocks below lifFrame.qblk): as above with
// no lane masks, the four spike masks joined in K registers.
l512quad:
	MOVQ   BX, CX
	SHLQ   $6, CX
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	VPXORD Z4, Z4, Z4
	VPXORD Z6, Z6, Z6
	MOVQ   lifFrame_h(DI), AX
	TESTQ  AX, AX
	JZ     l512qh0
	VMOVUPS (AX)(CX*1), Z0
	VMOVUPS 64(AX)(CX*1), Z2
	VMOVUPS 128(AX)(CX*1), Z4
	VMOVUPS 192(AX)(CX*1), Z6

l512qh0:
	LIFPTRS
	MOVQ lifFrame_cnt(DI), R14

l512qstep:
	VMOVUPS (R8), Z1
	VMOVUPS 64(R8), Z3
	VMOVUPS 128(R8), Z5
	VMOVUPS 192(R8), Z7
	TESTQ   R9, R9
	JZ      l512qnog
	VMULPS  (R9), Z1, Z1
	VMULPS  64(R9), Z3, Z3
	VMULPS  128(R9), Z5, Z5
	VMULPS  192(R9), Z7, Z7

l512qnog:
	TESTQ  R10, R10
	JZ     l512qnor
	VADDPS (R10), Z1, Z1
	VADDPS 64(R10), Z3, Z3
	VADDPS 128(R10), Z5, Z5
	VADDPS 192(R10), Z7, Z7

l512qnor:
	TESTQ    R11, R11
	JZ       l512qnos
	KMOVQ    (R11), K2
	VADDPS   Z29, Z1, K2, Z1
	KSHIFTRQ $16, K2, K2
	VADDPS   Z29, Z3, K2, Z3
	KSHIFTRQ $16, K2, K2
	VADDPS   Z29, Z5, K2, Z5
	KSHIFTRQ $16, K2, K2
	VADDPS   Z29, Z7, K2, Z7

l512qnos:
	VMULPS Z30, Z0, Z0
	VMULPS Z30, Z2, Z2
	VMULPS Z30, Z4, Z4
	VMULPS Z30, Z6, Z6
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z5, Z4, Z4
	VADDPS Z7, Z6, Z6
	VCMPPS $0x0d, Z31, Z0, K3
	VCMPPS $0x0d, Z31, Z2, K4
	VCMPPS $0x0d, Z31, Z4, K5
	VCMPPS $0x0d, Z31, Z6, K6
	CMPQ   lifFrame_hard(DI), $0
	JEQ    l512qsoft
	KNOTW  K3, K7
	VMOVAPS.Z Z0, K7, Z0
	KNOTW  K4, K7
	VMOVAPS.Z Z2, K7, Z2
	KNOTW  K5, K7
	VMOVAPS.Z Z4, K7, Z4
	KNOTW  K6, K7
	VMOVAPS.Z Z6, K7, Z6
	JMP    l512qout

l512qsoft:
	VSUBPS Z31, Z0, K3, Z0
	VSUBPS Z31, Z2, K4, Z2
	VSUBPS Z31, Z4, K5, Z4
	VSUBPS Z31, Z6, K6, Z6

l512qout:
	KUNPCKWD K3, K4, K3 // K3 = K4:K3
	KUNPCKWD K5, K6, K5 // K5 = K6:K5
	KUNPCKDQ K3, K5, K3 // K3 = K5:K3, the 64 spikes of the word
	KMOVQ    K3, (R12)
	TESTQ    R14, R14
	JZ       l512qnc
	KMOVQ    K3, AX
	POPCNTQ  AX, AX
	ADDQ     AX, (R14)
	NEGQ     AX        // CF = 1 when the word is not zero
	ADCQ     $0, 8(R14)
	ADDQ     $16, R14

l512qnc:
	LIFNEXT
	JNZ l512qstep

	MOVQ  lifFrame_h(DI), AX
	TESTQ AX, AX
	JZ    l512qnh
	VMOVUPS Z0, (AX)(CX*1)
	VMOVUPS Z2, 64(AX)(CX*1)
	VMOVUPS Z4, 128(AX)(CX*1)
	VMOVUPS Z6, 192(AX)(CX*1)

l512qnh:
	ADDQ $4, BX
	CMPQ BX, lifFrame_nblk(DI)
	JLT  l512word
	JMP  l512pixend

// lifMask<>: 16 dwords of -1 then 16 of 0; the 16 dwords at byte offset
// 4·(16−n) are the AVX2 masks of the first n lanes of a block.
DATA lifMask<>+0(SB)/8, $-1
DATA lifMask<>+8(SB)/8, $-1
DATA lifMask<>+16(SB)/8, $-1
DATA lifMask<>+24(SB)/8, $-1
DATA lifMask<>+32(SB)/8, $-1
DATA lifMask<>+40(SB)/8, $-1
DATA lifMask<>+48(SB)/8, $-1
DATA lifMask<>+56(SB)/8, $-1
DATA lifMask<>+64(SB)/8, $0
DATA lifMask<>+72(SB)/8, $0
DATA lifMask<>+80(SB)/8, $0
DATA lifMask<>+88(SB)/8, $0
DATA lifMask<>+96(SB)/8, $0
DATA lifMask<>+104(SB)/8, $0
DATA lifMask<>+112(SB)/8, $0
DATA lifMask<>+120(SB)/8, $0
GLOBL lifMask<>(SB), RODATA|NOPTR, $128

// lifBits<>: dword i is 1<<i, i < 16: the spike shortcut bit of lane i.
DATA lifBits<>+0(SB)/8, $0x0000000200000001
DATA lifBits<>+8(SB)/8, $0x0000000800000004
DATA lifBits<>+16(SB)/8, $0x0000002000000010
DATA lifBits<>+24(SB)/8, $0x0000008000000040
DATA lifBits<>+32(SB)/8, $0x0000020000000100
DATA lifBits<>+40(SB)/8, $0x0000080000000400
DATA lifBits<>+48(SB)/8, $0x0000200000001000
DATA lifBits<>+56(SB)/8, $0x0000800000004000
GLOBL lifBits<>(SB), RODATA|NOPTR, $64

// func lifAVX2(f *lifFrame)
// Y0,Y1 h (lanes 0-7, 8-15), Y2,Y3 z, Y4-Y7 scratch, Y9 Vth, Y10 λ, Y11 1,
// Y12,Y13 lane bits, Y14,Y15 lanes of the block.
TEXT ·lifAVX2(SB), NOSPLIT, $0-8
	MOVQ         f+0(FP), DI
	VBROADCASTSS lifFrame_lam(DI), Y10
	VBROADCASTSS lifFrame_vth(DI), Y9
	VBROADCASTSS lifOne<>(SB), Y11
	VMOVDQU      lifBits<>+0(SB), Y12
	VMOVDQU      lifBits<>+32(SB), Y13
	MOVQ         lifFrame_hard(DI), SI
	MOVQ         lifFrame_npix(DI), DX

l2pix:
	XORQ BX, BX

l2blk:
	MOVL    $16, AX
	LEAQ    1(BX), CX
	CMPQ    CX, lifFrame_nblk(DI)
	CMOVQEQ lifFrame_tailN(DI), AX
	SHLQ    $2, AX
	LEAQ    lifMask<>+64(SB), CX
	SUBQ    AX, CX
	VMOVDQU (CX), Y14
	VMOVDQU 32(CX), Y15
	MOVQ    BX, CX
	SHLQ    $6, CX
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	MOVQ    lifFrame_h(DI), AX
	TESTQ   AX, AX
	JZ      l2h0
	VMASKMOVPS (AX)(CX*1), Y14, Y0
	VMASKMOVPS 32(AX)(CX*1), Y15, Y1

l2h0:
	LIFPTRS

l2step:
	VMASKMOVPS (R8), Y14, Y2
	VMASKMOVPS 32(R8), Y15, Y3
	TESTQ      R9, R9
	JZ         l2nog
	VMASKMOVPS (R9), Y14, Y4
	VMASKMOVPS 32(R9), Y15, Y5
	VMULPS     Y2, Y4, Y2
	VMULPS     Y3, Y5, Y3

l2nog:
	TESTQ      R10, R10
	JZ         l2nor
	VMASKMOVPS (R10), Y14, Y4
	VMASKMOVPS 32(R10), Y15, Y5
	VADDPS     Y4, Y2, Y2
	VADDPS     Y5, Y3, Y3

l2nor:
	TESTQ        R11, R11
	JZ           l2nos
	MOVWLZX      (R11), AX
	VMOVD        AX, X4
	VPBROADCASTD X4, Y4
	VPAND        Y12, Y4, Y5
	VPCMPEQD     Y12, Y5, Y5
	VPAND        Y13, Y4, Y6
	VPCMPEQD     Y13, Y6, Y6
	VADDPS       Y11, Y2, Y7
	VBLENDVPS    Y5, Y7, Y2, Y2 // z + 1 where the shortcut spiked
	VADDPS       Y11, Y3, Y7
	VBLENDVPS    Y6, Y7, Y3, Y3

l2nos:
	VMULPS Y10, Y0, Y0
	VMULPS Y10, Y1, Y1
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VCMPPS $0x0d, Y9, Y0, Y4 // u >= Vth (ordered: NaN does not spike)
	VCMPPS $0x0d, Y9, Y1, Y5
	VANDPS Y14, Y4, Y4
	VANDPS Y15, Y5, Y5
	TESTQ  SI, SI
	JZ     l2soft
	VANDNPS Y0, Y4, Y0 // +0 where it spiked
	VANDNPS Y1, Y5, Y1
	JMP     l2out

l2soft:
	VANDPS Y9, Y4, Y6 // u − Vth where it spiked, u − (+0) = u elsewhere
	VSUBPS Y6, Y0, Y0
	VANDPS Y9, Y5, Y7
	VSUBPS Y7, Y1, Y1

l2out:
	VMOVMSKPS Y4, AX
	VMOVMSKPS Y5, CX
	SHLL      $8, CX
	ORL       CX, AX
	MOVW      AX, (R12)
	LIFNEXT
	JNZ       l2step

	MOVQ  BX, CX
	SHLQ  $6, CX
	MOVQ  lifFrame_h(DI), AX
	TESTQ AX, AX
	JZ    l2nh
	VMASKMOVPS Y0, Y14, (AX)(CX*1)
	VMASKMOVPS Y1, Y15, 32(AX)(CX*1)

l2nh:
	INCQ BX
	CMPQ BX, lifFrame_nblk(DI)
	JLT  l2blk
	LIFPIXEL
	DECQ DX
	JNZ  l2pix
	VZEROUPPER
	RET

// func statSpatialAVX512(sum *float64, x *float32, pixels, stride, nblk int)
// nblk blocks of 16 channels; each lane adds its channel's pixels in pixel
// order into a float64 accumulator (Z0 channels 0-7, Z1 8-15; four blocks
// at a time in Z0-Z7 while at least four are left).
// pixels, nblk > 0; stride in floats.
TEXT ·statSpatialAVX512(SB), NOSPLIT, $0-40
	MOVQ sum+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	MOVQ nblk+32(FP), BX

	// Four blocks at a time: eight independent sums, so the VADDPD latency
	// is hidden (two chains would leave the adder waiting).
ss512quad:
	CMPQ   BX, $4
	JLT    ss512rest
	MOVQ   SI, R8
	MOVQ   pixels+16(FP), CX
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	VXORPD Z2, Z2, Z2
	VXORPD Z3, Z3, Z3
	VXORPD Z4, Z4, Z4
	VXORPD Z5, Z5, Z5
	VXORPD Z6, Z6, Z6
	VXORPD Z7, Z7, Z7

ss512qpix:
	VCVTPS2PD (R8), Z8
	VCVTPS2PD 32(R8), Z9
	VCVTPS2PD 64(R8), Z10
	VCVTPS2PD 96(R8), Z11
	VCVTPS2PD 128(R8), Z12
	VCVTPS2PD 160(R8), Z13
	VCVTPS2PD 192(R8), Z14
	VCVTPS2PD 224(R8), Z15
	VADDPD    Z8, Z0, Z0
	VADDPD    Z9, Z1, Z1
	VADDPD    Z10, Z2, Z2
	VADDPD    Z11, Z3, Z3
	VADDPD    Z12, Z4, Z4
	VADDPD    Z13, Z5, Z5
	VADDPD    Z14, Z6, Z6
	VADDPD    Z15, Z7, Z7
	ADDQ      DX, R8
	DECQ      CX
	JNZ       ss512qpix
	VMOVUPD   Z0, (DI)
	VMOVUPD   Z1, 64(DI)
	VMOVUPD   Z2, 128(DI)
	VMOVUPD   Z3, 192(DI)
	VMOVUPD   Z4, 256(DI)
	VMOVUPD   Z5, 320(DI)
	VMOVUPD   Z6, 384(DI)
	VMOVUPD   Z7, 448(DI)
	ADDQ      $512, DI
	ADDQ      $256, SI
	SUBQ      $4, BX
	JMP       ss512quad

ss512rest:
	TESTQ BX, BX
	JZ    ss512done

ss512blk:
	MOVQ   SI, R8
	MOVQ   pixels+16(FP), CX
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1

ss512pix:
	VCVTPS2PD (R8), Z2
	VCVTPS2PD 32(R8), Z3
	VADDPD    Z2, Z0, Z0
	VADDPD    Z3, Z1, Z1
	ADDQ      DX, R8
	DECQ      CX
	JNZ       ss512pix
	VMOVUPD   Z0, (DI)
	VMOVUPD   Z1, 64(DI)
	ADDQ      $128, DI
	ADDQ      $64, SI
	DECQ      BX
	JNZ       ss512blk

ss512done:
	VZEROUPPER
	RET

// func statSpatialAVX2(sum *float64, x *float32, pixels, stride, nblk int)
// As statSpatialAVX512, with Y0-Y3 holding channels 0-3, 4-7, 8-11, 12-15.
TEXT ·statSpatialAVX2(SB), NOSPLIT, $0-40
	MOVQ sum+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	MOVQ nblk+32(FP), BX

ss2blk:
	MOVQ   SI, R8
	MOVQ   pixels+16(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

ss2pix:
	VCVTPS2PD (R8), Y4
	VCVTPS2PD 16(R8), Y5
	VCVTPS2PD 32(R8), Y6
	VCVTPS2PD 48(R8), Y7
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y6, Y2, Y2
	VADDPD    Y7, Y3, Y3
	ADDQ      DX, R8
	DECQ      CX
	JNZ       ss2pix
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y1, 32(DI)
	VMOVUPD   Y2, 64(DI)
	VMOVUPD   Y3, 96(DI)
	ADDQ      $128, DI
	ADDQ      $64, SI
	DECQ      BX
	JNZ       ss2blk
	VZEROUPPER
	RET

// func avgSpikesAVX512(dst *float32, src *uint64, off *int32, ntap, nchunk, tailK int, table *float32)
// ntap in 1..31, nchunk ≥ 1. Per chunk of 16 channels (CX its byte offset
// in a vector's words): Z0 the int32 counts, one masked VPADDD of ones
// (Z29) per vector, then Z0 = table[Z0] from Z30 (entries 0-15) and Z31
// (16-31); the last chunk's store is masked to tailK.
TEXT ·avgSpikesAVX512(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         off+16(FP), R8
	MOVQ         ntap+24(FP), R9
	MOVQ         nchunk+32(FP), R10
	MOVQ         table+48(FP), AX
	VMOVUPS      (AX), Z30
	VMOVUPS      64(AX), Z31
	MOVL         $1, AX
	VPBROADCASTD AX, Z29
	XORQ         CX, CX

avchunk:
	VPXORD Z0, Z0, Z0
	XORQ   BX, BX

avtap:
	MOVLQSX (R8)(BX*4), DX
	LEAQ    (SI)(DX*8), DX
	KMOVW   (DX)(CX*1), K1
	VPADDD  Z29, Z0, K1, Z0
	INCQ    BX
	CMPQ    BX, R9
	JLT     avtap
	VPERMI2PS Z31, Z30, Z0
	DECQ    R10
	JZ      avlast
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	ADDQ    $2, CX
	JMP     avchunk

avlast:
	MOVQ    tailK+40(FP), AX
	KMOVW   AX, K2
	VMOVUPS Z0, K2, (DI)
	VZEROUPPER
	RET
