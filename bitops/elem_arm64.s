//go:build gc && !purego && !noasm

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
