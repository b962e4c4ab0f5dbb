//go:build race

package bitops

const raceOn = true
