//go:build race && (amd64 || arm64) && gc && !purego && !noasm

package bitops

import (
	"runtime"
	"unsafe"
)

// The race detector cannot see memory accesses made by assembly, so the
// SIMD wrappers announce the ranges their kernels read and write, as the
// standard library does for its assembly. runtime.RaceReadRange and
// runtime.RaceWriteRange are exported in race builds only, hence this pair of
// files.

func raceRead[T any](x []T) {
	if len(x) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&x[0]), len(x)*int(unsafe.Sizeof(x[0])))
	}
}

func raceWrite[T any](x []T) {
	if len(x) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&x[0]), len(x)*int(unsafe.Sizeof(x[0])))
	}
}

// raceEnabled guards loops that only make race annotations.
const raceEnabled = true
