package torchload

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// DType is a tensor element type.
type DType uint8

// Element types of torch storages.
const (
	Float32 DType = iota
	Float16
	BFloat16
	Float64
	Int64
	Int32
	Int16
	Int8
	Uint8
	Bool
)

var dtypeNames = [...]string{"float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"}
var dtypeSizes = [...]int{4, 2, 2, 8, 8, 4, 2, 1, 1, 1}

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size returns the bytes of one element.
func (d DType) Size() int { return dtypeSizes[d] }

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d <= Float64 }

const (
	maxDims         = 8
	maxStorageBytes = 1 << 32 // one storage
	maxTotalBytes   = 1 << 33 // all storages read from one checkpoint
)

// storage is one torch storage: a flat typed array that tensors view. Its
// bytes are read on first use; numel was checked against the bytes the file
// holds before anything was allocated.
type storage struct {
	key   string
	dtype DType
	numel int64
	read  func() ([]byte, error) // returns exactly numel·size bytes
	data  []byte
	err   error
}

func (s *storage) bytes() ([]byte, error) {
	if s.data == nil && s.err == nil {
		s.data, s.err = s.read()
		if s.err != nil {
			s.err = fmt.Errorf("storage %q: %w", s.key, s.err)
		}
	}
	return s.data, s.err
}

// Tensor is a strided view of a storage, as PyTorch saves it. Its data is
// read from the file when first converted.
type Tensor struct {
	DType  DType
	Shape  []int
	st     *storage
	offset int64
	stride []int64
}

func newTensor(st *storage, off int64, size, stride []int64) (*Tensor, error) {
	if len(size) != len(stride) {
		return nil, fmt.Errorf("tensor has %d sizes but %d strides", len(size), len(stride))
	}
	if off < 0 {
		return nil, fmt.Errorf("tensor storage offset %d is negative", off)
	}
	n := int64(1)
	for _, d := range size {
		if d < 0 {
			return nil, fmt.Errorf("tensor size %v has a negative entry", size)
		}
		if d > 0 && n > maxStorageBytes/d {
			return nil, fmt.Errorf("tensor size %v has too many elements", size)
		}
		n *= d
	}
	if n > 0 {
		// The last element viewed must lie inside the storage; checked
		// without overflow, one dimension at a time.
		bad := off >= st.numel
		last := off
		for i, d := range size {
			if bad {
				break
			}
			if stride[i] < 0 {
				return nil, fmt.Errorf("tensor stride %v has a negative entry", stride)
			}
			if d > 1 {
				if stride[i] > (st.numel-1-last)/(d-1) {
					bad = true
				} else {
					last += (d - 1) * stride[i]
				}
			}
		}
		if bad {
			return nil, fmt.Errorf("tensor (size %v, stride %v, offset %d) reaches past the end of storage %q, which holds %d elements", size, stride, off, st.key, st.numel)
		}
	}
	shape := make([]int, len(size))
	for i, d := range size {
		shape[i] = int(d)
	}
	return &Tensor{DType: st.dtype, Shape: shape, st: st, offset: off, stride: stride}, nil
}

// Numel returns the number of elements.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// ShapeString formats a shape the way PyTorch prints it: [64, 32, 3, 3].
func ShapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// forEach calls f with the storage element index of every tensor element in
// row-major order.
func (t *Tensor) forEach(f func(i int, idx int64)) {
	n := t.Numel()
	if n == 0 {
		return
	}
	contiguous := true
	want := int64(1)
	for d := len(t.Shape) - 1; d >= 0; d-- {
		if t.Shape[d] != 1 && t.stride[d] != want {
			contiguous = false
			break
		}
		want *= int64(t.Shape[d])
	}
	if contiguous {
		for i := 0; i < n; i++ {
			f(i, t.offset+int64(i))
		}
		return
	}
	pos := make([]int, len(t.Shape))
	idx := t.offset
	for i := 0; i < n; i++ {
		f(i, idx)
		for d := len(pos) - 1; d >= 0; d-- {
			pos[d]++
			idx += t.stride[d]
			if pos[d] < t.Shape[d] {
				break
			}
			idx -= int64(pos[d]) * t.stride[d]
			pos[d] = 0
		}
	}
}

// Float64 returns the elements in row-major order as float64 (exact for
// every float type; integers above 2^53 round).
func (t *Tensor) Float64() ([]float64, error) {
	b, err := t.st.bytes()
	if err != nil {
		return nil, err
	}
	out := make([]float64, t.Numel())
	get := elemGetter(t.DType, b)
	t.forEach(func(i int, idx int64) { out[i] = get(idx) })
	return out, nil
}

// Float32 returns the elements in row-major order as float32: exact for
// float32, float16 and bfloat16; float64 and integers round to nearest.
func (t *Tensor) Float32() ([]float32, error) {
	b, err := t.st.bytes()
	if err != nil {
		return nil, err
	}
	out := make([]float32, t.Numel())
	if t.DType == Float32 {
		t.forEach(func(i int, idx int64) {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*idx:]))
		})
		return out, nil
	}
	get := elemGetter(t.DType, b)
	t.forEach(func(i int, idx int64) { out[i] = float32(get(idx)) })
	return out, nil
}

func elemGetter(d DType, b []byte) func(int64) float64 {
	le := binary.LittleEndian
	switch d {
	case Float32:
		return func(i int64) float64 { return float64(math.Float32frombits(le.Uint32(b[4*i:]))) }
	case Float16:
		return func(i int64) float64 { return float64(halfToFloat32(le.Uint16(b[2*i:]))) }
	case BFloat16:
		return func(i int64) float64 { return float64(math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)) }
	case Float64:
		return func(i int64) float64 { return math.Float64frombits(le.Uint64(b[8*i:])) }
	case Int64:
		return func(i int64) float64 { return float64(int64(le.Uint64(b[8*i:]))) }
	case Int32:
		return func(i int64) float64 { return float64(int32(le.Uint32(b[4*i:]))) }
	case Int16:
		return func(i int64) float64 { return float64(int16(le.Uint16(b[2*i:]))) }
	case Int8:
		return func(i int64) float64 { return float64(int8(b[i])) }
	default: // Uint8, Bool
		return func(i int64) float64 { return float64(b[i]) }
	}
}

// halfToFloat32 converts an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal: value = frac · 2^-24, exactly representable in float32.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}
