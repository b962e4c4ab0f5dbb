//go:build !race

package f32

const raceEnabled = false

func raceRead(s []float32, n int)    {}
func raceWrite(s []float32, n int)   {}
func raceWriteU64(s []uint64, n int) {}
