// Package plot draws the line charts bsnn-train writes next to its metrics
// (accuracy, loss, flip rate and firing rate against the epoch) as PNG
// files, with gonum.org/v1/plot.
//
// A chart is plain data (Chart, Series), so callers build it from whatever
// they record and tests can check what is drawn without decoding pixels.
// Save writes through a temporary file and a rename, so a viewer that
// re-reads the file while training runs never sees half an image.
package plot

import (
	"bytes"
	"fmt"
	"io"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/bsnn/bsnn/internal/atomicfile"
)

// Series is one line: points (X[i], Y[i]). Points with a NaN or infinite
// coordinate are left out (a metric that was not measured that epoch).
type Series struct {
	Name string
	X, Y []float64
}

// Chart is a titled line chart.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	// Width and Height are the image size in pixels (0: 800×500).
	Width, Height int
}

// Size of a chart when Width and Height are 0, in pixels.
const (
	DefaultWidth  = 800
	DefaultHeight = 500
)

// dpi is the resolution the vector lengths are rendered at (gonum's PNG
// canvas default), used to turn pixel sizes into lengths.
const dpi = 96

// points returns the finite points of s.
func (s Series) points() (plotter.XYs, error) {
	if len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("plot: series %q has %d x values and %d y values", s.Name, len(s.X), len(s.Y))
	}
	var xy plotter.XYs
	for i := range s.X {
		x, y := s.X[i], s.Y[i]
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		xy = append(xy, plotter.XY{X: x, Y: y})
	}
	return xy, nil
}

// build makes the gonum plot.
func (c Chart) build() (*gplot.Plot, error) {
	p := gplot.New()
	p.Title.Text = c.Title
	p.Title.TextStyle.Font.Size = vg.Points(15)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for i, s := range c.Series {
		xy, err := s.points()
		if err != nil {
			return nil, err
		}
		if len(xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("plot: series %q: %w", s.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i / 7)
		l.Width = vg.Points(1.5)
		pts.Color = plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		pts.Radius = vg.Points(2.5)
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
		for _, q := range xy {
			xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
			ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
		}
	}
	if xmin > xmax {
		// Nothing to draw: an empty frame with a unit range rather than an
		// error, so a chart of a metric not measured yet still renders.
		xmin, xmax, ymin, ymax = 0, 1, 0, 1
	}
	p.X.Min, p.X.Max = pad(xmin, xmax)
	p.Y.Min, p.Y.Max = pad(ymin, ymax)
	return p, nil
}

// pad widens a range by 5 % on each side, and a single value to a range
// around it, so points are not drawn on the frame.
func pad(lo, hi float64) (float64, float64) {
	if lo == hi {
		d := math.Abs(lo) * 0.1
		if d == 0 {
			d = 1
		}
		return lo - d, hi + d
	}
	d := (hi - lo) * 0.05
	return lo - d, hi + d
}

func (c Chart) size() (vg.Length, vg.Length, error) {
	w, h := c.Width, c.Height
	if w == 0 && h == 0 {
		w, h = DefaultWidth, DefaultHeight
	}
	if w < 100 || h < 100 || w > 10000 || h > 10000 {
		return 0, 0, fmt.Errorf("plot: size %d×%d pixels, want 100..10000 each", w, h)
	}
	return vg.Length(w) * vg.Inch / dpi, vg.Length(h) * vg.Inch / dpi, nil
}

// WritePNG renders the chart as a PNG image to w.
func (c Chart) WritePNG(w io.Writer) error {
	p, err := c.build()
	if err != nil {
		return err
	}
	width, height, err := c.size()
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(width, height, "png")
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	_, err = wt.WriteTo(w)
	return err
}

// Save writes the chart as a PNG file, atomically: a temporary file in the
// same directory, synced and renamed over path.
func (c Chart) Save(path string) error {
	var buf bytes.Buffer
	if err := c.WritePNG(&buf); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o600)
}
