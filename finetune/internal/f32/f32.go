// Package f32 holds the float32 kernels of the trainer's backward pass and
// the float64-accumulating kernel of its forward pass.
//
// Every kernel here is deterministic and gives the same bits on every
// platform and kernel set: Gemm rounds every product to float32 and adds it
// to the accumulator in k order (no fused multiply-add, no reassociation), so
// the AVX2 path, which vectorizes across output columns only, computes
// exactly what the generic Go loops compute.
package f32

import (
	"math"
	mbits "math/bits"
)

// Gemm computes C += A·B for row-major A (m×k, row stride lda), B (k×n, row
// stride ldb) and C (m×n, row stride ldc). Each C[i][j] receives the products
// A[i][p]·B[p][j], each rounded to float32, one after the other for p = 0..k-1.
func Gemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	checkGemm(m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemm(m, n, k, a, lda, b, ldb, c, ldc)
}

// gemm is the kernel Gemm runs: gemmGeneric unless an init function of this
// platform found something faster.
var gemm = gemmGeneric

func checkGemm(m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 || lda < k || ldb < n || ldc < n ||
		la < (m-1)*lda+k || lb < (k-1)*ldb+n || lc < (m-1)*ldc+n {
		panic("f32: Gemm: operand too short for its shape")
	}
}

// gemmGeneric is the reference for every Gemm kernel: each C[i][j] starts
// from its value and adds float32(A[i][p]·B[p][j]) for p = 0..k-1 in order.
// It works on 4×4 blocks of C held in locals (registers on arm64), which
// changes nothing in any element's sequence of operations.
func gemmGeneric(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	m4, n4 := m&^3, n&^3
	for i := 0; i < m4; i += 4 {
		a0, a1, a2, a3 := a[i*lda:i*lda+k], a[(i+1)*lda:(i+1)*lda+k], a[(i+2)*lda:(i+2)*lda+k], a[(i+3)*lda:(i+3)*lda+k]
		for j := 0; j < n4; j += 4 {
			c0, c1, c2, c3 := c[i*ldc+j:i*ldc+j+4], c[(i+1)*ldc+j:(i+1)*ldc+j+4], c[(i+2)*ldc+j:(i+2)*ldc+j+4], c[(i+3)*ldc+j:(i+3)*ldc+j+4]
			s00, s01, s02, s03 := c0[0], c0[1], c0[2], c0[3]
			s10, s11, s12, s13 := c1[0], c1[1], c1[2], c1[3]
			s20, s21, s22, s23 := c2[0], c2[1], c2[2], c2[3]
			s30, s31, s32, s33 := c3[0], c3[1], c3[2], c3[3]
			for p := 0; p < k; p++ {
				bp := b[p*ldb+j : p*ldb+j+4]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				x := a0[p]
				s00 += float32(x * b0)
				s01 += float32(x * b1)
				s02 += float32(x * b2)
				s03 += float32(x * b3)
				x = a1[p]
				s10 += float32(x * b0)
				s11 += float32(x * b1)
				s12 += float32(x * b2)
				s13 += float32(x * b3)
				x = a2[p]
				s20 += float32(x * b0)
				s21 += float32(x * b1)
				s22 += float32(x * b2)
				s23 += float32(x * b3)
				x = a3[p]
				s30 += float32(x * b0)
				s31 += float32(x * b1)
				s32 += float32(x * b2)
				s33 += float32(x * b3)
			}
			c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
			c1[0], c1[1], c1[2], c1[3] = s10, s11, s12, s13
			c2[0], c2[1], c2[2], c2[3] = s20, s21, s22, s23
			c3[0], c3[1], c3[2], c3[3] = s30, s31, s32, s33
		}
	}
	// The edges: rows past the last block of 4, and columns past it.
	gemmRows(m4, m, 0, n, k, a, lda, b, ldb, c, ldc)
	gemmRows(0, m4, n4, n, k, a, lda, b, ldb, c, ldc)
}

// gemmRows is gemmGeneric's arithmetic on rows [i0,i1) and columns
// [j0,j1), element by element.
func gemmRows(i0, i1, j0, j1, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if j0 >= j1 {
		return
	}
	for i := i0; i < i1; i++ {
		crow := c[i*ldc+j0 : i*ldc+j1]
		arow := a[i*lda : i*lda+k]
		for p, av := range arow {
			brow := b[p*ldb+j0 : p*ldb+j1]
			for j, bv := range brow {
				crow[j] += float32(av * bv)
			}
		}
	}
}

// GemmF64 computes C = float32(Σ_p float64(A[i][p])·float64(B[p][j])): the
// model format's reduction rule (accumulate in float64, round once), with
// the sum running over p in increasing order. C is overwritten.
func GemmF64(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	checkGemm(m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	var acc [64]float64
	for i := 0; i < m; i++ {
		arow := a[i*lda : i*lda+k]
		crow := c[i*ldc : i*ldc+n]
		for j0 := 0; j0 < n; j0 += len(acc) {
			nj := min(len(acc), n-j0)
			s := acc[:nj]
			clear(s)
			for p, av := range arow {
				a64 := float64(av)
				brow := b[p*ldb+j0 : p*ldb+j0+nj]
				for j, bv := range brow {
					s[j] += a64 * float64(bv)
				}
			}
			for j, v := range s {
				crow[j0+j] = float32(v)
			}
		}
	}
}

// DotF64 returns float32(Σ_i float64(a[i])·float64(b[i])), summed in i order.
func DotF64(a, b []float32) float32 {
	b = b[:len(a)]
	var s float64
	for i, v := range a {
		s += float64(v) * float64(b[i])
	}
	return float32(s)
}

// Accelerated names the assembly kernels in use ("avx2"), or is empty when
// the generic Go loops run.
var Accelerated string

// addRows is the kernel AddRows runs.
var addRows = addRowsGeneric

// AddRows adds src to row i of dst (dst[i·ldd : i·ldd+len(src)]) for every
// set bit i of bits (bit i of word j is row 64·j+i). dst must hold
// 64·len(bits) rows. It is the weight gradient of a layer with binary
// input: Σ dy ⊗ spikes, adding only where a spike is 1.
func AddRows(dst []float32, ldd int, src []float32, bits []uint64) {
	if len(bits) == 0 || len(src) == 0 {
		return
	}
	if ldd < len(src) || len(dst) < (64*len(bits)-1)*ldd+len(src) {
		panic("f32: AddRows: dst too short for its rows")
	}
	addRows(dst, ldd, src, bits)
}

func addRowsGeneric(dst []float32, ldd int, src []float32, bits []uint64) {
	for w, word := range bits {
		for word != 0 {
			i := w*64 + mbits.TrailingZeros64(word)
			word &= word - 1
			row := dst[i*ldd : i*ldd+len(src)]
			for j, v := range src {
				row[j] += v
			}
		}
	}
}

// LIFBackward runs one step of a LIF layer's BPTT over n neurons with the
// triangle surrogate. On entry dh holds dL/dh[t+1] (zero at the last step);
// g = dL/ds[t] from the layer above, u = u[t], s = s[t]. With
//
//	gs = g − dh·u (hard reset) or g − dh·vth (soft); gs = g when detached
//	sg = max(gm − |u − vth|, 0)·g2                 (g2 = 1/gm²)
//	du = gs·sg + dh·(1 − s) (hard) or gs·sg + dh (soft)
//
// it adds du to dx and leaves dh = lam·du, each operation rounded to
// float32 in the order written.
func LIFBackward(u, s, g, dx, dh []float32, vth, gm, g2, lam float32, hard, detach bool) {
	n := len(u)
	if len(s) < n || len(g) < n || len(dx) < n || len(dh) < n {
		panic("f32: LIFBackward: slices shorter than u")
	}
	if n == 0 {
		return
	}
	lifBackward(u, s[:n], g[:n], dx[:n], dh[:n], vth, gm, g2, lam, hard, detach)
}

var lifBackward = lifBackwardGeneric

func lifBackwardGeneric(u, s, g, dx, dh []float32, vth, gm, g2, lam float32, hard, detach bool) {
	s, g, dx, dh = s[:len(u)], g[:len(u)], dx[:len(u)], dh[:len(u)]
	for i, uv := range u {
		h := dh[i]
		gs := g[i]
		var keep float32 // dh·(1−s) or dh
		switch {
		case hard:
			if !detach {
				gs -= float32(h * uv)
			}
			keep = float32(h * (1 - s[i]))
		default:
			if !detach {
				gs -= float32(h * vth)
			}
			keep = h
		}
		v := math.Float32frombits(math.Float32bits(uv-vth) &^ (1 << 31))
		sg := float32(max(gm-v, 0) * g2)
		du := float32(gs*sg) + keep
		dx[i] += du
		dh[i] = float32(lam * du)
	}
}

// WinogradIn writes the Winograd F(2×2,3×3) input transform Bᵀ d B of a
// 4×4 patch for n channels at once: d[u][w][i] = src[u·lds + w·n + i] (a
// patch of a [pixel][channel] map with row stride lds), result ξ = 4a+b
// to dst[ξ·ldd + i].
//
//	e[0] = d[0] − d[2], e[1] = d[1] + d[2], e[2] = d[2] − d[1], e[3] = d[1] − d[3]   (rows)
//	v[a][0] = e[a][0] − e[a][2], v[a][1] = e[a][1] + e[a][2], v[a][2] = e[a][2] − e[a][1], v[a][3] = e[a][1] − e[a][3]
func WinogradIn(dst []float32, ldd int, src []float32, lds, n int) {
	if n == 0 {
		return
	}
	if len(dst) < 15*ldd+n || ldd < n || len(src) < 3*lds+4*n || lds < 4*n {
		panic("f32: WinogradIn: operand too short")
	}
	winogradIn(dst, ldd, src, lds, n)
}

var winogradIn = winogradInGeneric

func winogradInGeneric(dst []float32, ldd int, src []float32, lds, n int) {
	for i := 0; i < n; i++ {
		var d [4][4]float32
		for u := 0; u < 4; u++ {
			for w := 0; w < 4; w++ {
				d[u][w] = src[u*lds+w*n+i]
			}
		}
		for a := 0; a < 4; a++ {
			var e [4]float32
			for w := 0; w < 4; w++ {
				switch a {
				case 0:
					e[w] = d[0][w] - d[2][w]
				case 1:
					e[w] = d[1][w] + d[2][w]
				case 2:
					e[w] = d[2][w] - d[1][w]
				case 3:
					e[w] = d[1][w] - d[3][w]
				}
			}
			dst[(4*a+0)*ldd+i] = e[0] - e[2]
			dst[(4*a+1)*ldd+i] = e[1] + e[2]
			dst[(4*a+2)*ldd+i] = e[2] - e[1]
			dst[(4*a+3)*ldd+i] = e[1] - e[3]
		}
	}
}

// WinogradOut writes the output transform Aᵀ q A of 16 transformed values
// q[ξ][i] = src[ξ·lds + i] for n channels: the 2×2 tile y[a][b][i] to
// dst[a·ldd + b·n + i] (a [pixel][channel] map with row stride ldd).
//
//	s[0][b] = q[0][b] + q[1][b] + q[2][b], s[1][b] = q[1][b] − q[2][b] − q[3][b]
//	y[a][0] = s[a][0] + s[a][1] + s[a][2], y[a][1] = s[a][1] − s[a][2] − s[a][3]
func WinogradOut(dst []float32, ldd int, src []float32, lds, n int) {
	if n == 0 {
		return
	}
	if len(dst) < ldd+2*n || ldd < 2*n || len(src) < 15*lds+n || lds < n {
		panic("f32: WinogradOut: operand too short")
	}
	winogradOut(dst, ldd, src, lds, n)
}

var winogradOut = winogradOutGeneric

func winogradOutGeneric(dst []float32, ldd int, src []float32, lds, n int) {
	for i := 0; i < n; i++ {
		var q [4][4]float32
		for xi := 0; xi < 16; xi++ {
			q[xi/4][xi%4] = src[xi*lds+i]
		}
		var s [2][4]float32
		for b := 0; b < 4; b++ {
			s[0][b] = q[0][b] + q[1][b] + q[2][b]
			s[1][b] = q[1][b] - q[2][b] - q[3][b]
		}
		for a := 0; a < 2; a++ {
			dst[a*ldd+i] = s[a][0] + s[a][1] + s[a][2]
			dst[a*ldd+n+i] = s[a][1] - s[a][2] - s[a][3]
		}
	}
}

// LIFStep advances n = len(x) LIF neurons by one step: from the previous
// membranes u and spikes s, with h = u·(1−s) (hard reset) or u − vth·s
// (soft), it writes uo = float32(lam·h) + x and so = 1 where uo ≥ vth else 0
// (uo may alias u, so may alias s), ORs bit into rb[i] for every spike
// (one packed word per neuron: a layer of at most 64 channels) and returns
// the number of spikes.
func LIFStep(x, u, s, uo, so []float32, rb []uint64, bit uint64, lam, vth float32, hard bool) int {
	n := len(x)
	if len(u) < n || len(s) < n || len(uo) < n || len(so) < n || len(rb) < n {
		panic("f32: LIFStep: slices shorter than x")
	}
	if n == 0 {
		return 0
	}
	return lifStep(x, u[:n], s[:n], uo[:n], so[:n], rb[:n], bit, lam, vth, hard)
}

var lifStep = lifStepGeneric

func lifStepGeneric(x, u, s, uo, so []float32, rb []uint64, bit uint64, lam, vth float32, hard bool) int {
	u, s, uo, so, rb = u[:len(x)], s[:len(x)], uo[:len(x)], so[:len(x)], rb[:len(x)]
	count := 0
	for i, xv := range x {
		var h float32
		if hard {
			h = u[i] * (1 - s[i])
		} else {
			h = u[i] - float32(vth*s[i])
		}
		v := float32(lam*h) + xv
		uo[i] = v
		var m uint64
		if v >= vth {
			m = 1
		}
		so[i] = float32(m)
		rb[i] |= bit & -m
		count += int(m)
	}
	return count
}
