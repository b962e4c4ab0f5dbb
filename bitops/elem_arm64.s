//go:build gc && !purego && !noasm

#include "go_asm.h"
#include "textflag.h"

// NEON element-wise float kernels. Every float32 operation is its own
// instruction (FMUL then FADD, never FMLA), so each lane computes what the
// generic Go code computes, rounded the same way. Go's assembler has no
// mnemonics for the vector float instructions, so they are WORD encodings
// (checked with llvm-mc) built by the macros below from register numbers.
// Lengths are checked by the Go callers in elem_arm64.go.

// Vd.4S = float(Vn.4S) (signed int32 to float32, round to nearest)
#define SCVTF4S(n, d) WORD $(0x4e21d800 | (n<<5) | d)
// Vd.4S = Vn.4S · Vm.4S
#define FMUL4S(m, n, d) WORD $(0x6e20dc00 | (m<<16) | (n<<5) | d)
// Vd.4S = Vn.4S + Vm.4S
#define FADD4S(m, n, d) WORD $(0x4e20d400 | (m<<16) | (n<<5) | d)

// func scaleBiasNEON(dst *float32, acc *int32, m, n, nv int, scale, bias *float32)
// m, nv > 0; the routine handles the first 4·nv columns of each row of n.
TEXT ·scaleBiasNEON(SB), NOSPLIT, $0-56
	MOVD dst+0(FP), R0
	MOVD acc+8(FP), R1
	MOVD m+16(FP), R2
	MOVD n+24(FP), R3
	MOVD nv+32(FP), R4
	MOVD scale+40(FP), R5
	MOVD bias+48(FP), R6
	LSL  $2, R3 // row stride in bytes

sbnrow:
	MOVD R0, R7
	MOVD R1, R8
	MOVD R5, R9
	MOVD R6, R10
	MOVD R4, R11

sbncol:
	VLD1.P 16(R8), [V0.S4]
	VLD1.P 16(R9), [V1.S4]
	VLD1.P 16(R10), [V2.S4]
	SCVTF4S(0, 0)
	FMUL4S(1, 0, 0)
	FADD4S(2, 0, 0)
	VST1.P [V0.S4], 16(R7)
	SUB    $1, R11
	CBNZ   R11, sbncol
	ADD    R3, R0
	ADD    R3, R1
	SUB    $1, R2
	CBNZ   R2, sbnrow
	RET

// Vd.4S = Vn.4S − Vm.4S
#define FSUB4S(m, n, d) WORD $(0x4ea0d400 | (m<<16) | (n<<5) | d)
// Vd.4S = Vn.4S >= Vm.4S ? all ones : 0 (ordered: NaN compares false)
#define FCMGE4S(m, n, d) WORD $(0x6e20e400 | (m<<16) | (n<<5) | d)

// lifBitsN<>: word i is 1<<i, i < 16: the spike bit of lane i of a block.
DATA lifBitsN<>+0(SB)/8, $0x0000000200000001
DATA lifBitsN<>+8(SB)/8, $0x0000000800000004
DATA lifBitsN<>+16(SB)/8, $0x0000002000000010
DATA lifBitsN<>+24(SB)/8, $0x0000008000000040
DATA lifBitsN<>+32(SB)/8, $0x0000020000000100
DATA lifBitsN<>+40(SB)/8, $0x0000080000000400
DATA lifBitsN<>+48(SB)/8, $0x0000200000001000
DATA lifBitsN<>+56(SB)/8, $0x0000800000004000
GLOBL lifBitsN<>(SB), RODATA|NOPTR, $64

// SPK1 adds 1 to z lane-wise where the spike shortcut bit (V12 holds the
// block's 16 bits in every lane, BITS the lanes' bit values) is set.
#define SPK1(BITS, Z, z) \
	VCMTST BITS.S4, V12.S4, V13.S4; \
	FADD4S(30, z, 14);              \
	VBIT   V13.B16, V14.B16, Z.B16

// func lifNEON(f *lifFrame)
// The routine runs nblk whole blocks of 16 channels per pixel (see the
// AVX-512 routine in elem_amd64.s for the scheme).
// R0 frame, R1 pixels left, R2 hard flag, R3 gate base, R4 block,
// R5 block byte offset, R6 steps left, R7 x, R8 gate, R9 float shortcut,
// R10 spike shortcut, R11 out (at this step of this block), R12 scratch;
// V0-V3 h, V4-V7 z, V8-V11 loads, V12-V14 shortcut scratch, V16-V19 spikes,
// V20-V23 scratch, V24-V27 lane bits, V28 λ, V29 Vth, V30 1, V31 0.
TEXT ·lifNEON(SB), NOSPLIT, $0-8
	MOVD  f+0(FP), R0
	FMOVS lifFrame_lam(R0), F28
	VDUP  V28.S[0], V28.S4
	FMOVS lifFrame_vth(R0), F29
	VDUP  V29.S[0], V29.S4
	MOVW  $0x3f800000, R12
	VDUP  R12, V30.S4
	VEOR  V31.B16, V31.B16, V31.B16
	MOVD  $lifBitsN<>(SB), R12
	VLD1  (R12), [V24.S4, V25.S4, V26.S4, V27.S4]
	MOVD  lifFrame_hard(R0), R2
	MOVD  lifFrame_g(R0), R3
	MOVD  lifFrame_npix(R0), R1

lnpix:
	MOVD ZR, R4

lnblk:
	LSL  $6, R4, R5
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	MOVD lifFrame_h(R0), R12
	CBZ  R12, lnh0
	ADD  R5, R12
	VLD1 (R12), [V0.S4, V1.S4, V2.S4, V3.S4]

lnh0:
	MOVD lifFrame_x(R0), R7
	ADD  R5, R7
	MOVD R3, R8
	CBZ  R8, lnp1
	ADD  R5, R8

lnp1:
	MOVD lifFrame_r(R0), R9
	CBZ  R9, lnp2
	ADD  R5, R9

lnp2:
	MOVD lifFrame_s(R0), R10
	CBZ  R10, lnp3
	ADD  R4<<1, R10

lnp3:
	MOVD lifFrame_out(R0), R11
	ADD  R4<<1, R11
	MOVD lifFrame_steps(R0), R6

lnstep:
	VLD1 (R7), [V4.S4, V5.S4, V6.S4, V7.S4]
	CBZ  R8, lnnog
	VLD1 (R8), [V8.S4, V9.S4, V10.S4, V11.S4]
	FMUL4S(4, 8, 4)
	FMUL4S(5, 9, 5)
	FMUL4S(6, 10, 6)
	FMUL4S(7, 11, 7)

lnnog:
	CBZ  R9, lnnor
	VLD1 (R9), [V8.S4, V9.S4, V10.S4, V11.S4]
	FADD4S(8, 4, 4)
	FADD4S(9, 5, 5)
	FADD4S(10, 6, 6)
	FADD4S(11, 7, 7)

lnnor:
	CBZ   R10, lnnos
	MOVHU (R10), R12
	VDUP  R12, V12.S4
	SPK1(V24, V4, 4)
	SPK1(V25, V5, 5)
	SPK1(V26, V6, 6)
	SPK1(V27, V7, 7)

lnnos:
	FMUL4S(28, 0, 0)
	FMUL4S(28, 1, 1)
	FMUL4S(28, 2, 2)
	FMUL4S(28, 3, 3)
	FADD4S(4, 0, 0)
	FADD4S(5, 1, 1)
	FADD4S(6, 2, 2)
	FADD4S(7, 3, 3)
	FCMGE4S(29, 0, 16)
	FCMGE4S(29, 1, 17)
	FCMGE4S(29, 2, 18)
	FCMGE4S(29, 3, 19)
	CBZ  R2, lnsoft
	VBIT V16.B16, V31.B16, V0.B16 // +0 where it spiked
	VBIT V17.B16, V31.B16, V1.B16
	VBIT V18.B16, V31.B16, V2.B16
	VBIT V19.B16, V31.B16, V3.B16
	B    lnout

lnsoft:
	VAND V29.B16, V16.B16, V20.B16 // u − Vth where it spiked, u − (+0) = u elsewhere
	VAND V29.B16, V17.B16, V21.B16
	VAND V29.B16, V18.B16, V22.B16
	VAND V29.B16, V19.B16, V23.B16
	FSUB4S(20, 0, 0)
	FSUB4S(21, 1, 1)
	FSUB4S(22, 2, 2)
	FSUB4S(23, 3, 3)

lnout:
	VAND  V24.B16, V16.B16, V16.B16
	VAND  V25.B16, V17.B16, V17.B16
	VAND  V26.B16, V18.B16, V18.B16
	VAND  V27.B16, V19.B16, V19.B16
	VORR  V17.B16, V16.B16, V16.B16
	VORR  V19.B16, V18.B16, V18.B16
	VORR  V18.B16, V16.B16, V16.B16
	VADDV V16.S4, V16
	VMOV  V16.S[0], R12
	MOVH  R12, (R11)
	MOVD  lifFrame_xStep(R0), R12
	ADD   R12, R7
	MOVD  lifFrame_gStep(R0), R12
	ADD   R12, R8
	MOVD  lifFrame_rStep(R0), R12
	ADD   R12, R9
	MOVD  lifFrame_sStep(R0), R12
	ADD   R12, R10
	MOVD  lifFrame_oStep(R0), R12
	ADD   R12, R11
	SUB   $1, R6
	CBNZ  R6, lnstep

	MOVD lifFrame_h(R0), R12
	CBZ  R12, lnnh
	ADD  R5, R12
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R12)

lnnh:
	ADD  $1, R4
	MOVD lifFrame_nblk(R0), R12
	CMP  R12, R4
	BLT  lnblk

	MOVD lifFrame_x(R0), R12
	MOVD lifFrame_xPix(R0), R13
	ADD  R13, R12
	MOVD R12, lifFrame_x(R0)
	MOVD lifFrame_r(R0), R12
	MOVD lifFrame_rPix(R0), R13
	ADD  R13, R12
	MOVD R12, lifFrame_r(R0)
	MOVD lifFrame_s(R0), R12
	MOVD lifFrame_sPix(R0), R13
	ADD  R13, R12
	MOVD R12, lifFrame_s(R0)
	MOVD lifFrame_h(R0), R12
	MOVD lifFrame_hPix(R0), R13
	ADD  R13, R12
	MOVD R12, lifFrame_h(R0)
	MOVD lifFrame_out(R0), R12
	MOVD lifFrame_oPix(R0), R13
	ADD  R13, R12
	MOVD R12, lifFrame_out(R0)
	SUB  $1, R1
	CBNZ R1, lnpix
	RET

// Vd.2D = float64(Vn.2S) (the low two lanes)
#define FCVTL2D(n, d) WORD $(0x0e617800 | (n<<5) | d)
// Vd.2D = float64(Vn.4S[2:4]) (the high two lanes)
#define FCVTL22D(n, d) WORD $(0x4e617800 | (n<<5) | d)
// Vd.2D = Vn.2D + Vm.2D
#define FADD2D(m, n, d) WORD $(0x4e60d400 | (m<<16) | (n<<5) | d)

// func statSpatialNEON(sum *float64, x *float32, pixels, stride, nblk int)
// nblk blocks of 8 channels; each lane adds its channel's pixels in pixel
// order into a float64 accumulator (V0-V3, two channels each).
// pixels, nblk > 0; stride in floats.
TEXT ·statSpatialNEON(SB), NOSPLIT, $0-40
	MOVD sum+0(FP), R0
	MOVD x+8(FP), R1
	MOVD pixels+16(FP), R2
	MOVD stride+24(FP), R3
	LSL  $2, R3
	MOVD nblk+32(FP), R4

ssnblk:
	MOVD R1, R5
	MOVD R2, R6
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16

ssnpix:
	VLD1 (R5), [V4.S4, V5.S4]
	FCVTL2D(4, 8)
	FCVTL22D(4, 9)
	FCVTL2D(5, 10)
	FCVTL22D(5, 11)
	FADD2D(8, 0, 0)
	FADD2D(9, 1, 1)
	FADD2D(10, 2, 2)
	FADD2D(11, 3, 3)
	ADD  R3, R5
	SUB  $1, R6
	CBNZ R6, ssnpix
	VST1.P [V0.D2, V1.D2, V2.D2, V3.D2], 64(R0)
	ADD  $32, R1
	SUB  $1, R4
	CBNZ R4, ssnblk
	RET
