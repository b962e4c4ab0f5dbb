package bitops

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzConvRows compares every set's direct-conv kernels (AndGemmRows,
// AndGemmRowsT, AndConvRowsT) with the generic ones on shapes and bit
// patterns chosen by the fuzzer; the first bytes of data become map
// words, a PRNG seeded from data fills the rest and places the rows.
func FuzzConvRows(f *testing.F) {
	f.Add([]byte{}, uint8(3), uint8(6), uint8(20), uint8(5), uint8(64))
	f.Add(make([]byte, 64), uint8(1), uint8(36), uint8(36), uint8(4), uint8(33))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint8(3), uint8(3), uint8(30), uint8(9), uint8(96))
	f.Fuzz(func(t *testing.T, data []byte, segs, segWords, extra, m, n uint8) {
		sg, sw := 1+int(segs%4), int(segWords%40)
		stride := sw + int(extra%32)
		rows, outs := int(m%11), int(n%130)
		h := fnv.New64a()
		h.Write(data)
		rng := rand.New(rand.NewPCG(h.Sum64(), uint64(len(data))))
		span := (sg-1)*stride + sw
		src := make([]uint64, span+rng.IntN(40)+1)
		for i := range src {
			if len(data) > 0 {
				src[i] = uint64(data[0]) * 0x0101010101010101
				data = data[1:]
			} else {
				src[i] = rng.Uint64() & rng.Uint64()
			}
		}
		off := make([]int32, rows)
		pop := make([]int32, rows)
		orow := make([]int32, rows)
		for i := range off {
			off[i] = int32(rng.IntN(len(src) - span + 1))
			pop[i] = int32(Generic.RowPopcount(src, int(off[i]), sg, stride, sw))
			orow[i] = int32(rows - 1 - i)
		}
		words := sg * sw
		w := make([]uint64, outs*words)
		for i := range w {
			w[i] = rng.Uint64()
		}
		wt := TransposeWords(w, outs, words)
		scale, bias := make([]float32, outs), make([]float32, outs)
		for j := range scale {
			scale[j], bias[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		want := make([]int32, rows*outs)
		if err := Generic.AndGemmRows(want, src, off, pop, sg, stride, sw, w, outs); err != nil {
			t.Fatal(err)
		}
		wantF := make([]float32, rows*outs)
		if err := Generic.AndConvRowsT(wantF, orow, src, off, pop, sg, stride, sw, wt, outs, scale, bias); err != nil {
			t.Fatal(err)
		}
		for _, k := range Available() {
			got := make([]int32, rows*outs+1)
			gotT := make([]int32, rows*outs+1)
			gotF := make([]float32, rows*outs+1)
			if err := k.AndGemmRows(got, src, off, pop, sg, stride, sw, w, outs); err != nil {
				t.Fatal(err)
			}
			if err := k.AndGemmRowsT(gotT, src, off, pop, sg, stride, sw, wt, outs); err != nil {
				t.Fatal(err)
			}
			if err := k.AndConvRowsT(gotF[:rows*outs], orow, src, off, pop, sg, stride, sw, wt, outs, scale, bias); err != nil {
				t.Fatal(err)
			}
			if got[rows*outs] != 0 || gotT[rows*outs] != 0 || gotF[rows*outs] != 0 {
				t.Fatalf("%s: wrote past dst", k.Name)
			}
			for i := range want {
				if got[i] != want[i] || gotT[i] != want[i] || math.Float32bits(gotF[i]) != math.Float32bits(wantF[i]) {
					t.Fatalf("%s: segs=%d segWords=%d stride=%d m=%d n=%d: [%d] rows %d, rowsT %d, conv %v; want %d, %v",
						k.Name, sg, sw, stride, rows, outs, i, got[i], gotT[i], gotF[i], want[i], wantF[i])
				}
			}
		}
	})
}
