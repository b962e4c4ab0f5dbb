//go:build race

package f32

import (
	"runtime"
	"unsafe"
)

const raceEnabled = true

// raceRead and raceWrite tell the race detector what an assembly kernel
// reads and writes.
func raceRead(s []float32, n int) {
	if n > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), 4*n)
	}
}

func raceWrite(s []float32, n int) {
	if n > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), 4*n)
	}
}

func raceWriteU64(s []uint64, n int) {
	if n > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), 8*n)
	}
}
