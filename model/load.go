package model

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"unsafe"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/bsnn/bsnn/model/internal/fb"
)

// Load reads and checks the .bsnn file at path. Errors about the content
// name the file and wrap ErrInvalid (see Parse).
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var data []byte
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		// A regular file's size is known: refuse a huge one before reading
		// it and read the rest in one allocation of the right size.
		if fi.Size() > MaxFileSize {
			return nil, fmt.Errorf("%s: %w", path, &FormatError{Err: ErrTooLarge, Layer: -1, Field: "file",
				Msg: fmt.Sprintf("%d bytes, at most %d", fi.Size(), MaxFileSize)})
		}
		data = make([]byte, 0, fi.Size()+1) // +1: ReadAll-style EOF probe without a regrow
	}
	data, err = readLimitedN(f, data, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Read reads a .bsnn file from r (at most MaxFileSize+1 bytes: a larger
// input is an error) and checks it as Parse does.
func Read(r io.Reader) (*Model, error) {
	data, err := readLimitedN(r, nil, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// readLimitedN appends r's content to buf, failing with ErrTooLarge past
// limit bytes.
func readLimitedN(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	lr := &io.LimitedReader{R: r, N: limit + 1}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &FormatError{Err: ErrTooLarge, Layer: -1, Field: "file", Msg: fmt.Sprintf("more than %d bytes", limit)}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Parse decodes and checks a .bsnn file held in data. It never panics and
// never keeps a reference to data. Malformed bytes give a *FormatError
// (wrapping one of ErrTruncated, ErrBadIdentifier, ErrVersion, ... and
// ErrInvalid); a well-formed file describing an invalid network gives the
// *LayerError of Model.Check. Memory use is bounded by a small multiple of
// len(data): the verifier checks every length against the bytes present
// before decode allocates anything.
func Parse(data []byte) (m *Model, err error) {
	defer func() {
		// Last line of defence only: verify is meant to make decode
		// unable to panic, and the fuzz test calls parse directly so that
		// any panic still fails it.
		if r := recover(); r != nil {
			m = nil
			err = &FormatError{Err: ErrMalformed, Layer: -1, Field: "file",
				Msg: fmt.Sprintf("decoder panicked (a verifier bug, please report it with the file): %v", r)}
		}
	}()
	return parse(data)
}

// FileVersion returns the format version stored in a .bsnn file, checking
// only what it reads (identifier, root table, version fields), so it also
// reports the version of files this package cannot load.
func FileVersion(data []byte) (major, minor int, err error) {
	v := &verifier{b: data, budget: int64(len(data)), layer: -1}
	_, ma, mi, err := v.header()
	if err != nil {
		return 0, 0, err
	}
	return int(ma), int(mi), nil
}

// testHookDecode, when set by a test, runs just before decode (to check the
// recover boundary).
var testHookDecode func()

// parse is Parse without the recover boundary.
func parse(data []byte) (*Model, error) {
	if err := verify(data); err != nil {
		return nil, err
	}
	if testHookDecode != nil {
		testHookDecode()
	}
	m := decode(data)
	if err := m.Check(); err != nil {
		return nil, err
	}
	return m, nil
}

// decode converts verified bytes into a Model with the generated accessors.
// Every slice is a copy.
func decode(data []byte) *Model {
	root := fb.GetRootAsModel(data, 0)
	m := &Model{}

	var in fb.Input
	root.Input(&in)
	it := in.Table()
	m.Input = InputSpec{
		Shape:     Shape{int(in.C()), int(in.H()), int(in.W())},
		Mean:      floats(&it, inputMean),
		Std:       floats(&it, inputStd),
		Encoding:  Encoding(in.Encoding()),
		Timesteps: int(in.Timesteps()),
	}

	if n := root.LayersLength(); n > 0 {
		m.Layers = make([]Layer, n)
		var fl fb.Layer
		for i := range m.Layers {
			root.Layers(&fl, i)
			decodeLayer(&fl, &m.Layers[i])
		}
	}
	if n := root.LabelsLength(); n > 0 {
		m.Labels = make([]string, n)
		for i := range m.Labels {
			m.Labels[i] = string(root.Labels(i))
		}
	}

	var fp fb.Provenance
	if p := root.Provenance(&fp); p != nil {
		m.Provenance = Provenance{
			Source:      string(p.Source()),
			Dataset:     string(p.Dataset()),
			Accuracy:    p.Accuracy(),
			AGMM:        string(p.Agmm()),
			ToolVersion: string(p.ToolVersion()),
		}
		if n := p.ExtraLength(); n > 0 {
			m.Provenance.Extra = make([]KV, n)
			var kv fb.KeyValue
			for i := range m.Provenance.Extra {
				p.Extra(&kv, i)
				m.Provenance.Extra[i] = KV{Key: string(kv.Key()), Value: string(kv.Value())}
			}
		}
	}
	return m
}

func decodeLayer(fl *fb.Layer, l *Layer) {
	t := fl.Table()
	*l = Layer{
		Op:        Op(fl.Op()),
		Name:      string(fl.Name()),
		Precision: Precision(fl.Precision()),
		InC:       int(fl.InC()),
		OutC:      int(fl.OutC()),
		KH:        int(fl.Kh()),
		KW:        int(fl.Kw()),
		Stride:    int(fl.Stride()),
		Pad:       int(fl.Pad()),
		Weights:   floats(&t, layerWeights),
		Scale:     floats(&t, layerScale),
		Bias:      floats(&t, layerBias),
		Alpha:     floats(&t, layerAlpha),
		Stat:      Stat(fl.Stat()),
		Lambda:    fl.Lambda(),
		Vth:       fl.Vth(),
		Reset:     Reset(fl.Reset()),
		Kernel:    int(fl.Kernel()),
	}
	if n := fl.InputsLength(); n > 0 {
		l.Inputs = make([]int, n)
		for i := range l.Inputs {
			l.Inputs[i] = int(fl.Inputs(i))
		}
	}
	if b := fl.BitsBytes(); len(b) > 0 {
		l.Bits = alignedWords(len(b) / 8)
		for i := range l.Bits {
			l.Bits[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	if b := vectorBytes(&t, layerWeightsI8, 1); len(b) > 0 {
		l.WeightsI8 = make([]int8, len(b))
		for i, x := range b {
			l.WeightsI8[i] = int8(x)
		}
	}
}

// vectorBytes returns the bytes of the vector in field slot of t, nil when
// absent. The generated code has no bulk accessor for [float] and [byte].
func vectorBytes(t *flatbuffers.Table, slot int, elemSize int) []byte {
	o := flatbuffers.UOffsetT(t.Offset(flatbuffers.VOffsetT(4 + 2*slot)))
	if o == 0 {
		return nil
	}
	start := t.Vector(o)
	return t.Bytes[start : start+flatbuffers.UOffsetT(t.VectorLen(o)*elemSize)]
}

func floats(t *flatbuffers.Table, slot int) []float32 {
	b := vectorBytes(t, slot, 4)
	if len(b) == 0 {
		return nil
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// alignedWords returns n zeroed words whose first word is WeightAlign-byte
// aligned in memory, so vector kernels can use aligned loads on weight rows.
func alignedWords(n int) []uint64 {
	const extra = WeightAlign/8 - 1
	s := make([]uint64, n+extra)
	// The address is only inspected, never turned back into a pointer.
	skip := int((WeightAlign - uintptr(unsafe.Pointer(&s[0]))%WeightAlign) % WeightAlign / 8)
	return s[skip : skip+n : skip+n]
}
