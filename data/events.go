package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Event is one DVS event: pixel (X, Y) saw its log intensity rise (P = 1,
// ON) or fall (P = 0, OFF) by a threshold at time T in microseconds.
type Event struct {
	T    int64
	X, Y uint16
	P    uint8
}

// BinMode is how events become frame values.
type BinMode uint8

// Binning modes.
const (
	BinBinary BinMode = iota // 1 where a pixel had at least one event of that polarity in the bin
	BinCount                 // the number of events (not limited to [0,1])
)

// String returns the mode's name ("binary" or "count").
func (m BinMode) String() string {
	switch m {
	case BinBinary:
		return "binary"
	case BinCount:
		return "count"
	}
	return fmt.Sprintf("binmode(%d)", uint8(m))
}

// Binning slices events into T frames of 2 polarity channels on a W×H
// sensor. The window [Start, Start+Duration) µs is cut into T equal bins; a
// Duration of 0 uses the span of the events themselves (first to last).
type Binning struct {
	T, W, H         int
	Mode            BinMode
	Start, Duration int64
}

// Size returns the float32 values the frames occupy: T·2·H·W.
func (b Binning) Size() int { return b.T * 2 * b.H * b.W }

// Bin writes the binned frames into dst, laid out [T][2][H][W] with channel
// 0 = OFF and 1 = ON, and returns how many events landed in a bin (the
// others were outside the window or the sensor).
func (b Binning) Bin(dst []float32, ev []Event) (int, error) {
	if b.T <= 0 || b.W <= 0 || b.H <= 0 {
		return 0, fmt.Errorf("data: binning into %d frames of %dx%d", b.T, b.W, b.H)
	}
	if len(dst) < b.Size() {
		return 0, fmt.Errorf("data: binning: dst has %d values; %d frames of 2×%d×%d need %d", len(dst), b.T, b.H, b.W, b.Size())
	}
	dst = dst[:b.Size()]
	clear(dst)
	if len(ev) == 0 {
		return 0, nil
	}
	start, dur := b.Start, b.Duration
	if dur <= 0 {
		lo, hi := ev[0].T, ev[0].T
		for _, e := range ev {
			lo, hi = min(lo, e.T), max(hi, e.T)
		}
		start, dur = lo, hi-lo+1
	}
	plane := b.H * b.W
	kept := 0
	for _, e := range ev {
		dt := e.T - start
		if dt < 0 || dt >= dur || int(e.X) >= b.W || int(e.Y) >= b.H {
			continue
		}
		// (dt·T)/dur without overflow for any realistic duration.
		t := int((uint64(dt) * uint64(b.T)) / uint64(dur))
		i := (t*2+int(e.P&1))*plane + int(e.Y)*b.W + int(e.X)
		if b.Mode == BinCount {
			dst[i]++
		} else {
			dst[i] = 1
		}
		kept++
	}
	return kept, nil
}

// nmnistOverflowY marks a timestamp-overflow record in ATIS recordings: its
// Y is 240 and every later timestamp is 2^13 µs later.
const (
	nmnistOverflowY    = 240
	nmnistOverflowStep = 1 << 13
	nmnistMaxT         = 1<<23 - 1
)

// ReadNMNIST decodes an N-MNIST / N-Caltech101 event file. Each event is 40
// bits, big-endian: bits 39-32 X, bits 31-24 Y, bit 23 polarity (1 = ON),
// bits 22-0 timestamp in µs (https://www.garrickorchard.com/datasets/n-mnist).
// Records with Y = 240 are timestamp-overflow markers that add 2^13 µs to
// every later event, as Orchard's own reader (event-Python, read_dataset)
// handles them; they are not returned.
func ReadNMNIST(r io.Reader) ([]Event, error) {
	buf, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("nmnist: %w", err)
	}
	if len(buf)%5 != 0 {
		return nil, fmt.Errorf("nmnist: %d bytes is not a whole number of 5-byte events (truncated file?)", len(buf))
	}
	ev := make([]Event, 0, len(buf)/5)
	var offset int64
	for i := 0; i < len(buf); i += 5 {
		b := buf[i : i+5]
		if b[1] == nmnistOverflowY {
			offset += nmnistOverflowStep
			continue
		}
		ev = append(ev, Event{
			X: uint16(b[0]),
			Y: uint16(b[1]),
			P: b[2] >> 7,
			T: offset + (int64(b[2]&0x7f)<<16 | int64(b[3])<<8 | int64(b[4])),
		})
	}
	return ev, nil
}

// WriteNMNIST encodes events in the N-MNIST file format (see ReadNMNIST).
// X and Y must fit in 8 bits (Y ≠ 240, the overflow marker) and T in 23
// bits.
func WriteNMNIST(w io.Writer, ev []Event) error {
	bw := bufio.NewWriter(w)
	for i, e := range ev {
		if e.X > 255 || e.Y > 255 || e.Y == nmnistOverflowY {
			return fmt.Errorf("nmnist: event %d at (%d,%d) does not fit the format (8-bit coordinates, y ≠ 240)", i, e.X, e.Y)
		}
		if e.T < 0 || e.T > nmnistMaxT {
			return fmt.Errorf("nmnist: event %d has time %d µs, outside [0, 2^23)", i, e.T)
		}
		t := uint32(e.T)
		bw.Write([]byte{byte(e.X), byte(e.Y), byte(e.P&1)<<7 | byte(t>>16), byte(t >> 8), byte(t)})
	}
	return bw.Flush()
}

// ReadEventsCSV reads a plain event list, one event per line, fields
// separated by commas (or, if a line has no comma, by white space). Without
// a header the columns are x, y, t, p. A first line that is not numeric is a
// header naming the columns in any order (x; y; t, ts or timestamp; p, pol or
// polarity; other columns are ignored). t is an integer in µs; p is 1 or 0
// (−1 is read as OFF). Blank lines and lines starting with '#' are skipped.
func ReadEventsCSV(r io.Reader) ([]Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	cols := [4]int{0, 1, 2, 3} // positions of x, y, t, p
	need := 4
	var ev []Event
	line := 0
	header := false
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		f := splitFields(s)
		if len(ev) == 0 && !header && !numeric(f[0]) {
			var err error
			cols, need, err = csvHeader(f)
			if err != nil {
				return nil, fmt.Errorf("events csv: line %d: %w", line, err)
			}
			header = true
			continue
		}
		if len(f) < need {
			return nil, fmt.Errorf("events csv: line %d: %d fields, need %d (x,y,t,p)", line, len(f), need)
		}
		var v [4]int64
		for k, c := range cols {
			n, err := strconv.ParseInt(strings.TrimSpace(f[c]), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("events csv: line %d: field %d (%s): %q is not an integer", line, c+1, "xytp"[k:k+1], f[c])
			}
			v[k] = n
		}
		if v[0] < 0 || v[0] > 65535 || v[1] < 0 || v[1] > 65535 {
			return nil, fmt.Errorf("events csv: line %d: pixel (%d,%d) out of range [0,65535]", line, v[0], v[1])
		}
		var p uint8
		switch v[3] {
		case 1:
			p = 1
		case 0, -1:
		default:
			return nil, fmt.Errorf("events csv: line %d: polarity %d; expected 1 (ON) or 0/−1 (OFF)", line, v[3])
		}
		ev = append(ev, Event{X: uint16(v[0]), Y: uint16(v[1]), T: v[2], P: p})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("events csv: line %d: %w", line+1, err)
	}
	return ev, nil
}

func splitFields(s string) []string {
	if strings.Contains(s, ",") {
		return strings.Split(s, ",")
	}
	return strings.Fields(s)
}

func numeric(s string) bool {
	s = strings.TrimSpace(s)
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func csvHeader(f []string) (cols [4]int, need int, err error) {
	cols = [4]int{-1, -1, -1, -1}
	for i, name := range f {
		k := -1
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "x":
			k = 0
		case "y":
			k = 1
		case "t", "ts", "timestamp", "time":
			k = 2
		case "p", "pol", "polarity":
			k = 3
		}
		if k >= 0 {
			if cols[k] >= 0 {
				return cols, 0, fmt.Errorf("header names column %q twice", name)
			}
			cols[k] = i
			need = max(need, i+1)
		}
	}
	for k, c := range cols {
		if c < 0 {
			return cols, 0, errors.New("header " + strings.Join(f, ",") + " lacks a column for " + []string{"x", "y", "t", "p"}[k])
		}
	}
	return cols, need, nil
}

// WriteEventsCSV writes events as "x,y,t,p" lines under that header.
func WriteEventsCSV(w io.Writer, ev []Event) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("x,y,t,p\n")
	var b []byte
	for _, e := range ev {
		b = strconv.AppendUint(b[:0], uint64(e.X), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(e.Y), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.T, 10)
		b = append(b, ',', '0'+e.P&1, '\n')
		bw.Write(b)
	}
	return bw.Flush()
}
