package input

import (
	"fmt"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/model"
)

// Preprocessor turns frames and event batches into the floats a model's
// input spec asks for: for frame models (EncodingDirect, EncodingRate) C×H×W
// values in [0,1], the frame centre-cropped to the model's aspect, resized
// with data.Resizer's bilinear filter and converted to gray or RGB; for
// event models (EncodingEvents) T×C×H×W binned event frames, the sensor
// centre-cropped and scaled to the model's grid the same way. Mean/Std
// normalization is left to the runtime. A Preprocessor reuses its buffers
// and is not safe for concurrent use.
type Preprocessor struct {
	spec   model.InputSpec
	mode   data.BinMode
	rs     *data.Resizer
	rsKey  [2]int // source w, h the resizer was built for
	gray   []float32
	box    *boxResizer
	luma8  []uint8 // the resized luma plane
	mapped []data.Event
	bins   []float32
}

// NewPreprocessor returns a preprocessor for spec; mode says how event
// models get their frames (data.BinBinary: 1 where a pixel fired in a bin,
// the N-MNIST convention for spiking input; data.BinCount: event counts).
func NewPreprocessor(spec model.InputSpec, mode data.BinMode) (*Preprocessor, error) {
	s := spec.Shape
	if s.H <= 0 || s.W <= 0 {
		return nil, fmt.Errorf("input: model input shape %v", s)
	}
	switch spec.Encoding {
	case model.EncodingDirect, model.EncodingRate:
		if s.C != 1 && s.C != 3 {
			return nil, fmt.Errorf("input: model takes %d-channel frames; input readers give gray (1) or RGB (3)", s.C)
		}
	case model.EncodingEvents:
		if s.C != 1 && s.C != 2 {
			return nil, fmt.Errorf("input: event model takes %d channels; expected 2 (OFF, ON) or 1 (both polarities)", s.C)
		}
		if spec.Timesteps <= 0 {
			return nil, fmt.Errorf("input: event model with T = %d", spec.Timesteps)
		}
	default:
		return nil, fmt.Errorf("input: unknown encoding %v", spec.Encoding)
	}
	return &Preprocessor{spec: spec, mode: mode}, nil
}

// Len returns the floats one converted sample holds (the runtime's
// Engine.InputLen): C·H·W, or T·C·H·W for event models.
func (p *Preprocessor) Len() int {
	n := p.spec.Shape.Size()
	if p.spec.Encoding == model.EncodingEvents {
		n *= p.spec.Timesteps
	}
	return n
}

// Convert writes the model input for sample s, which a source of the given
// kind yielded, into dst (len ≥ Len()).
// A frame sample that carries a Luma plane (sources in luma mode) goes
// through Luma, any other through Frame.
func (p *Preprocessor) Convert(dst []float32, kind Kind, s *Sample) error {
	if kind == Events {
		return p.Events(dst, &s.Events)
	}
	if s.Luma.Pix != nil {
		return p.Luma(dst, &s.Luma)
	}
	return p.Frame(dst, &s.Frame)
}

// Luma converts an 8-bit luma plane for a gray (C = 1) frame model: the
// plane is centre-cropped to the model's aspect (as Frame crops), resized
// to the model's H×W by area averaging (a box filter: every output pixel
// is the exact mean of the source area it covers, computed in integers and
// rounded half up to 8 bits; a plane already of the model's size is taken
// as is), and mapped to [0,1] by the plane's luma range. Spans and weights
// are computed once per plane geometry; a stream of frames converts
// without allocating. The area filter is not Frame's bilinear one, so the
// two paths agree exactly only when no resizing happens.
func (p *Preprocessor) Luma(dst []float32, l *Luma) error {
	if p.spec.Encoding == model.EncodingEvents {
		return fmt.Errorf("input: the model takes events (encoding %v); put a simulated DVS in front of the frames with -input dvs:SOURCE", p.spec.Encoding)
	}
	out := p.spec.Shape
	if out.C != 1 {
		return fmt.Errorf("input: a luma plane is gray; the model takes %d-channel frames", out.C)
	}
	if len(dst) < p.Len() {
		return fmt.Errorf("input: dst holds %d values, the model input needs %d", len(dst), p.Len())
	}
	if err := l.check(); err != nil {
		return err
	}
	if p.box == nil || p.box.key != [4]int{l.W, l.H, l.Stride, l.Step} {
		p.box = newBoxResizer(l, out.W, out.H)
		p.luma8 = grow(p.luma8, out.W*out.H)
	}
	p.box.resize(p.luma8, l)
	t := &tablesFor(l.Limited).y
	dst = dst[:len(p.luma8)]
	for i, v := range p.luma8 {
		dst[i] = t[v]
	}
	return nil
}

// Frame converts one frame for a frame model.
func (p *Preprocessor) Frame(dst []float32, f *Frame) error {
	if p.spec.Encoding == model.EncodingEvents {
		return fmt.Errorf("input: the model takes events (encoding %v); put a simulated DVS in front of the frames with -input dvs:SOURCE", p.spec.Encoding)
	}
	if len(dst) < p.Len() {
		return fmt.Errorf("input: dst holds %d values, the model input needs %d", len(dst), p.Len())
	}
	c, h, w := f.Shape.C, f.Shape.H, f.Shape.W
	if (c != 1 && c != 3) || h <= 0 || w <= 0 || len(f.Pix) < f.Shape.Size() {
		return fmt.Errorf("input: frame %v with %d values", f.Shape, len(f.Pix))
	}
	out := p.spec.Shape
	if p.rs == nil || p.rsKey != [2]int{w, h} {
		x0, y0, cw, ch := data.CenterCrop(w, h, out.W, out.H)
		rs, err := data.NewResizer(w, h, x0, y0, cw, ch, out.W, out.H)
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		p.rs, p.rsKey = rs, [2]int{w, h}
	}
	src, planes := f.Pix, c
	if c == 3 && out.C == 1 {
		// Convert at the source size, then resize one plane.
		p.gray = grow(p.gray, h*w)
		r, g, b := f.Pix[:h*w], f.Pix[h*w:2*h*w], f.Pix[2*h*w:3*h*w]
		for i := range p.gray {
			p.gray[i] = luma(r[i], g[i], b[i])
		}
		src, planes = p.gray, 1
	}
	if err := p.rs.Resize(dst, src, planes); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	if planes == 1 && out.C == 3 {
		n := out.H * out.W
		copy(dst[n:2*n], dst[:n])
		copy(dst[2*n:3*n], dst[:n])
	}
	return nil
}

// Events bins one event batch for an event model: the batch's window
// [Start, End) is cut into T equal bins.
func (p *Preprocessor) Events(dst []float32, b *EventBatch) error {
	if p.spec.Encoding != model.EncodingEvents {
		return fmt.Errorf("input: the model takes frames (encoding %v), not events", p.spec.Encoding)
	}
	if len(dst) < p.Len() {
		return fmt.Errorf("input: dst holds %d values, the model input needs %d", len(dst), p.Len())
	}
	if b.Width <= 0 || b.Height <= 0 {
		return fmt.Errorf("input: event batch on a %dx%d sensor", b.Width, b.Height)
	}
	out := p.spec.Shape
	x0, y0, cw, ch := data.CenterCrop(b.Width, b.Height, out.W, out.H)
	p.mapped = p.mapped[:0]
	for _, e := range b.Events {
		x, y := int(e.X)-x0, int(e.Y)-y0
		if x < 0 || y < 0 || x >= cw || y >= ch {
			continue
		}
		e.X, e.Y = uint16(x*out.W/cw), uint16(y*out.H/ch)
		p.mapped = append(p.mapped, e)
	}
	bin := data.Binning{T: p.spec.Timesteps, W: out.W, H: out.H, Mode: p.mode, Start: b.Start, Duration: b.End - b.Start}
	if bin.Duration <= 0 {
		bin.Start, bin.Duration = 0, 0 // the events' own span
	}
	if out.C == 2 {
		_, err := bin.Bin(dst, p.mapped)
		return err
	}
	// One channel: merge the polarities.
	p.bins = grow(p.bins, bin.Size())
	if _, err := bin.Bin(p.bins, p.mapped); err != nil {
		return err
	}
	n := out.H * out.W
	for t := range bin.T {
		off, on := p.bins[2*t*n:(2*t+1)*n], p.bins[(2*t+1)*n:(2*t+2)*n]
		d := dst[t*n : (t+1)*n]
		for i := range d {
			if p.mode == data.BinCount {
				d[i] = off[i] + on[i]
			} else {
				d[i] = max(off[i], on[i])
			}
		}
	}
	return nil
}
