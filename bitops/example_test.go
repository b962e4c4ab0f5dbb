package bitops_test

import (
	"fmt"

	"github.com/bsnn/bsnn/bitops"
)

// A spike vector times a ±1 weight vector: Σ s·w = 2·popcount(s AND w⁺) −
// popcount(s).
func ExampleKernels_AndDot() {
	k := bitops.Generic // or bitops.Best(), or bitops.Select(flag)
	s := make([]uint64, 1)
	w := make([]uint64, 1)
	_ = bitops.PackSpikes(s, []float32{1, 0, 1, 1})
	_ = bitops.PackSigns(w, []float32{0.5, -2, -1, 3})
	dot, err := k.AndDot(s, w)
	if err != nil {
		panic(err)
	}
	fmt.Println(dot) // 1·(+1) + 0·(−1) + 1·(−1) + 1·(+1)
	// Output: 1
}

// Two ±1 vectors of 3 elements: Σ a·b = nbits − 2·popcount(a XOR b).
func ExampleKernels_XnorDot() {
	a := make([]uint64, 1)
	b := make([]uint64, 1)
	_ = bitops.PackSigns(a, []float32{1, -1, 1})
	_ = bitops.PackSigns(b, []float32{1, 1, 1})
	dot, _ := bitops.Best().XnorDot(a, b, 3)
	fmt.Println(dot)
	// Output: 1
}

// Three output pixels (rows of 2 words) against two output channels; the
// middle pixel is silent and costs nothing, and the generic set also skips
// the zero word of each other pixel.
func ExampleKernels_AndGemmSparse() {
	const words = 2
	s := []uint64{
		0b1011, 0, // pixel 0
		0, 0, // pixel 1: silent
		0, 1 << 63, // pixel 2
	}
	w := []uint64{
		^uint64(0), ^uint64(0), // channel 0: all +1
		0, 0, // channel 1: all -1
	}
	dst := make([]int32, 3*2)
	st, err := bitops.Generic.AndGemmSparse(dst, s, 3, w, 2, words)
	if err != nil {
		panic(err)
	}
	fmt.Println(dst)
	fmt.Printf("skipped %d of %d rows, %d of %d words\n", st.SkippedRows, st.Rows, st.SkippedWords, st.Words)
	// Output:
	// [3 -3 0 0 1 -1]
	// skipped 1 of 3 rows, 4 of 6 words
}

// Tools resolve their -kernels flag with Select: the flag wins over
// $BSNN_KERNELS, which wins over the best set for this CPU.
func ExampleSelect() {
	k, err := bitops.Select("generic")
	if err != nil {
		panic(err)
	}
	fmt.Println(k.Name)
	_, err = bitops.Select("sse9")
	fmt.Println(err != nil)
	// Output:
	// generic
	// true
}

// A 3-channel 1×2 map in PyTorch CHW order, packed channel-wise per pixel.
func ExamplePackCHW() {
	chw := []float32{
		1, 0, // channel 0
		0, 0, // channel 1
		1, 1, // channel 2
	}
	dst := make([]uint64, 2*bitops.PixelWords(3))
	_ = bitops.PackCHW(dst, chw, 3, 1, 2, false)
	fmt.Printf("%03b %03b\n", dst[0], dst[1])
	// Output: 101 100
}
