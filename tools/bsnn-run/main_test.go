package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/input"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/modeltest"
	"github.com/bsnn/bsnn/runtime"
)

// brightDark is a hand-made model that tells bright gray images from dark
// ones: a 1×1 conv makes x and 1−x, a LIF with threshold 0.5 fires where
// each exceeds one half, and the readout averages each channel's spikes.
// Its accuracy on clearly bright or dark images is 1 by construction.
func brightDark(t *testing.T) string {
	t.Helper()
	b := modeltest.NewBuilder(rand.New(rand.NewPCG(1, 1)), model.Shape{C: 1, H: 8, W: 8}, 2, model.EncodingDirect)
	conv := b.Conv(model.InputIndex, model.PrecisionFloat32, 2, 1, 1, 0)
	l := &b.M.Layers[conv]
	l.Weights, l.Scale, l.Bias = []float32{1, -1}, []float32{1, 1}, []float32{0, 1}
	gap := b.GlobalAvgPool(b.LIF(conv, model.ResetHard, 0.5, 0.5))
	lin := b.Linear(gap, model.PrecisionFloat32, 2)
	l = &b.M.Layers[lin]
	l.Weights, l.Scale, l.Bias = []float32{1, 0, 0, 1}, []float32{1, 1}, []float32{0, 0}
	b.Readout(lin)
	m := b.Model()
	m.Labels = []string{"bright", "dark"}
	return save(t, m)
}

// randomNet is a small model with random weights and both float and binary
// layers: conv → LIF → max-pool → binary conv → LIF → flatten → linear.
func randomNet(t *testing.T, in model.Shape, T int, enc model.Encoding, seed uint64) (string, *model.Model) {
	t.Helper()
	b := modeltest.NewBuilder(rand.New(rand.NewPCG(seed, 7)), in, T, enc)
	x := b.LIF(b.Conv(model.InputIndex, model.PrecisionFloat32, 8, 3, 1, 1), model.ResetHard, 0, 0)
	x = b.Pool(x, model.OpMaxPool, 2, 2, 0)
	x = b.LIF(b.Conv(x, model.PrecisionBinary, 16, 3, 1, 1), model.ResetSoft, 0, 0)
	b.Readout(b.Linear(b.Flatten(x), model.PrecisionFloat32, 4))
	m := b.Model()
	m.Labels = []string{"a", "b", "c", "d"}
	return save(t, m), m
}

func save(t *testing.T, m *model.Model) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.bsnn")
	if err := model.Save(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

// engine compiles the saved model as bsnn-run would, for the expected
// results.
func engine(t *testing.T, path string) *runtime.Engine {
	t.Helper()
	m, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := runtime.New(m, runtime.WithThreads(1), runtime.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// runCmd runs the command on args with stdin and returns its output.
func runCmd(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	if stdin == nil {
		err = mainImpl(args, &o, &e)
	} else {
		err = run(context.Background(), args, stdin, &o, &e)
	}
	return o.String(), e.String(), err
}

func mustRun(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string) {
	t.Helper()
	o, e, err := runCmd(t, stdin, args...)
	if err != nil {
		t.Fatalf("bsnn-run %s: %v\nstderr:\n%s", strings.Join(args, " "), err, e)
	}
	return o, e
}

// writePNG writes a gray or RGB image of random values in [lo, hi] and
// returns the CHW floats the model should get (values / 255).
func writePNG(t *testing.T, path string, rng *rand.Rand, c, h, w int, lo, hi int) []float32 {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, c*h*w)
	var img image.Image
	val := func() uint8 { return uint8(lo + rng.IntN(hi-lo+1)) }
	if c == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = val()
			x[i] = float32(g.Pix[i]) / 255
		}
		img = g
	} else {
		n := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for xx := range w {
				px := color.NRGBA{val(), val(), val(), 255}
				n.SetNRGBA(xx, y, px)
				for ch, v := range []uint8{px.R, px.G, px.B} {
					x[ch*h*w+y*w+xx] = float32(v) / 255
				}
			}
		}
		img = n
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return x
}

func softmax(logits []float32, k int) float64 {
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v))
	}
	return math.Exp(float64(logits[k])) / sum
}

// predictionLines returns stdout's lines that are not comments.
func predictionLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

func commentLine(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starting %q in:\n%s", prefix, out)
	return ""
}

type sample struct {
	name  string
	x     []float32
	truth int
}

// labelledFolder writes bright and dark images in "bright", "dark" and
// class-number folders ("1" is dark), plus a loose file without a class.
func labelledFolder(t *testing.T) (string, []sample) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	var s []sample
	add := func(name string, truth int) {
		lo, hi := 200, 255
		if truth == 1 {
			lo, hi = 0, 50
		}
		s = append(s, sample{name, writePNG(t, filepath.Join(dir, name), rng, 1, 8, 8, lo, hi), truth})
	}
	// In the order a depth-first, name-sorted walk yields them.
	add("1/x.png", 1)
	add("bright/a.png", 0)
	add("bright/b.png", 0)
	add("bright/c.png", 0)
	add("dark/a.png", 1)
	add("dark/b.png", 1)
	add("loose.png", -1)
	return dir, s
}

func TestImageFolderText(t *testing.T) {
	mpath := brightDark(t)
	dir, samples := labelledFolder(t)
	eng := engine(t, mpath)

	out, _ := mustRun(t, nil, "-model", mpath, "-input", dir, "-threads", "1", "-stats")
	if got := strings.Split(out, "\n")[0]; got != "# seq name class label confidence latency_ms firing" {
		t.Errorf("header %q", got)
	}
	lines := predictionLines(out)
	if len(lines) != len(samples) {
		t.Fatalf("%d prediction lines for %d images:\n%s", len(lines), len(samples), out)
	}
	correct, labelled := 0, 0
	labels := []string{"bright", "dark"}
	for i, s := range samples {
		res, err := eng.Infer(s.x)
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(lines[i])
		if len(f) != 7 {
			t.Fatalf("line %q: %d fields, want 7", lines[i], len(f))
		}
		want := fmt.Sprintf("%d %s %d %s %.4f", i, s.name, res.Class, labels[res.Class], softmax(res.Logits, res.Class))
		if got := strings.Join(f[:5], " "); got != want {
			t.Errorf("line %d: %q, want %q", i, got, want)
		}
		if lat, err := strconv.ParseFloat(f[5], 64); err != nil || lat < 0 {
			t.Errorf("line %d: latency %q", i, f[5])
		}
		if want := fmt.Sprintf("%.4f", meanFiring(&res.Stats, eng.T)); f[6] != want {
			t.Errorf("line %d: firing %s, want %s", i, f[6], want)
		}
		if s.truth >= 0 {
			labelled++
			if res.Class == s.truth {
				correct++
			}
		}
	}
	if correct != labelled {
		t.Errorf("the bright/dark model got %d of %d right; the model or the preprocessing is off", correct, labelled)
	}
	want := fmt.Sprintf("# accuracy=%.4f correct=%d labelled=%d", float64(correct)/float64(labelled), correct, labelled)
	if got := commentLine(t, out, "# accuracy="); got != want {
		t.Errorf("%q, want %q", got, want)
	}
	sum := commentLine(t, out, "# frames=")
	if !strings.HasPrefix(sum, fmt.Sprintf("# frames=%d latency_ms mean=", len(samples))) || !strings.Contains(sum, " p99=") || !strings.Contains(sum, " fps=") ||
		!strings.Contains(sum, " stage_ms(p50/mean) read=") || !strings.Contains(sum, " pre=") || !strings.Contains(sum, " infer=") || !strings.Contains(sum, " out=") || !strings.Contains(sum, " total=") {
		t.Errorf("summary %q", sum)
	}
	// -stats lists the LIF layer (index 1).
	if l := commentLine(t, out, "# layer 1 "); !strings.Contains(l, "lif firing=") {
		t.Errorf("layer line %q", l)
	}
}

// frameLine is a -format json frame line, or the summary.
type frameLine struct {
	Seq        *int      `json:"seq"`
	Name       string    `json:"name"`
	TimeMS     float64   `json:"time_ms"`
	Class      int       `json:"class"`
	Label      string    `json:"label"`
	Confidence float64   `json:"confidence"`
	LatencyMS  float64   `json:"latency_ms"`
	ReadMS     *float64  `json:"read_ms"`
	PreMS      *float64  `json:"preprocess_ms"`
	FiringRate *float64  `json:"firing_rate"`
	Truth      *int      `json:"truth"`
	Logits     []float32 `json:"logits"`
	Layers     []struct {
		Index        int      `json:"index"`
		Name         string   `json:"name"`
		Op           string   `json:"op"`
		FiringRate   *float64 `json:"firing_rate"`
		Spikes       int64    `json:"spikes"`
		Sparse       *bool    `json:"sparse"`
		Rows         int64    `json:"rows"`
		RowsSkipped  int64    `json:"rows_skipped"`
		WordsSkipped int64    `json:"words_skipped"`
		Words        int64    `json:"words"`
		BinaryOps    int64    `json:"binary_ops"`
		DenseOps     int64    `json:"dense_ops"`
	} `json:"layers"`
	BinaryOps int64 `json:"binary_ops"`
	DenseOps  int64 `json:"dense_ops"`
	Summary   *struct {
		Frames     int      `json:"frames"`
		FPS        float64  `json:"fps"`
		FiringRate *float64 `json:"firing_rate"`
		Accuracy   *float64 `json:"accuracy"`
		Labelled   int      `json:"labelled"`
		Correct    int      `json:"correct"`
		BinaryOps  int64    `json:"binary_ops"`
		DenseOps   int64    `json:"dense_ops"`
		Layers     []struct {
			Index        int      `json:"index"`
			Name         string   `json:"name"`
			Op           string   `json:"op"`
			FiringRate   *float64 `json:"firing_rate"`
			Spikes       int64    `json:"spikes"`
			SparseFrames *int     `json:"sparse_frames"`
			Rows         int64    `json:"rows"`
			RowsSkipped  int64    `json:"rows_skipped"`
			Words        int64    `json:"words"`
			WordsSkipped int64    `json:"words_skipped"`
			BinaryOps    int64    `json:"binary_ops"`
			DenseOps     int64    `json:"dense_ops"`
		} `json:"layers"`
		LatencyMS stageLine `json:"latency_ms"`
		StagesMS  *struct {
			Read       *stageLine `json:"read"`
			Preprocess *stageLine `json:"preprocess"`
			Infer      *stageLine `json:"infer"`
			Output     *stageLine `json:"output"`
			Total      *stageLine `json:"total"`
		} `json:"stages_ms"`
	} `json:"summary"`
}

// stageLine is the time per frame of one stage, in milliseconds.
type stageLine struct {
	Mean, P50, P99 float64
}

func parseJSON(t *testing.T, out string) (frames []frameLine, summary frameLine) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var f frameLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if f.Summary != nil {
			summary = f
			continue
		}
		if f.Seq == nil || summary.Summary != nil {
			t.Fatalf("line %q: not a frame, or after the summary", sc.Text())
		}
		if f.ReadMS == nil || f.PreMS == nil || *f.ReadMS < 0 || *f.PreMS < 0 || f.LatencyMS <= 0 {
			t.Fatalf("line %q: stage times missing or negative", sc.Text())
		}
		frames = append(frames, f)
	}
	if summary.Summary == nil {
		t.Fatalf("no summary line in:\n%s", out)
	}
	checkStages(t, summary)
	return frames, summary
}

// checkStages checks the summary's stage times: all there, p50 ≤ p99,
// infer the same as latency_ms, and the stages adding up to the total.
func checkStages(t *testing.T, summary frameLine) {
	t.Helper()
	st := summary.Summary.StagesMS
	if st == nil || st.Read == nil || st.Preprocess == nil || st.Infer == nil || st.Output == nil || st.Total == nil {
		t.Fatalf("summary without every stage: %+v", summary.Summary)
	}
	if summary.Summary.Frames == 0 {
		return
	}
	var mean float64
	for _, s := range []*stageLine{st.Read, st.Preprocess, st.Infer, st.Output} {
		if s.Mean < 0 || s.P50 < 0 || s.P99 < s.P50 {
			t.Errorf("stage %+v", *s)
		}
		mean += s.Mean
	}
	if *st.Infer != summary.Summary.LatencyMS || st.Infer.Mean <= 0 {
		t.Errorf("infer %+v, latency_ms %+v", *st.Infer, summary.Summary.LatencyMS)
	}
	if math.Abs(mean-st.Total.Mean) > 1e-9*max(1, mean) || st.Total.P50 < st.Infer.P50 {
		t.Errorf("stage means add to %v, total %+v", mean, *st.Total)
	}
	// The stages tile the loop: their mean total is the time per frame.
	if fps := summary.Summary.FPS; fps <= 0 || 1000/fps < st.Total.Mean {
		t.Errorf("fps %v, total mean %v ms", fps, st.Total.Mean)
	}
}

// checkLogits compares a JSON frame with the Engine's result bit for bit.
func checkLogits(t *testing.T, what string, f frameLine, res runtime.Result) {
	t.Helper()
	if f.Class != res.Class || len(f.Logits) != len(res.Logits) {
		t.Fatalf("%s: class %d logits %v, want %d %v", what, f.Class, f.Logits, res.Class, res.Logits)
	}
	for i := range f.Logits {
		if math.Float32bits(f.Logits[i]) != math.Float32bits(res.Logits[i]) {
			t.Fatalf("%s: logits %v, want %v", what, f.Logits, res.Logits)
		}
	}
}

func TestImagesJSONMatchInfer(t *testing.T) {
	mpath, m := randomNet(t, model.Shape{C: 3, H: 8, W: 8}, 3, model.EncodingDirect, 5)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 9))
	var xs [][]float32
	for i := range 5 {
		xs = append(xs, writePNG(t, filepath.Join(dir, fmt.Sprintf("img%d.png", i)), rng, 3, 8, 8, 0, 255))
	}
	eng := engine(t, mpath)
	for _, exec := range []string{"auto", "dense", "sparse"} {
		out, _ := mustRun(t, nil, "-model", mpath, "-input", dir, "-format", "json", "-stats", "-execution", exec, "-threads", "2")
		frames, sum := parseJSON(t, out)
		if len(frames) != len(xs) || sum.Summary.Frames != len(xs) {
			t.Fatalf("%s: %d frames, summary %d, want %d", exec, len(frames), sum.Summary.Frames, len(xs))
		}
		for i, f := range frames {
			res, err := eng.Infer(xs[i])
			if err != nil {
				t.Fatal(err)
			}
			checkLogits(t, fmt.Sprintf("%s image %d", exec, i), f, res)
			if f.Name != fmt.Sprintf("img%d.png", i) || f.Label != m.Labels[res.Class] || f.Truth != nil {
				t.Errorf("%s image %d: name %q label %q truth %v", exec, i, f.Name, f.Label, f.Truth)
			}
			if c := softmax(res.Logits, res.Class); math.Abs(f.Confidence-c) > 1e-12 {
				t.Errorf("%s image %d: confidence %v, want %v", exec, i, f.Confidence, c)
			}
			// Layers 1 and 4 are LIFs; 3 is the binary conv.
			var lif, bin int
			for _, l := range f.Layers {
				switch {
				case l.Op == "lif" && l.FiringRate != nil:
					lif++
					if want := res.Stats.Layers[l.Index].FiringRate; *l.FiringRate != want {
						t.Errorf("layer %d firing %v, want %v", l.Index, *l.FiringRate, want)
					}
				case l.Index == 3 && l.Sparse != nil:
					bin++
					if l.DenseOps == 0 || l.Words == 0 || (exec == "dense" && *l.Sparse) || (exec == "sparse" && !*l.Sparse) {
						t.Errorf("%s: binary layer stats %+v", exec, l)
					}
				}
			}
			if lif != 2 || bin != 1 {
				t.Errorf("%s: %d LIF and %d binary layer entries, want 2 and 1: %+v", exec, lif, bin, f.Layers)
			}
		}
		if sum.Summary.Accuracy != nil || sum.Summary.FiringRate == nil || sum.Summary.LatencyMS.P99 < sum.Summary.LatencyMS.P50 {
			t.Errorf("summary %+v", *sum.Summary)
		}
	}
}

// y4m returns a mono Y4M stream of n frames of random noise, and the
// floats each frame gives the model.
func y4m(rng *rand.Rand, w, h, n int) ([]byte, [][]float32) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "YUV4MPEG2 W%d H%d F25:1 Ip A1:1 Cmono\n", w, h)
	var xs [][]float32
	for range n {
		b.WriteString("FRAME\n")
		x := make([]float32, w*h)
		for i := range x {
			v := uint8(rng.IntN(256))
			b.WriteByte(v)
			x[i] = float32(v) / 255
		}
		xs = append(xs, x)
	}
	return b.Bytes(), xs
}

func TestY4MStdin(t *testing.T) {
	mpath, _ := randomNet(t, model.Shape{C: 1, H: 8, W: 8}, 2, model.EncodingDirect, 11)
	stream, xs := y4m(rand.New(rand.NewPCG(1, 2)), 8, 8, 6)
	eng := engine(t, mpath)
	for _, policy := range []runtime.ResetPolicy{runtime.ResetPerFrame, runtime.ResetContinuous} {
		name := map[runtime.ResetPolicy]string{runtime.ResetPerFrame: "per-frame", runtime.ResetContinuous: "continuous"}[policy]
		out, _ := mustRun(t, bytes.NewReader(stream), "-model", mpath, "-input", "-", "-format", "json", "-stream", name, "-threads", "1")
		frames, sum := parseJSON(t, out)
		if len(frames) != len(xs) || sum.Summary.Frames != len(xs) {
			t.Fatalf("%s: %d frames, want %d", name, len(frames), len(xs))
		}
		sess := eng.NewSession(policy)
		var continuousDiffers bool
		for i, f := range frames {
			res, err := sess.Step(xs[i])
			if err != nil {
				t.Fatal(err)
			}
			checkLogits(t, fmt.Sprintf("%s frame %d", name, i), f, res)
			if f.Name != "" || *f.Seq != i {
				t.Errorf("frame %d: seq %d name %q", i, *f.Seq, f.Name)
			}
			logits := append([]float32(nil), res.Logits...)
			inf, err := eng.Infer(xs[i])
			if err != nil {
				t.Fatal(err)
			}
			for k := range logits {
				continuousDiffers = continuousDiffers || logits[k] != inf.Logits[k]
			}
		}
		if policy == runtime.ResetContinuous && !continuousDiffers {
			t.Errorf("continuous stream gave the same logits as independent frames: carried state is not exercised")
		}
		if policy == runtime.ResetPerFrame && continuousDiffers {
			t.Errorf("per-frame stream differs from Infer")
		}
	}
	// -max stops early.
	out, _ := mustRun(t, bytes.NewReader(stream), "-model", mpath, "-input", "-", "-max", "2")
	if n := len(predictionLines(out)); n != 2 {
		t.Errorf("-max 2: %d lines", n)
	}
}

func TestVideoFFmpeg(t *testing.T) {
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not on PATH; the video test needs it")
	}
	clip := filepath.Join(t.TempDir(), "clip.mkv")
	cmd := exec.Command(ff, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=10", "-t", "1", "-c:v", "ffv1", clip)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make a test clip here: %v\n%s", err, b)
	}
	mpath, m := randomNet(t, model.Shape{C: 3, H: 16, W: 16}, 2, model.EncodingDirect, 13)

	// Expected: the same source and preprocessing, run by hand.
	src, err := input.Open(clip, input.Options{Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pre, err := input.NewPreprocessor(m.Input, data.BinBinary)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine(t, mpath)
	var want []string
	x := make([]float32, pre.Len())
	for {
		s, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := pre.Convert(x, src.Kind(), s); err != nil {
			t.Fatal(err)
		}
		res, err := eng.Infer(x)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%d - %d %s %.4f", s.Seq, res.Class, m.Labels[res.Class], softmax(res.Logits, res.Class)))
	}
	if len(want) != 10 {
		t.Fatalf("ffmpeg gave %d frames of a 1 s clip at 10 fps", len(want))
	}
	out, _ := mustRun(t, nil, "-model", mpath, "-input", clip, "-threads", "1")
	lines := predictionLines(out)
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		if got := strings.Join(strings.Fields(l)[:5], " "); got != want[i] {
			t.Errorf("frame %d: %q, want %q", i, got, want[i])
		}
	}
}

// writeEvents writes a CSV event list on an 8×8 sensor and returns its
// events.
func writeEvents(t *testing.T, path string, rng *rand.Rand, n int) []data.Event {
	t.Helper()
	ev := make([]data.Event, n)
	for i := range ev {
		ev[i] = data.Event{T: int64(1000 + 37*i), X: uint16(rng.IntN(8)), Y: uint16(rng.IntN(8)), P: uint8(rng.IntN(2))}
	}
	var b bytes.Buffer
	if err := data.WriteEventsCSV(&b, ev); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestEventsCSV(t *testing.T) {
	const T = 4
	mpath, _ := randomNet(t, model.Shape{C: 2, H: 8, W: 8}, T, model.EncodingEvents, 17)
	csv := filepath.Join(t.TempDir(), "ev.csv")
	ev := writeEvents(t, csv, rand.New(rand.NewPCG(5, 5)), 300)
	eng := engine(t, mpath)

	// The whole file is one sample, binned over its span.
	bin := data.Binning{T: T, W: 8, H: 8, Mode: data.BinBinary}
	x := make([]float32, bin.Size())
	if _, err := bin.Bin(x, ev); err != nil {
		t.Fatal(err)
	}
	res, err := eng.Infer(x)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := mustRun(t, nil, "-model", mpath, "-input", csv, "-format", "json", "-sensor", "8x8")
	frames, _ := parseJSON(t, out)
	if len(frames) != 1 {
		t.Fatalf("%d frames, want 1", len(frames))
	}
	checkLogits(t, "event file", frames[0], res)

	// Windows of 2 ms run as a per-frame stream, each window binned on its own.
	const window = 2000
	out, _ = mustRun(t, nil, "-model", mpath, "-input", "events:"+csv, "-format", "json", "-sensor", "8x8", "-window", "2ms", "-bin", "count")
	frames, _ = parseJSON(t, out)
	span := ev[len(ev)-1].T + 1 - ev[0].T
	if want := int((span + window - 1) / window); len(frames) != want {
		t.Fatalf("%d windows, want %d", len(frames), want)
	}
	for i, f := range frames {
		start := ev[0].T + int64(i)*window
		cb := data.Binning{T: T, W: 8, H: 8, Mode: data.BinCount, Start: start, Duration: window}
		if _, err := cb.Bin(x, ev); err != nil {
			t.Fatal(err)
		}
		res, err := eng.Infer(x)
		if err != nil {
			t.Fatal(err)
		}
		checkLogits(t, fmt.Sprintf("window %d", i), f, res)
	}
}

func TestGPIODryRun(t *testing.T) {
	mpath := brightDark(t)
	dir, samples := labelledFolder(t)
	eng := engine(t, mpath)
	_, stderr := mustRun(t, nil, "-model", mpath, "-input", dir, "-gpio", "GPIO17=class:bright", "-gpio", "GPIO23=busy;GPIO27=class:1&conf>=0.7", "-gpio-dry-run")

	want := []string{"gpio init: GPIO17=L GPIO23=L GPIO27=L"}
	level := map[bool]string{true: "H", false: "L"}
	for i, s := range samples {
		res, err := eng.Infer(s.x)
		if err != nil {
			t.Fatal(err)
		}
		on17 := res.Class == 0
		on27 := res.Class == 1 && softmax(res.Logits, 1) >= 0.7
		// A condition pin is written at most once per frame, so its
		// letter is its level whether it changed or not; the busy pin
		// pulses.
		want = append(want, fmt.Sprintf("gpio %d: GPIO17=%s GPIO23=HL GPIO27=%s", i, level[on17], level[on27]))
	}
	want = append(want, "gpio close: GPIO17=L GPIO23=L GPIO27=L")
	for _, lv := range []string{"GPIO17=H", "GPIO17=L", "GPIO27=H", "GPIO27=L"} {
		if !strings.Contains(strings.Join(want[1:len(want)-1], "\n"), lv) {
			t.Fatalf("no frame sets %s: the test images do not exercise the rules", lv)
		}
	}
	if got := strings.Split(strings.TrimRight(stderr, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("dry-run output:\n%s\nwant:\n%s", stderr, strings.Join(want, "\n"))
	}
}

func TestErrors(t *testing.T) {
	frames := brightDark(t)
	events, _ := randomNet(t, model.Shape{C: 2, H: 8, W: 8}, 2, model.EncodingEvents, 3)
	dir, _ := labelledFolder(t)
	csv := filepath.Join(t.TempDir(), "ev.csv")
	writeEvents(t, csv, rand.New(rand.NewPCG(1, 1)), 50)
	notModel := filepath.Join(t.TempDir(), "x.bsnn")
	if err := os.WriteFile(notModel, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A 2-channel frame model: the readers give gray or RGB only.
	b := modeltest.NewBuilder(rand.New(rand.NewPCG(2, 2)), model.Shape{C: 2, H: 4, W: 4}, 1, model.EncodingDirect)
	b.Readout(b.Linear(b.Flatten(b.LIF(b.Conv(model.InputIndex, model.PrecisionFloat32, 2, 1, 1, 0), 0, 0, 0)), model.PrecisionFloat32, 2))
	twoChan := save(t, b.Model())

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-model is required"},
		{[]string{"-model", frames}, "-input is required"},
		{[]string{"-input", dir}, "-model is required"},
		{[]string{"-nosuch"}, "flag provided but not defined: -nosuch"},
		{[]string{"-model", frames, "-input", dir, "extra"}, `unexpected argument "extra"`},
		{[]string{"-model", frames, "-input", dir, "-format", "xml"}, `-format "xml"`},
		{[]string{"-model", frames, "-input", dir, "-stream", "sometimes"}, `-stream "sometimes"`},
		{[]string{"-model", frames, "-input", dir, "-execution", "fast"}, "-execution"},
		{[]string{"-model", frames, "-input", dir, "-max", "-1"}, "-max -1"},
		{[]string{"-model", frames, "-input", dir, "-threads", "-2"}, "-threads -2"},
		{[]string{"-model", frames, "-input", dir, "-kernels", "nosuch"}, "nosuch"},
		{[]string{"-model", frames, "-input", dir, "-sensor", "8by8"}, `-sensor "8by8"`},
		{[]string{"-model", frames, "-input", dir, "-bin", "float"}, `-bin "float"`},
		{[]string{"-model", frames, "-input", dir, "-gpio-dry-run"}, "-gpio-dry-run needs -gpio"},
		{[]string{"-model", filepath.Join(t.TempDir(), "missing.bsnn"), "-input", dir}, "missing.bsnn"},
		{[]string{"-model", notModel, "-input", dir}, "x.bsnn"},
		{[]string{"-model", frames, "-input", filepath.Join(dir, "nothing-here")}, "nothing-here"},
		{[]string{"-model", frames, "-input", csv}, "yields events; event input needs a model with events encoding"},
		{[]string{"-model", events, "-input", dir}, "-input dvs:" + dir},
		{[]string{"-model", twoChan, "-input", dir}, "expects input 2×4×4 frames (direct encoding)"},
		{[]string{"-model", frames, "-input", dir, "-gpio", "GPIO17=class:cat"}, "cat"},
		{[]string{"-model", frames, "-input", dir, "-gpio", "GPIO17=class:5", "-gpio-dry-run"}, "GPIO17=class:5"},
	} {
		_, _, err := runCmd(t, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bsnn-run %s: error %v, want one containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

func TestBrokenImageSkipped(t *testing.T) {
	mpath := brightDark(t)
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), rand.New(rand.NewPCG(1, 1)), 1, 8, 8, 0, 255)
	if err := os.WriteFile(filepath.Join(dir, "b.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(dir, "c.png"), rand.New(rand.NewPCG(1, 1)), 1, 8, 8, 0, 255)
	o, e := mustRun(t, nil, "-model", mpath, "-input", dir)
	lines := predictionLines(o)
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "0 a.png ") || !strings.HasPrefix(lines[1], "2 c.png ") {
		t.Errorf("lines %q", lines)
	}
	if !strings.Contains(e, "skipping") || !strings.Contains(e, "b.png") {
		t.Errorf("stderr %q", e)
	}
}

func TestTruncatedStream(t *testing.T) {
	mpath, _ := randomNet(t, model.Shape{C: 1, H: 8, W: 8}, 2, model.EncodingDirect, 31)
	stream, _ := y4m(rand.New(rand.NewPCG(1, 2)), 8, 8, 3)
	o, _, err := runCmd(t, bytes.NewReader(stream[:len(stream)-10]), "-model", mpath, "-input", "-")
	if err == nil || !strings.Contains(err.Error(), "input -") {
		t.Errorf("cut stream: error %v", err)
	}
	if n := len(predictionLines(o)); n != 2 || !strings.Contains(o, "# frames=2 ") {
		t.Errorf("cut stream: %d frames, output:\n%s", n, o)
	}
}

func TestEventsModelWithDVS(t *testing.T) {
	mpath, _ := randomNet(t, model.Shape{C: 2, H: 8, W: 8}, 2, model.EncodingEvents, 23)
	stream, _ := y4m(rand.New(rand.NewPCG(7, 7)), 16, 16, 4)
	out, _ := mustRun(t, bytes.NewReader(stream), "-model", mpath, "-input", "dvs:-", "-stream", "continuous", "-stats")
	// The sensor's first frame only sets its references: 4 frames make 3
	// event batches.
	if n := len(predictionLines(out)); n != 3 {
		t.Errorf("%d lines for 4 frames through a DVS, want 3:\n%s", n, out)
	}
}

func TestHelpAndBoard(t *testing.T) {
	o, e, err := runCmd(t, nil, "-h")
	if err != nil || o != "" || !strings.Contains(e, "usage: bsnn-run") || !strings.Contains(e, "dvs:SOURCE") {
		t.Errorf("-h: err %v, stdout %q, stderr %q", err, o, e)
	}
	o, _, err = runCmd(t, nil, "-board", "-kernels", "generic")
	if err != nil || !strings.Contains(o, "kernels generic (-kernels)") {
		t.Errorf("-board: err %v, stdout:\n%s", err, o)
	}
	// With an input the profile goes to stderr, and the run goes on.
	mpath := brightDark(t)
	dir, samples := labelledFolder(t)
	o, e = mustRun(t, nil, "-board", "-model", mpath, "-input", dir)
	if !strings.Contains(e, "using    kernels") || len(predictionLines(o)) != len(samples) {
		t.Errorf("-board with -input: stdout\n%s\nstderr\n%s", o, e)
	}
}

// TestY4MResizedLuma runs a colour Y4M stream larger than a gray model's
// input: bsnn-run must give the logits of the luma path (area resize of
// the Y plane, limited range when untagged, or the -range given).
func TestY4MResizedLuma(t *testing.T) {
	mpath, _ := randomNet(t, model.Shape{C: 1, H: 8, W: 8}, 2, model.EncodingDirect, 19)
	rng := rand.New(rand.NewPCG(9, 9))
	const w, h = 21, 13
	var b bytes.Buffer
	fmt.Fprintf(&b, "YUV4MPEG2 W%d H%d F25:1 C420jpeg\n", w, h)
	for range 4 {
		b.WriteString("FRAME\n")
		for range w*h + 2*((w+1)/2)*((h+1)/2) {
			b.WriteByte(byte(rng.IntN(256)))
		}
	}
	stream := b.Bytes()
	eng := engine(t, mpath)
	m, _ := model.Load(mpath)
	pre, _ := input.NewPreprocessor(m.Input, data.BinBinary)
	for _, rg := range []string{"auto", "full"} {
		r, _ := input.ParseRange(rg)
		src, err := input.NewY4M(bytes.NewReader(stream), input.Options{Luma: true, Range: r})
		if err != nil {
			t.Fatal(err)
		}
		out, _ := mustRun(t, bytes.NewReader(stream), "-model", mpath, "-input", "-", "-format", "json", "-range", rg, "-threads", "1")
		frames, _ := parseJSON(t, out)
		if len(frames) != 4 {
			t.Fatalf("-range %s: %d frames", rg, len(frames))
		}
		x := make([]float32, pre.Len())
		for i, f := range frames {
			s, err := src.Next()
			if err != nil {
				t.Fatal(err)
			}
			if s.Luma.Limited != (rg == "auto") {
				t.Fatalf("-range %s: limited %v", rg, s.Luma.Limited)
			}
			if err := pre.Convert(x, input.Frames, s); err != nil {
				t.Fatal(err)
			}
			res, err := eng.Infer(x)
			if err != nil {
				t.Fatal(err)
			}
			checkLogits(t, fmt.Sprintf("-range %s frame %d", rg, i), f, res)
		}
	}
	if _, _, err := runCmd(t, bytes.NewReader(stream), "-model", mpath, "-input", "-", "-range", "tv"); err == nil || !strings.Contains(err.Error(), "-range") {
		t.Errorf("-range tv: %v", err)
	}
}

// endless is a Y4M stream that never ends: the header, then one frame
// over and over.
type endless struct {
	head, frame []byte
	off         int
}

func (e *endless) Read(p []byte) (int, error) {
	if len(e.head) > 0 {
		n := copy(p, e.head)
		e.head = e.head[n:]
		return n, nil
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.frame[e.off:])
		n += c
		e.off = (e.off + c) % len(e.frame)
	}
	return n, nil
}

// TestStreamFrameAllocs checks one frame of a gray model's stream, from
// reading to the printed line and the stage times, allocates nothing.
func TestStreamFrameAllocs(t *testing.T) {
	mpath, m := randomNet(t, model.Shape{C: 1, H: 8, W: 8}, 2, model.EncodingDirect, 23)
	frame := append([]byte("FRAME\n"), make([]byte, 40*30*3/2)...)
	for i := range frame[6:] {
		frame[6+i] = byte(i * 7)
	}
	src, err := input.NewY4M(&endless{head: []byte("YUV4MPEG2 W40 H30 F30:1 C420jpeg\n"), frame: frame}, input.Options{Luma: true})
	if err != nil {
		t.Fatal(err)
	}
	pre, _ := input.NewPreprocessor(m.Input, data.BinBinary)
	eng := engine(t, mpath)
	sess := eng.NewSession(runtime.ResetPerFrame)
	for _, stats := range []bool{false, true} {
		c := &config{format: "text", stats: stats}
		p := newPrinter(c, m, eng, io.Discard)
		x := make([]float32, pre.Len())
		var ferr error
		step := func() {
			t0 := time.Now()
			s, err := src.Next()
			if err == nil {
				err = pre.Convert(x, input.Frames, s)
			}
			var res runtime.Result
			if err == nil {
				res, err = sess.Step(x)
			}
			if err == nil {
				err = p.print(p.frame(s, false, res, time.Since(t0), 0, 0))
			}
			p.times.add(time.Since(t0), 0, 0, 0)
			if err != nil && ferr == nil {
				ferr = err
			}
		}
		step()
		if a := testing.AllocsPerRun(200, step); a != 0 {
			t.Errorf("-stats %v: %v allocations per frame", stats, a)
		}
		if ferr != nil {
			t.Fatal(ferr)
		}
	}
}
