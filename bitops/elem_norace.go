//go:build !race && (amd64 || arm64) && gc && !purego && !noasm

package bitops

// Without the race detector the annotations compile to nothing.

func raceLIF(*LIFRun, int) {}
