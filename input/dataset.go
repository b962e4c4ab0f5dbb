package input

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/model"
)

// datasetSource yields the images of a built-in data set (MNIST or
// Fashion-MNIST, loaded from where the data package finds them), so a model can
// be run and scored without exporting images first. A sample's Name is
// "<class>/<index>", which bsnn-run reads as the true class, the way it reads
// class subfolders of an image folder.
type datasetSource struct {
	d        data.Dataset
	n        int
	next     int
	channels int
	buf      []float32
	sample   Sample
	clock    clock
}

// NewDataset opens spec, "NAME[:train|test][?n=N]" with NAME mnist or
// fashion: the test split unless train is named, the first N samples if n
// is given.
func NewDataset(spec string, opt Options) (Source, error) {
	spec, query, _ := strings.Cut(spec, "?")
	name, split, _ := strings.Cut(spec, ":")
	sp := data.Test
	switch split {
	case "", "test":
	case "train":
		sp = data.Train
	default:
		return nil, fmt.Errorf("dataset:%s: split %q: want train or test", spec, split)
	}
	var (
		d   data.Dataset
		err error
	)
	switch name {
	case "mnist":
		d, err = data.LoadMNIST("", sp)
	case "fashion", "fashion-mnist":
		d, err = data.LoadFashionMNIST("", sp)
	default:
		return nil, fmt.Errorf("dataset:%s: unknown data set %q: want mnist or fashion", spec, name)
	}
	if err != nil {
		return nil, err
	}
	n := d.Len()
	if query != "" {
		k, v, _ := strings.Cut(query, "=")
		c, perr := strconv.Atoi(v)
		if k != "n" || perr != nil || c < 1 {
			return nil, fmt.Errorf("dataset:%s?%s: want ?n=COUNT with COUNT ≥ 1", spec, query)
		}
		n = min(n, c)
	}
	return &datasetSource{d: d, n: n, channels: opt.channels(), clock: newClock(opt.FrameRate)}, nil
}

func (s *datasetSource) Kind() Kind { return Frames }

func (s *datasetSource) Next() (*Sample, error) {
	if s.next >= s.n {
		return nil, io.EOF
	}
	i := s.next
	s.next++
	sh := s.d.Shape()
	if cap(s.buf) < sh.Size() {
		s.buf = make([]float32, sh.Size())
	}
	x := s.buf[:sh.Size()]
	label, err := s.d.Get(i, x)
	if err != nil {
		return nil, err
	}
	f := &s.sample.Frame
	switch {
	case s.channels == sh.C:
		f.Shape = sh
		f.Pix = append(f.Pix[:0], x...)
	case sh.C == 1 && s.channels == 3:
		f.Shape = model.Shape{C: 3, H: sh.H, W: sh.W}
		f.Pix = f.Pix[:0]
		for range 3 {
			f.Pix = append(f.Pix, x...)
		}
	default:
		return nil, fmt.Errorf("data set images have %d channels, cannot give %d", sh.C, s.channels)
	}
	s.sample.Seq, s.sample.Time = i, s.clock.at(i)
	s.sample.Name = fmt.Sprintf("%d/%05d", label, i)
	return &s.sample, nil
}

func (s *datasetSource) Close() error { return nil }
