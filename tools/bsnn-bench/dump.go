package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/bsnn/bsnn/model"
)

// The weight dump hands a model to the PyTorch twin (tools/pyref/bench_infer.py)
// without a .bsnn parser in Python: graph.json describes the layers and
// points into weights.bin, one flat little-endian float32 array holding
// every parameter and the benchmark inputs. Weights are expanded to float32
// in PyTorch's [out][in][kh][kw] order: binary weights as ±1, int8 weights
// as their integer value; the twin multiplies in the per-channel Scale.

const (
	dumpGraphFile   = "graph.json"
	dumpWeightsFile = "weights.bin"
)

// dumpTensor locates one float32 array in weights.bin.
type dumpTensor struct {
	Offset int64 `json:"offset"` // in float32 elements
	Shape  []int `json:"shape"`
}

func (t dumpTensor) size() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= int64(d)
	}
	return n
}

// dumpLayer is one model.Layer with its parameters moved to weights.bin.
type dumpLayer struct {
	Op        string                `json:"op"`
	Name      string                `json:"name"`
	Inputs    []int                 `json:"inputs"`
	Precision string                `json:"precision,omitempty"`
	InC       int                   `json:"in_c,omitempty"`
	OutC      int                   `json:"out_c,omitempty"`
	KH        int                   `json:"kh,omitempty"`
	KW        int                   `json:"kw,omitempty"`
	Stride    int                   `json:"stride,omitempty"`
	Pad       int                   `json:"pad,omitempty"`
	Kernel    int                   `json:"kernel,omitempty"`
	Stat      string                `json:"stat,omitempty"`
	Lambda    float32               `json:"lambda,omitempty"`
	Vth       float32               `json:"vth,omitempty"`
	Reset     string                `json:"reset,omitempty"`
	Shape     [3]int                `json:"shape"` // output C, H, W
	Tensors   map[string]dumpTensor `json:"tensors,omitempty"`
}

// dumpGraph is graph.json.
type dumpGraph struct {
	Input struct {
		Shape     [3]int    `json:"shape"`
		Mean      []float32 `json:"mean,omitempty"`
		Std       []float32 `json:"std,omitempty"`
		Encoding  string    `json:"encoding"`
		Timesteps int       `json:"timesteps"`
	} `json:"input"`
	Layers []dumpLayer `json:"layers"`
	// Samples are the benchmark inputs, [N][input size] (T×C×H×W per
	// sample for events, else C×H×W).
	Samples dumpTensor `json:"samples"`
}

// writeDump writes m and samples to dir as graph.json and weights.bin.
func writeDump(dir string, m *model.Model, samples [][]float32) error {
	shapes, err := m.Shapes()
	if err != nil {
		return err
	}
	var g dumpGraph
	in := m.Input
	g.Input.Shape = [3]int{in.Shape.C, in.Shape.H, in.Shape.W}
	g.Input.Mean, g.Input.Std = in.Mean, in.Std
	g.Input.Encoding = in.Encoding.String()
	g.Input.Timesteps = in.Timesteps
	var data []float32
	put := func(v []float32, shape ...int) dumpTensor {
		t := dumpTensor{Offset: int64(len(data)), Shape: shape}
		data = append(data, v...)
		return t
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		s := shapes[i]
		d := dumpLayer{Op: l.Op.String(), Name: l.Name, Inputs: l.Inputs, Shape: [3]int{s.C, s.H, s.W}}
		switch l.Op {
		case model.OpConv2D, model.OpLinear:
			d.Precision = l.Precision.String()
			d.InC, d.OutC, d.KH, d.KW, d.Stride, d.Pad = l.InC, l.OutC, l.KH, l.KW, l.Stride, l.Pad
			d.Tensors = map[string]dumpTensor{
				"weight": put(l.DenseWeights(), l.OutC, l.InC, l.KH, l.KW),
				"scale":  put(l.Scale, l.OutC),
				"bias":   put(l.Bias, l.OutC),
			}
		case model.OpAffine:
			d.Tensors = map[string]dumpTensor{"scale": put(l.Scale, len(l.Scale)), "bias": put(l.Bias, len(l.Bias))}
		case model.OpAGMM:
			d.Stat = l.Stat.String()
			d.Tensors = map[string]dumpTensor{"alpha": put(l.Alpha, len(l.Alpha))}
		case model.OpLIF:
			d.Lambda, d.Vth, d.Reset = l.Lambda, l.Vth, l.Reset.String()
		case model.OpAvgPool, model.OpMaxPool:
			d.Kernel, d.Stride, d.Pad = l.Kernel, l.Stride, l.Pad
		}
		g.Layers = append(g.Layers, d)
	}
	size := in.Shape.Size()
	if in.Encoding == model.EncodingEvents {
		size *= in.Timesteps
	}
	g.Samples = dumpTensor{Offset: int64(len(data)), Shape: []int{len(samples), size}}
	for i, x := range samples {
		if len(x) != size {
			return fmt.Errorf("sample %d has %d values, the model takes %d", i, len(x), size)
		}
		data = append(data, x...)
	}
	js, err := json.MarshalIndent(&g, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, dumpGraphFile), js, 0o644); err != nil {
		return err
	}
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return os.WriteFile(filepath.Join(dir, dumpWeightsFile), buf, 0o644)
}

// readDump reads a dump back: the graph and the flat float32 data, with
// every tensor checked to lie inside it. The tests use it to prove the dump
// is what the twin will see.
func readDump(dir string) (*dumpGraph, []float32, error) {
	js, err := os.ReadFile(filepath.Join(dir, dumpGraphFile))
	if err != nil {
		return nil, nil, err
	}
	var g dumpGraph
	if err := json.Unmarshal(js, &g); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dumpGraphFile, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, dumpWeightsFile))
	if err != nil {
		return nil, nil, err
	}
	if len(raw)%4 != 0 {
		return nil, nil, fmt.Errorf("%s: %d bytes is not a whole number of float32s", dumpWeightsFile, len(raw))
	}
	data := make([]float32, len(raw)/4)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	check := func(what string, t dumpTensor) error {
		if t.Offset < 0 || t.Offset+t.size() > int64(len(data)) {
			return fmt.Errorf("%s: [%d, +%d) outside the %d floats of %s", what, t.Offset, t.size(), len(data), dumpWeightsFile)
		}
		return nil
	}
	for _, l := range g.Layers {
		for k, t := range l.Tensors {
			if err := check(l.Name+"."+k, t); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := check("samples", g.Samples); err != nil {
		return nil, nil, err
	}
	return &g, data, nil
}

// values returns the elements of t in data (readDump checked the bounds).
func (t dumpTensor) values(data []float32) []float32 {
	return data[t.Offset : t.Offset+t.size()]
}
