package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// npyField is one column of an .npy event array.
type npyField struct {
	name   string
	kind   byte // 'i', 'u', 'f', 'b'
	size   int
	order  binary.ByteOrder
	offset int
}

var (
	npyDescrString = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyDescrList   = regexp.MustCompile(`'descr'\s*:\s*\[(.*?)\]\s*,\s*'`)
	npyTuple       = regexp.MustCompile(`\(\s*'([^']*)'\s*,\s*'([^']*)'\s*(,[^)]*)?\)`)
	npyShape       = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
	npyFortran     = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
)

func parseNPYType(name, s string) (npyField, error) {
	f := npyField{name: name, order: binary.LittleEndian}
	if len(s) < 3 {
		return f, fmt.Errorf("type %q", s)
	}
	switch s[0] {
	case '<', '|', '=':
	case '>':
		f.order = binary.BigEndian
	default:
		return f, fmt.Errorf("type %q: unknown byte order", s)
	}
	f.kind = s[1]
	n, err := strconv.Atoi(s[2:])
	if f.kind == 'V' && err == nil && n > 0 {
		f.size = n // padding of an aligned structured dtype
		return f, nil
	}
	if err != nil || (n != 1 && n != 2 && n != 4 && n != 8) {
		return f, fmt.Errorf("type %q: size not 1, 2, 4 or 8", s)
	}
	f.size = n
	switch {
	case f.kind == 'i' || f.kind == 'u' || f.kind == 'b' && n == 1:
	case f.kind == 'f' && (n == 4 || n == 8):
	default:
		return f, fmt.Errorf("type %q not supported (integers, float32/64, bool)", s)
	}
	return f, nil
}

func (f *npyField) value(row []byte) float64 {
	b := row[f.offset : f.offset+f.size]
	switch f.kind {
	case 'f':
		if f.size == 4 {
			return float64(math.Float32frombits(f.order.Uint32(b)))
		}
		return math.Float64frombits(f.order.Uint64(b))
	case 'i':
		switch f.size {
		case 1:
			return float64(int8(b[0]))
		case 2:
			return float64(int16(f.order.Uint16(b)))
		case 4:
			return float64(int32(f.order.Uint32(b)))
		}
		return float64(int64(f.order.Uint64(b)))
	}
	switch f.size { // 'u', 'b'
	case 1:
		return float64(b[0])
	case 2:
		return float64(f.order.Uint16(b))
	case 4:
		return float64(f.order.Uint32(b))
	}
	return float64(f.order.Uint64(b))
}

// ReadEventsNPY reads an event list saved with numpy: either a structured
// array with fields x, y, p and t (also named ts, timestamp or time; other
// fields are ignored, as tonic and most event libraries save them), or a
// 2-D array of N rows of x, y, t, p. Times are µs (floats are rounded);
// polarity is 1 (ON) or 0/−1/False (OFF). Timestamps must fit in 2^53, the
// float64 mantissa, which every µs clock does.
func ReadEventsNPY(r io.Reader) ([]Event, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, fmt.Errorf("npy: header: %w", noEOF(err))
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("npy: bad magic % x (not an .npy file)", pre[:6])
	}
	var hlen int
	switch pre[6] {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, fmt.Errorf("npy: header: %w", noEOF(err))
		}
		hlen = int(binary.LittleEndian.Uint16(pre[8:10]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: header: %w", noEOF(err))
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, fmt.Errorf("npy: format version %d.%d not supported", pre[6], pre[7])
	}
	if hlen > 1<<20 {
		return nil, fmt.Errorf("npy: header of %d bytes", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("npy: header: %w", noEOF(err))
	}
	h := string(hb)
	m := npyShape.FindStringSubmatch(h)
	if m == nil {
		return nil, fmt.Errorf("npy: header has no shape: %q", h)
	}
	var shape []int
	for _, s := range strings.Split(m[1], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("npy: bad shape (%s)", m[1])
		}
		shape = append(shape, n)
	}
	fortran := false
	if fm := npyFortran.FindStringSubmatch(h); fm != nil {
		fortran = fm[1] == "True"
	}

	var fields []npyField // x, y, t, p
	rowSize, n := 0, 0
	if dm := npyDescrList.FindStringSubmatch(h); dm != nil {
		if len(shape) != 1 {
			return nil, fmt.Errorf("npy: structured array of shape %v; expected one dimension", shape)
		}
		n = shape[0]
		byName := map[string]npyField{}
		for _, t := range npyTuple.FindAllStringSubmatch(dm[1], -1) {
			if t[3] != "" {
				return nil, fmt.Errorf("npy: field %q is a sub-array", t[1])
			}
			f, err := parseNPYType(t[1], t[2])
			if err != nil {
				return nil, fmt.Errorf("npy: field %q: %w", t[1], err)
			}
			f.offset = rowSize
			rowSize += f.size
			name := strings.ToLower(t[1])
			switch name {
			case "ts", "timestamp", "time":
				name = "t"
			case "pol", "polarity":
				name = "p"
			}
			byName[name] = f
		}
		for _, k := range []string{"x", "y", "t", "p"} {
			f, ok := byName[k]
			if !ok {
				return nil, fmt.Errorf("npy: structured array lacks a field for %s (has %s)", k, dm[1])
			}
			fields = append(fields, f)
		}
	} else if dm := npyDescrString.FindStringSubmatch(h); dm != nil {
		if len(shape) != 2 || shape[1] != 4 {
			return nil, fmt.Errorf("npy: array of shape %v; expected N×4 (x, y, t, p) or a structured array", shape)
		}
		f, err := parseNPYType("", dm[1])
		if err != nil {
			return nil, fmt.Errorf("npy: %w", err)
		}
		n, rowSize = shape[0], 4*f.size
		for k := range 4 {
			c := f
			c.offset = k * f.size
			fields = append(fields, c)
		}
	} else {
		return nil, fmt.Errorf("npy: header has no descr: %q", h)
	}

	total := int64(n) * int64(rowSize)
	if total > maxIDXBytes {
		return nil, fmt.Errorf("npy: %d events of %d bytes exceed the %d-byte cap", n, rowSize, int64(maxIDXBytes))
	}
	var buf bytes.Buffer
	got, err := io.Copy(&buf, io.LimitReader(r, total))
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	if got < total {
		return nil, fmt.Errorf("npy: truncated: shape %v needs %d bytes of data, file has %d", shape, total, got)
	}
	raw := buf.Bytes()
	if fortran && len(fields) == 4 && fields[0].name == "" {
		// Column-major N×4: all x, then all y, t, p. Transpose.
		t := make([]byte, len(raw))
		sz := fields[0].size
		for i := range n {
			for k := range 4 {
				copy(t[(i*4+k)*sz:], raw[(k*n+i)*sz:(k*n+i+1)*sz])
			}
		}
		raw = t
	}
	ev := make([]Event, n)
	for i := range ev {
		row := raw[i*rowSize : (i+1)*rowSize]
		x, y, t, p := fields[0].value(row), fields[1].value(row), fields[2].value(row), fields[3].value(row)
		if x < 0 || x > 65535 || y < 0 || y > 65535 || x != math.Trunc(x) || y != math.Trunc(y) {
			return nil, fmt.Errorf("npy: event %d at (%v,%v): coordinates must be integers in [0,65535]", i, x, y)
		}
		if math.IsNaN(t) || math.Abs(t) > 1<<53 {
			return nil, fmt.Errorf("npy: event %d has time %v", i, t)
		}
		var pol uint8
		switch p {
		case 1:
			pol = 1
		case 0, -1:
		default:
			return nil, fmt.Errorf("npy: event %d has polarity %v; expected 1 (ON) or 0/−1 (OFF)", i, p)
		}
		ev[i] = Event{X: uint16(x), Y: uint16(y), T: int64(math.Round(t)), P: pol}
	}
	return ev, nil
}
