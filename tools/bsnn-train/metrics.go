package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/internal/atomicfile"
	"github.com/bsnn/bsnn/tools/internal/plot"
)

// num is a float64 that JSON writes as null when it is not finite (JSON
// has no NaN) and reads back from null as NaN.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func (n *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*n = num(f)
	return err
}

// epochRow is one epoch's metrics: one line of metrics.jsonl and of
// metrics.csv. Per-layer values are keyed by layer name.
type epochRow struct {
	Epoch         int     `json:"epoch"` // counted from 1
	Steps         int     `json:"steps"`
	Samples       int     `json:"samples"`
	LR            num     `json:"lr"`
	TrainLoss     num     `json:"train_loss"`
	TrainAcc      num     `json:"train_acc"`
	TestLoss      num     `json:"test_loss"`
	TestAcc       num     `json:"test_acc"`
	Seconds       num     `json:"seconds"`       // wall time of the epoch's training steps
	SamplesPerSec num     `json:"samples_per_s"` // training samples / Seconds
	CPUSeconds    num     `json:"cpu_seconds"`   // process CPU time over the epoch (training and test)
	EvalSeconds   num     `json:"eval_seconds"`  // wall time of the test evaluation
	Firing        numMap  `json:"firing"`        // per LIF layer, training
	TestFiring    numMap  `json:"test_firing"`   // per LIF layer, test
	Flips         numMap  `json:"flips"`         // per binary layer, per iteration (mean over the epoch)
	EpochFlips    numMap  `json:"epoch_flips"`   // per binary layer, start vs end of the epoch
	GradMean      numMap  `json:"grad_mean"`     // per binary layer
	GradStd       numMap  `json:"grad_std"`      // per binary layer
	Alpha         alphaMp `json:"alpha"`         // per AGMM gate, α[t]
	Resumed       bool    `json:"resumed,omitempty"`
}

type (
	numMap  map[string]num
	alphaMp map[string][]num
)

// layerNames are the names of a network's instrumented layers, in the
// order of the library's statistics.
type layerNames struct {
	LIF, Binary, Gates []string
	T                  int
}

func namesOf(n *finetune.Net) layerNames {
	return layerNames{LIF: n.LIFNames(), Binary: n.BinaryNames(), Gates: n.GateNames(), T: n.Config().Input.Timesteps}
}

func toMap(names []string, v []float64) numMap {
	m := numMap{}
	for i, name := range names {
		if i < len(v) {
			m[name] = num(v[i])
		} else {
			m[name] = num(math.NaN())
		}
	}
	return m
}

// rowOf turns the library's epoch statistics into a row.
func rowOf(es finetune.EpochStats, ln layerNames, cpu, evalSec float64) epochRow {
	r := epochRow{
		Epoch: es.Epoch + 1, Steps: es.Steps, Samples: es.Samples, LR: num(es.LR),
		TrainLoss: num(es.TrainLoss), TrainAcc: num(es.TrainAcc),
		TestLoss: num(math.NaN()), TestAcc: num(math.NaN()),
		Seconds: num(es.Seconds), CPUSeconds: num(cpu), EvalSeconds: num(evalSec),
		Firing: toMap(ln.LIF, es.Firing), TestFiring: toMap(ln.LIF, es.TestFiring),
		Flips: toMap(ln.Binary, es.Flips), EpochFlips: toMap(ln.Binary, es.EpochFlips),
		GradMean: toMap(ln.Binary, es.GradMean), GradStd: toMap(ln.Binary, es.GradStd),
		Alpha: alphaMp{},
	}
	if es.HasTest {
		r.TestLoss, r.TestAcc = num(es.TestLoss), num(es.TestAcc)
	}
	r.SamplesPerSec = num(math.NaN())
	if es.Seconds > 0 {
		r.SamplesPerSec = num(float64(es.Samples) / es.Seconds)
	}
	for i, g := range ln.Gates {
		var a []num
		if i < len(es.Alpha) {
			for _, v := range es.Alpha[i] {
				a = append(a, num(v))
			}
		}
		r.Alpha[g] = a
	}
	return r
}

// Metric file names in the run directory.
const (
	metricsCSV   = "metrics.csv"
	metricsJSONL = "metrics.jsonl"
)

// readMetrics reads the rows of an earlier session's metrics.jsonl (none if
// the file does not exist).
func readMetrics(dir string) ([]epochRow, error) {
	path := filepath.Join(dir, metricsJSONL)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rows []epochRow
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r epochRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// csvHeader returns the CSV columns for a network's layers.
func csvHeader(ln layerNames) []string {
	h := []string{"epoch", "steps", "samples", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
		"seconds", "samples_per_s", "cpu_seconds", "eval_seconds"}
	for _, n := range ln.LIF {
		h = append(h, "firing_"+n)
	}
	for _, n := range ln.LIF {
		h = append(h, "test_firing_"+n)
	}
	for _, p := range []string{"flips_", "epoch_flips_", "grad_mean_", "grad_std_"} {
		for _, n := range ln.Binary {
			h = append(h, p+n)
		}
	}
	for _, g := range ln.Gates {
		for t := 0; t < ln.T; t++ {
			h = append(h, fmt.Sprintf("alpha_%s_t%d", g, t))
		}
	}
	return h
}

func fmtNum(v num) string {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func missing() num { return num(math.NaN()) }

func get(m numMap, k string) num {
	if v, ok := m[k]; ok {
		return v
	}
	return missing()
}

func csvRecord(r epochRow, ln layerNames) []string {
	rec := []string{strconv.Itoa(r.Epoch), strconv.Itoa(r.Steps), strconv.Itoa(r.Samples), fmtNum(r.LR),
		fmtNum(r.TrainLoss), fmtNum(r.TrainAcc), fmtNum(r.TestLoss), fmtNum(r.TestAcc),
		fmtNum(r.Seconds), fmtNum(r.SamplesPerSec), fmtNum(r.CPUSeconds), fmtNum(r.EvalSeconds)}
	for _, n := range ln.LIF {
		rec = append(rec, fmtNum(get(r.Firing, n)))
	}
	for _, n := range ln.LIF {
		rec = append(rec, fmtNum(get(r.TestFiring, n)))
	}
	for _, m := range []numMap{r.Flips, r.EpochFlips, r.GradMean, r.GradStd} {
		for _, n := range ln.Binary {
			rec = append(rec, fmtNum(get(m, n)))
		}
	}
	for _, g := range ln.Gates {
		a := r.Alpha[g]
		for t := 0; t < ln.T; t++ {
			v := missing()
			if t < len(a) {
				v = a[t]
			}
			rec = append(rec, fmtNum(v))
		}
	}
	return rec
}

// writeMetrics rewrites metrics.csv and metrics.jsonl with all rows, each
// atomically, so an interrupted write never leaves a truncated file.
func writeMetrics(dir string, rows []epochRow, ln layerNames) error {
	var jb bytes.Buffer
	enc := json.NewEncoder(&jb)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	var cb bytes.Buffer
	w := csv.NewWriter(&cb)
	if err := w.Write(csvHeader(ln)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := w.Write(csvRecord(r, ln)); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, metricsJSONL), jb.Bytes(), 0o600); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, metricsCSV), cb.Bytes(), 0o600)
}

// writePlots draws the per-epoch charts into dir.
func writePlots(dir string, rows []epochRow, ln layerNames) error {
	x := make([]float64, len(rows))
	for i, r := range rows {
		x[i] = float64(r.Epoch)
	}
	col := func(f func(r epochRow) num) []float64 {
		y := make([]float64, len(rows))
		for i, r := range rows {
			y[i] = float64(f(r))
		}
		return y
	}
	perLayer := func(names []string, m func(r epochRow) numMap) []plot.Series {
		var s []plot.Series
		for _, n := range names {
			s = append(s, plot.Series{Name: n, X: x, Y: col(func(r epochRow) num { return get(m(r), n) })})
		}
		return s
	}
	charts := map[string]plot.Chart{
		"accuracy.png": {Title: "accuracy", XLabel: "epoch", YLabel: "accuracy", Series: []plot.Series{
			{Name: "train", X: x, Y: col(func(r epochRow) num { return r.TrainAcc })},
			{Name: "test", X: x, Y: col(func(r epochRow) num { return r.TestAcc })},
		}},
		"loss.png": {Title: "cross-entropy loss", XLabel: "epoch", YLabel: "loss", Series: []plot.Series{
			{Name: "train", X: x, Y: col(func(r epochRow) num { return r.TrainLoss })},
			{Name: "test", X: x, Y: col(func(r epochRow) num { return r.TestLoss })},
		}},
		"flips.png": {Title: "sign-flip rate per iteration (mean over the epoch)", XLabel: "epoch", YLabel: "fraction of binary weights",
			Series: perLayer(ln.Binary, func(r epochRow) numMap { return r.Flips })},
		"flips-epoch.png": {Title: "sign-flip rate epoch to epoch", XLabel: "epoch", YLabel: "fraction of binary weights",
			Series: perLayer(ln.Binary, func(r epochRow) numMap { return r.EpochFlips })},
		"firing.png": {Title: "firing rate (training)", XLabel: "epoch", YLabel: "spikes per neuron per step",
			Series: perLayer(ln.LIF, func(r epochRow) numMap { return r.Firing })},
	}
	for name, c := range charts {
		if err := c.Save(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
	}
	return nil
}
