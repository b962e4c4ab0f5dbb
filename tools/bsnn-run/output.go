package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bsnn/bsnn/input"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/runtime"
)

// frameOut is what one frame produced, ready to print.
type frameOut struct {
	seq      int
	name     string
	time     time.Duration
	class    int
	label    string
	conf     float64
	read     time.Duration // Source.Next
	pre      time.Duration // Preprocessor.Convert
	latency  time.Duration // the model run
	firing   float64       // NaN when the model has no LIF layer
	logits   []float32
	truth    int
	hasTruth bool
	stats    *runtime.Stats
}

// printer writes per-frame lines and the summary, and accumulates what the
// summary needs.
type printer struct {
	c       *config
	m       *model.Model
	T       int
	classes int
	w       *bufio.Writer
	json    bool
	cur     frameOut      // the frame being printed, reused
	stats   runtime.Stats // cur.stats points here (-stats)
	line    []byte        // a text line being formatted, reused
	flushed time.Time     // when frame lines were last written out

	frames     int
	times      stageTimes
	firingSum  float64
	firingN    int
	labelled   int
	correct    int
	layerTotal []runtime.LayerStats // summed over frames (-stats)
	sparseRuns []int                // frames each binary layer ran sparse
	totalOps   [2]int64             // binary, dense
}

func newPrinter(c *config, m *model.Model, eng *runtime.Engine, w io.Writer) *printer {
	p := &printer{c: c, m: m, T: eng.T, w: bufio.NewWriter(w), json: c.format == "json"}
	shapes, _ := m.Shapes()
	p.classes = shapes[len(shapes)-1].Size()
	p.times.rng = rand.New(rand.NewPCG(1, 2))
	if !p.json {
		hdr := "# seq name class label confidence latency_ms"
		if c.stats {
			hdr += " firing"
		}
		fmt.Fprintln(p.w, hdr)
	}
	return p
}

// frame turns a result into a frameOut and adds it to the totals (the
// stage times go in with stageTimes.add once the frame is printed). The
// frameOut is the printer's own, valid until the next call; the logits
// slice is the Engine's: it is printed before the next call.
func (p *printer) frame(s *input.Sample, images bool, res runtime.Result, read, pre, lat time.Duration) *frameOut {
	f := &p.cur
	*f = frameOut{
		seq: s.Seq, time: s.Time, class: res.Class, read: read, pre: pre, latency: lat,
		conf: softmaxAt(res.Logits, res.Class), logits: res.Logits,
		firing: meanFiring(&res.Stats, p.T),
	}
	if images {
		f.name = s.Name
		f.truth, f.hasTruth = truthOf(s.Name, p.m.Labels, p.classes)
	}
	if res.Class >= 0 && res.Class < len(p.m.Labels) {
		f.label = p.m.Labels[res.Class]
	}
	if p.c.stats {
		// A copy in the printer: pointing at res would move every
		// frame's Result to the heap.
		p.stats = res.Stats
		f.stats = &p.stats
	}

	p.frames++
	if !math.IsNaN(f.firing) {
		p.firingSum += f.firing
		p.firingN++
	}
	if f.hasTruth {
		p.labelled++
		if f.truth == f.class {
			p.correct++
		}
	}
	if p.c.stats {
		p.accumulate(&p.stats)
	}
	return f
}

func (p *printer) accumulate(s *runtime.Stats) {
	if p.layerTotal == nil {
		p.layerTotal = make([]runtime.LayerStats, len(s.Layers))
		p.sparseRuns = make([]int, len(s.Layers))
	}
	for i, l := range s.Layers {
		t := &p.layerTotal[i]
		t.Op, t.Name, t.Neurons = l.Op, l.Name, l.Neurons
		t.Spikes += l.Spikes
		t.Rows += l.Rows
		t.RowsSkipped += l.RowsSkipped
		t.Words += l.Words
		t.WordsSkipped += l.WordsSkipped
		t.BinaryOps += l.BinaryOps
		t.DenseOps += l.DenseOps
		if l.Sparse {
			p.sparseRuns[i]++
		}
	}
	p.totalOps[0] += s.BinaryOps
	p.totalOps[1] += s.DenseOps
}

// softmaxAt returns the softmax probability of logits[k].
func softmaxAt(logits []float32, k int) float64 {
	if k < 0 || k >= len(logits) {
		return math.NaN()
	}
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	return math.Exp(float64(logits[k])-mx) / sum
}

// meanFiring is the frame's firing rate over all LIF neurons and steps:
// total spikes over total neuron-steps, NaN without LIF layers.
func meanFiring(s *runtime.Stats, T int) float64 {
	var spikes, slots float64
	for _, l := range s.Layers {
		if l.Op == model.OpLIF {
			spikes += float64(l.Spikes)
			slots += float64(l.Neurons) * float64(T)
		}
	}
	if slots == 0 {
		return math.NaN()
	}
	return spikes / slots
}

// binaryLayer reports whether a layer ran a binary GEMM (it has work
// counters).
func binaryLayer(l *runtime.LayerStats) bool { return l.DenseOps > 0 || l.Words > 0 }

func (p *printer) print(f *frameOut) error {
	if p.json {
		return p.printJSON(f)
	}
	// Appended by hand rather than with Fprintf, which boxes every
	// argument: a stream's frame lines allocate nothing.
	b := strconv.AppendInt(p.line[:0], int64(f.seq), 10)
	b = append(b, ' ')
	b = appendField(b, f.name)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(f.class), 10)
	b = append(b, ' ')
	b = appendField(b, f.label)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, f.conf, 'f', 4, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, ms(f.latency), 'f', 3, 64)
	if p.c.stats {
		b = append(b, ' ')
		if math.IsNaN(f.firing) {
			b = append(b, '-')
		} else {
			b = strconv.AppendFloat(b, f.firing, 'f', 4, 64)
		}
	}
	b = append(b, '\n')
	p.line = b
	if _, err := p.w.Write(b); err != nil {
		return err
	}
	return p.flushLine()
}

// flushEvery bounds the write-outs of frame lines: a line is written at
// once when the last write-out is at least this old, else it waits in the
// buffer for a later frame's line or the summary. A stream read at full
// speed then costs one write per millisecond instead of one per frame,
// while frames further apart (any camera) are each written at once.
const flushEvery = time.Millisecond

// flushLine writes the buffered frame lines out if flushEvery has passed.
func (p *printer) flushLine() error {
	now := time.Now()
	if now.Sub(p.flushed) < flushEvery {
		return nil
	}
	p.flushed = now
	return p.w.Flush()
}

// appendField appends s as a field of a text line: "-" when empty,
// Go-quoted when it holds whitespace or quotes so a reader can tell where
// it ends (JSON output is the format for programs). Plain fields cost no
// allocation.
func appendField(b []byte, s string) []byte {
	switch {
	case s == "":
		return append(b, '-')
	case strings.ContainsAny(s, " \t\r\n\""):
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// frameJSON is one line of -format json.
type frameJSON struct {
	Seq        int         `json:"seq"`
	Name       string      `json:"name,omitempty"`
	TimeMS     float64     `json:"time_ms"`
	Class      int         `json:"class"`
	Label      string      `json:"label,omitempty"`
	Confidence float64     `json:"confidence"`
	LatencyMS  float64     `json:"latency_ms"`
	ReadMS     float64     `json:"read_ms"`
	PreMS      float64     `json:"preprocess_ms"`
	FiringRate *float64    `json:"firing_rate,omitempty"`
	Truth      *int        `json:"truth,omitempty"`
	Logits     []float32   `json:"logits"`
	Layers     []layerJSON `json:"layers,omitempty"`
	BinaryOps  int64       `json:"binary_ops,omitempty"`
	DenseOps   int64       `json:"dense_ops,omitempty"`
}

// layerJSON is the work of one LIF or binary layer (-stats). Counts are
// of one frame in frame lines and summed over frames in the summary.
type layerJSON struct {
	Index        int      `json:"index"`
	Name         string   `json:"name"`
	Op           string   `json:"op"`
	FiringRate   *float64 `json:"firing_rate,omitempty"`
	Spikes       int64    `json:"spikes,omitempty"`
	Sparse       *bool    `json:"sparse,omitempty"`        // frame lines: the kernel that ran
	SparseFrames *int     `json:"sparse_frames,omitempty"` // summary: frames that ran the sparse kernel
	Rows         int64    `json:"rows,omitempty"`
	RowsSkipped  int64    `json:"rows_skipped,omitempty"`
	Words        int64    `json:"words,omitempty"`
	WordsSkipped int64    `json:"words_skipped,omitempty"`
	BinaryOps    int64    `json:"binary_ops,omitempty"`
	DenseOps     int64    `json:"dense_ops,omitempty"`
}

func layerRow(i int, l *runtime.LayerStats, T, frames int) (layerJSON, bool) {
	r := layerJSON{Index: i, Name: l.Name, Op: l.Op.String()}
	switch {
	case l.Op == model.OpLIF:
		rate := 0.0
		if l.Neurons > 0 && frames > 0 {
			rate = float64(l.Spikes) / (float64(l.Neurons) * float64(T) * float64(frames))
		}
		r.FiringRate, r.Spikes = &rate, l.Spikes
	case binaryLayer(l):
		r.Rows, r.RowsSkipped, r.Words, r.WordsSkipped = l.Rows, l.RowsSkipped, l.Words, l.WordsSkipped
		r.BinaryOps, r.DenseOps = l.BinaryOps, l.DenseOps
	default:
		return r, false
	}
	return r, true
}

func (p *printer) printJSON(f *frameOut) error {
	j := frameJSON{
		Seq: f.seq, Name: f.name, TimeMS: ms(f.time), Class: f.class, Label: f.label,
		Confidence: f.conf, LatencyMS: ms(f.latency), ReadMS: ms(f.read), PreMS: ms(f.pre), Logits: f.logits,
	}
	if !math.IsNaN(f.firing) {
		j.FiringRate = &f.firing
	}
	if f.hasTruth {
		j.Truth = &f.truth
	}
	if f.stats != nil {
		for i := range f.stats.Layers {
			l := &f.stats.Layers[i]
			r, ok := layerRow(i, l, p.T, 1)
			if !ok {
				continue
			}
			if binaryLayer(l) {
				sp := l.Sparse
				r.Sparse = &sp
			}
			j.Layers = append(j.Layers, r)
		}
		j.BinaryOps, j.DenseOps = f.stats.BinaryOps, f.stats.DenseOps
	}
	if err := writeJSON(p.w, j); err != nil {
		return fmt.Errorf("frame %d: %w", f.seq, err)
	}
	return p.flushLine()
}

// summaryJSON is the last line of -format json.
type summaryJSON struct {
	Summary struct {
		Frames     int         `json:"frames"`
		LatencyMS  latencyJSON `json:"latency_ms"`
		StagesMS   stagesJSON  `json:"stages_ms"`
		FPS        float64     `json:"fps"`
		FiringRate *float64    `json:"firing_rate,omitempty"`
		Accuracy   *float64    `json:"accuracy,omitempty"`
		Correct    int         `json:"correct,omitempty"`
		Labelled   int         `json:"labelled,omitempty"`
		Layers     []layerJSON `json:"layers,omitempty"`
		BinaryOps  int64       `json:"binary_ops,omitempty"`
		DenseOps   int64       `json:"dense_ops,omitempty"`
	} `json:"summary"`
}

type latencyJSON struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
}

// stagesJSON is the time per frame of each stage of the loop; total is
// their sum per frame (its mean is 1/fps but for the loop's own overhead).
type stagesJSON struct {
	Read       latencyJSON `json:"read"`
	Preprocess latencyJSON `json:"preprocess"`
	Infer      latencyJSON `json:"infer"`
	Output     latencyJSON `json:"output"`
	Total      latencyJSON `json:"total"`
}

func (p *printer) summary(elapsed time.Duration) error {
	var s summaryJSON
	sum := &s.Summary
	sum.Frames = p.frames
	st := p.times.summary()
	sum.StagesMS = stagesJSON{Read: st[stRead], Preprocess: st[stPre], Infer: st[stInfer], Output: st[stOut], Total: st[stTotal]}
	sum.LatencyMS = st[stInfer]
	if elapsed > 0 {
		sum.FPS = float64(p.frames) / elapsed.Seconds()
	}
	if p.firingN > 0 {
		r := p.firingSum / float64(p.firingN)
		sum.FiringRate = &r
	}
	if p.labelled > 0 {
		a := float64(p.correct) / float64(p.labelled)
		sum.Accuracy, sum.Correct, sum.Labelled = &a, p.correct, p.labelled
	}
	var rows []layerJSON
	for i := range p.layerTotal {
		r, ok := layerRow(i, &p.layerTotal[i], p.T, p.frames)
		if !ok {
			continue
		}
		if binaryLayer(&p.layerTotal[i]) {
			n := p.sparseRuns[i]
			r.SparseFrames = &n
		}
		rows = append(rows, r)
	}
	if p.json {
		sum.Layers = rows
		sum.BinaryOps, sum.DenseOps = p.totalOps[0], p.totalOps[1]
		if err := writeJSON(p.w, s); err != nil {
			return err
		}
		return p.w.Flush()
	}

	firing := "-"
	if sum.FiringRate != nil {
		firing = fmtRate(*sum.FiringRate)
	}
	fmt.Fprintf(p.w, "# frames=%d latency_ms mean=%.3f p50=%.3f p99=%.3f fps=%.1f firing=%s stage_ms(p50/mean)",
		sum.Frames, sum.LatencyMS.Mean, sum.LatencyMS.P50, sum.LatencyMS.P99, sum.FPS, firing)
	for i, name := range stageNames {
		fmt.Fprintf(p.w, " %s=%.4f/%.4f", name, st[i].P50, st[i].Mean)
	}
	fmt.Fprintln(p.w)
	if sum.Accuracy != nil {
		fmt.Fprintf(p.w, "# accuracy=%.4f correct=%d labelled=%d\n", *sum.Accuracy, sum.Correct, sum.Labelled)
	}
	for _, r := range rows {
		fmt.Fprintf(p.w, "# layer %d %s %s", r.Index, r.Name, r.Op)
		if r.FiringRate != nil {
			fmt.Fprintf(p.w, " firing=%s", fmtRate(*r.FiringRate))
		} else {
			fmt.Fprintf(p.w, " sparse_frames=%d/%d rows_skipped=%s words_skipped=%s binary_ops=%d dense_ops=%d",
				*r.SparseFrames, p.frames, pct(r.RowsSkipped, r.Rows), pct(r.WordsSkipped, r.Words), r.BinaryOps, r.DenseOps)
		}
		fmt.Fprintln(p.w)
	}
	if p.c.stats {
		fmt.Fprintf(p.w, "# binary_ops=%d dense_ops=%d (%s of dense)\n", p.totalOps[0], p.totalOps[1], pct(p.totalOps[0], p.totalOps[1]))
	}
	return p.w.Flush()
}

// writeJSON writes v as one line. NaN or infinite logits cannot be
// written as JSON; the error says so.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("json output: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtRate(r float64) string {
	if math.IsNaN(r) {
		return "-"
	}
	return fmt.Sprintf("%.4f", r)
}

func pct(part, whole int64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

// Stages of a frame, as stageTimes records them.
const (
	stRead = iota
	stPre
	stInfer
	stOut
	stTotal
	nStages
)

// stageNames name the stages in the text summary.
var stageNames = [nStages]string{"read", "pre", "infer", "out", "total"}

// stageTimes keeps the per-frame stage times for means and percentiles:
// exact sums, and the times of all frames up to maxLatencies, then of a
// uniform reservoir sample of that size, so a camera left running for days
// does not grow without bound. A record keeps one frame's stages together.
type stageTimes struct {
	sum [nStages]time.Duration
	v   [][nStages]float32 // milliseconds
	n   int
	rng *rand.Rand
}

const maxLatencies = 1 << 17

func (s *stageTimes) add(read, pre, infer, out time.Duration) {
	d := [nStages]time.Duration{read, pre, infer, out, read + pre + infer + out}
	var r [nStages]float32
	for i, v := range d {
		s.sum[i] += v
		r[i] = float32(ms(v))
	}
	s.n++
	if len(s.v) < maxLatencies {
		s.v = append(s.v, r)
		return
	}
	if i := s.rng.IntN(s.n); i < maxLatencies {
		s.v[i] = r
	}
}

// summary returns every stage's mean, p50 and p99 in milliseconds.
func (s *stageTimes) summary() (out [nStages]latencyJSON) {
	if s.n == 0 {
		return out
	}
	col := make([]float64, len(s.v))
	for i := range out {
		for k, r := range s.v {
			col[k] = float64(r[i])
		}
		slices.Sort(col)
		out[i] = latencyJSON{Mean: ms(s.sum[i]) / float64(s.n), P50: quantile(col, 0.50), P99: quantile(col, 0.99)}
	}
	return out
}

// quantile returns the q-quantile of sorted s by the nearest-rank rule.
func quantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
