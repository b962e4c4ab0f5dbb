package model

import "io"

// Internals for the external tests (package model_test), which can import
// modeltest (package model cannot: import cycle).

// ParseNoRecover is Parse without its recover boundary, so a panic in
// decode fails the test that triggered it instead of becoming an error.
var ParseNoRecover = parse

// EncodeUnchecked encodes m with the given format version and without
// m.Check, to make well-formed files of invalid models.
func EncodeUnchecked(m *Model, major, minor uint16) ([]byte, error) { return encode(m, major, minor) }

// ReadLimited is readLimited with a chosen cap.
func ReadLimited(r io.Reader, limit int64) ([]byte, error) { return readLimitedN(r, nil, limit) }

// SetDecodeHook installs f to run inside parse after verification; it
// returns a function restoring the previous hook.
func SetDecodeHook(f func()) (restore func()) {
	old := testHookDecode
	testHookDecode = f
	return func() { testHookDecode = old }
}

// Slots maps "table.field" to the verifier's slot numbers.
var Slots = map[string]int{
	"Model.format_major": modelFormatMajor, "Model.format_minor": modelFormatMinor,
	"Model.input": modelInput, "Model.layers": modelLayers, "Model.labels": modelLabels,
	"Model.provenance": modelProvenance,
	"Input.c":          inputC, "Input.h": inputH, "Input.w": inputW, "Input.mean": inputMean,
	"Input.std": inputStd, "Input.encoding": inputEncoding, "Input.timesteps": inputTimesteps,
	"Layer.op": layerOp, "Layer.name": layerName, "Layer.inputs": layerInputs,
	"Layer.precision": layerPrecision, "Layer.in_c": layerInC, "Layer.out_c": layerOutC,
	"Layer.kh": layerKH, "Layer.kw": layerKW, "Layer.stride": layerStride, "Layer.pad": layerPad,
	"Layer.bits": layerBits, "Layer.weights": layerWeights, "Layer.weights_i8": layerWeightsI8,
	"Layer.scale": layerScale, "Layer.bias": layerBias, "Layer.alpha": layerAlpha,
	"Layer.stat": layerStat, "Layer.lambda": layerLambda, "Layer.vth": layerVth,
	"Layer.reset": layerReset, "Layer.kernel": layerKernel,
	"Provenance.source": provSource, "Provenance.dataset": provDataset,
	"Provenance.accuracy": provAccuracy, "Provenance.agmm": provAGMM,
	"Provenance.tool_version": provToolVersion, "Provenance.extra": provExtra,
	"KeyValue.key": kvKey, "KeyValue.value": kvValue,
}
