package input

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// Device is the seam between the V4L2 capture logic and the kernel: a real
// /dev/videoN on Linux, a fake in tests.
type Device interface {
	// Ioctl performs request req with argument arg (a pointer to the
	// request's struct); it returns a syscall.Errno on failure.
	Ioctl(req uintptr, arg unsafe.Pointer) error
	// Mmap maps length bytes of the device at offset, shared, read-write.
	Mmap(offset int64, length int) ([]byte, error)
	// Munmap unmaps a slice Mmap returned.
	Munmap(b []byte) error
	Close() error
}

// The kernel ABI, from linux/videodev2.h. The Go structs reproduce the C
// layouts on every Linux architecture with the generic ioctl encoding:
// uintptr and int have the size and alignment of C's unsigned long and
// long, and a zero-length [0]uintptr gives a union the alignment its
// pointer members have.

type v4l2Capability struct {
	Driver       [16]byte
	Card         [32]byte
	BusInfo      [32]byte
	Version      uint32
	Capabilities uint32
	DeviceCaps   uint32
	Reserved     [3]uint32
}

type v4l2PixFormat struct {
	Width, Height, PixelFormat, Field   uint32
	BytesPerLine, SizeImage, Colorspace uint32
	Priv, Flags, YCbCrEnc, Quantization uint32
	XferFunc                            uint32
}

type v4l2Format struct {
	Type uint32
	Fmt  struct {
		_   [0]uintptr // struct v4l2_window holds pointers
		Raw [200]byte
	}
}

func (f *v4l2Format) pix() *v4l2PixFormat { return (*v4l2PixFormat)(unsafe.Pointer(&f.Fmt.Raw[0])) }

type v4l2RequestBuffers struct {
	Count, Type, Memory, Capabilities uint32
	Flags                             uint8
	Reserved                          [3]uint8
}

type v4l2Timecode struct {
	Type, Flags                     uint32
	Frames, Seconds, Minutes, Hours uint8
	UserBits                        [4]uint8
}

type v4l2Buffer struct {
	Index, Type, BytesUsed, Flags, Field uint32
	Timestamp                            struct{ Sec, Usec int } // struct timeval
	Timecode                             v4l2Timecode
	Sequence, Memory                     uint32
	M                                    uintptr // union { __u32 offset; unsigned long userptr; …; __s32 fd }
	Length, Reserved2                    uint32
	RequestFD                            uint32
}

// offset is the mmap offset in the M union (its first 32 bits; Linux
// targets here are little-endian).
func (b *v4l2Buffer) offset() int64 { return int64(uint32(b.M)) }

// ioctl request encoding (asm-generic/ioctl.h): dir<<30 | size<<16 |
// type<<8 | nr.
func ioc(dir, nr, size uintptr) uintptr { return dir<<30 | size<<16 | 'V'<<8 | nr }

const (
	iocWrite = 1
	iocRead  = 2
)

var (
	vidiocQueryCap  = ioc(iocRead, 0, unsafe.Sizeof(v4l2Capability{}))
	vidiocSFmt      = ioc(iocRead|iocWrite, 5, unsafe.Sizeof(v4l2Format{}))
	vidiocReqBufs   = ioc(iocRead|iocWrite, 8, unsafe.Sizeof(v4l2RequestBuffers{}))
	vidiocQueryBuf  = ioc(iocRead|iocWrite, 9, unsafe.Sizeof(v4l2Buffer{}))
	vidiocQBuf      = ioc(iocRead|iocWrite, 15, unsafe.Sizeof(v4l2Buffer{}))
	vidiocDQBuf     = ioc(iocRead|iocWrite, 17, unsafe.Sizeof(v4l2Buffer{}))
	vidiocStreamOn  = ioc(iocWrite, 18, unsafe.Sizeof(int32(0)))
	vidiocStreamOff = ioc(iocWrite, 19, unsafe.Sizeof(int32(0)))
)

const (
	v4l2BufTypeVideoCapture = 1
	v4l2MemoryMmap          = 1
	v4l2FieldAny            = 0
	v4l2CapVideoCapture     = 0x00000001
	v4l2CapStreaming        = 0x04000000
	v4l2CapDeviceCaps       = 0x80000000
	v4l2QuantizationFull    = 1
	v4l2QuantizationLimited = 2
)

func fourcc(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

var (
	pixYUYV  = fourcc("YUYV")
	pixMJPEG = fourcc("MJPG")
	pixJPEG  = fourcc("JPEG")
	pixGrey  = fourcc("GREY")
)

func fourccString(v uint32) string {
	b := []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%#08x", v)
		}
	}
	return string(b)
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// v4l2Source captures frames from a V4L2 device with mmap streaming I/O.
type v4l2Source struct {
	dev      Device
	name     string
	bufs     [][]byte
	w, h     int
	bpl      int
	pixfmt   uint32
	tables   *yuvTables
	channels int
	streamOn bool
	t0       time.Duration
	haveT0   bool
	sample   Sample
	seq      int
	jpeg     []byte
	err      error
}

// NewV4L2 starts capturing from dev (name is for messages). It asks for
// opt.Width×opt.Height (default 640×480) in YUYV or MJPEG (opt.PixelFormat;
// "" tries YUYV, then MJPEG) and accepts what the driver settles on if it
// is YUYV, MJPEG/JPEG or GREY. Frames are stamped with the driver's
// timestamps, relative to the first frame. On error, dev is closed.
func NewV4L2(dev Device, name string, opt Options) (src Source, err error) {
	s := &v4l2Source{dev: dev, name: name, channels: opt.channels()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	var cp v4l2Capability
	if err := dev.Ioctl(vidiocQueryCap, unsafe.Pointer(&cp)); err != nil {
		return nil, fmt.Errorf("v4l2 %s: VIDIOC_QUERYCAP: %w (not a V4L2 device?)", name, err)
	}
	caps := cp.Capabilities
	if caps&v4l2CapDeviceCaps != 0 {
		caps = cp.DeviceCaps
	}
	card := cstr(cp.Card[:])
	if caps&v4l2CapVideoCapture == 0 {
		return nil, fmt.Errorf("v4l2 %s (%s, driver %s): not a video capture device (capabilities %#x); try another /dev/videoN", name, card, cstr(cp.Driver[:]), caps)
	}
	if caps&v4l2CapStreaming == 0 {
		return nil, fmt.Errorf("v4l2 %s (%s): no streaming I/O (capabilities %#x)", name, card, caps)
	}

	w, h := opt.Width, opt.Height
	if w <= 0 || h <= 0 {
		w, h = 640, 480
	}
	var want []uint32
	switch strings.ToLower(opt.PixelFormat) {
	case "", "auto":
		want = []uint32{pixYUYV, pixMJPEG}
	case "yuyv":
		want = []uint32{pixYUYV}
	case "mjpeg", "mjpg":
		want = []uint32{pixMJPEG}
	default:
		return nil, fmt.Errorf("v4l2 %s: pixel format %q not supported (yuyv or mjpeg)", name, opt.PixelFormat)
	}
	var got []string
	var f v4l2Format
	for _, pf := range want {
		f = v4l2Format{Type: v4l2BufTypeVideoCapture}
		p := f.pix()
		p.Width, p.Height, p.PixelFormat, p.Field = uint32(w), uint32(h), pf, v4l2FieldAny
		if err := dev.Ioctl(vidiocSFmt, unsafe.Pointer(&f)); err != nil {
			if errors.Is(err, syscall.EBUSY) {
				return nil, fmt.Errorf("v4l2 %s: VIDIOC_S_FMT: %w (another program is using the camera)", name, err)
			}
			return nil, fmt.Errorf("v4l2 %s: VIDIOC_S_FMT %s %dx%d: %w", name, fourccString(pf), w, h, err)
		}
		p = f.pix()
		switch p.PixelFormat {
		case pixYUYV, pixMJPEG, pixJPEG, pixGrey:
			s.pixfmt = p.PixelFormat
		}
		if s.pixfmt != 0 {
			break
		}
		if name := fourccString(p.PixelFormat); !slices.Contains(got, name) {
			got = append(got, name)
		}
	}
	if s.pixfmt == 0 {
		return nil, fmt.Errorf("v4l2 %s (%s): the driver offers %s instead of YUYV or MJPEG; convert with ffmpeg: ffmpeg -f v4l2 -i %s -f yuv4mpegpipe - | bsnn-run -input -",
			name, card, strings.Join(got, ", "), name)
	}
	p := f.pix()
	s.w, s.h, s.bpl = int(p.Width), int(p.Height), int(p.BytesPerLine)
	if s.w <= 0 || s.h <= 0 || s.w > maxFrameDim || s.h > maxFrameDim {
		return nil, fmt.Errorf("v4l2 %s: driver set frame size %dx%d", name, s.w, s.h)
	}
	if s.bpl == 0 {
		switch s.pixfmt {
		case pixYUYV:
			s.bpl = 2 * s.w
		case pixGrey:
			s.bpl = s.w
		}
	}
	// V4L2's default quantization for Y'CbCr is limited range, and full
	// for GREY and JPEG.
	limited := s.pixfmt == pixYUYV
	switch p.Quantization {
	case v4l2QuantizationFull:
		limited = false
	case v4l2QuantizationLimited:
		limited = true
	}
	s.tables = tablesFor(opt.Range.limited(limited))

	n := opt.Buffers
	if n <= 0 {
		n = 4
	}
	rb := v4l2RequestBuffers{Count: uint32(n), Type: v4l2BufTypeVideoCapture, Memory: v4l2MemoryMmap}
	if err := dev.Ioctl(vidiocReqBufs, unsafe.Pointer(&rb)); err != nil {
		return nil, fmt.Errorf("v4l2 %s: VIDIOC_REQBUFS: %w", name, err)
	}
	if rb.Count < 1 || rb.Count > 64 {
		return nil, fmt.Errorf("v4l2 %s: driver granted %d buffers", name, rb.Count)
	}
	for i := range int(rb.Count) {
		b := v4l2Buffer{Index: uint32(i), Type: v4l2BufTypeVideoCapture, Memory: v4l2MemoryMmap}
		if err := dev.Ioctl(vidiocQueryBuf, unsafe.Pointer(&b)); err != nil {
			return nil, fmt.Errorf("v4l2 %s: VIDIOC_QUERYBUF %d: %w", name, i, err)
		}
		m, err := dev.Mmap(b.offset(), int(b.Length))
		if err != nil {
			return nil, fmt.Errorf("v4l2 %s: mmap buffer %d (%d bytes): %w", name, i, b.Length, err)
		}
		s.bufs = append(s.bufs, m)
		if err := dev.Ioctl(vidiocQBuf, unsafe.Pointer(&b)); err != nil {
			return nil, fmt.Errorf("v4l2 %s: VIDIOC_QBUF %d: %w", name, i, err)
		}
	}
	typ := int32(v4l2BufTypeVideoCapture)
	if err := dev.Ioctl(vidiocStreamOn, unsafe.Pointer(&typ)); err != nil {
		return nil, fmt.Errorf("v4l2 %s: VIDIOC_STREAMON: %w", name, err)
	}
	s.streamOn = true
	return s, nil
}

// Format returns the negotiated frame size and pixel format.
func (s *v4l2Source) Format() (w, h int, pixfmt string) { return s.w, s.h, fourccString(s.pixfmt) }

func (s *v4l2Source) Kind() Kind { return Frames }

func (s *v4l2Source) Next() (*Sample, error) {
	if s.err != nil {
		return nil, s.err
	}
	b := v4l2Buffer{Type: v4l2BufTypeVideoCapture, Memory: v4l2MemoryMmap}
	if err := s.dev.Ioctl(vidiocDQBuf, unsafe.Pointer(&b)); err != nil {
		s.err = fmt.Errorf("v4l2 %s: VIDIOC_DQBUF: %w", s.name, err)
		return nil, s.err
	}
	if int(b.Index) >= len(s.bufs) {
		s.err = fmt.Errorf("v4l2 %s: driver returned buffer %d of %d", s.name, b.Index, len(s.bufs))
		return nil, s.err
	}
	frame := s.bufs[b.Index]
	if int(b.BytesUsed) <= len(frame) && b.BytesUsed > 0 {
		frame = frame[:b.BytesUsed]
	}
	err := s.convert(frame)
	// Give the buffer back before anything else, so capture goes on.
	if qerr := s.dev.Ioctl(vidiocQBuf, unsafe.Pointer(&b)); qerr != nil {
		s.err = fmt.Errorf("v4l2 %s: VIDIOC_QBUF: %w", s.name, qerr)
		return nil, s.err
	}
	if err != nil {
		// A corrupt frame (USB glitches happen): report it, keep streaming.
		return nil, fmt.Errorf("v4l2 %s: frame %d: %w", s.name, s.seq, err)
	}
	ts := time.Duration(b.Timestamp.Sec)*time.Second + time.Duration(b.Timestamp.Usec)*time.Microsecond
	if !s.haveT0 {
		s.t0, s.haveT0 = ts, true
	}
	s.sample.Seq, s.sample.Time = s.seq, ts-s.t0
	s.seq++
	return &s.sample, nil
}

func (s *v4l2Source) convert(frame []byte) error {
	switch s.pixfmt {
	case pixMJPEG, pixJPEG:
		// Copy out of the mmap buffer, inserting Huffman tables if the
		// camera left them out.
		var err error
		s.jpeg, err = fixJPEG(s.jpeg, frame)
		if err != nil {
			return err
		}
		return decodeJPEG(&s.sample.Frame, s.jpeg, s.channels)
	case pixYUYV:
		l := yuvLayout{w: s.w, h: s.h, y: frame, yStride: s.bpl, yStep: 2,
			cb: frame[min(1, len(frame)):], cr: frame[min(3, len(frame)):], cStride: s.bpl, cStep: 4, subX: 2, subY: 1, tables: s.tables}
		return l.toFrame(&s.sample.Frame, s.channels)
	default: // GREY
		l := yuvLayout{w: s.w, h: s.h, y: frame, yStride: s.bpl, yStep: 1, tables: s.tables}
		return l.toFrame(&s.sample.Frame, s.channels)
	}
}

// fixJPEG copies a JPEG frame into dst, inserting the standard Huffman
// tables if it has none.
func fixJPEG(dst, j []byte) ([]byte, error) {
	if len(j) < 4 || j[0] != 0xff || j[1] != mSOI {
		return dst, fmt.Errorf("MJPEG frame does not start with a JPEG SOI marker")
	}
	if _, ok := findSegment(j, mDHT); ok {
		return append(dst[:0], j...), nil
	}
	// Insert before the first SOS.
	i := 2
	for i+4 <= len(j) && j[i] == 0xff && j[i+1] != mSOS {
		i += 2 + (int(j[i+2])<<8 | int(j[i+3]))
	}
	if i+4 > len(j) || j[i] != 0xff {
		return dst, fmt.Errorf("MJPEG frame has no scan")
	}
	dst = append(dst[:0], j[:i]...)
	dst = append(dst, standardDHT()...)
	return append(dst, j[i:]...), nil
}

func (s *v4l2Source) Close() error {
	if s.dev == nil {
		return nil
	}
	if s.streamOn {
		typ := int32(v4l2BufTypeVideoCapture)
		s.dev.Ioctl(vidiocStreamOff, unsafe.Pointer(&typ))
		s.streamOn = false
	}
	if len(s.bufs) > 0 {
		for _, b := range s.bufs {
			s.dev.Munmap(b)
		}
		s.bufs = nil
		// Free the driver's buffers, so the next open can renegotiate.
		rb := v4l2RequestBuffers{Type: v4l2BufTypeVideoCapture, Memory: v4l2MemoryMmap}
		s.dev.Ioctl(vidiocReqBufs, unsafe.Pointer(&rb))
	}
	err := s.dev.Close()
	s.dev = nil
	if s.err == nil {
		s.err = fmt.Errorf("v4l2 %s: closed", s.name)
	}
	return err
}
