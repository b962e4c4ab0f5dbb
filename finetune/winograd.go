package finetune

import (
	"github.com/bsnn/bsnn/finetune/internal/f32"
)

// Winograd F(2×2, 3×3) for the input gradient of a 3×3, stride-1, pad-1
// conv: din = dy ⋆ w' (a correlation of the output gradient with the
// flipped kernel). Each 2×2 tile of din comes from a 4×4 patch d of dy as
// Aᵀ[(G w' Gᵀ) ⊙ (Bᵀ d B)]A: 16 products per tile and channel pair instead
// of 36. The 16 elementwise products over all channel pairs are 16 GEMMs,
// done on blocks of 16 tiles so the transformed data stay in cache; the
// transforms run on [pixel][channel] maps, 8 channels per vector
// (f32.WinogradIn, f32.WinogradOut).
//
//	Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//	G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//	Aᵀ = [1 1 1 0; 0 1 −1 −1]

const winoBlock = 16 // tiles per block

// winogradOK reports whether the layer's input gradient can use Winograd.
func (n *convNode) winogradOK() bool {
	s := n.s
	return !n.linear && s.KH == 3 && s.KW == 3 && s.Stride == 1 && s.Pad == 1
}

// winogradFilter fills n.wu[ξ][o][c] = (G w' Gᵀ)[ξ] from the effective
// weights n.wt ([c·9+k][o]), w'[a][b] = w[o][c][2−a][2−b].
func (n *convNode) winogradFilter() {
	C, O := n.s.InC, n.s.OutC
	n.wu = grow(n.wu, 16*O*C)
	for c := 0; c < C; c++ {
		for o := 0; o < O; o++ {
			var g [3][3]float32
			for a := 0; a < 3; a++ {
				for b := 0; b < 3; b++ {
					g[a][b] = n.wt[(c*9+(2-a)*3+(2-b))*O+o]
				}
			}
			var h [4][3]float32 // G g
			for b := 0; b < 3; b++ {
				h[0][b] = g[0][b]
				h[1][b] = (g[0][b] + g[1][b] + g[2][b]) * 0.5
				h[2][b] = (g[0][b] - g[1][b] + g[2][b]) * 0.5
				h[3][b] = g[2][b]
			}
			for a := 0; a < 4; a++ {
				u := [4]float32{h[a][0], (h[a][0] + h[a][1] + h[a][2]) * 0.5, (h[a][0] - h[a][1] + h[a][2]) * 0.5, h[a][2]}
				for b := 0; b < 4; b++ {
					n.wu[((a*4+b)*O+o)*C+c] = u[b]
				}
			}
		}
	}
}

// winoGeom is the geometry of a Winograd input gradient: th×tw tiles, a
// padded [pixel][channel] copy of dy of hp×wp pixels (one zero pixel
// around, more where H or W is odd).
type winoGeom struct{ th, tw, hp, wp int }

func (n *convNode) winoGeom() winoGeom {
	th, tw := (n.inS.H+1)/2, (n.inS.W+1)/2
	return winoGeom{th, tw, 2*th + 2, 2*tw + 2}
}

// padTranspose writes one row of dy ([O][H][W]) into dyt, a [hp][wp][O] map
// whose border pixels stay zero.
func padTranspose(dyt, dy []float32, O, H, W, wp int) {
	for o := 0; o < O; o++ {
		plane := dy[o*H*W : (o+1)*H*W]
		for y := 0; y < H; y++ {
			d := dyt[((y+1)*wp+1)*O+o:]
			for x, v := range plane[y*W : (y+1)*W] {
				d[x*O] = v
			}
		}
	}
}

// winogradRow adds the input gradient of one row to din ([C][H][W]) from
// the padded, transposed output gradient dyt.
func (n *convNode) winogradRow(din, dyt []float32, g winoGeom, sc *convScratch) {
	O, C := n.s.OutC, n.s.InC
	H, W := n.inS.H, n.inS.W
	sc.wv = grow(sc.wv, 16*winoBlock*O)
	sc.wm = grow(sc.wm, 16*winoBlock*C)
	sc.wout = grow(sc.wout, 4*g.th*g.tw*C)
	out := sc.wout // [2·th][2·tw][C]
	ow := 2 * g.tw * C
	tiles := g.th * g.tw
	for t0 := 0; t0 < tiles; t0 += winoBlock {
		nt := min(winoBlock, tiles-t0)
		for t := 0; t < nt; t++ {
			ti, tj := (t0+t)/g.tw, (t0+t)%g.tw
			f32.WinogradIn(sc.wv[t*O:], winoBlock*O, dyt[(2*ti*g.wp+2*tj)*O:], g.wp*O, O)
		}
		clear(sc.wm)
		for xi := 0; xi < 16; xi++ {
			f32.Gemm(nt, C, O, sc.wv[xi*winoBlock*O:], O, n.wu[xi*O*C:], C, sc.wm[xi*winoBlock*C:], C)
		}
		for t := 0; t < nt; t++ {
			ti, tj := (t0+t)/g.tw, (t0+t)%g.tw
			f32.WinogradOut(out[2*ti*ow+2*tj*C:], ow, sc.wm[t*C:], winoBlock*C, C)
		}
	}
	for c := 0; c < C; c++ {
		plane := din[c*H*W : (c+1)*H*W]
		for y := 0; y < H; y++ {
			src := out[y*ow+c:]
			for x := range plane[y*W : (y+1)*W] {
				plane[y*W+x] += src[x*C]
			}
		}
	}
}
