package model

import (
	"fmt"
	"io"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/bsnn/bsnn/internal/atomicfile"
	"github.com/bsnn/bsnn/model/internal/fb"
)

// Write encodes m as a .bsnn file (format FormatVersion.FormatMinor) to w.
// It refuses a model that fails m.Check, so every written file loads.
// Encoding builds the whole file in memory first (about the size of the
// weights).
func Write(w io.Writer, m *Model) error {
	data, err := Encode(m)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// Encode returns m as the bytes of a .bsnn file; see Write.
func Encode(m *Model) ([]byte, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	return encode(m, FormatVersion, FormatMinor)
}

// Save writes m to path atomically: the bytes go to a temporary file in the
// same directory, which is synced and then renamed over path, so a crash
// leaves either the old file or the new one, never a partial file.
func Save(path string, m *Model) error {
	data, err := Encode(m)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644) // a model file is not a secret
}

// encode builds the file without checking m's semantics (tests use it to
// make well-formed files of invalid models). It still refuses values the
// format cannot hold.
func encode(m *Model, major, minor uint16) (out []byte, err error) {
	if err := encodable(m); err != nil {
		return nil, err
	}
	est := estimateSize(m)
	if est > MaxFileSize {
		return nil, fmt.Errorf("model: the encoded model would take about %d bytes, more than MaxFileSize (%d)", est, MaxFileSize)
	}
	defer func() {
		// The builder panics when it cannot grow; estimateSize is an upper
		// bound, so this is only a safety net.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("model: encoding failed: %v", r)
		}
	}()
	b := flatbuffers.NewBuilder(int(est))

	layers := make([]flatbuffers.UOffsetT, len(m.Layers))
	for i := range m.Layers {
		layers[i] = encodeLayer(b, &m.Layers[i])
	}
	layersVec := offsetVector(b, layers)

	var labelsVec flatbuffers.UOffsetT
	if len(m.Labels) > 0 {
		labels := make([]flatbuffers.UOffsetT, len(m.Labels))
		for i, s := range m.Labels {
			labels[i] = b.CreateString(s)
		}
		labelsVec = offsetVector(b, labels)
	}

	in := &m.Input
	mean, std := floatVector(b, in.Mean, 4), floatVector(b, in.Std, 4)
	fb.InputStart(b)
	fb.InputAddC(b, uint32(in.Shape.C))
	fb.InputAddH(b, uint32(in.Shape.H))
	fb.InputAddW(b, uint32(in.Shape.W))
	addRef(b, inputMean, mean)
	addRef(b, inputStd, std)
	fb.InputAddEncoding(b, fb.Encoding(in.Encoding))
	fb.InputAddTimesteps(b, uint32(in.Timesteps))
	input := fb.InputEnd(b)

	prov := encodeProvenance(b, &m.Provenance)

	fb.ModelStart(b)
	fb.ModelAddFormatMajor(b, major)
	fb.ModelAddFormatMinor(b, minor)
	fb.ModelAddInput(b, input)
	fb.ModelAddLayers(b, layersVec)
	addRef(b, modelLabels, labelsVec)
	addRef(b, modelProvenance, prov)
	root := fb.ModelEnd(b)
	b.FinishWithFileIdentifier(root, []byte(fileIdentifier))
	out = b.FinishedBytes()
	if len(out) > MaxFileSize {
		return nil, fmt.Errorf("model: the encoded model takes %d bytes, more than MaxFileSize (%d)", len(out), MaxFileSize)
	}
	return out, nil
}

func encodeLayer(b *flatbuffers.Builder, l *Layer) flatbuffers.UOffsetT {
	name := stringRef(b, l.Name)
	var inputs flatbuffers.UOffsetT
	if len(l.Inputs) > 0 {
		b.StartVector(4, len(l.Inputs), 4)
		for i := len(l.Inputs) - 1; i >= 0; i-- {
			b.PlaceInt32(int32(l.Inputs[i]))
		}
		inputs = b.EndVector(len(l.Inputs))
	}
	var bits flatbuffers.UOffsetT
	if len(l.Bits) > 0 {
		// A [ubyte] vector whose data is WeightAlign-aligned: the builder
		// aligns relative to the end of the buffer and pads the finished
		// buffer to its largest alignment, so the data is also aligned
		// relative to the start of the file.
		b.StartVector(1, 8*len(l.Bits), WeightAlign)
		for i := len(l.Bits) - 1; i >= 0; i-- {
			b.PlaceUint64(l.Bits[i])
		}
		bits = b.EndVector(8 * len(l.Bits))
	}
	weights := floatVector(b, l.Weights, WeightAlign)
	var i8 flatbuffers.UOffsetT
	if len(l.WeightsI8) > 0 {
		b.StartVector(1, len(l.WeightsI8), WeightAlign)
		for i := len(l.WeightsI8) - 1; i >= 0; i-- {
			b.PlaceInt8(l.WeightsI8[i])
		}
		i8 = b.EndVector(len(l.WeightsI8))
	}
	scale := floatVector(b, l.Scale, 4)
	bias := floatVector(b, l.Bias, 4)
	alpha := floatVector(b, l.Alpha, 4)

	fb.LayerStart(b)
	fb.LayerAddOp(b, fb.Op(l.Op))
	addRef(b, layerName, name)
	addRef(b, layerInputs, inputs)
	fb.LayerAddPrecision(b, fb.Precision(l.Precision))
	fb.LayerAddInC(b, uint32(l.InC))
	fb.LayerAddOutC(b, uint32(l.OutC))
	fb.LayerAddKh(b, uint32(l.KH))
	fb.LayerAddKw(b, uint32(l.KW))
	fb.LayerAddStride(b, uint32(l.Stride))
	fb.LayerAddPad(b, uint32(l.Pad))
	addRef(b, layerBits, bits)
	addRef(b, layerWeights, weights)
	addRef(b, layerWeightsI8, i8)
	addRef(b, layerScale, scale)
	addRef(b, layerBias, bias)
	addRef(b, layerAlpha, alpha)
	fb.LayerAddStat(b, fb.Stat(l.Stat))
	addFloat32(b, layerLambda, l.Lambda)
	addFloat32(b, layerVth, l.Vth)
	fb.LayerAddReset(b, fb.Reset(l.Reset))
	fb.LayerAddKernel(b, uint32(l.Kernel))
	return fb.LayerEnd(b)
}

func encodeProvenance(b *flatbuffers.Builder, p *Provenance) flatbuffers.UOffsetT {
	var extra flatbuffers.UOffsetT
	if len(p.Extra) > 0 {
		kvs := make([]flatbuffers.UOffsetT, len(p.Extra))
		for i, kv := range p.Extra {
			k, v := stringRef(b, kv.Key), stringRef(b, kv.Value)
			fb.KeyValueStart(b)
			addRef(b, kvKey, k)
			addRef(b, kvValue, v)
			kvs[i] = fb.KeyValueEnd(b)
		}
		extra = offsetVector(b, kvs)
	}
	source, dataset := stringRef(b, p.Source), stringRef(b, p.Dataset)
	agmm, tool := stringRef(b, p.AGMM), stringRef(b, p.ToolVersion)
	fb.ProvenanceStart(b)
	addRef(b, provSource, source)
	addRef(b, provDataset, dataset)
	addFloat32(b, provAccuracy, p.Accuracy)
	addRef(b, provAGMM, agmm)
	addRef(b, provToolVersion, tool)
	addRef(b, provExtra, extra)
	return fb.ProvenanceEnd(b)
}

// stringRef writes s, or nothing for "" (an absent string reads as "").
func stringRef(b *flatbuffers.Builder, s string) flatbuffers.UOffsetT {
	if s == "" {
		return 0
	}
	return b.CreateString(s)
}

// floatVector writes xs with its data align-aligned, or nothing when empty
// (an absent vector reads as nil).
func floatVector(b *flatbuffers.Builder, xs []float32, align int) flatbuffers.UOffsetT {
	if len(xs) == 0 {
		return 0
	}
	b.StartVector(4, len(xs), align)
	for i := len(xs) - 1; i >= 0; i-- {
		b.PlaceFloat32(xs[i])
	}
	return b.EndVector(len(xs))
}

func offsetVector(b *flatbuffers.Builder, offs []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	b.StartVector(4, len(offs), 4)
	for i := len(offs) - 1; i >= 0; i-- {
		b.PrependUOffsetT(offs[i])
	}
	return b.EndVector(len(offs))
}

// addRef sets an offset field when the object was written.
func addRef(b *flatbuffers.Builder, slot int, off flatbuffers.UOffsetT) {
	if off != 0 {
		b.PrependUOffsetTSlot(slot, off, 0)
	}
}

// addFloat32 stores x unless it is +0, the schema default. The generated
// adders compare with ==, which would also drop −0 and lose its sign.
func addFloat32(b *flatbuffers.Builder, slot int, x float32) {
	if math.Float32bits(x) != 0 {
		b.PrependFloat32(x)
		b.Slot(slot)
	}
}

// encodable checks what the format can store whatever the op: every size
// field of every layer must fit the reader's 0..MaxDim (Check only looks at
// the fields an op uses), and counts must fit the reader's caps.
func encodable(m *Model) error {
	for i := range m.Layers {
		l := &m.Layers[i]
		for _, f := range [...]struct {
			name string
			v    int
		}{
			{"in_c", l.InC}, {"out_c", l.OutC}, {"kh", l.KH}, {"kw", l.KW},
			{"stride", l.Stride}, {"pad", l.Pad}, {"kernel", l.Kernel},
		} {
			if f.v < 0 || f.v > MaxDim {
				return lerr(i, l.Op, f.name, "%d cannot be stored, want 0..%d", f.v, MaxDim)
			}
		}
		if len(l.Inputs) > maxInputs {
			return lerr(i, l.Op, "inputs", "%d inputs, at most %d", len(l.Inputs), maxInputs)
		}
		for _, x := range l.Inputs {
			if x < math.MinInt32 || x > math.MaxInt32 {
				return lerr(i, l.Op, "inputs", "input %d cannot be stored", x)
			}
		}
		if !l.Op.Valid() || l.Precision >= precisionCount || l.Stat >= statCount || l.Reset >= resetCount {
			return lerr(i, l.Op, "op", "unknown op, precision, stat or reset")
		}
		for _, f := range [...]struct {
			name string
			n    int
			max  int
		}{
			{"bits", len(l.Bits), MaxWeights}, {"weights", len(l.Weights), MaxWeights},
			{"weights_i8", len(l.WeightsI8), MaxWeights}, {"scale", len(l.Scale), MaxDim},
			{"bias", len(l.Bias), MaxDim}, {"alpha", len(l.Alpha), MaxTimesteps},
		} {
			if f.n > f.max {
				return lerr(i, l.Op, f.name, "%d values cannot be stored, at most %d", f.n, f.max)
			}
		}
	}
	return nil
}

// estimateSize returns an upper bound of the encoded size of m.
func estimateSize(m *Model) int64 {
	const (
		table  = 256 // a table with its vtable, worst case
		vector = 8   // length prefix + alignment to 4
		weight = 64 + vector
	)
	n := int64(1024 + 4*len(m.Input.Mean) + 4*len(m.Input.Std))
	str := func(s string) int64 { return int64(len(s)) + 1 + vector }
	for i := range m.Layers {
		l := &m.Layers[i]
		n += table + str(l.Name) + 4 + 3*weight + 4*vector
		n += 4*int64(len(l.Inputs)) + 8*int64(len(l.Bits)) + 4*int64(len(l.Weights)) + int64(len(l.WeightsI8))
		n += 4 * int64(len(l.Scale)+len(l.Bias)+len(l.Alpha))
	}
	for _, s := range m.Labels {
		n += 4 + str(s)
	}
	p := &m.Provenance
	n += table + str(p.Source) + str(p.Dataset) + str(p.AGMM) + str(p.ToolVersion)
	for _, kv := range p.Extra {
		n += 4 + table + str(kv.Key) + str(kv.Value)
	}
	return n
}
