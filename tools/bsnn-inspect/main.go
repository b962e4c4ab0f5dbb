// Command bsnn-inspect prints what a .bsnn model file holds: the input spec,
// one row per layer (index, name, op, inputs, precision, output shape,
// parameters, stored bytes), size totals against float32 and provenance.
//
//	bsnn-inspect model.bsnn
//	bsnn-inspect -json model.bsnn
//
// The file is fully verified first (model.Load): a malformed file gets the
// loader's error, naming the layer and field.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/bsnn/bsnn/model"
)

// Report is the -json output.
type Report struct {
	File          string           `json:"file"`
	FileBytes     int64            `json:"file_bytes"`
	FormatMajor   int              `json:"format_major"`
	FormatMinor   int              `json:"format_minor"`
	Input         Input            `json:"input"`
	Layers        []Row            `json:"layers"`
	Labels        []string         `json:"labels,omitempty"`
	Params        int64            `json:"params"`
	ParamBytes    int64            `json:"param_bytes"`   // as stored: bits, int8, float32
	Float32Bytes  int64            `json:"float32_bytes"` // the same parameters as float32
	Compression   float64          `json:"compression"`   // float32_bytes / param_bytes
	FileVsFloat32 float64          `json:"file_vs_float32"`
	Provenance    model.Provenance `json:"provenance"`
}

// Input is the model input spec.
type Input struct {
	Shape     string    `json:"shape"`
	Encoding  string    `json:"encoding"`
	Timesteps int       `json:"timesteps"`
	Mean      []float32 `json:"mean,omitempty"`
	Std       []float32 `json:"std,omitempty"`
}

// Row is one layer.
type Row struct {
	Index     int    `json:"index"`
	Name      string `json:"name"`
	Op        string `json:"op"`
	Inputs    []int  `json:"inputs"`
	Precision string `json:"precision,omitempty"` // conv and linear only
	Detail    string `json:"detail,omitempty"`    // kernel/stride/pad, statistic, reset, …
	Output    string `json:"output"`
	Params    int64  `json:"params"`
	Bytes     int64  `json:"bytes"`
}

func main() {
	if err := mainImpl(); err != nil {
		fmt.Fprintf(os.Stderr, "bsnn-inspect: %v\n", err)
		os.Exit(1)
	}
}

func mainImpl() error {
	asJSON := flag.Bool("json", false, "print a JSON report instead of tables")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: bsnn-inspect [-json] FILE.bsnn\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		return errors.New("want exactly one model file")
	}
	r, err := inspect(flag.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return r.print(os.Stdout)
}

func inspect(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := model.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	major, minor, err := model.FileVersion(data)
	if err != nil {
		return nil, err
	}
	shapes, err := m.Shapes()
	if err != nil {
		return nil, err
	}
	r := &Report{
		File:        path,
		FileBytes:   int64(len(data)),
		FormatMajor: major,
		FormatMinor: minor,
		Input: Input{
			Shape: m.Input.Shape.String(), Encoding: m.Input.Encoding.String(), Timesteps: m.Input.Timesteps,
			Mean: m.Input.Mean, Std: m.Input.Std,
		},
		Labels:     m.Labels,
		Provenance: m.Provenance,
	}
	for i := range m.Layers {
		row := layerRow(m, i, shapes[i])
		r.Layers = append(r.Layers, row)
		r.Params += row.Params
		r.ParamBytes += row.Bytes
	}
	r.Float32Bytes = 4 * r.Params
	if r.ParamBytes > 0 {
		r.Compression = float64(r.Float32Bytes) / float64(r.ParamBytes)
	}
	if r.FileBytes > 0 {
		r.FileVsFloat32 = float64(r.Float32Bytes) / float64(r.FileBytes)
	}
	return r, nil
}

// layerRow counts a layer's parameters (every weight, scale, bias, α and
// LIF constant) and the bytes they take in the file.
func layerRow(m *model.Model, i int, out model.Shape) Row {
	l := &m.Layers[i]
	row := Row{Index: i, Name: l.Name, Op: l.Op.String(), Inputs: l.Inputs, Output: out.String()}
	floats := int64(len(l.Scale) + len(l.Bias) + len(l.Alpha))
	row.Params, row.Bytes = floats, 4*floats
	switch l.Op {
	case model.OpConv2D, model.OpLinear:
		row.Precision = l.Precision.String()
		if l.Op == model.OpConv2D {
			row.Detail = fmt.Sprintf("%d→%d k%d×%d s%d p%d", l.InC, l.OutC, l.KH, l.KW, l.Stride, l.Pad)
		} else {
			row.Detail = fmt.Sprintf("%d→%d", l.InC, l.OutC)
		}
		n := int64(l.OutC) * int64(l.InC) * int64(l.KH) * int64(l.KW)
		row.Params += n
		row.Bytes += 8*int64(len(l.Bits)) + 4*int64(len(l.Weights)) + int64(len(l.WeightsI8))
	case model.OpAGMM:
		row.Detail = "stat " + l.Stat.String()
	case model.OpLIF:
		row.Detail = fmt.Sprintf("λ %g, V_th %g, %s reset", l.Lambda, l.Vth, l.Reset)
		row.Params += 2
		row.Bytes += 8
	case model.OpAvgPool, model.OpMaxPool:
		row.Detail = fmt.Sprintf("k%d s%d p%d", l.Kernel, l.Stride, l.Pad)
	}
	return row
}

func (r *Report) print(w io.Writer) error {
	in := r.Input
	fmt.Fprintf(w, "file      %s (%d bytes, format %d.%d)\n", r.File, r.FileBytes, r.FormatMajor, r.FormatMinor)
	fmt.Fprintf(w, "input     %s, %s encoding, T = %d", in.Shape, in.Encoding, in.Timesteps)
	if len(in.Mean) > 0 || len(in.Std) > 0 {
		fmt.Fprintf(w, ", mean %v, std %v", in.Mean, in.Std)
	}
	fmt.Fprintln(w)
	if len(r.Labels) > 0 {
		fmt.Fprintf(w, "labels    %d: %s\n", len(r.Labels), clip(strings.Join(quoteAll(r.Labels), " "), 100))
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tname\top\tinputs\tprecision\tdetail\toutput\tparams\tbytes")
	for _, row := range r.Layers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", row.Index, clip(row.Name, 24), row.Op,
			inputs(row.Inputs), row.Precision, row.Detail, row.Output, row.Params, row.Bytes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	fmt.Fprintf(w, "parameters       %d\n", r.Params)
	fmt.Fprintf(w, "stored bytes     %d (%.2f× smaller than float32)\n", r.ParamBytes, r.Compression)
	fmt.Fprintf(w, "float32 bytes    %d\n", r.Float32Bytes)
	fmt.Fprintf(w, "file bytes       %d (float32 weights / file = %.2f)\n", r.FileBytes, r.FileVsFloat32)

	p := r.Provenance
	fmt.Fprintln(w)
	acc := "unknown"
	if p.Accuracy >= 0 {
		acc = fmt.Sprintf("%.2f%%", 100*p.Accuracy)
	}
	for _, kv := range [...][2]string{
		{"source", p.Source}, {"dataset", p.Dataset}, {"accuracy", acc},
		{"agmm", p.AGMM}, {"tool version", p.ToolVersion},
	} {
		if kv[1] != "" {
			fmt.Fprintf(w, "%-16s %s\n", kv[0], kv[1])
		}
	}
	for _, kv := range p.Extra {
		fmt.Fprintf(w, "%-16s %s\n", kv.Key, kv.Value)
	}
	return nil
}

func inputs(in []int) string {
	s := make([]string, len(in))
	for i, x := range in {
		if x == model.InputIndex {
			s[i] = "in"
		} else {
			s[i] = strconv.Itoa(x)
		}
	}
	return strings.Join(s, ",")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
