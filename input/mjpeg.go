package input

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"sync"
)

// maxJPEG caps one JPEG frame in a stream.
const maxJPEG = 64 << 20

// JPEG markers the splitter needs.
const (
	mSOI = 0xd8
	mEOI = 0xd9
	mSOS = 0xda
	mDHT = 0xc4
)

// splitJPEG reads the next complete JPEG (SOI to EOI) from r into buf[:0]
// and returns it, by walking the marker segments and the entropy-coded data
// (image/jpeg reads ahead, so it cannot find frame boundaries itself).
// Bytes before an SOI are skipped. A JPEG without Huffman tables, as many
// UVC webcams send, gets the standard tables of JPEG Annex K.3 inserted
// before its first scan. It returns io.EOF at a clean end of stream.
func splitJPEG(r *bufio.Reader, buf []byte) ([]byte, error) {
	// Find SOI.
	skipped := 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && skipped == 0 {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("mjpeg: no JPEG start (ff d8) in the last %d bytes of the stream", skipped)
		}
		if b != 0xff {
			skipped++
			if skipped > maxJPEG {
				return nil, fmt.Errorf("mjpeg: no JPEG start (ff d8) in %d bytes", skipped)
			}
			continue
		}
		nb, err := r.Peek(1)
		if err == nil && nb[0] == mSOI {
			r.ReadByte()
			break
		}
		skipped++
	}
	buf = append(buf[:0], 0xff, mSOI)
	sawDHT := false
	pending := -1 // a marker found while scanning entropy data
	for {
		if len(buf) > maxJPEG {
			return nil, fmt.Errorf("mjpeg: frame larger than %d bytes", maxJPEG)
		}
		m := pending
		pending = -1
		if m < 0 {
			b, err := r.ReadByte()
			if err != nil {
				return nil, fmt.Errorf("mjpeg: truncated frame: %w", noEOF(err))
			}
			if b != 0xff {
				return nil, fmt.Errorf("mjpeg: expected a marker, got byte %#02x", b)
			}
			for b == 0xff { // fill bytes
				if b, err = r.ReadByte(); err != nil {
					return nil, fmt.Errorf("mjpeg: truncated frame: %w", noEOF(err))
				}
			}
			m = int(b)
		}
		switch {
		case m == mEOI:
			return append(buf, 0xff, mEOI), nil
		case m >= 0xd0 && m <= 0xd7, m == 0x01:
			buf = append(buf, 0xff, byte(m))
			continue
		case m == mSOI:
			return nil, fmt.Errorf("mjpeg: a new JPEG starts before the previous one ended")
		}
		var lb [2]byte
		if _, err := io.ReadFull(r, lb[:]); err != nil {
			return nil, fmt.Errorf("mjpeg: truncated frame: %w", noEOF(err))
		}
		n := int(lb[0])<<8 | int(lb[1])
		if n < 2 {
			return nil, fmt.Errorf("mjpeg: marker %#02x has segment length %d", m, n)
		}
		if m == mDHT {
			sawDHT = true
		}
		if m == mSOS && !sawDHT {
			buf = append(buf, standardDHT()...)
			sawDHT = true
		}
		buf = append(buf, 0xff, byte(m), lb[0], lb[1])
		start := len(buf)
		buf = append(buf, make([]byte, n-2)...)
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return nil, fmt.Errorf("mjpeg: truncated frame: %w", noEOF(err))
		}
		if m != mSOS {
			continue
		}
		// Entropy-coded data runs to the next marker that is neither a
		// stuffed 0xff00 nor a restart marker.
		for pending < 0 {
			b, err := r.ReadByte()
			if err != nil {
				return nil, fmt.Errorf("mjpeg: truncated scan: %w", noEOF(err))
			}
			if b != 0xff {
				buf = append(buf, b)
				continue
			}
			nb, err := r.ReadByte()
			for err == nil && nb == 0xff {
				nb, err = r.ReadByte()
			}
			if err != nil {
				return nil, fmt.Errorf("mjpeg: truncated scan: %w", noEOF(err))
			}
			if nb == 0 || (nb >= 0xd0 && nb <= 0xd7) {
				buf = append(buf, 0xff, nb)
				continue
			}
			pending = int(nb)
		}
	}
}

// standardDHT returns a DHT segment holding the four Huffman tables of JPEG
// Annex K.3, the ones image/jpeg's encoder writes: we take them from an
// encoded image rather than retyping 420 bytes.
var standardDHT = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	img := image.NewYCbCr(image.Rect(0, 0, 16, 16), image.YCbCrSubsampleRatio420)
	if err := jpeg.Encode(&b, img, nil); err != nil {
		panic("input: encoding a JPEG to take its Huffman tables: " + err.Error())
	}
	seg, ok := findSegment(b.Bytes(), mDHT)
	if !ok {
		panic("input: image/jpeg wrote no DHT segment")
	}
	return seg
})

// findSegment returns the first marker segment m (with its marker and
// length) among the header segments of a JPEG.
func findSegment(j []byte, m byte) ([]byte, bool) {
	i := 2
	for i+4 <= len(j) && j[i] == 0xff {
		mk := j[i+1]
		n := int(j[i+2])<<8 | int(j[i+3])
		if i+2+n > len(j) {
			return nil, false
		}
		if mk == m {
			return j[i : i+2+n], true
		}
		if mk == mSOS {
			return nil, false
		}
		i += 2 + n
	}
	return nil, false
}

// decodeJPEG decodes one JPEG into f.
func decodeJPEG(f *Frame, j []byte, channels int) error {
	img, err := jpeg.Decode(bytes.NewReader(j))
	if err != nil {
		return err
	}
	return imageToFrame(f, img, channels)
}

// mjpegSource reads concatenated JPEGs (the output of ffmpeg -f mjpeg,
// rpicam-vid --codec mjpeg, or a .mjpeg file).
type mjpegSource struct {
	r        *bufio.Reader
	closer   io.Closer
	buf      []byte
	channels int
	clock    clock
	sample   Sample
	seq      int
	err      error
}

// NewMJPEG reads a stream of concatenated JPEG frames from r. Frames carry
// no timing: they are stamped from opt.FrameRate, or with the time they were
// read.
func NewMJPEG(r io.Reader, opt Options) Source {
	s := &mjpegSource{r: bufio.NewReaderSize(r, 1<<16), channels: opt.channels(), clock: newClock(opt.FrameRate)}
	if c, ok := r.(io.Closer); ok {
		s.closer = c
	}
	return s
}

func (s *mjpegSource) Kind() Kind { return Frames }

func (s *mjpegSource) Next() (*Sample, error) {
	if s.err != nil {
		return nil, s.err
	}
	j, err := splitJPEG(s.r, s.buf)
	if err != nil {
		if err != io.EOF {
			err = fmt.Errorf("frame %d: %w", s.seq, err)
		}
		s.err = err
		return nil, err
	}
	s.buf = j
	if err := decodeJPEG(&s.sample.Frame, j, s.channels); err != nil {
		s.err = fmt.Errorf("mjpeg: frame %d: %w", s.seq, err)
		return nil, s.err
	}
	s.sample.Seq, s.sample.Time = s.seq, s.clock.at(s.seq)
	s.seq++
	return &s.sample, nil
}

func (s *mjpegSource) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
