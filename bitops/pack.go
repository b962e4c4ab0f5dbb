package bitops

import "fmt"

// Packing convention: bit i of word j holds element 64·j+i.
// Pad bits past the last element are always zero, so spikes in the pad add
// nothing to AND-popcount and equal pads cancel in XNOR-popcount.

func checkPack(op string, dstWords, n int) error {
	if dstWords < Words(n) {
		return fmt.Errorf("bitops: %s: dst holds %d words, %d elements need %d", op, dstWords, n, Words(n))
	}
	return nil
}

// packable are the element types the packers read.
type packable interface{ ~float32 | ~uint8 | ~int8 }

// packBits overwrites dst[:Words(len(src))] with one bit per element of src:
// set where x >= 0 (signs, so sign(0) = +1 and NaN packs as -1) or where
// x != 0 (spikes).
func packBits[T packable](op string, dst []uint64, src []T, signs bool) error {
	if err := checkPack(op, len(dst), len(src)); err != nil {
		return err
	}
	dst = dst[:Words(len(src))]
	clear(dst)
	if signs {
		for i, x := range src {
			if x >= 0 {
				dst[i>>6] |= 1 << uint(i&63)
			}
		}
		return nil
	}
	for i, x := range src {
		if x != 0 {
			dst[i>>6] |= 1 << uint(i&63)
		}
	}
	return nil
}

// PackSpikes packs a spike vector: bit set where x != 0. dst[:Words(len(src))]
// is overwritten.
func PackSpikes(dst []uint64, src []float32) error {
	return packBits("PackSpikes", dst, src, false)
}

// PackSpikesU8 packs a byte spike vector: bit set where x != 0.
func PackSpikesU8(dst []uint64, src []uint8) error {
	return packBits("PackSpikesU8", dst, src, false)
}

// PackSigns packs the signs of a float vector: bit set (+1) where x >= 0, so
// sign(0) = +1. NaN packs as -1.
func PackSigns(dst []uint64, src []float32) error {
	return packBits("PackSigns", dst, src, true)
}

// PackSignsInt8 packs the signs of an int8 vector: bit set (+1) where x >= 0.
func PackSignsInt8(dst []uint64, src []int8) error {
	return packBits("PackSignsInt8", dst, src, true)
}

// UnpackSpikes writes 0 or 1 for each of the len(dst) elements of src.
func UnpackSpikes(dst []float32, src []uint64) error {
	if len(src) < Words(len(dst)) {
		return fmt.Errorf("bitops: UnpackSpikes: src holds %d words, %d elements need %d", len(src), len(dst), Words(len(dst)))
	}
	for i := range dst {
		dst[i] = float32(src[i>>6] >> uint(i&63) & 1)
	}
	return nil
}

// UnpackSigns writes -1 or +1 for each of the len(dst) elements of src.
func UnpackSigns(dst []float32, src []uint64) error {
	if len(src) < Words(len(dst)) {
		return fmt.Errorf("bitops: UnpackSigns: src holds %d words, %d elements need %d", len(src), len(dst), Words(len(dst)))
	}
	for i := range dst {
		dst[i] = float32(int(src[i>>6]>>uint(i&63)&1)*2 - 1)
	}
	return nil
}

// PixelWords returns how many words one pixel of a c-channel map takes in the
// channel-packed NHWC layout.
func PixelWords(c int) int { return Words(c) }

// PackCHW packs a c×h×w map stored in PyTorch's CHW order into the
// channel-packed NHWC layout: pixel (y, x) occupies words
// [(y*w+x)*Words(c), (y*w+x+1)*Words(c)), channel ch is bit ch of that run.
// With signs false a bit is set where the value is non-zero (spikes); with
// signs true where it is >= 0 (±1 values).
func PackCHW(dst []uint64, src []float32, c, h, w int, signs bool) error {
	if c < 0 || h < 0 || w < 0 {
		return fmt.Errorf("bitops: PackCHW: negative shape %d×%d×%d", c, h, w)
	}
	if len(src) != c*h*w {
		return fmt.Errorf("bitops: PackCHW: src holds %d values, %d×%d×%d needs %d", len(src), c, h, w, c*h*w)
	}
	pw := Words(c)
	if len(dst) < h*w*pw {
		return fmt.Errorf("bitops: PackCHW: dst holds %d words, needs %d", len(dst), h*w*pw)
	}
	dst = dst[:h*w*pw]
	clear(dst)
	hw := h * w
	for ch := 0; ch < c; ch++ {
		plane := src[ch*hw : (ch+1)*hw]
		word, bit := ch>>6, uint64(1)<<uint(ch&63)
		for p, x := range plane {
			if (signs && x >= 0) || (!signs && x != 0) {
				dst[p*pw+word] |= bit
			}
		}
	}
	return nil
}

// UnpackCHW is the inverse of PackCHW: it writes 0/1 (signs false) or -1/+1
// (signs true) into a c×h×w CHW map.
func UnpackCHW(dst []float32, src []uint64, c, h, w int, signs bool) error {
	if c < 0 || h < 0 || w < 0 {
		return fmt.Errorf("bitops: UnpackCHW: negative shape %d×%d×%d", c, h, w)
	}
	if len(dst) != c*h*w {
		return fmt.Errorf("bitops: UnpackCHW: dst holds %d values, %d×%d×%d needs %d", len(dst), c, h, w, c*h*w)
	}
	pw := Words(c)
	if len(src) < h*w*pw {
		return fmt.Errorf("bitops: UnpackCHW: src holds %d words, needs %d", len(src), h*w*pw)
	}
	hw := h * w
	for ch := 0; ch < c; ch++ {
		word, sh := ch>>6, uint(ch&63)
		for p := 0; p < hw; p++ {
			b := src[p*pw+word] >> sh & 1
			if signs {
				dst[ch*hw+p] = float32(int(b)*2 - 1)
			} else {
				dst[ch*hw+p] = float32(b)
			}
		}
	}
	return nil
}

// ConvRowWords returns the words in one packed binary conv weight row (one
// output channel): kh·kw taps of Words(c) channel words each.
func ConvRowWords(c, kh, kw int) int { return kh * kw * Words(c) }

// PackOIHW packs the signs of a PyTorch conv weight [o][c][kh][kw] into o rows
// of ConvRowWords(c, kh, kw) words. Within a row, tap (ky, kx) occupies words
// [(ky*kw+kx)*Words(c), ...) with channel ch at bit ch of that run: the same
// layout as a kh×kw patch of a channel-packed NHWC map, so a conv output
// pixel is one AND-popcount of its gathered patch against each row.
func PackOIHW(dst []uint64, src []float32, o, c, kh, kw int) error {
	if o < 0 || c < 0 || kh < 0 || kw < 0 {
		return fmt.Errorf("bitops: PackOIHW: negative shape %d×%d×%d×%d", o, c, kh, kw)
	}
	if len(src) != o*c*kh*kw {
		return fmt.Errorf("bitops: PackOIHW: src holds %d values, %d×%d×%d×%d needs %d", len(src), o, c, kh, kw, o*c*kh*kw)
	}
	rw, pw := ConvRowWords(c, kh, kw), Words(c)
	if len(dst) < o*rw {
		return fmt.Errorf("bitops: PackOIHW: dst holds %d words, needs %d", len(dst), o*rw)
	}
	dst = dst[:o*rw]
	clear(dst)
	for oc := 0; oc < o; oc++ {
		for ch := 0; ch < c; ch++ {
			for ky := 0; ky < kh; ky++ {
				for kx := 0; kx < kw; kx++ {
					if src[((oc*c+ch)*kh+ky)*kw+kx] >= 0 {
						dst[oc*rw+(ky*kw+kx)*pw+ch>>6] |= 1 << uint(ch&63)
					}
				}
			}
		}
	}
	return nil
}

// UnpackOIHW is the inverse of PackOIHW: it writes ±1 into a PyTorch-order
// [o][c][kh][kw] weight.
func UnpackOIHW(dst []float32, src []uint64, o, c, kh, kw int) error {
	if o < 0 || c < 0 || kh < 0 || kw < 0 {
		return fmt.Errorf("bitops: UnpackOIHW: negative shape %d×%d×%d×%d", o, c, kh, kw)
	}
	if len(dst) != o*c*kh*kw {
		return fmt.Errorf("bitops: UnpackOIHW: dst holds %d values, %d×%d×%d×%d needs %d", len(dst), o, c, kh, kw, o*c*kh*kw)
	}
	rw, pw := ConvRowWords(c, kh, kw), Words(c)
	if len(src) < o*rw {
		return fmt.Errorf("bitops: UnpackOIHW: src holds %d words, needs %d", len(src), o*rw)
	}
	for oc := 0; oc < o; oc++ {
		for ch := 0; ch < c; ch++ {
			for ky := 0; ky < kh; ky++ {
				for kx := 0; kx < kw; kx++ {
					b := src[oc*rw+(ky*kw+kx)*pw+ch>>6] >> uint(ch&63) & 1
					dst[((oc*c+ch)*kh+ky)*kw+kx] = float32(int(b)*2 - 1)
				}
			}
		}
	}
	return nil
}

// TightConvRowWords returns the words in one conv weight row in the tight
// layout: the kh·kw taps' c channel bits back to back, Words(kh·kw·c) words.
func TightConvRowWords(c, kh, kw int) int { return Words(kh * kw * c) }

// PackOIHWTight packs the signs of a PyTorch conv weight [o][c][kh][kw] into
// o rows of TightConvRowWords(c, kh, kw) words in the tight layout: tap
// k = ky·kw+kx, channel ch at bit k·c+ch of the row. Unlike PackOIHW's
// layout a tap does not start a new word, so a row of a 32-channel 3×3 conv
// is 5 words instead of 9. The trainer uses it: it gathers every patch into
// a row anyway (im2col), and the shorter rows are fewer words to AND. The
// model format and the inference engine use PackOIHW's layout, which reads
// patches in place from a channel-packed map.
func PackOIHWTight(dst []uint64, src []float32, o, c, kh, kw int) error {
	if o < 0 || c < 0 || kh < 0 || kw < 0 {
		return fmt.Errorf("bitops: PackOIHWTight: negative shape %d×%d×%d×%d", o, c, kh, kw)
	}
	if len(src) != o*c*kh*kw {
		return fmt.Errorf("bitops: PackOIHWTight: src holds %d values, %d×%d×%d×%d needs %d", len(src), o, c, kh, kw, o*c*kh*kw)
	}
	rw, k := TightConvRowWords(c, kh, kw), kh*kw
	if len(dst) < o*rw {
		return fmt.Errorf("bitops: PackOIHWTight: dst holds %d words, needs %d", len(dst), o*rw)
	}
	dst = dst[:o*rw]
	clear(dst)
	for oc := 0; oc < o; oc++ {
		row, w := dst[oc*rw:(oc+1)*rw], src[oc*c*k:(oc+1)*c*k]
		for ch := 0; ch < c; ch++ {
			for t := 0; t < k; t++ {
				if w[ch*k+t] >= 0 {
					b := t*c + ch
					row[b>>6] |= 1 << uint(b&63)
				}
			}
		}
	}
	return nil
}
