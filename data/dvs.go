package data

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/bsnn/bsnn/model"
)

// DVSConfig sets the simulated sensor's pixel model.
type DVSConfig struct {
	// OnThreshold and OffThreshold are the log-intensity changes that fire
	// an ON or OFF event (real sensors: about 0.1 to 0.5). 0 means 0.4,
	// which gives MNIST digits about 4400 events over the three saccades,
	// close to N-MNIST's recordings (about 4500).
	OnThreshold, OffThreshold float32
	// LogEps is added to intensities in [0,1] before the log, so black is
	// log(LogEps) and not −∞. 0 means 0.1.
	LogEps float32
}

func (c DVSConfig) withDefaults() DVSConfig {
	if c.OnThreshold == 0 {
		c.OnThreshold = 0.4
	}
	if c.OffThreshold == 0 {
		c.OffThreshold = 0.4
	}
	if c.LogEps == 0 {
		c.LogEps = 0.1
	}
	return c
}

// DVS is a simulated dynamic vision sensor. Each pixel keeps a reference
// log intensity; when a new frame's log intensity differs from it by k
// thresholds, the pixel emits k events of that polarity and moves its
// reference by k thresholds. Event times are interpolated linearly between
// the two frames, as emulators such as ESIM and v2e do. There is no noise
// and no refractory period, so the output is a deterministic function of the
// frames.
type DVS struct {
	cfg   DVSConfig
	w, h  int
	ref   []float32 // per-pixel reference log intensity
	prev  []float32 // previous frame's log intensity
	prevT int64
	ready bool
	logs  []float32 // scratch for Step
}

// NewDVS returns a simulated sensor of w×h pixels.
func NewDVS(w, h int, cfg DVSConfig) (*DVS, error) {
	cfg = cfg.withDefaults()
	if w <= 0 || h <= 0 || w > 65536 || h > 65536 {
		return nil, fmt.Errorf("data: DVS sensor %dx%d; sizes must be in 1..65536", w, h)
	}
	if !(cfg.OnThreshold > 0 && cfg.OffThreshold > 0 && cfg.LogEps > 0) {
		return nil, fmt.Errorf("data: DVS thresholds %v/%v and log epsilon %v must be positive", cfg.OnThreshold, cfg.OffThreshold, cfg.LogEps)
	}
	return &DVS{cfg: cfg, w: w, h: h, ref: make([]float32, w*h), prev: make([]float32, w*h)}, nil
}

// Size returns the sensor's width and height.
func (d *DVS) Size() (w, h int) { return d.w, d.h }

// Reset forgets all state: the next frame only sets the references.
func (d *DVS) Reset() { d.ready = false }

// Log returns the sensor's log intensity for an intensity v in [0,1]. It is
// float32(ln(v + LogEps)), the same bits on every platform for all practical
// purposes (math.Log in float64, then rounded).
func (d *DVS) Log(v float32) float32 { return float32(math.Log(float64(v + d.cfg.LogEps))) }

// Step feeds a frame of intensities in [0,1] (h×w, row-major) seen at time
// t µs and appends the events since the previous frame to ev, in time order
// (ties by row, column, polarity), with times in (previous frame's time,
// t]. The first frame after NewDVS or Reset only sets the references.
func (d *DVS) Step(frame []float32, t int64, ev []Event) ([]Event, error) {
	if len(frame) < d.w*d.h {
		return ev, fmt.Errorf("data: DVS frame has %d values; the sensor has %d×%d", len(frame), d.w, d.h)
	}
	if cap(d.logs) < d.w*d.h {
		d.logs = make([]float32, d.w*d.h)
	}
	logs := d.logs[:d.w*d.h]
	for i, v := range frame[:len(logs)] {
		logs[i] = d.Log(v)
	}
	return d.StepLog(logs, t, ev)
}

// StepLog is Step for a frame already in log intensity (see Log).
func (d *DVS) StepLog(logs []float32, t int64, ev []Event) ([]Event, error) {
	first := len(ev)
	ev, err := d.stepLog(logs, t, ev)
	if err == nil {
		sortEvents(ev[first:])
	}
	return ev, err
}

// stepTime returns the offset of a crossing at fraction f of a span µs long,
// at least 1 µs so a step's events fall in (previous frame, this frame].
func stepTime(f, span float64) int64 {
	dt := int64(math.Round(f * span))
	if dt < 1 && span >= 1 {
		dt = 1
	}
	return dt
}

// sortEvents orders events by time, then row, column and polarity.
func sortEvents(ev []Event) {
	slices.SortFunc(ev, func(a, b Event) int {
		if a.T != b.T {
			return cmp.Compare(a.T, b.T)
		}
		ka := uint32(a.Y)<<17 | uint32(a.X)<<1 | uint32(a.P)
		kb := uint32(b.Y)<<17 | uint32(b.X)<<1 | uint32(b.P)
		return cmp.Compare(ka, kb)
	})
}

// stepLog is StepLog without the final sort: events come out pixel by
// pixel, which is all binning needs.
func (d *DVS) stepLog(logs []float32, t int64, ev []Event) ([]Event, error) {
	n := d.w * d.h
	if len(logs) < n {
		return ev, fmt.Errorf("data: DVS frame has %d values; the sensor has %d×%d", len(logs), d.w, d.h)
	}
	if !d.ready {
		copy(d.ref, logs[:n])
		copy(d.prev, logs[:n])
		d.prevT, d.ready = t, true
		return ev, nil
	}
	if t < d.prevT {
		return ev, fmt.Errorf("data: DVS frame at %d µs is earlier than the previous one at %d µs", t, d.prevT)
	}
	on, off := d.cfg.OnThreshold, d.cfg.OffThreshold
	t0, span := d.prevT, float64(t-d.prevT)
	for i, l := range logs[:n] {
		ref := d.ref[i]
		if l-ref < on && ref-l < off {
			d.prev[i] = l
			continue
		}
		// Crossing times: the log intensity moves linearly from p0 at t0
		// to l at t; level ref±k·threshold is reached at fraction
		// (level−p0)/(l−p0) of the interval.
		p0 := d.prev[i]
		inv := 0.0
		if l != p0 {
			inv = 1 / float64(l-p0)
		}
		x, y := uint16(i%d.w), uint16(i/d.w)
		for l-ref >= on {
			ref += on
			f := 1.0
			if inv != 0 {
				f = min(max(float64(ref-p0)*inv, 0), 1)
			}
			ev = append(ev, Event{T: t0 + stepTime(f, span), X: x, Y: y, P: 1})
		}
		for ref-l >= off {
			ref -= off
			f := 1.0
			if inv != 0 {
				f = min(max(float64(ref-p0)*inv, 0), 1)
			}
			ev = append(ev, Event{T: t0 + stepTime(f, span), X: x, Y: y, P: 0})
		}
		d.ref[i], d.prev[i] = ref, l
	}
	d.prevT = t
	return ev, nil
}

// SaccadeConfig sets how a static image becomes N-MNIST-style events.
type SaccadeConfig struct {
	// Shift is the largest displacement in pixels; the sensor is the image
	// plus Shift pixels in each dimension (N-MNIST: 28 + 6 = 34). 0 means 6;
	// a negative value means no motion at all.
	Shift float32
	// SaccadeUs is the duration of each of the three saccades (0: 100 ms).
	SaccadeUs int64
	// FrameUs is the rendering period (0: 2 ms, 1/50 of a saccade, so the
	// image moves about 0.13 pixel per frame).
	FrameUs int64
	DVS     DVSConfig
}

func (c SaccadeConfig) withDefaults() SaccadeConfig {
	if c.Shift == 0 {
		c.Shift = 6
	}
	if c.Shift < 0 {
		c.Shift = 0
	}
	if c.SaccadeUs == 0 {
		c.SaccadeUs = 100_000
	}
	if c.FrameUs == 0 {
		c.FrameUs = 2000
	}
	c.DVS = c.DVS.withDefaults()
	return c
}

// Saccades turns static images into the events a DVS sees while it makes
// the three saccades of N-MNIST (Orchard et al., 2015): the image moves along
// a triangle, from bottom-left to top-centre to bottom-right and back, each
// edge taking SaccadeUs, on a sensor Shift pixels larger than the image. The
// image is rendered every FrameUs at sub-pixel positions by bilinear
// interpolation of its log intensity (outside is black), and fed to a DVS
// that starts from the image at rest. A Saccades value is safe for
// concurrent use.
type Saccades struct {
	cfg        SaccadeConfig
	w, h       int // image size
	sw, sh     int // sensor size
	pad        int // border added around the image for the integer shifts
	pool       sync.Pool
	vertices   [3][2]float32
	frameCount int
}

type saccadeScratch struct {
	dvs    *DVS
	padded []float32 // log image with a black border of pad pixels
	frame  []float32
}

// NewSaccades returns an emulator for w×h gray images.
func NewSaccades(w, h int, cfg SaccadeConfig) (*Saccades, error) {
	cfg = cfg.withDefaults()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("data: saccades over a %dx%d image", w, h)
	}
	if cfg.SaccadeUs < 0 || cfg.FrameUs <= 0 || cfg.FrameUs > cfg.SaccadeUs && cfg.SaccadeUs > 0 {
		return nil, fmt.Errorf("data: saccade of %d µs rendered every %d µs", cfg.SaccadeUs, cfg.FrameUs)
	}
	s := float32(cfg.Shift)
	ext := int(math.Ceil(float64(s)))
	sc := &Saccades{
		cfg: cfg, w: w, h: h, sw: w + ext, sh: h + ext, pad: ext + 1,
		vertices:   [3][2]float32{{0, s}, {s / 2, 0}, {s, s}},
		frameCount: int(3 * cfg.SaccadeUs / cfg.FrameUs),
	}
	if _, err := NewDVS(sc.sw, sc.sh, cfg.DVS); err != nil {
		return nil, err
	}
	return sc, nil
}

// SensorSize returns the sensor's width and height.
func (s *Saccades) SensorSize() (w, h int) { return s.sw, s.sh }

// Duration returns the length of the recording in µs (three saccades).
func (s *Saccades) Duration() int64 { return 3 * s.cfg.SaccadeUs }

// position returns the image offset at time t µs.
func (s *Saccades) position(t int64) (float32, float32) {
	if s.cfg.SaccadeUs == 0 {
		return s.vertices[0][0], s.vertices[0][1]
	}
	k := min(int(t/s.cfg.SaccadeUs), 2)
	f := float32(float64(t-int64(k)*s.cfg.SaccadeUs) / float64(s.cfg.SaccadeUs))
	a, b := s.vertices[k], s.vertices[(k+1)%3]
	return a[0] + float32(f*(b[0]-a[0])), a[1] + float32(f*(b[1]-a[1]))
}

// Events appends to ev the events for one image (h×w intensities in [0,1]),
// in time order, with times in (0, Duration()].
func (s *Saccades) Events(img []float32, ev []Event) ([]Event, error) {
	first := len(ev)
	ev, err := s.events(img, ev)
	if err == nil {
		sortEvents(ev[first:])
	}
	return ev, err
}

// events is Events in no particular order.
func (s *Saccades) events(img []float32, ev []Event) ([]Event, error) {
	if len(img) < s.w*s.h {
		return ev, fmt.Errorf("data: saccades: image has %d values, want %d×%d", len(img), s.w, s.h)
	}
	scr, _ := s.pool.Get().(*saccadeScratch)
	if scr == nil {
		dvs, err := NewDVS(s.sw, s.sh, s.cfg.DVS)
		if err != nil {
			return ev, err
		}
		pw, ph := s.w+2*s.pad, s.h+2*s.pad
		scr = &saccadeScratch{dvs: dvs, padded: make([]float32, pw*ph), frame: make([]float32, s.sw*s.sh)}
	}
	defer s.pool.Put(scr)
	dvs := scr.dvs
	dvs.Reset()
	pw := s.w + 2*s.pad
	black := dvs.Log(0)
	for i := range scr.padded {
		scr.padded[i] = black
	}
	for y := range s.h {
		row := scr.padded[(y+s.pad)*pw+s.pad:]
		for x, v := range img[y*s.w : (y+1)*s.w] {
			row[x] = dvs.Log(v)
		}
	}
	for f := 0; f <= s.frameCount; f++ {
		t := int64(f) * s.cfg.FrameUs
		if f == s.frameCount {
			t = s.Duration()
		}
		s.render(scr, t)
		var err error
		if ev, err = dvs.stepLog(scr.frame, t, ev); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// render draws the sensor's log-intensity frame at time t: sensor pixel
// (x, y) sees image point (x−ox, y−oy). The offset is the same for every
// pixel, so the four bilinear weights are too.
func (s *Saccades) render(scr *saccadeScratch, t int64) {
	ox, oy := s.position(t)
	ix, iy := int(math.Floor(float64(ox))), int(math.Floor(float64(oy)))
	fx, fy := ox-float32(ix), oy-float32(iy)
	// Image point x−ox = (x−ix−1) + (1−fx): interpolate between columns
	// x−ix−1 (weight fx) and x−ix (weight 1−fx); rows likewise.
	w00 := float32(fx * fy)
	w01 := float32((1 - fx) * fy)
	w10 := float32(fx * (1 - fy))
	w11 := float32((1 - fx) * (1 - fy))
	pw := s.w + 2*s.pad
	for y := range s.sh {
		r0 := scr.padded[(y-iy-1+s.pad)*pw:]
		r1 := scr.padded[(y-iy+s.pad)*pw:]
		out := scr.frame[y*s.sw : (y+1)*s.sw]
		for x := range out {
			c := x - ix + s.pad
			out[x] = float32(w00*r0[c-1]) + float32(w01*r0[c]) + float32(w10*r1[c-1]) + float32(w11*r1[c])
		}
	}
}

// SaccadeSet is an event data set made from a gray image data set by the
// saccade emulator: sample i is the events of image i binned into T frames
// of 2×(H+Shift)×(W+Shift) over the three saccades. Like N-MNIST, made
// from MNIST.
type SaccadeSet struct {
	base Dataset
	sac  *Saccades
	bin  Binning
	pool sync.Pool
}

type saccadeItem struct {
	img []float32
	ev  []Event
}

// NewSaccadeSet returns the event version of base (one step, one channel),
// binned into T frames with the given mode.
func NewSaccadeSet(base Dataset, T int, mode BinMode, cfg SaccadeConfig) (*SaccadeSet, error) {
	s := base.Shape()
	if s.C != 1 || base.Steps() != 1 {
		return nil, fmt.Errorf("data: saccade events need a gray image data set; got %d channels × %d steps", s.C, base.Steps())
	}
	if T <= 0 {
		return nil, fmt.Errorf("data: saccade set with T = %d", T)
	}
	sac, err := NewSaccades(s.W, s.H, cfg)
	if err != nil {
		return nil, err
	}
	sw, sh := sac.SensorSize()
	return &SaccadeSet{
		base: base, sac: sac,
		bin: Binning{T: T, W: sw, H: sh, Mode: mode, Start: 0, Duration: sac.Duration() + 1},
	}, nil
}

// Len returns the number of samples.
func (d *SaccadeSet) Len() int { return d.base.Len() }

// Shape returns 2 × sensor height × sensor width.
func (d *SaccadeSet) Shape() model.Shape { return model.Shape{C: 2, H: d.bin.H, W: d.bin.W} }

// Steps returns T.
func (d *SaccadeSet) Steps() int { return d.bin.T }

// Classes returns the base set's classes.
func (d *SaccadeSet) Classes() []string { return d.base.Classes() }

// Label returns sample i's label.
func (d *SaccadeSet) Label(i int) int { return d.base.Label(i) }

// Saccades returns the emulator.
func (d *SaccadeSet) Saccades() *Saccades { return d.sac }

// Events returns the events of sample i and its label.
func (d *SaccadeSet) Events(i int) ([]Event, int, error) {
	img := make([]float32, d.base.Shape().Size())
	l, err := d.base.Get(i, img)
	if err != nil {
		return nil, 0, err
	}
	ev, err := d.sac.Events(img, nil)
	return ev, l, err
}

// Get writes sample i's T binned frames into dst.
func (d *SaccadeSet) Get(i int, dst []float32) (int, error) {
	it, _ := d.pool.Get().(*saccadeItem)
	if it == nil {
		it = &saccadeItem{img: make([]float32, d.base.Shape().Size())}
	}
	defer d.pool.Put(it)
	l, err := d.base.Get(i, it.img)
	if err != nil {
		return 0, err
	}
	if it.ev, err = d.sac.events(it.img, it.ev[:0]); err != nil {
		return 0, err
	}
	_, err = d.bin.Bin(dst, it.ev)
	return l, err
}
