package input

import (
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/bsnn/bsnn/data"
)

// eventFileSource yields the events of a file, whole or in windows.
type eventFileSource struct {
	ev       []data.Event
	w, h     int
	window   int64 // µs; 0 = the whole file at once
	start    int64 // next window start
	end      int64 // one past the last event
	next     int   // first event not yet yielded
	seq      int
	sample   Sample
	name     string
	finished bool
}

// NewEventFile yields the events of an N-MNIST file ("nmnist"), a CSV event
// list ("csv") or a numpy array ("npy", see data.ReadEventsNPY): as one batch (opt.EventWindow 0, one N-MNIST sample),
// or in consecutive windows of opt.EventWindow from the first event, empty
// windows included. The sensor is opt.SensorWidth×SensorHeight, else 34×34
// for N-MNIST and the largest coordinates + 1 otherwise.
func NewEventFile(path, format string, opt Options) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ev []data.Event
	w, h := opt.SensorWidth, opt.SensorHeight
	switch format {
	case "nmnist":
		ev, err = data.ReadNMNIST(f)
		if w <= 0 || h <= 0 {
			w, h = 34, 34
		}
	case "csv":
		ev, err = data.ReadEventsCSV(f)
	case "npy":
		ev, err = data.ReadEventsNPY(f)
	default:
		return nil, fmt.Errorf("event file %s: unknown format %q (nmnist, csv or npy)", path, format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return newEventSlice(ev, w, h, opt.EventWindow, path)
}

func newEventSlice(ev []data.Event, w, h int, window time.Duration, name string) (*eventFileSource, error) {
	if len(ev) == 0 {
		return nil, fmt.Errorf("%s: no events", name)
	}
	if w <= 0 || h <= 0 {
		for _, e := range ev {
			w, h = max(w, int(e.X)+1), max(h, int(e.Y)+1)
		}
	}
	// Files are usually in time order, but nothing promises it.
	slices.SortStableFunc(ev, func(a, b data.Event) int { return int(a.T - b.T) })
	s := &eventFileSource{ev: ev, w: w, h: h, window: window.Microseconds(), start: ev[0].T, end: ev[len(ev)-1].T + 1, name: name}
	if window > 0 && s.window == 0 {
		return nil, fmt.Errorf("event window %v is shorter than a microsecond", window)
	}
	return s, nil
}

func (s *eventFileSource) Kind() Kind { return Events }

func (s *eventFileSource) Next() (*Sample, error) {
	if s.finished {
		return nil, io.EOF
	}
	b := &s.sample.Events
	b.Width, b.Height = s.w, s.h
	if s.window == 0 {
		b.Start, b.End, b.Events = s.start, s.end, s.ev
		s.finished = true
	} else {
		if s.start >= s.end {
			s.finished = true
			return nil, io.EOF
		}
		b.Start, b.End = s.start, s.start+s.window
		i := s.next
		for i < len(s.ev) && s.ev[i].T < b.End {
			i++
		}
		b.Events = s.ev[s.next:i:i]
		s.next, s.start = i, b.End
	}
	s.sample.Seq, s.sample.Name = s.seq, s.name
	s.sample.Time = time.Duration(b.Start-s.ev[0].T) * time.Microsecond
	s.seq++
	return &s.sample, nil
}

func (s *eventFileSource) Close() error { return nil }

// dvsSource turns a frame source into events with a simulated DVS.
type dvsSource struct {
	src       Source
	opt       DVSOptions
	dvs       *data.DVS
	rs        *data.Resizer
	rsKey     [3]int // source w, h, channels the resizer was built for
	gray      []float32
	small     []float32
	sample    Sample
	seq       int
	started   bool
	lastT     int64
	nextStart int64
	err       error
}

// NewDVS puts a simulated DVS in front of a frame source: every frame is
// turned to gray, resized to opt.Width×opt.Height (centre crop, bilinear;
// 0 keeps the frame size) and fed to a data.DVS, which emits ON/OFF events
// where the log intensity changed by a threshold since the pixel's last
// event. The first frame only sets the references. Each batch holds the
// events of one frame interval, or of opt.Window if set. Closing the DVS
// source closes src.
func NewDVS(src Source, opt DVSOptions) (Source, error) {
	if src.Kind() != Frames {
		return nil, fmt.Errorf("dvs: the source yields %s, not frames", src.Kind())
	}
	if (opt.Width > 0) != (opt.Height > 0) {
		return nil, fmt.Errorf("dvs: size %dx%d: set both or neither", opt.Width, opt.Height)
	}
	return &dvsSource{src: src, opt: opt}, nil
}

func (s *dvsSource) Kind() Kind { return Events }

// grayFrame returns the frame as one plane at the sensor's size.
func (s *dvsSource) grayFrame(f *Frame) ([]float32, int, int, error) {
	c, h, w := f.Shape.C, f.Shape.H, f.Shape.W
	plane := f.Pix[:h*w]
	if c == 3 {
		s.gray = grow(s.gray, h*w)
		g, b := f.Pix[h*w:2*h*w], f.Pix[2*h*w:3*h*w]
		for i, r := range plane {
			s.gray[i] = luma(r, g[i], b[i])
		}
		plane = s.gray
	}
	if s.opt.Width <= 0 || (s.opt.Width == w && s.opt.Height == h) {
		return plane, w, h, nil
	}
	if key := [3]int{w, h, 1}; s.rs == nil || s.rsKey != key {
		x0, y0, cw, ch := data.CenterCrop(w, h, s.opt.Width, s.opt.Height)
		rs, err := data.NewResizer(w, h, x0, y0, cw, ch, s.opt.Width, s.opt.Height)
		if err != nil {
			return nil, 0, 0, err
		}
		s.rs, s.rsKey = rs, key
	}
	s.small = grow(s.small, s.opt.Width*s.opt.Height)
	if err := s.rs.Resize(s.small, plane, 1); err != nil {
		return nil, 0, 0, err
	}
	return s.small, s.opt.Width, s.opt.Height, nil
}

func (s *dvsSource) Next() (*Sample, error) {
	if s.err != nil {
		return nil, s.err
	}
	b := &s.sample.Events
	b.Events = b.Events[:0]
	b.Start = s.nextStart
	window := s.opt.Window.Microseconds()
	for {
		in, err := s.src.Next()
		if err != nil {
			if err == io.EOF && len(b.Events) > 0 {
				// Yield what the last, short window holds.
				s.err = io.EOF
				return s.finish(s.lastT + 1), nil
			}
			if err == io.EOF {
				s.err = io.EOF
			}
			return nil, err
		}
		if in.Frame.Shape.C != 1 && in.Frame.Shape.C != 3 {
			return nil, fmt.Errorf("dvs: frame with %d channels", in.Frame.Shape.C)
		}
		plane, w, h, err := s.grayFrame(&in.Frame)
		if err != nil {
			return nil, fmt.Errorf("dvs: %w", err)
		}
		if s.dvs == nil {
			if s.dvs, err = data.NewDVS(w, h, s.opt.Config); err != nil {
				return nil, fmt.Errorf("dvs: %w", err)
			}
		}
		if sw, sh := s.dvs.Size(); sw != w || sh != h {
			s.err = fmt.Errorf("dvs: frame size changed from %dx%d to %dx%d", sw, sh, w, h)
			return nil, s.err
		}
		t := in.Time.Microseconds()
		if s.started && t <= s.lastT {
			t = s.lastT + 1 // streams stamped by arrival can repeat a time
		}
		if !s.started {
			// The first frame only sets the references.
			s.started = true
			s.dvs.Step(plane, t, nil)
			b.Start, s.lastT = t+1, t
			continue
		}
		// Events of this step fall in (lastT, t].
		if b.Events, err = s.dvs.Step(plane, t, b.Events); err != nil {
			return nil, fmt.Errorf("dvs: %w", err)
		}
		s.lastT = t
		if window <= 0 || t+1-b.Start >= window {
			return s.finish(t + 1), nil
		}
	}
}

// finish completes the current batch at end (exclusive); the next batch
// starts there.
func (s *dvsSource) finish(end int64) *Sample {
	b := &s.sample.Events
	b.Width, b.Height = s.dvs.Size()
	b.End, s.nextStart = end, end
	s.sample.Seq, s.sample.Time = s.seq, time.Duration(b.Start)*time.Microsecond
	s.seq++
	return &s.sample
}

func (s *dvsSource) Close() error { return s.src.Close() }

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
