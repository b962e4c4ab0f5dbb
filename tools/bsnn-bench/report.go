package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/bsnn/bsnn/internal/atomicfile"
	"github.com/bsnn/bsnn/tools/internal/cli"
	"github.com/bsnn/bsnn/tools/internal/plot"
)

func init() {
	register("report", "write bench/REPORT.md and its charts from kernels -json and compare -json outputs", runReport)
}

// Chart files the report links to.
const (
	chartSpeedup = "speedup.png"
	chartKernels = "kernels.png"
)

func latencyChartName(model string) string {
	return "latency-" + strings.TrimPrefix(model, "arch:") + ".png"
}

func runReport(args []string) error {
	var kernelsFile, compareFiles, out, title string
	fs := flag.NewFlagSet("bsnn-bench report", flag.ContinueOnError)
	fs.StringVar(&kernelsFile, "kernels", "", "JSON output of bsnn-bench kernels -json")
	fs.StringVar(&compareFiles, "compare", "", "comma-separated JSON outputs of bsnn-bench compare -json")
	fs.StringVar(&out, "out", "bench", "directory for REPORT.md and the PNG charts")
	fs.StringVar(&title, "title", "bsnn against PyTorch", "report title")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bsnn-bench report -kernels K.json -compare A.json,B.json [-out DIR]\n\n"+
			"Writes DIR/REPORT.md (machine, versions, commands, tables) with charts: per-sample\n"+
			"latency against threads for each net, the speed-up over PyTorch per net and\n"+
			"configuration, and kernel throughput against the popcount peak.\n\n")
		fs.PrintDefaults()
	}
	if help, err := cli.ParseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var kr *KernelsReport
	if kernelsFile != "" {
		kr = new(KernelsReport)
		if err := readJSON(kernelsFile, kr); err != nil {
			return err
		}
	}
	var crs []*CompareReport
	for _, f := range strings.Split(compareFiles, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r := new(CompareReport)
		if err := readJSON(f, r); err != nil {
			return err
		}
		crs = append(crs, r)
	}
	if kr == nil && len(crs) == 0 {
		return errors.New("nothing to report: give -kernels and/or -compare")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	charts, err := writeCharts(out, kr, crs)
	if err != nil {
		return err
	}
	var md bytes.Buffer
	writeReportMD(&md, title, time.Now().UTC(), kr, crs, charts)
	path := filepath.Join(out, "REPORT.md")
	if err := atomicfile.WriteFile(path, md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %d charts\n", path, len(charts))
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// latencyChart plots per-sample p50 latency against threads, one line per
// implementation and batch size.
func latencyChart(r *CompareReport) plot.Chart {
	c := plot.Chart{Title: fmt.Sprintf("%s, T = %d: per-sample latency (p50)", strings.TrimPrefix(r.Model, "arch:"), r.Timesteps),
		XLabel: "threads", YLabel: "ms per sample (log)", Width: 640, Height: 400}
	batches := map[int]bool{}
	for _, res := range r.Results {
		batches[res.Batch] = true
	}
	var bs []int
	for b := range batches {
		bs = append(bs, b)
	}
	sort.Ints(bs)
	for _, side := range []string{"bsnn", "PyTorch"} {
		for _, b := range bs {
			s := plot.Series{Name: fmt.Sprintf("%s, batch %d", side, b)}
			for _, res := range r.Results {
				if res.Batch != b {
					continue
				}
				p := &res.BSNN
				if side == "PyTorch" {
					if p = res.Torch; p == nil {
						continue
					}
				}
				s.X = append(s.X, float64(res.Threads))
				s.Y = append(s.Y, p.P50ms)
			}
			if len(s.X) > 0 {
				c.Series = append(c.Series, s)
			}
		}
	}
	return c
}

// latencyPNG draws c with a log latency axis (bsnn and PyTorch differ by
// up to two orders of magnitude), ticks at the measured thread counts and
// room on the right for the legend.
func latencyPNG(c plot.Chart) ([]byte, error) {
	p := gplot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Y.Scale = gplot.LogScale{}
	var ticks []gplot.Tick
	seen := map[float64]bool{}
	xmax := 1.0
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for k, s := range c.Series {
		xy := make(plotter.XYs, len(s.X))
		for i := range s.X {
			xy[i] = plotter.XY{X: s.X[i], Y: s.Y[i]}
			if !seen[s.X[i]] {
				seen[s.X[i]] = true
				ticks = append(ticks, gplot.Tick{Value: s.X[i], Label: fmt.Sprint(s.X[i])})
			}
			xmax = max(xmax, s.X[i])
			if s.Y[i] > 0 {
				ylo, yhi = min(ylo, s.Y[i]), max(yhi, s.Y[i])
			}
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("series %q: %w", s.Name, err)
		}
		l.Color, pts.Color = plotutil.Color(k), plotutil.Color(k)
		pts.Shape = plotutil.Shape(k)
		if strings.HasPrefix(s.Name, "PyTorch") {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
	}
	p.X.Tick.Marker = gplot.ConstantTicks(ticks)
	if ylo <= yhi {
		// Whole decades, labelled at 1, 2 and 5 of each.
		p.Y.Min, p.Y.Max = math.Pow(10, math.Floor(math.Log10(ylo))), math.Pow(10, math.Ceil(math.Log10(yhi)))
		if p.Y.Min == p.Y.Max {
			p.Y.Max *= 10
		}
		var yt []gplot.Tick
		for d := p.Y.Min; d < p.Y.Max*1.01; d *= 10 {
			for _, f := range []float64{1, 2, 5} {
				if v := d * f; v <= p.Y.Max*1.01 {
					yt = append(yt, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
				}
			}
		}
		p.Y.Tick.Marker = gplot.ConstantTicks(yt)
	}
	p.X.Min, p.X.Max = 0.75, xmax+0.5*(xmax-0.75)+0.5
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	wt, err := p.WriterTo(vg.Length(c.Width)*vg.Inch/96, vg.Length(c.Height)*vg.Inch/96, "png")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = wt.WriteTo(&buf)
	return buf.Bytes(), err
}

// barGroup is one bar series: a value per category.
type barGroup struct {
	name   string
	values []float64
}

// barChart draws grouped bars (one group per category, one bar per
// series), with an optional horizontal reference line.
func barChart(title, ylabel string, cats []string, groups []barGroup, refName string, ref float64) ([]byte, error) {
	p := gplot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	w := vg.Points(min(24, 240/float64(max(1, len(groups)*len(cats)))+4))
	for k, g := range groups {
		b, err := plotter.NewBarChart(plotter.Values(g.values), w)
		if err != nil {
			return nil, fmt.Errorf("bars %q: %w", g.name, err)
		}
		b.LineStyle.Width = 0
		b.Color = plotutil.Color(k)
		b.Offset = vg.Length(float64(k)-float64(len(groups)-1)/2) * w
		p.Add(b)
		p.Legend.Add(g.name, b)
	}
	if ref > 0 {
		l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: ref}, {X: float64(len(cats)) - 0.5, Y: ref}})
		if err != nil {
			return nil, err
		}
		l.Color = color.Gray{Y: 80}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(refName, l)
	}
	// Head room for the legend above the tallest bar and the reference.
	top := ref
	for _, g := range groups {
		for _, v := range g.values {
			top = max(top, v)
		}
	}
	p.Y.Max = 1.4 * top
	p.Legend.Top = true
	p.NominalX(cats...)
	p.Add(plotter.NewGrid())
	wt, err := p.WriterTo(vg.Length(720)*vg.Inch/96, vg.Length(420)*vg.Inch/96, "png")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = wt.WriteTo(&buf)
	return buf.Bytes(), err
}

// speedupBars: one category per net, one bar per (threads, batch).
func speedupBars(crs []*CompareReport) ([]string, []barGroup) {
	var cats []string
	idx := map[string]int{}
	var groups []barGroup
	for i, r := range crs {
		cats = append(cats, fmt.Sprintf("%s T=%d", strings.TrimPrefix(r.Model, "arch:"), r.Timesteps))
		for _, res := range r.Results {
			if res.Torch == nil {
				continue
			}
			key := fmt.Sprintf("%d thread(s), batch %d", res.Threads, res.Batch)
			k, ok := idx[key]
			if !ok {
				k = len(groups)
				idx[key] = k
				groups = append(groups, barGroup{name: key, values: make([]float64, len(crs))})
			}
			groups[k].values[i] = res.Speedup
		}
	}
	return cats, groups
}

// kernelBars: one category per shape, one bar per kernel set (median
// G/s); the CPU's popcount peak as the reference line.
func kernelBars(kr *KernelsReport) ([]string, []barGroup) {
	var cats []string
	pos := map[string]int{}
	for _, s := range kr.Sets {
		for _, r := range s.Results {
			if _, ok := pos[r.Shape]; !ok {
				pos[r.Shape] = len(cats)
				// Two-line labels: the input (e.g. sparse10) over the shape.
				cats = append(cats, strings.Replace(r.Shape, "10-", "10\n", 1))
			}
		}
	}
	var groups []barGroup
	for _, s := range kr.Sets {
		g := barGroup{name: s.Name, values: make([]float64, len(cats))}
		for _, r := range s.Results {
			g.values[pos[r.Shape]] = r.GMACsMedian
		}
		groups = append(groups, g)
	}
	return cats, groups
}

func writeCharts(dir string, kr *KernelsReport, crs []*CompareReport) ([]string, error) {
	var names []string
	for _, r := range crs {
		name := latencyChartName(r.Model)
		png, err := latencyPNG(latencyChart(r))
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	if cats, groups := speedupBars(crs); len(groups) > 0 {
		png, err := barChart("speed-up over PyTorch (PyTorch p50 / bsnn p50)", "×", cats, groups, "parity", 1)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, chartSpeedup), png, 0o644); err != nil {
			return nil, err
		}
		names = append(names, chartSpeedup)
	}
	if kr != nil && len(kr.Sets) > 0 {
		cats, groups := kernelBars(kr)
		png, err := barChart(fmt.Sprintf("binary kernels, %d thread(s): median throughput", kr.Threads), "G binary MACs/s",
			cats, groups, fmt.Sprintf("popcount peak (%s)", kr.CPUPeakSet), kr.CPUPeakGMACs)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, chartKernels), png, 0o644); err != nil {
			return nil, err
		}
		names = append(names, chartKernels)
	}
	return names, nil
}

func hasChart(charts []string, name string) bool {
	for _, c := range charts {
		if c == name {
			return true
		}
	}
	return false
}

func writeReportMD(w io.Writer, title string, now time.Time, kr *KernelsReport, crs []*CompareReport, charts []string) {
	fmt.Fprintf(w, "# %s\n\n", title)
	fmt.Fprintf(w, "Written by `make bench` (`bsnn-bench report`) on %s.\n\n", now.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "## Machine\n\n")
	cpu := cli.CPU()
	if len(crs) > 0 {
		cpu = crs[0].CPU
	} else if kr != nil {
		cpu = kr.CPU
	}
	fmt.Fprintf(w, "- CPU: %s\n", cpu)
	gov := goruntime.Version()
	if len(crs) > 0 {
		gov = crs[0].Go
	}
	fmt.Fprintf(w, "- Go: %s\n", gov)
	for _, r := range crs {
		if r.Torch != "" {
			fmt.Fprintf(w, "- PyTorch: %s (Python %s), fp32, eval mode, `torch.no_grad`", r.Torch, r.Python)
			if r.OMPWait != "" {
				fmt.Fprintf(w, ", `OMP_WAIT_POLICY=%s`", r.OMPWait)
			}
			fmt.Fprintln(w)
			break
		}
		if r.TorchMissing != "" {
			fmt.Fprintf(w, "- PyTorch: not measured (%s)\n", r.TorchMissing)
			break
		}
	}
	fmt.Fprintf(w, "\nThe PyTorch twin is the same graph with the same weights: binary weights as sign × scale in fp32\n"+
		"`nn.Conv2d`/`nn.Linear`, LIF neurons with the same λ, threshold and reset, AGMM gates, Bi-Real\n"+
		"shortcuts, T folded into the batch for the convs and time-invariant layers (the stem on a directly\n"+
		"encoded image) run once. The two run in alternating rounds in one invocation, so machine load hits\n"+
		"both alike; latency is per sample (call time / batch), throughput the median over rounds.\n\n")

	for _, r := range crs {
		name := strings.TrimPrefix(r.Model, "arch:")
		fmt.Fprintf(w, "## %s, T = %d (input %s)\n\n", name, r.Timesteps, r.Input)
		fmt.Fprintf(w, "```\n%s\n```\n\n", r.Command)
		fmt.Fprintf(w, "bsnn kernels %s, execution %s; %d rounds of %.3g s per side and configuration", r.Kernels, r.Execution, r.Rounds, r.DurationS)
		if r.LoadStart > 0 || r.LoadEnd > 0 {
			fmt.Fprintf(w, "; 1-minute load average %.2f at the start, %.2f at the end", r.LoadStart, r.LoadEnd)
		}
		fmt.Fprintf(w, ".\n\n")
		if a := r.Agreement; a != nil {
			fmt.Fprintf(w, "Same net: %d of %d samples give the same class; largest |logit difference| %.3g (largest |logit| %.3g).\n\n",
				a.SameClass, a.Samples, a.MaxAbsDiff, a.MaxAbs)
		}
		fmt.Fprintf(w, "| threads | batch | bsnn p50 ms | bsnn min ms | bsnn samples/s | PyTorch p50 ms | PyTorch min ms | PyTorch samples/s | speed-up p50 | speed-up min | throughput ratio |\n")
		fmt.Fprintf(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range r.Results {
			fmt.Fprintf(w, "| %d | %d | %.3f | %.3f | %.1f |", c.Threads, c.Batch, c.BSNN.P50ms, c.BSNN.Minms, c.BSNN.Throughput)
			if c.Torch != nil {
				fmt.Fprintf(w, " %.3f | %.3f | %.1f | %s | %s | %s |\n", c.Torch.P50ms, c.Torch.Minms, c.Torch.Throughput,
					fmtRatio(c.Speedup), fmtRatio(c.MinSpeedup), fmtRatio(c.ThroughputRatio))
			} else {
				fmt.Fprintf(w, " – | – | – | – | – | – |\n")
			}
		}
		fmt.Fprintln(w)
		for _, m := range r.Memory {
			fmt.Fprintf(w, "- Peak RSS, %d thread(s), batch %d: bsnn %s, PyTorch %s", m.Threads, m.Batch, fmtMB(m.BSNNBytes), fmtMB(m.TorchBytes))
			if m.Ratio > 0 {
				fmt.Fprintf(w, " (bsnn uses %.1f %% of PyTorch's)", 100*m.Ratio)
			}
			fmt.Fprintln(w)
		}
		if e := r.Energy; e != nil {
			fmt.Fprintf(w, "- Synaptic operations per sample (counted from the spikes of %d runs): %.4g accumulates + %.4g MACs;\n"+
				"  45 nm estimate %.4g µJ against %.4g µJ for the same net as a float ANN (%.4g MACs at %.1f pJ): %s less.\n",
				e.Samples, e.ACs, e.MACs, e.SNNuJ, e.ANNuJ, float64(e.ANNMACs), e.PJPerMAC, fmtRatio(e.Ratio))
		}
		if c := latencyChartName(r.Model); hasChart(charts, c) {
			fmt.Fprintf(w, "\n![%s latency against threads](%s)\n", name, c)
		}
		fmt.Fprintln(w)
	}
	if hasChart(charts, chartSpeedup) {
		fmt.Fprintf(w, "## Speed-up per net\n\n![speed-up over PyTorch](%s)\n\n", chartSpeedup)
	}
	if kr != nil {
		fmt.Fprintf(w, "## Binary kernels\n\n`bsnn-bench kernels -json`: %d thread(s), %d interleaved trials; the CPU's popcount peak is %.1f G binary MACs/s (%s).\n\n",
			kr.Threads, kr.Trials, kr.CPUPeakGMACs, kr.CPUPeakSet)
		fmt.Fprintf(w, "| set | shape | median G/s | best G/s | of the set's peak | of the CPU peak |\n|---|---|---:|---:|---:|---:|\n")
		for _, s := range kr.Sets {
			fmt.Fprintf(w, "| %s | peak (AND-popcount loop) | %.1f | %.1f | | |\n", s.Name, s.Peak.GMACsMedian, s.Peak.GMACsBest)
			for _, r := range s.Results {
				fmt.Fprintf(w, "| %s | %s | %.1f | %.1f | %.0f %% | %.0f %% |\n", s.Name, r.Shape, r.GMACsMedian, r.GMACsBest, 100*r.PeakFraction, 100*r.CPUPeakFrac)
			}
		}
		fmt.Fprintf(w, "\nThe events rows count the dense-equivalent MACs of a layer whose input is 90 %% silent, so they can exceed\nthe peak: scattering spikes skips the silent work.\n")
		if hasChart(charts, chartKernels) {
			fmt.Fprintf(w, "\n![kernel throughput against the peak](%s)\n", chartKernels)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "## Energy method\n\nSynaptic operations as SNN papers count them: a conv or linear layer that reads spikes costs one\n"+
		"accumulate per synapse each spike reaches (exactly: out channels × the output positions whose window holds\n"+
		"the spike, padding and stride included), priced at %.1f pJ; a layer reading float values (the stem on the\n"+
		"image, the shortcut 1×1 convs after average pooling, the classifier after global pooling) costs a dense\n"+
		"MAC pass per time step at %.1f pJ (45 nm, Horowitz 2014). The float ANN baseline runs every conv and\n"+
		"linear layer once densely at %.1f pJ per MAC. Neuron updates, gates and memory traffic are not counted.\n"+
		"The stem on a directly encoded image is counted at every time step, as the model defines it; computing it\n"+
		"once (its input does not change) would lower the BSNN figure further.\n",
		pJPerAC, pJPerMAC, pJPerMAC)
}
