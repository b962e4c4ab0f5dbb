package runtime

import (
	"fmt"
	"math/bits"

	"github.com/bsnn/bsnn/bitops"
)

// andGemmSparse is AndGemm that touches only the non-zero words of each
// spike row: per row it lists the non-zero words once, then every weight row
// is AND-popcounted on those words alone. tmp holds at least `words` ints.
//
// It stands in until bitops offers a sparse kernel; k is unused here.
func andGemmSparse(k *bitops.Kernels, dst []int32, s []uint64, m int, w []uint64, n, words int, tmp []int32) error {
	_ = k
	if len(dst) < m*n || len(s) < m*words || len(w) < n*words || len(tmp) < words {
		return fmt.Errorf("andGemmSparse: buffers too short for m=%d n=%d words=%d", m, n, words)
	}
	for i := 0; i < m; i++ {
		row := s[i*words : (i+1)*words]
		nz := tmp[:0]
		ps := 0
		for j, v := range row {
			if v != 0 {
				nz = append(nz, int32(j))
				ps += bits.OnesCount64(v)
			}
		}
		out := dst[i*n : (i+1)*n]
		for o := range out {
			wr := w[o*words : (o+1)*words]
			c := 0
			for _, j := range nz {
				c += bits.OnesCount64(row[j] & wr[j])
			}
			out[o] = int32(2*c - ps)
		}
	}
	return nil
}
