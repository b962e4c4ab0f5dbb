//go:build race

package finetune

// raceEnabled skips the long tests under the race detector, which slows
// the float loops tenfold.
const raceEnabled = true
