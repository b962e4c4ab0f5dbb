package model

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kinds of malformed .bsnn bytes. A *FormatError wraps exactly one of them
// and ErrInvalid, so both errors.Is(err, ErrTruncated) and
// errors.Is(err, ErrInvalid) hold. Files that are well-formed FlatBuffers but
// describe an impossible network fail with a *LayerError instead.
var (
	ErrTruncated     = errors.New("truncated")                    // something points past the end of the file
	ErrBadIdentifier = errors.New("not a .bsnn file")             // the file identifier is not "BSNN"
	ErrVersion       = errors.New("unsupported format version")   // format_major differs from FormatVersion
	ErrBadOffset     = errors.New("bad offset")                   // an offset points outside its table or before the file
	ErrBadAlignment  = errors.New("misaligned")                   // a table, field or vector is not aligned
	ErrBadEnum       = errors.New("unknown enum value")           // an op, precision, stat, reset or encoding out of range
	ErrTooLarge      = errors.New("exceeds a size cap")           // a count, dimension, string or the file exceeds its cap
	ErrMalformed     = errors.New("malformed FlatBuffers buffer") // any other structural problem
)

// FormatError is a problem with the bytes of a .bsnn file, found by the
// verifier before any data is decoded.
type FormatError struct {
	Err   error  // one of ErrTruncated, ErrBadIdentifier, ... above
	Layer int    // layer index, or -1 outside the layer list
	Op    Op     // the layer's op when it could be read
	Field string // schema field path, e.g. "bits", "input.mean", "labels[2]"
	Msg   string // what is wrong, with the numbers involved
}

func (e *FormatError) Error() string {
	if e.Layer >= 0 {
		return fmt.Sprintf("layer %d (%s): %s: %v: %s", e.Layer, e.Op, e.Field, e.Err, e.Msg)
	}
	return fmt.Sprintf("bsnn file: %s: %v: %s", e.Field, e.Err, e.Msg)
}

// Unwrap lets errors.Is match both the kind and ErrInvalid.
func (e *FormatError) Unwrap() []error { return []error{e.Err, ErrInvalid} }

// FormatMinor is the minor format version this package writes. Readers accept
// any minor version of their major version: minor versions only append
// fields and enum values.
const FormatMinor = 0

// fileIdentifier is the FlatBuffers file identifier at bytes 4..8.
const fileIdentifier = "BSNN"

// Field slots (index in the schema table, vtable entry 4+2·slot). They must
// match schema/bsnn.fbs; TestSlotsMatchGenerated checks them against the
// generated builders.
const (
	modelFormatMajor = 0
	modelFormatMinor = 1
	modelInput       = 2
	modelLayers      = 3
	modelLabels      = 4
	modelProvenance  = 5

	inputC         = 0
	inputH         = 1
	inputW         = 2
	inputMean      = 3
	inputStd       = 4
	inputEncoding  = 5
	inputTimesteps = 6

	layerOp        = 0
	layerName      = 1
	layerInputs    = 2
	layerPrecision = 3
	layerInC       = 4
	layerOutC      = 5
	layerKH        = 6
	layerKW        = 7
	layerStride    = 8
	layerPad       = 9
	layerBits      = 10
	layerWeights   = 11
	layerWeightsI8 = 12
	layerScale     = 13
	layerBias      = 14
	layerAlpha     = 15
	layerStat      = 16
	layerLambda    = 17
	layerVth       = 18
	layerReset     = 19
	layerKernel    = 20

	provSource      = 0
	provDataset     = 1
	provAccuracy    = 2
	provAGMM        = 3
	provToolVersion = 4
	provExtra       = 5

	kvKey   = 0
	kvValue = 1
)

// WeightAlign is the alignment, relative to the start of the file, of every
// weight vector's data (bits, weights, weights_i8), so that a reader that
// maps the file could use them in place with aligned vector loads.
const WeightAlign = 64

// maxInputs caps a layer's input list (the semantic check wants 1 or 2).
const maxInputs = 64

// verifier walks the raw bytes of a .bsnn file along the schema. After
// verify returns nil, every generated accessor that decode uses reads only
// inside the buffer: every table, vtable, field, vector and string it can
// reach has been bounds-checked here, with int64 arithmetic so that no
// length or offset can overflow.
type verifier struct {
	b []byte
	// budget is what is left of len(b) for vector and string contents.
	// Offsets may alias, so without it a small file could name the same
	// large vector from many layers and make decode allocate far more than
	// the file holds.
	budget int64
	layer  int // current layer for errors, -1 outside the layer list
	op     Op
	minor  uint16 // the file's minor version, for error hints
}

// table is a verified table.
type table struct {
	pos    int64 // start of the table (its soffset to the vtable)
	vt     int64 // start of the vtable
	nslots int   // field entries in the vtable
	size   int64 // table size in bytes, as the vtable says
}

// verify checks data against the schema. It is the only code that looks at
// untrusted bytes before decode.
func verify(data []byte) error {
	v := &verifier{b: data, budget: int64(len(data)), layer: -1}
	if len(data) > MaxFileSize {
		return v.errf(ErrTooLarge, "file", "%d bytes, at most %d", len(data), MaxFileSize)
	}
	root, major, minor, err := v.header()
	if err != nil {
		return err
	}
	v.minor = minor
	if major != FormatVersion {
		return v.errf(ErrVersion, "format_major", "file is format version %d.%d, this reader reads %d.x", major, minor, FormatVersion)
	}
	if err := v.input(root); err != nil {
		return err
	}
	if err := v.layers(root); err != nil {
		return err
	}
	data0, n, err := v.vector(root, modelLabels, 4, 4, MaxLabels, "labels")
	if err != nil {
		return err
	}
	for i := int64(0); i < n; i++ {
		if err := v.stringAt(v.indirect(data0+4*i), fmt.Sprintf("labels[%d]", i)); err != nil {
			return err
		}
	}
	return v.provenance(root)
}

// header checks the size, the identifier and the root table, and reads the
// format version.
func (v *verifier) header() (root table, major, minor uint16, err error) {
	if len(v.b) < 8 {
		return table{}, 0, 0, v.errf(ErrTruncated, "file", "%d bytes, a .bsnn file has at least 8 (root offset and identifier)", len(v.b))
	}
	if id := string(v.b[4:8]); id != fileIdentifier {
		return table{}, 0, 0, v.errf(ErrBadIdentifier, "identifier", "file identifier is %q, want %q", id, fileIdentifier)
	}
	if root, err = v.table(int64(v.u32(0)), "root"); err != nil {
		return table{}, 0, 0, err
	}
	if major, err = v.u16Field(root, modelFormatMajor, "format_major"); err != nil {
		return table{}, 0, 0, err
	}
	minor, err = v.u16Field(root, modelFormatMinor, "format_minor")
	return root, major, minor, err
}

func (v *verifier) input(root table) error {
	p, ok, err := v.ref(root, modelInput, "input")
	if err != nil {
		return err
	}
	if !ok {
		return v.errf(ErrMalformed, "input", "required field is missing")
	}
	t, err := v.table(p, "input")
	if err != nil {
		return err
	}
	for _, f := range [...]struct {
		slot int
		name string
	}{{inputC, "input.c"}, {inputH, "input.h"}, {inputW, "input.w"}, {inputTimesteps, "input.timesteps"}} {
		if _, err := v.dimField(t, f.slot, f.name); err != nil {
			return err
		}
	}
	if _, _, err := v.vector(t, inputMean, 4, 4, MaxDim, "input.mean"); err != nil {
		return err
	}
	if _, _, err := v.vector(t, inputStd, 4, 4, MaxDim, "input.std"); err != nil {
		return err
	}
	return v.enumField(t, inputEncoding, uint8(encodingCount), "input.encoding")
}

func (v *verifier) layers(root table) error {
	p, ok, err := v.ref(root, modelLayers, "layers")
	if err != nil {
		return err
	}
	if !ok {
		return v.errf(ErrMalformed, "layers", "required field is missing")
	}
	data, n, err := v.vectorAt(p, 4, 4, MaxLayers, "layers")
	if err != nil {
		return err
	}
	for i := int64(0); i < n; i++ {
		v.layer, v.op = int(i), OpInvalid
		t, err := v.table(v.indirect(data+4*i), "table")
		if err != nil {
			return err
		}
		if err := v.layerTable(t); err != nil {
			return err
		}
	}
	v.layer, v.op = -1, OpInvalid
	return nil
}

func (v *verifier) layerTable(t table) error {
	op, err := v.u8Field(t, layerOp, "op")
	if err != nil {
		return err
	}
	v.op = Op(op)
	if op >= uint8(opCount) {
		return v.errf(ErrBadEnum, "op", "layer kind %d, want 0..%d", op, opCount-1)
	}
	if err := v.stringField(t, layerName, "name"); err != nil {
		return err
	}
	if _, _, err := v.vector(t, layerInputs, 4, 4, maxInputs, "inputs"); err != nil {
		return err
	}
	if err := v.enumField(t, layerPrecision, uint8(precisionCount), "precision"); err != nil {
		return err
	}
	for _, f := range [...]struct {
		slot int
		name string
	}{
		{layerInC, "in_c"}, {layerOutC, "out_c"}, {layerKH, "kh"}, {layerKW, "kw"},
		{layerStride, "stride"}, {layerPad, "pad"}, {layerKernel, "kernel"},
	} {
		if _, err := v.dimField(t, f.slot, f.name); err != nil {
			return err
		}
	}
	_, n, err := v.vector(t, layerBits, 1, WeightAlign, 8*MaxWeights, "bits")
	if err != nil {
		return err
	}
	if n%8 != 0 {
		return v.errf(ErrMalformed, "bits", "%d bytes is not a whole number of 64-bit words", n)
	}
	if _, _, err := v.vector(t, layerWeights, 4, WeightAlign, MaxWeights, "weights"); err != nil {
		return err
	}
	if _, _, err := v.vector(t, layerWeightsI8, 1, WeightAlign, MaxWeights, "weights_i8"); err != nil {
		return err
	}
	for _, f := range [...]struct {
		slot int
		name string
		max  int64
	}{{layerScale, "scale", MaxDim}, {layerBias, "bias", MaxDim}, {layerAlpha, "alpha", MaxTimesteps}} {
		if _, _, err := v.vector(t, f.slot, 4, 4, f.max, f.name); err != nil {
			return err
		}
	}
	if err := v.enumField(t, layerStat, uint8(statCount), "stat"); err != nil {
		return err
	}
	if _, err := v.field(t, layerLambda, 4, "lambda"); err != nil {
		return err
	}
	if _, err := v.field(t, layerVth, 4, "vth"); err != nil {
		return err
	}
	return v.enumField(t, layerReset, uint8(resetCount), "reset")
}

func (v *verifier) provenance(root table) error {
	p, ok, err := v.ref(root, modelProvenance, "provenance")
	if err != nil || !ok {
		return err
	}
	t, err := v.table(p, "provenance")
	if err != nil {
		return err
	}
	for _, f := range [...]struct {
		slot int
		name string
	}{
		{provSource, "provenance.source"}, {provDataset, "provenance.dataset"},
		{provAGMM, "provenance.agmm"}, {provToolVersion, "provenance.tool_version"},
	} {
		if err := v.stringField(t, f.slot, f.name); err != nil {
			return err
		}
	}
	if _, err := v.field(t, provAccuracy, 4, "provenance.accuracy"); err != nil {
		return err
	}
	data, n, err := v.vector(t, provExtra, 4, 4, MaxExtra, "provenance.extra")
	if err != nil {
		return err
	}
	for i := int64(0); i < n; i++ {
		name := fmt.Sprintf("provenance.extra[%d]", i)
		kv, err := v.table(v.indirect(data+4*i), name)
		if err != nil {
			return err
		}
		if err := v.stringField(kv, kvKey, name+".key"); err != nil {
			return err
		}
		if err := v.stringField(kv, kvValue, name+".value"); err != nil {
			return err
		}
	}
	return nil
}

func (v *verifier) errf(kind error, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if kind == ErrBadEnum && v.minor > FormatMinor {
		// Minor versions may add enum values.
		msg += fmt.Sprintf(" (the file is format %d.%d, newer than this reader's %d.%d)", FormatVersion, v.minor, FormatVersion, FormatMinor)
	}
	return &FormatError{Err: kind, Layer: v.layer, Op: v.op, Field: field, Msg: msg}
}

// The raw readers below are only called on positions already checked to
// hold the bytes they read.
func (v *verifier) u16(p int64) uint16 { return binary.LittleEndian.Uint16(v.b[p:]) }
func (v *verifier) u32(p int64) uint32 { return binary.LittleEndian.Uint32(v.b[p:]) }

// span checks that n bytes at p lie inside the file.
func (v *verifier) span(p, n int64, field, what string) error {
	if p < 0 {
		return v.errf(ErrBadOffset, field, "%s at byte %d lies before the start of the file", what, p)
	}
	if n < 0 || p > int64(len(v.b)) || n > int64(len(v.b))-p {
		return v.errf(ErrTruncated, field, "%s at byte %d needs %d bytes, the file has %d", what, p, n, len(v.b))
	}
	return nil
}

// indirect follows the uoffset at p (already checked to lie in the file).
// The result may point anywhere; its user checks it.
func (v *verifier) indirect(p int64) int64 { return p + int64(v.u32(p)) }

// table checks the table at pos and its vtable.
func (v *verifier) table(pos int64, field string) (table, error) {
	if err := v.span(pos, 4, field, "table"); err != nil {
		return table{}, err
	}
	if pos%4 != 0 {
		return table{}, v.errf(ErrBadAlignment, field, "table at byte %d is not 4-byte aligned", pos)
	}
	vt := pos - int64(int32(v.u32(pos)))
	if err := v.span(vt, 4, field, "vtable"); err != nil {
		return table{}, err
	}
	if vt%2 != 0 {
		return table{}, v.errf(ErrBadAlignment, field, "vtable at byte %d is not 2-byte aligned", vt)
	}
	vtLen, size := int64(v.u16(vt)), int64(v.u16(vt+2))
	if vtLen < 4 || vtLen%2 != 0 {
		return table{}, v.errf(ErrMalformed, field, "vtable at byte %d has size %d, want an even number >= 4", vt, vtLen)
	}
	if err := v.span(vt, vtLen, field, "vtable"); err != nil {
		return table{}, err
	}
	if size < 4 {
		return table{}, v.errf(ErrMalformed, field, "table at byte %d has size %d, want >= 4", pos, size)
	}
	if err := v.span(pos, size, field, "table"); err != nil {
		return table{}, err
	}
	return table{pos: pos, vt: vt, nslots: int((vtLen - 4) / 2), size: size}, nil
}

// field returns the position of slot's size-byte value in t, or -1 when the
// field is absent (it then has its default value).
func (v *verifier) field(t table, slot int, size int64, name string) (int64, error) {
	if slot >= t.nslots {
		return -1, nil
	}
	off := int64(v.u16(t.vt + 4 + 2*int64(slot)))
	if off == 0 {
		return -1, nil
	}
	if off < 4 || off+size > t.size {
		return 0, v.errf(ErrBadOffset, name, "%d-byte field at offset %d lies outside its %d-byte table at byte %d", size, off, t.size, t.pos)
	}
	p := t.pos + off
	if p%size != 0 {
		return 0, v.errf(ErrBadAlignment, name, "%d-byte field at byte %d is not aligned", size, p)
	}
	return p, nil
}

func (v *verifier) u8Field(t table, slot int, name string) (uint8, error) {
	p, err := v.field(t, slot, 1, name)
	if err != nil || p < 0 {
		return 0, err
	}
	return v.b[p], nil
}

func (v *verifier) u16Field(t table, slot int, name string) (uint16, error) {
	p, err := v.field(t, slot, 2, name)
	if err != nil || p < 0 {
		return 0, err
	}
	return v.u16(p), nil
}

func (v *verifier) enumField(t table, slot int, count uint8, name string) error {
	x, err := v.u8Field(t, slot, name)
	if err == nil && x >= count {
		err = v.errf(ErrBadEnum, name, "value %d, want 0..%d", x, count-1)
	}
	return err
}

// dimField reads a uint32 size field and caps it at MaxDim, which keeps
// every later int conversion exact on 32-bit platforms too. The precise
// range of each field is checked by Model.Shapes.
func (v *verifier) dimField(t table, slot int, name string) (uint32, error) {
	p, err := v.field(t, slot, 4, name)
	if err != nil || p < 0 {
		return 0, err
	}
	x := v.u32(p)
	if x > MaxDim {
		return 0, v.errf(ErrTooLarge, name, "%d, at most %d", x, MaxDim)
	}
	return x, nil
}

// ref returns the target of the uoffset field slot, unchecked, and whether
// the field is present.
func (v *verifier) ref(t table, slot int, name string) (int64, bool, error) {
	p, err := v.field(t, slot, 4, name)
	if err != nil || p < 0 {
		return 0, false, err
	}
	return v.indirect(p), true, nil
}

// vector checks the vector field slot of elemSize-byte elements whose data
// must be align-aligned, with at most max elements. It returns the data
// position and the element count, n = 0 when the field is absent.
func (v *verifier) vector(t table, slot int, elemSize, align, max int64, name string) (data, n int64, err error) {
	p, ok, err := v.ref(t, slot, name)
	if err != nil || !ok {
		return 0, 0, err
	}
	return v.vectorAt(p, elemSize, align, max, name)
}

func (v *verifier) vectorAt(p, elemSize, align, max int64, name string) (data, n int64, err error) {
	if err := v.span(p, 4, name, "vector length"); err != nil {
		return 0, 0, err
	}
	if p%4 != 0 {
		return 0, 0, v.errf(ErrBadAlignment, name, "vector length at byte %d is not 4-byte aligned", p)
	}
	n, data = int64(v.u32(p)), p+4
	if n > max {
		return 0, 0, v.errf(ErrTooLarge, name, "vector of %d elements, at most %d", n, max)
	}
	// n < 2^32 and elemSize <= 8: no overflow.
	if n*elemSize > int64(len(v.b))-data {
		return 0, 0, v.errf(ErrTruncated, name, "vector of %d %d-byte elements at byte %d needs %d bytes, the file has %d", n, elemSize, data, n*elemSize, len(v.b))
	}
	if n > 0 && data%align != 0 {
		return 0, 0, v.errf(ErrBadAlignment, name, "vector data at byte %d is not %d-byte aligned", data, align)
	}
	if err := v.charge(n*elemSize, name); err != nil {
		return 0, 0, err
	}
	return data, n, nil
}

func (v *verifier) charge(n int64, name string) error {
	v.budget -= n
	if v.budget < 0 {
		return v.errf(ErrMalformed, name, "vectors and strings add up to more bytes than the %d-byte file holds: they overlap", len(v.b))
	}
	return nil
}

func (v *verifier) stringField(t table, slot int, name string) error {
	p, ok, err := v.ref(t, slot, name)
	if err != nil || !ok {
		return err
	}
	return v.stringAt(p, name)
}

// stringAt checks the string at p: length, bytes and NUL terminator.
func (v *verifier) stringAt(p int64, name string) error {
	data, n, err := v.vectorAt(p, 1, 1, MaxString, name)
	if err != nil {
		return err
	}
	if err := v.span(data+n, 1, name, "string terminator"); err != nil {
		return err
	}
	if v.b[data+n] != 0 {
		return v.errf(ErrMalformed, name, "string at byte %d is not NUL-terminated", p)
	}
	return nil
}
