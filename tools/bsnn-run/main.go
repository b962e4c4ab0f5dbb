// Command bsnn-run runs a .bsnn model on images, video, a camera, a stream
// on stdin or event files, and prints one prediction per frame or sample:
//
//	bsnn-run -model model.bsnn -input v4l2:/dev/video0
//	rpicam-vid -t 0 --codec mjpeg -o - | bsnn-run -model model.bsnn -input -
//	bsnn-run -model model.bsnn -input ./test-images -format json -stats
//	bsnn-run -model model.bsnn -input dvs:clip.mp4 -stream continuous
//	bsnn-run -model model.bsnn -input v4l2:/dev/video0 -gpio 'GPIO17=class:cat&conf>=0.8'
//	bsnn-run -board
//
// Text output is one line per frame, "seq name class label confidence
// latency_ms", plus the frame's mean firing rate with -stats; lines that are
// not predictions (the header and the summary) start with "#". JSON output
// (-format json) is one object per frame with the logits, and with -stats the
// per-layer firing rates and skipped work, then one {"summary": ...} object.
//
// latency_ms is the time of the model run alone (Engine.Infer or
// Session.Step). The summary splits each frame's time into stages, p50 and
// mean of each (and in JSON the p99): read (waiting for and decoding the
// frame: Source.Next), preprocess (crop, resize, conversion to the model's
// input), infer (latency_ms) and output (the line written, GPIO rules);
// fps is frames over the wall time of the whole loop. The stages are
// measured on the monotonic clock and tile the loop, so their means add up
// to 1/fps. Confidence is the softmax probability of the predicted class
// over the logits. Frame lines are written out at once unless frames come
// less than a millisecond after the last write-out; those wait in the
// buffer for a later frame's line or the summary, so a file streamed at
// full speed costs one write per millisecond, not one per frame.
//
// Gray models read Y4M, ffmpeg and raw streams in luma mode: the 8-bit
// luma plane is area-averaged (a box filter, in integers) straight to the
// model's size, without a float frame at the source size; image files and
// colour models go through the bilinear float path. Untagged colour Y4M
// (what ffmpeg writes for yuv420p) is read as limited range, 16 black and
// 235 white; -range full or limited overrides every stream's range.
//
// Images (a file or a folder) run one independent Infer per image; when the
// folder holds one subfolder per class, named by the model's label or the
// class number, the summary adds the accuracy. Streams (cameras, video,
// stdin, dvs:, event files cut by -window) run through a runtime Session
// whose membrane state is reset every frame (-stream per-frame, the default;
// equal to Infer except that a rate encoder's random sequence runs on) or
// carried over (-stream continuous). SIGINT and SIGTERM
// stop the loop after the current frame; the summary is still printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/boards"
	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/input"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/runtime"
	"github.com/bsnn/bsnn/tools/internal/cli"
)

func main() {
	if err := mainImpl(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bsnn-run: %v\n", err)
		os.Exit(1)
	}
}

// mainImpl runs the command with the process's stdin, stopping cleanly on
// SIGINT or SIGTERM.
func mainImpl(args []string, stdout, stderr io.Writer) error {
	ctx, stop := cli.InterruptContext()
	defer stop()
	return run(ctx, args, os.Stdin, stdout, stderr)
}

// config is the parsed command line.
type config struct {
	common    cli.Flags
	modelPath string
	inputURI  string
	format    string
	stream    string
	execution string
	max       int
	gpio      boards.RuleSpecs
	gpioDry   bool
	board     bool
	stats     bool
	seed      uint64
	bin       string
	window    time.Duration
	sensor    string
	fps       float64
	lumaRange string
}

func parseFlags(args []string, b *boards.Board, stderr io.Writer) (*config, bool, error) {
	c := &config{}
	fs := flag.NewFlagSet("bsnn-run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.common.Register(fs, b.Threads)
	fs.StringVar(&c.modelPath, "model", "", "the .bsnn model file")
	fs.StringVar(&c.inputURI, "input", "", "what to run on (see input sources below)")
	fs.StringVar(&c.format, "format", "text", "output format: text or json (one JSON object per line)")
	fs.StringVar(&c.stream, "stream", "per-frame", "membrane state between the frames of a stream: per-frame (reset every frame) or continuous (carried over)")
	fs.StringVar(&c.execution, "execution", "auto", "binary layers: auto (per layer by input density), dense or sparse")
	fs.IntVar(&c.max, "max", 0, "stop after this many frames or samples; 0 means all")
	fs.Var(&c.gpio, "gpio", "GPIO output rule, repeatable:\n"+boards.RuleSyntax)
	fs.BoolVar(&c.gpioDry, "gpio-dry-run", false, "print the levels -gpio rules would set on stderr instead of driving pins: one line per frame,\n\"gpio SEQ: PIN=LEVEL ...\", where a pin written several times shows every level (a busy pulse is HL)")
	fs.BoolVar(&c.board, "board", false, "print the detected board and the kernel set in use vs expected; exit unless -input is given")
	fs.BoolVar(&c.stats, "stats", false, "report firing rates and skipped work: per frame and per layer")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the rate encoder (rate-encoded models)")
	fs.StringVar(&c.bin, "bin", "binary", "event binning for event models: binary (1 where a pixel fired in a bin) or count")
	fs.DurationVar(&c.window, "window", 0, "cut event files into windows of this length, run as a stream (0: the whole file is one sample)")
	fs.StringVar(&c.sensor, "sensor", "", "event file sensor size WxH (default: 34x34 for N-MNIST, the largest coordinates + 1 for CSV/npy)")
	fs.Float64Var(&c.fps, "fps", 0, "frame rate that stamps MJPEG and raw frames (0: the time they were read)")
	fs.StringVar(&c.lumaRange, "range", "auto", "luma range of Y4M, raw and V4L2 Y'CbCr streams: auto (the stream's tag, else its format's\nconvention: untagged colour Y4M and raw i420/nv12/yuyv are limited range, 16 black and 235 white;\nY4M mono and raw gray full), limited or full (override the stream); JPEG is always full")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: bsnn-run -model FILE.bsnn -input SOURCE [flags]\n       bsnn-run -board\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\n%s\n", input.Usage)
	}
	help, err := cli.ParseFlags(fs, args)
	if help || err != nil {
		return nil, help, err
	}
	if fs.NArg() > 0 {
		return nil, false, fmt.Errorf("unexpected argument %q (the input goes in -input)", fs.Arg(0))
	}
	if err := c.common.Check(); err != nil {
		return nil, false, err
	}
	switch c.format {
	case "text", "json":
	default:
		return nil, false, fmt.Errorf("-format %q: want text or json", c.format)
	}
	if _, err := c.policy(); err != nil {
		return nil, false, err
	}
	if _, err := c.binMode(); err != nil {
		return nil, false, err
	}
	if _, err := runtime.ParseExecution(c.execution); err != nil {
		return nil, false, fmt.Errorf("-execution: %w", err)
	}
	if c.max < 0 {
		return nil, false, fmt.Errorf("-max %d: must be 0 (all) or positive", c.max)
	}
	if c.window < 0 {
		return nil, false, fmt.Errorf("-window %v: must not be negative", c.window)
	}
	if c.fps < 0 {
		return nil, false, fmt.Errorf("-fps %v: must not be negative", c.fps)
	}
	if _, _, err := c.sensorSize(); err != nil {
		return nil, false, err
	}
	if _, err := input.ParseRange(c.lumaRange); err != nil {
		return nil, false, fmt.Errorf("-range: %w", err)
	}
	if c.gpioDry && len(c.gpio) == 0 {
		return nil, false, errors.New("-gpio-dry-run needs -gpio rules")
	}
	if !c.board {
		if c.modelPath == "" {
			return nil, false, errors.New("-model is required (bsnn-run -h lists the flags)")
		}
		if c.inputURI == "" {
			return nil, false, errors.New("-input is required (bsnn-run -h lists the sources)")
		}
	}
	if c.inputURI != "" && c.modelPath == "" {
		return nil, false, errors.New("-input needs -model")
	}
	return c, false, nil
}

func (c *config) policy() (runtime.ResetPolicy, error) {
	switch c.stream {
	case "per-frame":
		return runtime.ResetPerFrame, nil
	case "continuous":
		return runtime.ResetContinuous, nil
	}
	return 0, fmt.Errorf("-stream %q: want per-frame or continuous", c.stream)
}

func (c *config) binMode() (data.BinMode, error) {
	switch c.bin {
	case "binary":
		return data.BinBinary, nil
	case "count":
		return data.BinCount, nil
	}
	return 0, fmt.Errorf("-bin %q: want binary or count", c.bin)
}

func (c *config) sensorSize() (w, h int, err error) {
	if c.sensor == "" {
		return 0, 0, nil
	}
	ws, hs, ok := strings.Cut(c.sensor, "x")
	w, e1 := strconv.Atoi(ws)
	h, e2 := strconv.Atoi(hs)
	if !ok || e1 != nil || e2 != nil || w <= 0 || h <= 0 || w > 65536 || h > 65536 {
		return 0, 0, fmt.Errorf("-sensor %q: want WIDTHxHEIGHT, e.g. 34x34", c.sensor)
	}
	return w, h, nil
}

// run is the whole command; ctx ends the frame loop early (signals in
// mainImpl, cancellation in tests).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	board := boards.DetectHost()
	c, help, err := parseFlags(args, board, stderr)
	if help || err != nil {
		return err
	}
	k, err := c.common.KernelSet()
	if err != nil {
		return err
	}
	threads := c.common.NumThreads()
	if c.board {
		w := stdout
		if c.inputURI != "" {
			w = stderr // stdout is for the predictions
		}
		printBoard(w, board, k, c.common.Kernels, threads)
		if c.inputURI == "" {
			return nil
		}
	}

	m, err := model.Load(c.modelPath)
	if err != nil {
		return err
	}
	shapes, err := m.Shapes()
	if err != nil {
		return fmt.Errorf("%s: %w", c.modelPath, err)
	}
	classes := shapes[len(shapes)-1].Size()
	spec := m.Input

	mode, _ := c.binMode()
	pre, err := input.NewPreprocessor(spec, mode)
	if err != nil {
		return fmt.Errorf("model %s expects input %s: %w", c.modelPath, describeInput(spec), err)
	}

	// Rules are checked against the model before anything is opened.
	var outs *boards.Outputs
	var dry *dryPins
	if len(c.gpio) > 0 {
		rules, err := boards.ParseRules(m.Labels, c.gpio...)
		if err == nil {
			err = boards.CheckClasses(rules, classes)
		}
		if err != nil {
			return err
		}
		if c.gpioDry {
			dry = newDryPins(board, stderr)
			outs, err = boards.NewOutputs(rules, dry.open)
			if err == nil {
				dry.flush("init")
			}
		} else {
			outs, err = board.Outputs(rules)
		}
		if err != nil {
			return fmt.Errorf("gpio: %w (-gpio-dry-run prints the levels without hardware)", err)
		}
		defer func() {
			outs.Close()
			if dry != nil {
				dry.flush("close")
			}
		}()
	}

	sw, sh, _ := c.sensorSize()
	opt := input.Options{
		Channels:     spec.Shape.C,
		Stdin:        stdin,
		FrameRate:    c.fps,
		EventWindow:  c.window,
		SensorWidth:  sw,
		SensorHeight: sh,
		DVS:          input.DVSOptions{Width: spec.Shape.W, Height: spec.Shape.H},
		// A gray frame model takes the luma bytes straight from the stream.
		Luma: spec.Shape.C == 1 && spec.Encoding != model.EncodingEvents,
	}
	opt.Range, _ = input.ParseRange(c.lumaRange)
	if spec.Encoding == model.EncodingEvents {
		opt.Channels = 1 // only a DVS reads frames for an event model, and it wants gray
	}
	src, err := input.Open(c.inputURI, opt)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := checkKind(spec, src.Kind(), c.inputURI); err != nil {
		return err
	}

	exec, _ := runtime.ParseExecution(c.execution)
	eng, err := runtime.New(m,
		runtime.WithKernels(k),
		runtime.WithThreads(threads),
		runtime.WithExecution(exec),
		runtime.WithSeed(c.seed))
	if err != nil {
		return fmt.Errorf("%s: %w", c.modelPath, err)
	}
	defer eng.Close()
	if eng.InputLen() != pre.Len() {
		return fmt.Errorf("model %s expects input %s (%d values); the preprocessor makes %d", c.modelPath, describeInput(spec), eng.InputLen(), pre.Len())
	}

	images := isImageInput(c.inputURI)
	stream := !images && (src.Kind() == input.Frames || c.window > 0 || strings.HasPrefix(c.inputURI, "dvs:"))
	policy, _ := c.policy()
	if c.common.Verbose {
		how := "one Infer per sample"
		if stream {
			how = "a Session, reset " + policy.String()
		}
		fmt.Fprintf(stderr, "bsnn-run: %s: input %s, %d classes, T = %d; kernels %s, %d threads, execution %s; %s: %s\n",
			c.modelPath, describeInput(spec), classes, eng.T, eng.Kernels().Name, eng.Threads(), eng.Execution(), c.inputURI, how)
	}
	var sess *runtime.Session
	if stream {
		sess = eng.NewSession(policy)
	}

	p := newPrinter(c, m, eng, stdout)
	defer p.w.Flush() // the lines of the frames before an error
	x := make([]float32, pre.Len())
	start := time.Now()
	// t0 is where the current frame's time starts: the end of the last
	// one, so the stages tile the loop (a skipped file counts as reading).
	t0 := start
	interrupted := false
	var srcErr error
	for c.max == 0 || p.frames < c.max {
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		s, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if images {
				// One unreadable file does not spoil a folder.
				fmt.Fprintf(stderr, "bsnn-run: skipping: %v\n", err)
				continue
			}
			// A camera unplugged or a stream cut short: what ran so far
			// still gets its summary.
			srcErr = fmt.Errorf("input %s: %w", c.inputURI, err)
			break
		}
		t1 := time.Now()
		if err := pre.Convert(x, src.Kind(), s); err != nil {
			return fmt.Errorf("input %s, sample %d: %w", c.inputURI, s.Seq, err)
		}
		t2 := time.Now()
		if outs != nil {
			if err := outs.FrameStart(); err != nil {
				return fmt.Errorf("gpio: %w", err)
			}
		}
		t3 := time.Now()
		var res runtime.Result
		if sess != nil {
			res, err = sess.Step(x)
		} else {
			res, err = eng.Infer(x)
		}
		t4 := time.Now()
		if err != nil {
			return fmt.Errorf("sample %d: %w", s.Seq, err)
		}
		f := p.frame(s, images, res, t1.Sub(t0), t2.Sub(t1), t4.Sub(t3))
		if outs != nil {
			pred := boards.Prediction{Class: f.class, Confidence: float32(f.conf), SpikeRate: float32(f.firing)}
			if err := outs.FrameDone(pred); err != nil {
				return fmt.Errorf("gpio: %w", err)
			}
			if dry != nil {
				dry.flush(strconv.Itoa(s.Seq))
			}
		}
		if err := p.print(f); err != nil {
			return err
		}
		t5 := time.Now()
		p.times.add(t1.Sub(t0), t2.Sub(t1), t4.Sub(t3), t3.Sub(t2)+t5.Sub(t4))
		t0 = t5
	}
	elapsed := time.Since(start)
	if interrupted {
		fmt.Fprintf(stderr, "bsnn-run: interrupted after %d frames\n", p.frames)
	}
	if err := p.summary(elapsed); err != nil {
		return err
	}
	return srcErr
}

// checkKind refuses a source whose kind the model cannot take, before any
// frame is read.
func checkKind(spec model.InputSpec, kind input.Kind, uri string) error {
	events := spec.Encoding == model.EncodingEvents
	switch {
	case events && kind == input.Frames:
		return fmt.Errorf("the model takes events (input %s) but %s yields frames; put a simulated DVS in front: -input dvs:%s", describeInput(spec), uri, uri)
	case !events && kind == input.Events:
		return fmt.Errorf("the model takes frames (input %s) but %s yields events; event input needs a model with events encoding", describeInput(spec), uri)
	}
	return nil
}

// describeInput names what a model's input spec asks for, e.g.
// "1×28×28 gray frames (direct encoding)" or "T=8 × 2×34×34 event frames".
func describeInput(spec model.InputSpec) string {
	s := spec.Shape
	if spec.Encoding == model.EncodingEvents {
		return fmt.Sprintf("T=%d binned event frames of %v (events encoding)", spec.Timesteps, s)
	}
	kind := "frames"
	switch s.C {
	case 1:
		kind = "gray frames"
	case 3:
		kind = "RGB frames"
	}
	return fmt.Sprintf("%v %s (%v encoding)", s, kind, spec.Encoding)
}

// isImageInput reports whether uri names image files (a folder, a PNG/JPEG
// file or a built-in data set), which run as independent samples.
func isImageInput(uri string) bool {
	if data.ImageExt(uri) || strings.HasPrefix(uri, "dataset:") {
		return true
	}
	st, err := os.Stat(uri)
	return err == nil && st.IsDir()
}

// truthOf returns the class a labelled folder gives a sample: its first
// folder named as a model label or a class number. ok is false for samples
// outside such a folder.
func truthOf(name string, labels []string, classes int) (int, bool) {
	dir, _, ok := strings.Cut(filepath.ToSlash(name), "/")
	if !ok {
		return 0, false
	}
	for i, l := range labels {
		if l == dir {
			return i, true
		}
	}
	if n, err := strconv.Atoi(dir); err == nil && n >= 0 && n < classes {
		return n, true
	}
	return 0, false
}

// printBoard prints the board profile and compares the kernel set in use
// with the one the board's CPU should offer.
func printBoard(w io.Writer, b *boards.Board, k *bitops.Kernels, flagKernels string, threads int) {
	fmt.Fprintln(w, b.String())
	from := "best available"
	switch {
	case flagKernels != "":
		from = "-kernels"
	case os.Getenv(bitops.EnvVar) != "":
		from = "$" + bitops.EnvVar
	}
	exp := b.ExpectedKernels()
	verdict := "as expected"
	switch {
	case exp == "":
		exp, verdict = "unknown", "cannot tell"
	case exp != k.Name && from == "best available":
		verdict = "NOT as expected: this build lacks the expected set (purego or noasm tags?)"
	case exp != k.Name:
		verdict = "chosen by " + from
	}
	fmt.Fprintf(w, "using    kernels %s (%s), expected %s: %s; available here: %s\n", k.Name, from, exp, verdict, cli.AvailableNames())
	fmt.Fprintf(w, "using    %d threads (recommended %d)\n", threads, b.Threads)
}
