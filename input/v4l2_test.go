package input

import (
	"errors"
	"image"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// fakeCamera is a V4L2 device in memory: it speaks the ioctl protocol on
// the same structs the kernel would see and hands out queued frames.
type fakeCamera struct {
	caps      uint32
	formats   []uint32 // pixel formats it offers; S_FMT falls back to the first
	w, h, pad int      // frame size; pad bytes at the end of each YUYV row
	quant     uint32
	frames    [][]byte // payloads DQBUF delivers in order

	bufs      [][]byte
	queued    []uint32
	streaming bool
	next      int
	calls     []string
	unmapped  int
	closed    bool
}

func (d *fakeCamera) Ioctl(req uintptr, arg unsafe.Pointer) error {
	switch req {
	case vidiocQueryCap:
		d.calls = append(d.calls, "QUERYCAP")
		c := (*v4l2Capability)(arg)
		copy(c.Driver[:], "fake")
		copy(c.Card[:], "Fake Camera")
		c.Capabilities = d.caps | v4l2CapDeviceCaps
		c.DeviceCaps = d.caps
	case vidiocSFmt:
		f := (*v4l2Format)(arg)
		if f.Type != v4l2BufTypeVideoCapture {
			return syscall.EINVAL
		}
		p := f.pix()
		d.calls = append(d.calls, "S_FMT "+fourccString(p.PixelFormat))
		if !slices.Contains(d.formats, p.PixelFormat) {
			p.PixelFormat = d.formats[0]
		}
		p.Width, p.Height = uint32(d.w), uint32(d.h)
		p.BytesPerLine = 0
		if p.PixelFormat == pixYUYV {
			p.BytesPerLine = uint32(2*d.w + d.pad)
		}
		p.SizeImage = uint32(2*d.w+d.pad) * uint32(d.h)
		p.Quantization = d.quant
	case vidiocReqBufs:
		r := (*v4l2RequestBuffers)(arg)
		d.calls = append(d.calls, "REQBUFS")
		if r.Memory != v4l2MemoryMmap || r.Type != v4l2BufTypeVideoCapture {
			return syscall.EINVAL
		}
		r.Count = min(r.Count, 3)
		d.bufs = make([][]byte, r.Count)
		for i := range d.bufs {
			d.bufs[i] = make([]byte, 1<<16)
		}
	case vidiocQueryBuf:
		b := (*v4l2Buffer)(arg)
		if int(b.Index) >= len(d.bufs) {
			return syscall.EINVAL
		}
		b.Length, b.M = uint32(len(d.bufs[b.Index])), uintptr(b.Index)*4096
	case vidiocQBuf:
		b := (*v4l2Buffer)(arg)
		if int(b.Index) >= len(d.bufs) || slices.Contains(d.queued, b.Index) {
			return syscall.EINVAL
		}
		d.queued = append(d.queued, b.Index)
	case vidiocDQBuf:
		b := (*v4l2Buffer)(arg)
		if !d.streaming {
			return syscall.EINVAL
		}
		if d.next >= len(d.frames) {
			return syscall.ENODEV // unplugged
		}
		if len(d.queued) == 0 {
			return syscall.EAGAIN
		}
		i := d.queued[0]
		d.queued = d.queued[1:]
		n := copy(d.bufs[i], d.frames[d.next])
		*b = v4l2Buffer{Index: i, Type: b.Type, Memory: b.Memory, BytesUsed: uint32(n), Sequence: uint32(d.next)}
		ts := 1000*time.Second + time.Duration(d.next)*33*time.Millisecond
		b.Timestamp.Sec, b.Timestamp.Usec = int(ts/time.Second), int(ts%time.Second/time.Microsecond)
		d.next++
	case vidiocStreamOn:
		d.calls = append(d.calls, "STREAMON")
		if len(d.queued) == 0 {
			return syscall.EINVAL
		}
		d.streaming = true
	case vidiocStreamOff:
		d.calls = append(d.calls, "STREAMOFF")
		d.streaming = false
	default:
		return syscall.ENOTTY
	}
	return nil
}

func (d *fakeCamera) Mmap(offset int64, length int) ([]byte, error) {
	i := int(offset / 4096)
	if offset%4096 != 0 || i >= len(d.bufs) || length > len(d.bufs[i]) {
		return nil, syscall.EINVAL
	}
	return d.bufs[i][:length], nil
}

func (d *fakeCamera) Munmap([]byte) error { d.unmapped++; return nil }
func (d *fakeCamera) Close() error        { d.closed = true; return nil }

// yuyvFrame packs an image as YUYV (limited range, as cameras send it) with
// pad bytes after each row.
func yuyvFrame(img *image.NRGBA, pad int) []byte {
	b := img.Bounds()
	var out []byte
	for y := range b.Dy() {
		for x := 0; x < b.Dx(); x += 2 {
			y0, u, v := rgbToLimited(img, x, y)
			y1, _, _ := rgbToLimited(img, x+1, y)
			out = append(out, y0, u, y1, v)
		}
		out = append(out, make([]byte, pad)...)
	}
	return out
}

func rgbToLimited(img *image.NRGBA, x, y int) (uint8, uint8, uint8) {
	c := img.NRGBAAt(x, y)
	r, g, b := float64(c.R), float64(c.G), float64(c.B)
	yy := 16 + (0.299*r+0.587*g+0.114*b)*219/255
	cb := 128 + (-0.168736*r-0.331264*g+0.5*b)*224/255
	cr := 128 + (0.5*r-0.418688*g-0.081312*b)*224/255
	return uint8(yy + 0.5), uint8(cb + 0.5), uint8(cr + 0.5)
}

func TestV4L2YUYV(t *testing.T) {
	img := pattern(8, 6)
	frame := yuyvFrame(img, 4)
	cam := &fakeCamera{caps: v4l2CapVideoCapture | v4l2CapStreaming, formats: []uint32{pixYUYV, pixMJPEG}, w: 8, h: 6, pad: 4,
		frames: [][]byte{frame, frame, frame}}
	src, err := NewV4L2(cam, "/dev/fake0", Options{Channels: 3, Width: 8, Height: 6})
	if err != nil {
		t.Fatal(err)
	}
	if w, h, f := src.(*v4l2Source).Format(); w != 8 || h != 6 || f != "YUYV" {
		t.Errorf("format %dx%d %s", w, h, f)
	}
	var times []time.Duration
	for i := range 3 {
		smp, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, smp.Time)
		if smp.Seq != i || smp.Frame.Shape.C != 3 || smp.Frame.Shape.W != 8 {
			t.Fatalf("frame %d: seq %d shape %v", i, smp.Seq, smp.Frame.Shape)
		}
		// Luma is per pixel, chroma per pair: compare the pair's first
		// pixels, where chroma is their own.
		for y := range 6 {
			for x := 0; x < 8; x += 2 {
				c := img.NRGBAAt(x, y)
				for ch, v := range []uint8{c.R, c.G, c.B} {
					if got := smp.Frame.Pix[ch*48+y*8+x] * 255; !approx(float64(got), float64(v), 3) {
						t.Fatalf("pixel (%d,%d) channel %d = %v, want %d", x, y, ch, got, v)
					}
				}
			}
		}
	}
	if !slices.Equal(times, []time.Duration{0, 33 * time.Millisecond, 66 * time.Millisecond}) {
		t.Errorf("timestamps %v", times)
	}
	// The buffers are recycled: 3 frames went through the fake's 3 buffers
	// and all are queued again.
	if len(cam.queued) != 3 {
		t.Errorf("%d buffers queued after 3 frames, want 3", len(cam.queued))
	}
	if _, err := src.Next(); err == nil || !errors.Is(err, syscall.ENODEV) {
		t.Errorf("unplugged camera: %v", err)
	}
	src.Close()
	if !cam.closed || cam.unmapped != 3 || cam.streaming || !slices.Contains(cam.calls, "STREAMOFF") {
		t.Errorf("close: closed %v unmapped %d streaming %v calls %v", cam.closed, cam.unmapped, cam.streaming, cam.calls)
	}
	src.Close() // twice is harmless
}

func TestV4L2GrayAndRange(t *testing.T) {
	// Y of 16 and 235 are black and white in limited range (the default
	// for YUYV); with full-range quantization they are 16/255 and 235/255.
	frame := []byte{16, 128, 235, 128}
	for _, c := range []struct {
		quant       uint32
		black, whit float32
	}{{0, 0, 1}, {v4l2QuantizationFull, 16.0 / 255, 235.0 / 255}} {
		cam := &fakeCamera{caps: v4l2CapVideoCapture | v4l2CapStreaming, formats: []uint32{pixYUYV}, w: 2, h: 1, quant: c.quant, frames: [][]byte{frame}}
		src, err := NewV4L2(cam, "fake", Options{})
		if err != nil {
			t.Fatal(err)
		}
		smp, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if p := smp.Frame.Pix; smp.Frame.Shape.C != 1 || !approx(float64(p[0]), float64(c.black), 1e-6) || !approx(float64(p[1]), float64(c.whit), 1e-6) {
			t.Errorf("quantization %d: gray %v, want %v %v", c.quant, p, c.black, c.whit)
		}
		src.Close()
	}
}

func TestV4L2MJPEG(t *testing.T) {
	img := pattern(16, 16)
	j := stripDHT(encodeJPEG(t, img, 95)) // webcams omit the Huffman tables
	cam := &fakeCamera{caps: v4l2CapVideoCapture | v4l2CapStreaming, formats: []uint32{pixMJPEG}, w: 16, h: 16,
		frames: [][]byte{j, []byte("corrupt"), j}}
	src, err := NewV4L2(cam, "fake", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Asked for YUYV first, the driver settled on MJPEG, which is taken.
	if _, _, f := src.(*v4l2Source).Format(); cam.calls[1] != "S_FMT YUYV" || f != "MJPG" {
		t.Errorf("calls %v, format %s", cam.calls, f)
	}
	smp, err := src.Next()
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(&smp.Frame, img); d > 0.06 {
		t.Errorf("MJPEG frame differs from the image by %v", d)
	}
	// A corrupt frame is an error, but the stream goes on.
	if _, err := src.Next(); err == nil || !strings.Contains(err.Error(), "frame 1") {
		t.Errorf("corrupt frame: %v", err)
	}
	if smp, err := src.Next(); err != nil || smp.Seq != 1 {
		t.Errorf("after a corrupt frame: %v", err)
	}
	src.Close()
}

func TestV4L2Errors(t *testing.T) {
	cases := []struct {
		cam  *fakeCamera
		opt  Options
		want string
	}{
		{&fakeCamera{caps: v4l2CapStreaming, formats: []uint32{pixYUYV}, w: 2, h: 2}, Options{}, "not a video capture device"},
		{&fakeCamera{caps: v4l2CapVideoCapture, formats: []uint32{pixYUYV}, w: 2, h: 2}, Options{}, "no streaming I/O"},
		{&fakeCamera{caps: v4l2CapVideoCapture | v4l2CapStreaming, formats: []uint32{fourcc("RGB3")}, w: 2, h: 2}, Options{}, "offers RGB3 instead of YUYV or MJPEG"},
		{&fakeCamera{caps: v4l2CapVideoCapture | v4l2CapStreaming, formats: []uint32{pixYUYV}, w: 2, h: 2}, Options{PixelFormat: "h264"}, `pixel format "h264" not supported`},
		{&fakeCamera{caps: v4l2CapVideoCapture | v4l2CapStreaming, formats: []uint32{pixYUYV}, w: 0, h: 2}, Options{}, "driver set frame size 0x2"},
	}
	for _, c := range cases {
		_, err := NewV4L2(c.cam, "/dev/fake", c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
		if !c.cam.closed {
			t.Errorf("%q: device left open", c.want)
		}
	}
}

func TestV4L2ABI(t *testing.T) {
	// Sizes and request numbers from linux/videodev2.h as gcc sees it on
	// 64-bit Linux (amd64, arm64); 32-bit ARM has 204- and 68-byte
	// format and buffer structs.
	if unsafe.Sizeof(uintptr(0)) != 8 {
		if unsafe.Sizeof(v4l2Format{}) != 204 || unsafe.Sizeof(v4l2Buffer{}) != 68 {
			t.Errorf("32-bit sizes: format %d buffer %d", unsafe.Sizeof(v4l2Format{}), unsafe.Sizeof(v4l2Buffer{}))
		}
		return
	}
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof capability", unsafe.Sizeof(v4l2Capability{}), 104},
		{"sizeof format", unsafe.Sizeof(v4l2Format{}), 208},
		{"sizeof pix_format", unsafe.Sizeof(v4l2PixFormat{}), 48},
		{"sizeof requestbuffers", unsafe.Sizeof(v4l2RequestBuffers{}), 20},
		{"sizeof buffer", unsafe.Sizeof(v4l2Buffer{}), 88},
		{"buffer.timestamp", unsafe.Offsetof(v4l2Buffer{}.Timestamp), 24},
		{"buffer.sequence", unsafe.Offsetof(v4l2Buffer{}.Sequence), 56},
		{"buffer.m", unsafe.Offsetof(v4l2Buffer{}.M), 64},
		{"buffer.length", unsafe.Offsetof(v4l2Buffer{}.Length), 72},
		{"format.fmt", unsafe.Offsetof(v4l2Format{}.Fmt), 8},
		{"VIDIOC_QUERYCAP", vidiocQueryCap, 0x80685600},
		{"VIDIOC_S_FMT", vidiocSFmt, 0xc0d05605},
		{"VIDIOC_REQBUFS", vidiocReqBufs, 0xc0145608},
		{"VIDIOC_QUERYBUF", vidiocQueryBuf, 0xc0585609},
		{"VIDIOC_QBUF", vidiocQBuf, 0xc058560f},
		{"VIDIOC_DQBUF", vidiocDQBuf, 0xc0585611},
		{"VIDIOC_STREAMON", vidiocStreamOn, 0x40045612},
		{"VIDIOC_STREAMOFF", vidiocStreamOff, 0x40045613},
		{"V4L2_PIX_FMT_YUYV", uintptr(pixYUYV), 0x56595559},
		{"V4L2_PIX_FMT_MJPEG", uintptr(pixMJPEG), 0x47504a4d},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}
