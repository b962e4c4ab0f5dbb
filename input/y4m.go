package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxFrameDim caps stream frame sizes, so a corrupt header cannot make us
// allocate gigabytes.
const maxFrameDim = 16384

// clock stamps frames: from a frame rate if one is known, else with the
// time since the source started.
type clock struct {
	rate  float64
	start time.Time
}

func newClock(rate float64) clock { return clock{rate: rate, start: time.Now()} }

func (c clock) at(seq int) time.Duration {
	if c.rate > 0 {
		return time.Duration(float64(seq) / c.rate * float64(time.Second))
	}
	return time.Since(c.start)
}

// y4mSource reads a YUV4MPEG2 stream: a header line "YUV4MPEG2 W… H… F…
// C…", then frames, each a line starting with "FRAME" and the planes.
type y4mSource struct {
	r        *bufio.Reader
	closer   io.Closer
	w, h     int
	layout   yuvLayout // planes point into buf
	buf      []byte
	channels int
	luma     bool // yield Sample.Luma, not Sample.Frame
	clock    clock
	sample   Sample
	seq      int
	err      error
}

// NewY4M reads a Y4M stream from r (8-bit 4:2:0, 4:2:2, 4:4:4, 4:1:1 or
// mono; gray comes from Y). Frames are stamped from the header's frame rate.
// The luma range is opt.Range, else the header's XCOLORRANGE, else full
// for mono and limited for colour (what ffmpeg writes untagged).
func NewY4M(r io.Reader, opt Options) (Source, error) {
	s := &y4mSource{r: bufio.NewReaderSize(r, 1<<16), channels: opt.channels(), luma: opt.Luma}
	if c, ok := r.(io.Closer); ok {
		s.closer = c
	}
	if err := s.header(opt); err != nil {
		return nil, err
	}
	return s, nil
}

func readLine(r *bufio.Reader, max int) (string, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return string(b), err
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) >= max {
			return "", fmt.Errorf("line longer than %d bytes", max)
		}
		b = append(b, c)
	}
}

func (s *y4mSource) header(opt Options) error {
	line, err := readLine(s.r, 4096)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("y4m: reading header: %w", err)
	}
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "YUV4MPEG2" {
		return fmt.Errorf("y4m: stream does not start with YUV4MPEG2 (got %q)", truncate(line, 20))
	}
	cs := "420jpeg"
	rangeTag := ""
	rate := opt.FrameRate
	for _, tok := range f[1:] {
		val := tok[1:]
		switch tok[0] {
		case 'W':
			s.w, err = strconv.Atoi(val)
		case 'H':
			s.h, err = strconv.Atoi(val)
		case 'F':
			num, den, ok := strings.Cut(val, ":")
			n, e1 := strconv.Atoi(num)
			d, e2 := strconv.Atoi(den)
			if !ok || e1 != nil || e2 != nil || n < 0 || d <= 0 {
				return fmt.Errorf("y4m: bad frame rate %q", tok)
			}
			if n > 0 {
				rate = float64(n) / float64(d)
			}
		case 'C':
			cs = val
		case 'X':
			if k, v, ok := strings.Cut(val, "="); ok && k == "COLORRANGE" {
				rangeTag = v
			}
		}
		if err != nil {
			return fmt.Errorf("y4m: bad header field %q", tok)
		}
	}
	if s.w <= 0 || s.h <= 0 || s.w > maxFrameDim || s.h > maxFrameDim {
		return fmt.Errorf("y4m: frame size %dx%d (W and H must be in 1..%d)", s.w, s.h, maxFrameDim)
	}
	w, h := s.w, s.h
	l := yuvLayout{w: w, h: h, yStride: w, yStep: 1, cStep: 1}
	var cw, ch int
	switch {
	case cs == "mono":
	case strings.HasPrefix(cs, "420") && (cs == "420" || cs == "420jpeg" || cs == "420paldv" || cs == "420mpeg2"):
		l.subX, l.subY, cw, ch = 2, 2, (w+1)/2, (h+1)/2
	case cs == "422":
		l.subX, l.subY, cw, ch = 2, 1, (w+1)/2, h
	case cs == "444", cs == "444alpha":
		l.subX, l.subY, cw, ch = 1, 1, w, h
	case cs == "411":
		l.subX, l.subY, cw, ch = 4, 1, (w+3)/4, h
	default:
		return fmt.Errorf("y4m: colour space C%s not supported (8-bit 420, 422, 444, 411 or mono only; with ffmpeg use -pix_fmt gray or yuv420p)", cs)
	}
	size := w * h
	if cs != "mono" {
		size += 2 * cw * ch
	}
	if cs == "444alpha" {
		size += w * h
	}
	s.buf = make([]byte, size)
	l.y = s.buf[:w*h]
	if cs != "mono" {
		l.cb = s.buf[w*h : w*h+cw*ch]
		l.cr = s.buf[w*h+cw*ch : w*h+2*cw*ch]
		l.cStride = cw
	}
	switch {
	case opt.Range != RangeAuto:
		l.tables = tablesFor(opt.Range.limited(true))
	case rangeTag == "FULL":
		l.tables = fullYUV
	case rangeTag == "LIMITED":
		l.tables = limitedYUV
	case rangeTag == "":
		// ffmpeg writes mono as full range and tags it; colour video is
		// limited range unless tagged.
		l.tables = tablesFor(cs != "mono")
	default:
		return fmt.Errorf("y4m: unknown XCOLORRANGE=%s (-range limited or full overrides it)", rangeTag)
	}
	s.layout = l
	if s.luma {
		s.sample.Luma = Luma{W: w, H: h, Pix: l.y, Stride: w, Step: 1, Limited: l.tables == limitedYUV}
	}
	s.clock = newClock(rate)
	return nil
}

func (s *y4mSource) Kind() Kind { return Frames }

func (s *y4mSource) Next() (*Sample, error) {
	if s.err != nil {
		return nil, s.err
	}
	// ReadSlice returns the line in place in the bufio buffer (64 KiB, far
	// longer than any FRAME line), so the frame header costs no allocation.
	line, err := s.r.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			s.err = io.EOF
			return nil, io.EOF
		}
		if err == bufio.ErrBufferFull {
			err = fmt.Errorf("line longer than %d bytes", s.r.Size())
		}
		s.err = fmt.Errorf("y4m: frame %d header: %w", s.seq, noEOF(err))
		return nil, s.err
	}
	if !bytes.HasPrefix(line, []byte("FRAME")) {
		s.err = fmt.Errorf("y4m: frame %d: expected FRAME, got %q", s.seq, truncate(string(line[:len(line)-1]), 20))
		return nil, s.err
	}
	if n, err := io.ReadFull(s.r, s.buf); err != nil {
		s.err = fmt.Errorf("y4m: frame %d truncated: %d of %d bytes", s.seq, n, len(s.buf))
		return nil, s.err
	}
	// In luma mode Sample.Luma points into s.buf, refilled in place.
	if !s.luma {
		if err := s.layout.toFrame(&s.sample.Frame, s.channels); err != nil {
			s.err = fmt.Errorf("y4m: frame %d: %w", s.seq, err)
			return nil, s.err
		}
	}
	s.sample.Seq, s.sample.Time = s.seq, s.clock.at(s.seq)
	s.seq++
	return &s.sample, nil
}

func (s *y4mSource) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// sniff tells a stream's format from its first bytes: "y4m" or "mjpeg".
func sniff(head []byte) (string, error) {
	switch {
	case bytes.HasPrefix(head, []byte("YUV4MPEG2")):
		return "y4m", nil
	case len(head) >= 2 && head[0] == 0xff && head[1] == 0xd8:
		return "mjpeg", nil
	}
	return "", fmt.Errorf("cannot tell the stream format from its first bytes (% x): expected a Y4M header (YUV4MPEG2) or a JPEG (ff d8); for raw frames use raw:FORMAT:WxH:-", head)
}
