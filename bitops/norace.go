//go:build !race && (amd64 || arm64) && gc && !purego && !noasm

package bitops

// Without the race detector the annotations compile to nothing.

func raceRead[T any]([]T)  {}
func raceWrite[T any]([]T) {}

// raceEnabled guards loops that only make race annotations.
const raceEnabled = false
