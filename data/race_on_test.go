//go:build race

package data

// raceEnabled: the race detector slows gzip decoding tenfold, so the
// 60k-image training splits are only checked without it.
const raceEnabled = true
