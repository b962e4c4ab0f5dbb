package input

import (
	"bufio"
	"bytes"
	"image"
	"image/color"
	"io"
	"strings"
	"testing"
	"time"
)

func TestYUVTables(t *testing.T) {
	// Full range agrees with the standard library's JFIF conversion.
	for _, c := range [][3]uint8{{0, 128, 128}, {255, 128, 128}, {81, 90, 240}, {145, 54, 34}, {41, 240, 110}, {200, 10, 200}} {
		r, g, b := color.YCbCrToRGB(c[0], c[1], c[2])
		l := yuvLayout{w: 1, h: 1, y: []byte{c[0]}, yStride: 1, yStep: 1, cb: []byte{c[1]}, cr: []byte{c[2]}, cStride: 1, cStep: 1, subX: 1, subY: 1, tables: fullYUV}
		var f Frame
		if err := l.toFrame(&f, 3); err != nil {
			t.Fatal(err)
		}
		for i, want := range []uint8{r, g, b} {
			if !approx(float64(f.Pix[i])*255, float64(want), 1.01) {
				t.Errorf("YCbCr %v channel %d = %v, want %d", c, i, f.Pix[i]*255, want)
			}
		}
	}
	// Limited range: 16 is black, 235 white, beyond clamps.
	for _, c := range []struct {
		y    byte
		want float32
	}{{16, 0}, {235, 1}, {0, 0}, {255, 1}, {126, 110.0 / 219}} {
		if got := limitedYUV.y[c.y]; !approx(float64(got), float64(c.want), 1e-6) {
			t.Errorf("limited Y %d = %v, want %v", c.y, got, c.want)
		}
	}
	l := yuvLayout{w: 4, h: 2, y: make([]byte, 7), yStride: 4, yStep: 1, tables: fullYUV}
	if err := l.toFrame(&Frame{}, 1); err == nil || !strings.Contains(err.Error(), "luma data has 7 bytes") {
		t.Errorf("short luma: %v", err)
	}
}

func TestImageToFrame(t *testing.T) {
	img := pattern(13, 9)
	var f Frame
	for _, ch := range []int{1, 3} {
		if err := imageToFrame(&f, img, ch); err != nil {
			t.Fatal(err)
		}
		if f.Shape.C != ch || f.Shape.H != 9 || f.Shape.W != 13 {
			t.Fatalf("shape %v", f.Shape)
		}
		if d := maxDiff(&f, img); d > 1e-5 {
			t.Errorf("NRGBA → %d channels: max error %v", ch, d)
		}
		// A JPEG decodes to Y'CbCr 4:2:0; the fast path must agree with
		// the generic conversion of the same decoded image.
		dec, err := decodeImage(encodeJPEG(t, img, 90))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := dec.(*image.YCbCr); !ok {
			t.Fatalf("decoded %T", dec)
		}
		imageToFrame(&f, dec, ch)
		if d := maxDiff(&f, dec); d > 1.5/255 {
			t.Errorf("YCbCr → %d channels: max error %v", ch, d)
		}
		// An odd-origin sub-image takes the generic path and still matches.
		sub := dec.(*image.YCbCr).SubImage(image.Rect(1, 1, 12, 8))
		imageToFrame(&f, sub, ch)
		if f.Shape.W != 11 || maxDiff(&f, sub) > 1.5/255 {
			t.Errorf("sub-image: shape %v error %v", f.Shape, maxDiff(&f, sub))
		}
	}
}

func decodeImage(b []byte) (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	return img, err
}

func TestY4M(t *testing.T) {
	const w, h = 5, 3 // odd sizes exercise chroma rounding
	y := seqBytes(w*h, func(i int) byte { return byte(16 + 10*i) })
	cases := []struct {
		cs      string
		chroma  int // bytes of both chroma planes
		limited bool
	}{
		{"Cmono", 0, false},
		{"", 2 * 3 * 2, true}, // default 420jpeg
		{"C420mpeg2 XYSCSS=420MPEG2", 2 * 3 * 2, true},
		{"C422", 2 * 3 * 3, true},
		{"C444", 2 * 5 * 3, true},
		{"C444 XCOLORRANGE=FULL", 2 * 5 * 3, false},
		{"Cmono XCOLORRANGE=LIMITED", 0, true},
		{"C411", 2 * 2 * 3, true},
	}
	for _, c := range cases {
		frame := append(append([]byte{}, y...), bytes.Repeat([]byte{128}, c.chroma)...)
		stream := y4mStream("YUV4MPEG2 W5 H3 F25:1 Ip A1:1 "+c.cs, frame, frame)
		s, err := NewY4M(bytes.NewReader(stream), Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.cs, err)
		}
		got := drain(t, s)
		if len(got) != 2 {
			t.Fatalf("%s: %d frames, want 2", c.cs, len(got))
		}
		if got[1].Time != 40*time.Millisecond || got[1].Seq != 1 {
			t.Errorf("%s: frame 1 at %v", c.cs, got[1].Time)
		}
		tab := tablesFor(c.limited)
		for i, v := range got[0].Frame.Pix {
			if v != tab.y[y[i]] {
				t.Fatalf("%s: pixel %d = %v, want %v (limited %v)", c.cs, i, v, tab.y[y[i]], c.limited)
			}
		}
		// RGB of neutral chroma is gray in every channel.
		s, _ = NewY4M(bytes.NewReader(stream), Options{Channels: 3})
		smp, err := s.Next()
		if err != nil || smp.Frame.Shape.C != 3 {
			t.Fatalf("%s RGB: %v %v", c.cs, err, smp)
		}
		for i := range w * h {
			if p := smp.Frame.Pix; !approx(float64(p[i]), float64(p[w*h+i]), 1e-6) || !approx(float64(p[i]), float64(p[2*w*h+i]), 1e-6) {
				t.Fatalf("%s: neutral chroma gives R,G,B %v %v %v", c.cs, p[i], p[w*h+i], p[2*w*h+i])
			}
		}
	}
	bad := []struct{ in, want string }{
		{"", "reading header"},
		{"YUV4MPEG3 W1 H1\n", "does not start with YUV4MPEG2"},
		{"YUV4MPEG2 W0 H1\n", "frame size 0x1"},
		{"YUV4MPEG2 W1 H1 C420p10\n", "C420p10 not supported"},
		{"YUV4MPEG2 Wx H1\n", `bad header field "Wx"`},
		{"YUV4MPEG2 W1 H1 F1:0\n", "bad frame rate"},
		{"YUV4MPEG2 W99999 H1\n", "frame size"},
	}
	for _, c := range bad {
		_, err := NewY4M(strings.NewReader(c.in), Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
	// Truncated frame, garbage instead of FRAME.
	s, _ := NewY4M(bytes.NewReader(y4mStream("YUV4MPEG2 W4 H4 Cmono", make([]byte, 10))), Options{})
	if _, err := s.Next(); err == nil || !strings.Contains(err.Error(), "frame 0 truncated: 10 of 16") {
		t.Errorf("truncated: %v", err)
	}
	s, _ = NewY4M(strings.NewReader("YUV4MPEG2 W1 H1 Cmono\nFRAME\nxJUNK\n"), Options{})
	s.Next()
	if _, err := s.Next(); err == nil || !strings.Contains(err.Error(), "expected FRAME") {
		t.Errorf("junk: %v", err)
	}
}

func TestSplitJPEG(t *testing.T) {
	a := encodeJPEG(t, pattern(16, 8), 80)
	b := encodeJPEG(t, pattern(8, 16), 60)
	// Garbage before a frame and fill bytes before markers are allowed.
	stream := append(append(append([]byte("junk"), a...), 0, 0), b...)
	r := bufio.NewReader(bytes.NewReader(stream))
	got, err := splitJPEG(r, nil)
	if err != nil || !bytes.Equal(got, a) {
		t.Fatalf("first frame: %v (%d bytes, want %d)", err, len(got), len(a))
	}
	got, err = splitJPEG(r, got)
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("second frame: %v", err)
	}
	if _, err := splitJPEG(r, got); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	// A hand-made scan with stuffing, a restart marker and fill bytes: the
	// splitter must not stop at FF00 or FFD3.
	synth := []byte{0xff, 0xd8, 0xff, 0xc4, 0, 3, 9, 0xff, 0xda, 0, 2, 1, 0xff, 0, 2, 0xff, 0xd3, 3, 0xff, 0xff, 0xd9}
	got, err = splitJPEG(bufio.NewReader(bytes.NewReader(append(synth, 7, 7))), nil)
	if err != nil || !bytes.Equal(got, append(synth[:17:17], 3, 0xff, 0xd9)) {
		t.Fatalf("synthetic scan: %v % x", err, got)
	}
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{a[:len(a)-7], "truncated"},
		{[]byte{0xff, 0xd8, 0x12}, "expected a marker"},
		{[]byte{0xff, 0xd8, 0xff, 0xe0, 0, 1}, "segment length 1"},
		{[]byte("no jpeg here"), "no JPEG start"},
	} {
		_, err := splitJPEG(bufio.NewReader(bytes.NewReader(c.in)), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("% x: %v, want %q", c.in[:min(len(c.in), 8)], err, c.want)
		}
	}
}

// stripDHT removes the Huffman table segments, as UVC webcams send MJPEG.
func stripDHT(j []byte) []byte {
	out := []byte{0xff, 0xd8}
	i := 2
	for j[i+1] != mSOS {
		n := 2 + (int(j[i+2])<<8 | int(j[i+3]))
		if j[i+1] != mDHT {
			out = append(out, j[i:i+n]...)
		}
		i += n
	}
	return append(out, j[i:]...)
}

func TestMJPEGWithoutHuffmanTables(t *testing.T) {
	img := pattern(24, 16)
	j := encodeJPEG(t, img, 90)
	s := stripDHT(j)
	if _, ok := findSegment(s, mDHT); ok || len(s) >= len(j) {
		t.Fatal("test JPEG still has a DHT")
	}
	if _, err := decodeImage(s); err == nil {
		t.Fatal("image/jpeg decodes a JPEG without Huffman tables; the test proves nothing")
	}
	// The standard tables are Annex K.3's: DC luminance has code lengths
	// 0 1 5 1 1 1 1 1 1 0 0 0 0 0 0 0 and symbols 0..11.
	dht := standardDHT()
	if dht[4] != 0x00 || !bytes.Equal(dht[5:21], []byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}) || !bytes.Equal(dht[21:33], []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}) {
		t.Errorf("standard DHT starts % x", dht[:33])
	}
	src := NewMJPEG(bytes.NewReader(append(append([]byte{}, s...), s...)), Options{Channels: 3, FrameRate: 10})
	got := drain(t, src)
	if len(got) != 2 || got[1].Time != 100*time.Millisecond {
		t.Fatalf("%d frames", len(got))
	}
	var want Frame
	if err := decodeJPEG(&want, j, 3); err != nil {
		t.Fatal(err)
	}
	for i, v := range want.Pix {
		if got[0].Frame.Pix[i] != v {
			t.Fatalf("frame without DHT differs from the original at value %d: %v vs %v", i, got[0].Frame.Pix[i], v)
		}
	}
	fixed, err := fixJPEG(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeImage(fixed); err != nil {
		t.Errorf("fixJPEG output: %v", err)
	}
	if same, _ := fixJPEG(nil, j); !bytes.Equal(same, j) {
		t.Error("fixJPEG changed a JPEG that has tables")
	}
}

func TestRaw(t *testing.T) {
	const w, h = 4, 2
	img := pattern(w, h)
	// Build each layout from the image's own Y'CbCr values (full range).
	var yy, cb, cr [w * h]byte
	var rgb []byte
	for y := range h {
		for x := range w {
			c := img.NRGBAAt(x, y)
			yy[y*w+x], cb[y*w+x], cr[y*w+x] = color.RGBToYCbCr(c.R, c.G, c.B)
			rgb = append(rgb, c.R, c.G, c.B)
		}
	}
	var yuyv, i420, nv12 []byte
	for y := range h {
		for x := 0; x < w; x += 2 {
			yuyv = append(yuyv, yy[y*w+x], cb[y*w+x], yy[y*w+x+1], cr[y*w+x])
		}
	}
	i420 = append(i420, yy[:]...)
	nv12 = append(nv12, yy[:]...)
	for x := 0; x < w; x += 2 {
		i420 = append(i420, cb[x])
	}
	for x := 0; x < w; x += 2 {
		i420 = append(i420, cr[x])
	}
	for x := 0; x < w; x += 2 {
		nv12 = append(nv12, cb[x], cr[x])
	}
	for _, c := range []struct {
		format     string
		frame      []byte
		subX, subY int // chroma subsampling; 0 for formats without chroma
	}{
		{"gray", yy[:], 0, 0},
		{"rgb24", rgb, 0, 0},
		{"yuyv", yuyv, 2, 1},
		{"i420", i420, 2, 2},
		{"nv12", nv12, 2, 2},
	} {
		src, err := NewRaw(bytes.NewReader(bytes.Repeat(c.frame, 3)), c.format, w, h, true, Options{Channels: 3})
		if err != nil {
			t.Fatal(err)
		}
		got := drain(t, src)
		if len(got) != 3 {
			t.Fatalf("%s: %d frames", c.format, len(got))
		}
		// Expected RGB: each pixel's own luma with the chroma of the
		// top-left pixel of its subsampling block.
		f := got[2].Frame
		for y := range h {
			for x := range w {
				var want [3]uint8
				switch {
				case c.format == "rgb24":
					p := img.NRGBAAt(x, y)
					want = [3]uint8{p.R, p.G, p.B}
				case c.subX == 0:
					want = [3]uint8{yy[y*w+x], yy[y*w+x], yy[y*w+x]}
				default:
					k := y/c.subY*c.subY*w + x/c.subX*c.subX
					want[0], want[1], want[2] = color.YCbCrToRGB(yy[y*w+x], cb[k], cr[k])
				}
				for ch := range 3 {
					if v := f.Pix[ch*w*h+y*w+x] * 255; !approx(float64(v), float64(want[ch]), 1.01) {
						t.Fatalf("%s: pixel (%d,%d) channel %d = %v, want %d", c.format, x, y, ch, v, want[ch])
					}
				}
			}
		}
		// Gray is the luma plane (for rgb24, BT.601 luma of R,G,B).
		src, _ = NewRaw(bytes.NewReader(c.frame), c.format, w, h, true, Options{})
		smp, _ := src.Next()
		for i := range w * h {
			if !approx(float64(smp.Frame.Pix[i])*255, float64(yy[i]), 0.51) {
				t.Fatalf("%s: gray pixel %d = %v, want %d", c.format, i, smp.Frame.Pix[i]*255, yy[i])
			}
		}
	}
	src, _ := NewRaw(bytes.NewReader(make([]byte, 11)), "gray", w, h, false, Options{})
	src.Next()
	if _, err := src.Next(); err == nil || !strings.Contains(err.Error(), "frame 1 truncated: 3 of 8") {
		t.Errorf("truncated: %v", err)
	}
	if _, err := NewRaw(nil, "bgr", 2, 2, false, Options{}); err == nil || !strings.Contains(err.Error(), "unknown pixel format") {
		t.Errorf("bad format: %v", err)
	}
	if _, err := NewRaw(nil, "yuyv", 3, 2, false, Options{}); err == nil || !strings.Contains(err.Error(), "even width") {
		t.Errorf("odd yuyv: %v", err)
	}
}
