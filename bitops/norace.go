//go:build !race && (amd64 || arm64) && gc && !purego && !noasm

package bitops

// Without the race detector the annotations compile to nothing.

func raceReadWords([]uint64)  {}
func raceReadInt32s([]int32)  {}
func raceWriteInt32s([]int32) {}
func raceWriteWords([]uint64) {}
