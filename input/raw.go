package input

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// RawFormats lists the pixel layouts NewRaw reads.
var RawFormats = []string{"gray", "rgb24", "yuyv", "i420", "nv12"}

// rawSource reads fixed-size uncompressed frames back to back.
type rawSource struct {
	r        *bufio.Reader
	closer   io.Closer
	format   string
	w, h     int
	buf      []byte
	layout   yuvLayout
	channels int
	luma     bool // yield Sample.Luma (all formats but rgb24)
	clock    clock
	sample   Sample
	seq      int
	err      error
}

// NewRaw reads uncompressed frames of one layout and size from r, back to
// back with no headers: gray (8-bit), rgb24 (packed R,G,B), yuyv (packed
// 4:2:2, Y0 U Y1 V), i420 (planar 4:2:0: Y, then U, then V; also called
// yuv420p, rpicam-vid --codec yuv420) or nv12 (Y, then interleaved U,V).
// Y'CbCr layouts are limited range unless fullRange is set, gray is full
// range; opt.Range, if set, overrides both. Frames are stamped from
// opt.FrameRate, or with the time they were read.
func NewRaw(r io.Reader, format string, w, h int, fullRange bool, opt Options) (Source, error) {
	if w <= 0 || h <= 0 || w > maxFrameDim || h > maxFrameDim {
		return nil, fmt.Errorf("raw: frame size %dx%d (must be in 1..%d)", w, h, maxFrameDim)
	}
	format = strings.ToLower(format)
	if format == "yuv420p" || format == "yuv420" {
		format = "i420"
	}
	s := &rawSource{r: bufio.NewReaderSize(r, 1<<16), format: format, w: w, h: h, channels: opt.channels(), luma: opt.Luma && format != "rgb24", clock: newClock(opt.FrameRate)}
	if c, ok := r.(io.Closer); ok {
		s.closer = c
	}
	cw, ch := (w+1)/2, (h+1)/2
	t := tablesFor(opt.Range.limited(!fullRange))
	switch format {
	case "gray":
		s.buf = make([]byte, w*h)
		s.layout = yuvLayout{w: w, h: h, y: s.buf, yStride: w, yStep: 1, tables: tablesFor(opt.Range.limited(false))}
	case "rgb24":
		s.buf = make([]byte, 3*w*h)
	case "yuyv":
		if w%2 != 0 {
			return nil, fmt.Errorf("raw: yuyv needs an even width, got %d", w)
		}
		s.buf = make([]byte, 2*w*h)
		s.layout = yuvLayout{w: w, h: h, y: s.buf, yStride: 2 * w, yStep: 2,
			cb: s.buf[1:], cr: s.buf[3:], cStride: 2 * w, cStep: 4, subX: 2, subY: 1, tables: t}
	case "i420":
		s.buf = make([]byte, w*h+2*cw*ch)
		s.layout = yuvLayout{w: w, h: h, y: s.buf[:w*h], yStride: w, yStep: 1,
			cb: s.buf[w*h : w*h+cw*ch], cr: s.buf[w*h+cw*ch:], cStride: cw, cStep: 1, subX: 2, subY: 2, tables: t}
	case "nv12":
		s.buf = make([]byte, w*h+2*cw*ch)
		s.layout = yuvLayout{w: w, h: h, y: s.buf[:w*h], yStride: w, yStep: 1,
			cb: s.buf[w*h:], cr: s.buf[w*h+1:], cStride: 2 * cw, cStep: 2, subX: 2, subY: 2, tables: t}
	default:
		return nil, fmt.Errorf("raw: unknown pixel format %q (known: %s)", format, strings.Join(RawFormats, ", "))
	}
	if s.luma {
		l := &s.layout
		s.sample.Luma = Luma{W: w, H: h, Pix: l.y, Stride: l.yStride, Step: l.yStep, Limited: l.tables == limitedYUV}
	}
	return s, nil
}

func (s *rawSource) Kind() Kind { return Frames }

func (s *rawSource) Next() (*Sample, error) {
	if s.err != nil {
		return nil, s.err
	}
	if n, err := io.ReadFull(s.r, s.buf); err != nil {
		if err == io.EOF {
			s.err = io.EOF
		} else {
			s.err = fmt.Errorf("raw: frame %d truncated: %d of %d bytes (is the size %dx%d and format %s right?)", s.seq, n, len(s.buf), s.w, s.h, s.format)
		}
		return nil, s.err
	}
	// In luma mode Sample.Luma points into s.buf, refilled in place.
	switch {
	case s.luma:
	case s.format == "rgb24":
		rgb24ToFrame(&s.sample.Frame, s.buf, s.w, s.h, s.channels)
	default:
		if err := s.layout.toFrame(&s.sample.Frame, s.channels); err != nil {
			s.err = fmt.Errorf("raw: frame %d: %w", s.seq, err)
			return nil, s.err
		}
	}
	s.sample.Seq, s.sample.Time = s.seq, s.clock.at(s.seq)
	s.seq++
	return &s.sample, nil
}

func (s *rawSource) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
