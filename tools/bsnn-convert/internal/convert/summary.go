package convert

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/runtime"
)

// Sizes are the totals -summary compares.
type Sizes struct {
	Checkpoint int64 // the checkpoint file as given
	Float32    int64 // the tensors the model uses, as float32
	BSNN       int64 // the encoded .bsnn file
}

// Ratio is the compression: float32 parameters over .bsnn bytes.
func (s Sizes) Ratio() float64 { return float64(s.Float32) / float64(s.BSNN) }

// WriteSummary prints the layer table and the size totals.
func WriteSummary(w io.Writer, m *model.Model, rep *Report, sz Sizes) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "#\tname\tkind\tweights / shape\tout\tbits\tbytes\tfloat32 bytes\t\n")
	for i, r := range rep.Rows {
		bits := "-"
		if r.Bits > 0 {
			bits = fmt.Sprint(r.Bits)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\t%s\t%d\t%d\t\n", i, r.Name, r.Kind, r.Shape, r.Out, bits, r.Bytes, r.SrcBytes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "input %v, T=%d, %d layers, %d classes\n", m.Input.Shape, m.Input.Timesteps, len(m.Layers), rep.Classes())
	fmt.Fprintf(w, "checkpoint file %d bytes; used tensors as float32 %d bytes; .bsnn file %d bytes; compression %.1fx (1/%.1f)\n",
		sz.Checkpoint, sz.Float32, sz.BSNN, sz.Ratio(), sz.Ratio())
	for _, u := range rep.Unused {
		fmt.Fprintf(w, "unused (allowed): %s\n", u)
	}
	return nil
}

// Classes returns the number of logits.
func (rep *Report) Classes() int {
	if n := len(rep.Rows); n > 0 {
		return rep.Rows[n-1].Out.C
	}
	return 0
}

// Accuracy runs m with the runtime on the first n samples of d (all when n
// <= 0 or n > d.Len()) and returns the fraction classified correctly.
func Accuracy(m *model.Model, d data.Dataset, n int, opts ...runtime.Option) (float64, error) {
	if d.Shape() != m.Input.Shape || d.Steps() != 1 {
		return 0, fmt.Errorf("data set samples are %d×%v, the model takes %v images", d.Steps(), d.Shape(), m.Input.Shape)
	}
	if n <= 0 || n > d.Len() {
		n = d.Len()
	}
	const batch = 32
	e, err := runtime.New(m, append(opts, runtime.WithBatch(batch))...)
	if err != nil {
		return 0, err
	}
	defer e.Close()
	size := data.SampleSize(d)
	buf := make([]float32, batch*size)
	inputs := make([][]float32, 0, batch)
	labels := make([]int, 0, batch)
	correct := 0
	for i := 0; i < n; i += batch {
		inputs, labels = inputs[:0], labels[:0]
		for j := i; j < n && j < i+batch; j++ {
			x := buf[(j-i)*size : (j-i+1)*size]
			lab, err := d.Get(j, x)
			if err != nil {
				return 0, err
			}
			inputs = append(inputs, x)
			labels = append(labels, lab)
		}
		r, err := e.InferBatch(inputs)
		if err != nil {
			return 0, err
		}
		for j, c := range r.Classes {
			if c == labels[j] {
				correct++
			}
		}
	}
	return float64(correct) / float64(n), nil
}
