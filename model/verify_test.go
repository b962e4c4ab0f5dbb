package model_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/internal/fb"
	"github.com/bsnn/bsnn/model/modeltest"
)

// smallFile returns a small valid file (about 2 KB) with binary, fp32 and
// int8 weights, labels and provenance.
func smallFile(t testing.TB) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	b := modeltest.NewBuilder(rng, model.Shape{C: 1, H: 5, W: 5}, 2, model.EncodingDirect)
	b.M.Input.Mean, b.M.Input.Std = []float32{0.5}, []float32{0.25}
	x := b.LIF(b.Conv(model.InputIndex, model.PrecisionInt8, 3, 3, 1, 1), model.ResetHard, 0, 0)
	x = b.BiReal(x, 3, 1, model.StatSpatial, true, model.ResetSoft)
	x = b.Linear(b.Flatten(b.Pool(x, model.OpMaxPool, 2, 2, 0)), model.PrecisionBinary, 5)
	b.Readout(b.Linear(b.LIF(x, model.ResetHard, 0, 0), model.PrecisionFloat32, 3))
	b.M.Labels = []string{"a", "b", "c"}
	b.M.Provenance = model.Provenance{Source: "test", Dataset: "none", Accuracy: 0.5, Extra: []model.KV{{Key: "k", Value: "v"}}}
	return mustEncode(t, b.Model())
}

// parseChecked parses data with no recover boundary and checks the error
// contract: nil, or an error wrapping ErrInvalid. A valid result must
// re-encode and parse back to the same model.
func parseChecked(t testing.TB, data []byte) (*model.Model, error) {
	t.Helper()
	m, err := model.ParseNoRecover(data)
	if err != nil {
		if !errors.Is(err, model.ErrInvalid) {
			t.Fatalf("error does not wrap ErrInvalid: %v", err)
		}
		if m != nil {
			t.Fatalf("non-nil model with error %v", err)
		}
		return nil, err
	}
	re, err := model.Encode(m)
	if err != nil {
		t.Fatalf("parsed model does not re-encode: %v", err)
	}
	if _, err := model.ParseNoRecover(re); err != nil {
		t.Fatalf("re-encoded model does not parse: %v", err)
	}
	return m, nil
}

func TestTruncated(t *testing.T) {
	data := smallFile(t)
	if _, err := parseChecked(t, data); err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		_, err := parseChecked(t, data[:n])
		if !errors.Is(err, model.ErrTruncated) {
			t.Fatalf("prefix of %d of %d bytes: err = %v, want ErrTruncated", n, len(data), err)
		}
	}
	_, err := model.Parse(data[:len(data)/2])
	var fe *model.FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a *FormatError", err)
	}
}

func TestBitFlips(t *testing.T) {
	data := smallFile(t)
	// Low, middle and high bits of lengths, offsets and enums, and a whole
	// byte; FuzzLoad explores the rest.
	masks := []byte{0x01, 0x08, 0x80, 0xff}
	if testing.Short() {
		masks = []byte{0x01, 0xff}
	}
	accepted := 0
	buf := make([]byte, len(data))
	for i := range data {
		for _, mask := range masks {
			copy(buf, data)
			buf[i] ^= mask
			if _, err := parseChecked(t, buf); err == nil {
				accepted++
			}
		}
	}
	// Flips inside weight values give other valid models; flips in
	// structure must not. Most flips hit structure or the semantic checks.
	t.Logf("%d of %d flipped files are valid models", accepted, len(data)*len(masks))
	if accepted == len(data)*len(masks) {
		t.Error("every flipped file was accepted")
	}
}

func TestBadIdentifier(t *testing.T) {
	data := smallFile(t)
	copy(data[4:8], "BSNM")
	_, err := parseChecked(t, data)
	const want = `bsnn file: identifier: not a .bsnn file: file identifier is "BSNM", want "BSNN"`
	if !errors.Is(err, model.ErrBadIdentifier) || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	for _, short := range []string{"", "BSNN", "1234567"} {
		if _, err := parseChecked(t, []byte(short)); !errors.Is(err, model.ErrTruncated) {
			t.Errorf("%q: err = %v, want ErrTruncated", short, err)
		}
	}
}

func TestVersion(t *testing.T) {
	m := modeltest.MNIST(rand.New(rand.NewPCG(1, 2)))
	for _, tc := range []struct {
		major, minor uint16
		want         string // "" = loads
	}{
		{1, 0, ""},
		{1, 9, ""}, // a newer minor version only adds fields: readable
		{2, 0, "bsnn file: format_major: unsupported format version: file is format version 2.0, this reader reads 1.x"},
		{0, 3, "bsnn file: format_major: unsupported format version: file is format version 0.3, this reader reads 1.x"},
	} {
		data, err := model.EncodeUnchecked(m, tc.major, tc.minor)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseChecked(t, data)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("version %d.%d: %v", tc.major, tc.minor, err)
		case tc.want != "" && (!errors.Is(err, model.ErrVersion) || err.Error() != tc.want):
			t.Errorf("version %d.%d: err = %v\nwant %s", tc.major, tc.minor, err, tc.want)
		}
	}
}

// TestErrorText pins the text of errors users will see.
func TestErrorText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	b := modeltest.NewBuilder(rng, model.Shape{C: 1, H: 6, W: 6}, 2, model.EncodingDirect)
	x := b.LIF(b.Affine(b.Conv(model.InputIndex, model.PrecisionFloat32, 64, 3, 1, 1)), model.ResetHard, 0, 0)
	x = b.LIF(b.Conv(x, model.PrecisionBinary, 128, 3, 1, 1), model.ResetHard, 0, 0)
	b.Readout(b.Linear(b.GlobalAvgPool(x), model.PrecisionFloat32, 2))
	m := b.Model()

	half := *m
	half.Layers = append([]model.Layer(nil), m.Layers...)
	half.Layers[3].Bits = half.Layers[3].Bits[:len(half.Layers[3].Bits)/2]
	data, err := model.EncodeUnchecked(&half, model.FormatVersion, model.FormatMinor)
	if err != nil {
		t.Fatal(err)
	}
	_, err = parseChecked(t, data)
	if want := "layer 3 (conv2d): bits: weight vector holds 4608 bytes, shape needs 9216"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}

	// An enum out of range, found by the verifier.
	data = mustEncode(t, m)
	root := fb.GetRootAsModel(data, 0)
	var l fb.Layer
	root.Layers(&l, 3)
	l.MutateOp(200)
	_, err = parseChecked(t, data)
	if want := "layer 3 (op(200)): op: unknown enum value: layer kind 200, want 0..11"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	data = mustEncode(t, m)
	fb.GetRootAsModel(data, 0).Layers(&l, 3)
	l.MutatePrecision(3)
	_, err = parseChecked(t, data)
	if want := "layer 3 (conv2d): precision: unknown enum value: value 3, want 0..2"; !errors.Is(err, model.ErrBadEnum) || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}

	// The same from a newer minor version: the error says why.
	data = must(model.EncodeUnchecked(m, model.FormatVersion, model.FormatMinor+1))
	fb.GetRootAsModel(data, 0).Layers(&l, 3)
	l.MutatePrecision(3)
	_, err = parseChecked(t, data)
	if want := "layer 3 (conv2d): precision: unknown enum value: value 3, want 0..2 (the file is format 1.1, newer than this reader's 1.0)"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestPadBits(t *testing.T) {
	m := modeltest.AllKinds(rand.New(rand.NewPCG(1, 2)))
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.Precision != model.PrecisionBinary || l.InC%64 == 0 {
			continue
		}
		pw := (l.InC + 63) / 64
		row := l.RowWords()
		// Row 1, last tap, last word: a bit past InC.
		l.Bits[row+row-1] |= 1 << 63
		_, err := model.Parse(must(model.EncodeUnchecked(m, model.FormatVersion, model.FormatMinor)))
		var le *model.LayerError
		if !errors.As(err, &le) || le.Layer != i || le.Field != "bits" || !strings.Contains(err.Error(), "pad bits") {
			t.Fatalf("layer %d: err = %v, want a pad-bits LayerError", i, err)
		}
		t.Log(err)
		if !strings.Contains(err.Error(), "row 1, tap") || (l.Op == model.OpConv2D && !strings.Contains(err.Error(), "tap 8:")) {
			t.Errorf("error does not name row 1 and the last tap: %v", err)
		}
		_ = pw
		l.Bits[row+row-1] &^= 1 << 63
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// layerVectorLenPos returns where the length of layer i's vector in slot
// lies in data.
func layerVectorLenPos(data []byte, i, slot int) int {
	var l fb.Layer
	fb.GetRootAsModel(data, 0).Layers(&l, i)
	tab := l.Table()
	o := flatbuffers.UOffsetT(tab.Offset(flatbuffers.VOffsetT(4 + 2*slot)))
	if o == 0 {
		return -1
	}
	return int(tab.Vector(o)) - 4
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestHostileLengths(t *testing.T) {
	m := modeltest.MNIST(rand.New(rand.NewPCG(1, 2)))
	good := mustEncode(t, m)
	const limit = 1 << 20 // far below what any of the lengths below asks for
	for _, tc := range []struct {
		name  string
		patch func(d []byte)
		want  error
	}{
		{"bits length", func(d []byte) {
			binary.LittleEndian.PutUint32(d[layerVectorLenPos(d, 2, model.Slots["Layer.bits"]):], 0x7ffffff8)
		}, model.ErrTruncated},
		{"weights length", func(d []byte) {
			binary.LittleEndian.PutUint32(d[layerVectorLenPos(d, 0, model.Slots["Layer.weights"]):], 0x3fffffff)
		}, model.ErrTruncated},
		{"weights length over cap", func(d []byte) {
			binary.LittleEndian.PutUint32(d[layerVectorLenPos(d, 0, model.Slots["Layer.weights"]):], 0xffffffff)
		}, model.ErrTooLarge},
		{"layers length", func(d []byte) {
			r := fb.GetRootAsModel(d, 0).Table()
			o := flatbuffers.UOffsetT(r.Offset(flatbuffers.VOffsetT(4 + 2*model.Slots["Model.layers"])))
			binary.LittleEndian.PutUint32(d[r.Vector(o)-4:], 0xffffffff)
		}, model.ErrTooLarge},
		{"labels length", func(d []byte) {
			r := fb.GetRootAsModel(d, 0).Table()
			o := flatbuffers.UOffsetT(r.Offset(flatbuffers.VOffsetT(4 + 2*model.Slots["Model.labels"])))
			binary.LittleEndian.PutUint32(d[r.Vector(o)-4:], model.MaxLabels)
		}, model.ErrTruncated},
		{"root offset", func(d []byte) { binary.LittleEndian.PutUint32(d, 0xfffffff0) }, model.ErrTruncated},
		{"vtable before file", func(d []byte) {
			root := binary.LittleEndian.Uint32(d)
			binary.LittleEndian.PutUint32(d[root:], root+64)
		}, model.ErrBadOffset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Clone(good)
			tc.patch(data)
			var err error
			if n := allocated(func() { _, err = parseChecked(t, data) }); n > limit {
				t.Errorf("allocated %d bytes for a %d-byte file", n, len(data))
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// TestAliasedVectors: many offsets naming one large string must not make
// decode allocate their sum.
func TestAliasedVectors(t *testing.T) {
	b := flatbuffers.NewBuilder(0)
	s := b.CreateString(strings.Repeat("x", 60000))
	const n = 1000 // 60 MB if every label were copied
	fb.ModelStartLabelsVector(b, n)
	for range n {
		b.PrependUOffsetT(s)
	}
	labels := b.EndVector(n)
	fb.ModelStartLayersVector(b, 0)
	layers := b.EndVector(0)
	fb.InputStart(b)
	input := fb.InputEnd(b)
	fb.ModelStart(b)
	fb.ModelAddFormatMajor(b, model.FormatVersion)
	fb.ModelAddInput(b, input)
	fb.ModelAddLayers(b, layers)
	fb.ModelAddLabels(b, labels)
	b.FinishWithFileIdentifier(fb.ModelEnd(b), []byte("BSNN"))
	data := b.FinishedBytes()
	var err error
	if a := allocated(func() { _, err = parseChecked(t, data) }); a > 1<<20 {
		t.Errorf("allocated %d bytes for a %d-byte file", a, len(data))
	}
	if !errors.Is(err, model.ErrMalformed) || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("err = %v, want ErrMalformed about overlapping vectors", err)
	}
}

func TestRecoverBoundary(t *testing.T) {
	data := smallFile(t)
	restore := model.SetDecodeHook(func() { panic("boom") })
	defer restore()
	m, err := model.Parse(data)
	if m != nil || !errors.Is(err, model.ErrMalformed) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Parse with a panicking decoder: m = %v, err = %v", m, err)
	}
}

// TestSlotsMatchGenerated checks the verifier's field slots against the
// generated builders: a table with only one field set must have exactly
// that slot in its vtable.
func TestSlotsMatchGenerated(t *testing.T) {
	type B = flatbuffers.Builder
	type U = flatbuffers.UOffsetT
	tbl := func(start func(*B), end func(*B) U, add func(*B, U)) func(*B) U {
		return func(b *B) U {
			ref := b.CreateString("x")
			start(b)
			add(b, ref)
			return end(b)
		}
	}
	mdl := func(add func(*B, U)) func(*B) U { return tbl(fb.ModelStart, fb.ModelEnd, add) }
	in := func(add func(*B, U)) func(*B) U { return tbl(fb.InputStart, fb.InputEnd, add) }
	lay := func(add func(*B, U)) func(*B) U { return tbl(fb.LayerStart, fb.LayerEnd, add) }
	prov := func(add func(*B, U)) func(*B) U { return tbl(fb.ProvenanceStart, fb.ProvenanceEnd, add) }
	kv := func(add func(*B, U)) func(*B) U { return tbl(fb.KeyValueStart, fb.KeyValueEnd, add) }
	builders := map[string]func(*B) U{
		"Model.format_major":      mdl(func(b *B, _ U) { fb.ModelAddFormatMajor(b, 1) }),
		"Model.format_minor":      mdl(func(b *B, _ U) { fb.ModelAddFormatMinor(b, 1) }),
		"Model.input":             mdl(fb.ModelAddInput),
		"Model.layers":            mdl(fb.ModelAddLayers),
		"Model.labels":            mdl(fb.ModelAddLabels),
		"Model.provenance":        mdl(fb.ModelAddProvenance),
		"Input.c":                 in(func(b *B, _ U) { fb.InputAddC(b, 1) }),
		"Input.h":                 in(func(b *B, _ U) { fb.InputAddH(b, 1) }),
		"Input.w":                 in(func(b *B, _ U) { fb.InputAddW(b, 1) }),
		"Input.mean":              in(fb.InputAddMean),
		"Input.std":               in(fb.InputAddStd),
		"Input.encoding":          in(func(b *B, _ U) { fb.InputAddEncoding(b, 1) }),
		"Input.timesteps":         in(func(b *B, _ U) { fb.InputAddTimesteps(b, 1) }),
		"Layer.op":                lay(func(b *B, _ U) { fb.LayerAddOp(b, 1) }),
		"Layer.name":              lay(fb.LayerAddName),
		"Layer.inputs":            lay(fb.LayerAddInputs),
		"Layer.precision":         lay(func(b *B, _ U) { fb.LayerAddPrecision(b, 1) }),
		"Layer.in_c":              lay(func(b *B, _ U) { fb.LayerAddInC(b, 1) }),
		"Layer.out_c":             lay(func(b *B, _ U) { fb.LayerAddOutC(b, 1) }),
		"Layer.kh":                lay(func(b *B, _ U) { fb.LayerAddKh(b, 1) }),
		"Layer.kw":                lay(func(b *B, _ U) { fb.LayerAddKw(b, 1) }),
		"Layer.stride":            lay(func(b *B, _ U) { fb.LayerAddStride(b, 1) }),
		"Layer.pad":               lay(func(b *B, _ U) { fb.LayerAddPad(b, 1) }),
		"Layer.bits":              lay(fb.LayerAddBits),
		"Layer.weights":           lay(fb.LayerAddWeights),
		"Layer.weights_i8":        lay(fb.LayerAddWeightsI8),
		"Layer.scale":             lay(fb.LayerAddScale),
		"Layer.bias":              lay(fb.LayerAddBias),
		"Layer.alpha":             lay(fb.LayerAddAlpha),
		"Layer.stat":              lay(func(b *B, _ U) { fb.LayerAddStat(b, 1) }),
		"Layer.lambda":            lay(func(b *B, _ U) { fb.LayerAddLambda(b, 1) }),
		"Layer.vth":               lay(func(b *B, _ U) { fb.LayerAddVth(b, 1) }),
		"Layer.reset":             lay(func(b *B, _ U) { fb.LayerAddReset(b, 1) }),
		"Layer.kernel":            lay(func(b *B, _ U) { fb.LayerAddKernel(b, 1) }),
		"Provenance.source":       prov(fb.ProvenanceAddSource),
		"Provenance.dataset":      prov(fb.ProvenanceAddDataset),
		"Provenance.accuracy":     prov(func(b *B, _ U) { fb.ProvenanceAddAccuracy(b, 1) }),
		"Provenance.agmm":         prov(fb.ProvenanceAddAgmm),
		"Provenance.tool_version": prov(fb.ProvenanceAddToolVersion),
		"Provenance.extra":        prov(fb.ProvenanceAddExtra),
		"KeyValue.key":            kv(fb.KeyValueAddKey),
		"KeyValue.value":          kv(fb.KeyValueAddValue),
	}
	if len(builders) != len(model.Slots) {
		t.Errorf("%d generated fields tested, the verifier knows %d", len(builders), len(model.Slots))
	}
	for name, build := range builders {
		want, ok := model.Slots[name]
		if !ok {
			t.Errorf("%s: the verifier has no slot for it", name)
			continue
		}
		b := flatbuffers.NewBuilder(0)
		b.Finish(build(b))
		d := b.FinishedBytes()
		pos := int(binary.LittleEndian.Uint32(d))
		vt := pos - int(int32(binary.LittleEndian.Uint32(d[pos:])))
		var got []int
		for s := range (int(binary.LittleEndian.Uint16(d[vt:])) - 4) / 2 {
			if binary.LittleEndian.Uint16(d[vt+4+2*s:]) != 0 {
				got = append(got, s)
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: generated code sets slots %v, verifier uses %d", name, got, want)
		}
	}
}
