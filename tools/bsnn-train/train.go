package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/internal/atomicfile"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/tools/internal/cli"
)

// Names in the run directory and in the checkpoint's metadata.
const (
	checkpointFile = "checkpoint.ckpt"
	metaOptions    = "bsnn-train.options"
	metaBefore     = "bsnn-train.before"
)

// result is what a training invocation measured; -report writes it as
// JSON, and the study and scenario runners read it.
type result struct {
	Command  string     `json:"command"` // canonical command line
	Options  options    `json:"options"` // the run's settings
	Dataset  string     `json:"dataset"` // -data with its transform
	Train    int        `json:"train_samples"`
	Test     int        `json:"test_samples"`
	Epochs   []epochRow `json:"epochs"`   // every epoch of the run so far
	Finished bool       `json:"finished"` // all -epochs done
	// TestAcc is the final test accuracy (NaN, written as null, before
	// the end).
	TestAcc num `json:"test_acc"`
	// BeforeAcc and BeforeLoss are the test accuracy and loss of the model
	// before fine-tuning (-finetune only).
	BeforeAcc  num `json:"before_acc"`
	BeforeLoss num `json:"before_loss"`
	// WallSeconds is this invocation's wall time, data loading included;
	// TrainSeconds the wall time of its training steps.
	WallSeconds  float64 `json:"wall_seconds"`
	TrainSeconds float64 `json:"train_seconds"`
	SamplesPerS  num     `json:"samples_per_s"` // training samples / TrainSeconds of this invocation
	PeakRSS      int64   `json:"peak_rss_bytes"`
	Threads      int     `json:"threads"`
	Kernels      string  `json:"kernels"`
	Model        string  `json:"model,omitempty"` // the -out file
}

// train runs the training command (everything but the subcommands).
func train(e *env, args []string) (*result, error) {
	t0 := time.Now()
	var o options
	var s session
	fs := newFlagSet(&o, &s, e.stderr)
	help, err := cli.ParseFlags(fs, args)
	if help {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags start with -; subcommands are study and scenario)", fs.Arg(0))
	}
	if err := s.common.Check(); err != nil {
		return nil, err
	}
	if s.stopAfter < 0 {
		return nil, fmt.Errorf("-stop-after %d: must not be negative", s.stopAfter)
	}
	if _, err := newProgress(s.progress, e.stderr, 0, 0); err != nil {
		return nil, err
	}
	kernels, err := s.common.KernelSet()
	if err != nil {
		return nil, err
	}
	threads := s.common.NumThreads()
	ckpt := ""
	if s.runDir != "" {
		ckpt = filepath.Join(s.runDir, checkpointFile)
	}

	var net *finetune.Net
	if s.resume {
		if s.runDir == "" {
			return nil, errors.New("-resume needs -run-dir (the directory of the run to continue)")
		}
		if net, err = finetune.LoadCheckpoint(ckpt, threads, kernels); err != nil {
			return nil, fmt.Errorf("cannot resume: %w", err)
		}
		if err := resumeOptions(net, fs, &o); err != nil {
			return nil, err
		}
	} else {
		if err := o.check(); err != nil {
			return nil, err
		}
		if ckpt != "" {
			if _, err := os.Stat(ckpt); err == nil {
				return nil, fmt.Errorf("%s already holds a run's checkpoint: continue it with -resume, or choose another -run-dir", s.runDir)
			}
			if err := os.MkdirAll(s.runDir, 0o755); err != nil {
				return nil, err
			}
		}
	}

	// The base model of a fine-tuning run decides the input.
	var base *model.Model
	if o.finetuning() && net == nil {
		if base, err = model.Load(o.Finetune); err != nil {
			return nil, fmt.Errorf("-finetune: %w", err)
		}
	}
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	T, shape := cfg.Input.Timesteps, cfg.Input.Shape
	switch {
	case net != nil:
		T, shape = net.Config().Input.Timesteps, net.Config().Input.Shape
	case base != nil:
		T, shape = base.Input.Timesteps, base.Input.Shape
		if o.T != 0 && o.T != T {
			return nil, fmt.Errorf("-T %d: the model %s runs with T = %d (a fine-tuned model keeps its T)", o.T, o.Finetune, T)
		}
	}
	ds, err := loadData(&o, T, shape)
	if err != nil {
		return nil, err
	}
	train, err := data.NewBatcher(ds.train, data.BatchOptions{Size: o.Batch, Shuffle: true, Seed: o.Seed, DropLast: true, Augment: o.augmenters(), Workers: threads})
	if err != nil {
		return nil, err
	}
	if train.Batches() == 0 {
		return nil, fmt.Errorf("%d training samples make no full batch of %d: lower -batch or raise -train-n", ds.train.Len(), o.Batch)
	}
	test, err := data.NewBatcher(ds.test, data.BatchOptions{Size: o.Batch, Workers: threads})
	if err != nil {
		return nil, err
	}
	nb := train.Batches()
	trainSrc, testSrc := finetune.BatcherSource(train), finetune.BatcherSource(test)

	if net == nil {
		cfg.Threads, cfg.Kernels = threads, kernels
		cfg.Optim.TotalSteps = o.Epochs * nb
		if net, err = buildNet(&o, cfg, base, ds); err != nil {
			return nil, err
		}
		b, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		net.Meta = map[string]string{metaOptions: string(b)}
	} else if err := checkDataFits(net, ds); err != nil {
		return nil, err
	}

	res := &result{Command: o.canonical(), Options: o, Dataset: ds.name, Train: ds.train.Len(), Test: ds.test.Len(),
		TestAcc: num(math.NaN()), BeforeAcc: num(math.NaN()), BeforeLoss: num(math.NaN()), Threads: threads, Kernels: kernels.Name}
	if o.finetuning() {
		if err := beforeAccuracy(e, net, testSrc, res); err != nil {
			return nil, err
		}
	}

	startEpoch, startBatch := net.Position()
	var rows []epochRow
	if s.runDir != "" {
		old, err := readMetrics(s.runDir)
		if err != nil {
			return nil, err
		}
		// Rows of epochs after the checkpoint (written just before a crash)
		// are dropped: those epochs run again.
		for _, r := range old {
			if r.Epoch <= startEpoch {
				rows = append(rows, r)
			}
		}
	}
	endEpoch := o.Epochs
	if s.stopAfter > 0 {
		endEpoch = min(endEpoch, startEpoch+s.stopAfter)
	}
	remaining := max(0, (endEpoch-startEpoch)*nb-startBatch)
	prog, _ := newProgress(s.progress, e.stderr, o.Epochs, remaining)
	ln := namesOf(net)
	fmt.Fprintf(e.stderr, "bsnn-train: %s; %s: %d training samples (%d batches of %d), %d test; %s; %d threads, kernels %s\n",
		describeNet(net), ds.name, ds.train.Len(), nb, o.Batch, ds.test.Len(), describeOptim(net.Config()), threads, kernels.Name)
	if startEpoch > 0 || startBatch > 0 {
		fmt.Fprintf(e.stderr, "bsnn-train: resuming at epoch %d, batch %d of %d\n", startEpoch+1, startBatch, nb)
	}

	lastStep := time.Now()
	sessionSamples := 0
	cpu0 := cpuTime()
	tr := &finetune.Trainer{Net: net, Train: trainSrc, Test: testSrc, Epochs: endEpoch, Checkpoint: ckpt,
		OnStep: func(epoch, batch, batches int, st finetune.StepStats) error {
			prog.step(epoch, batch, batches, st)
			lastStep = time.Now()
			if e.onStep != nil {
				e.onStep(epoch, batch)
			}
			return nil
		},
		OnEpoch: func(es finetune.EpochStats) error {
			prog.clear()
			cpu := cpuTime()
			r := rowOf(es, ln, (cpu - cpu0).Seconds(), time.Since(lastStep).Seconds())
			cpu0 = cpu
			r.Resumed = es.Epoch == startEpoch && startBatch > 0
			rows = append(rows, r)
			res.TrainSeconds += es.Seconds
			sessionSamples += es.Samples
			fmt.Fprintln(e.stdout, epochLine(r, o.Epochs, ln))
			if s.runDir == "" {
				return nil
			}
			if err := writeMetrics(s.runDir, rows, ln); err != nil {
				return err
			}
			if e.noPlots {
				return nil
			}
			return writePlots(s.runDir, rows, ln)
		}}
	runErr := tr.Run(e.ctx)
	prog.clear()
	res.Epochs = rows
	res.WallSeconds = time.Since(t0).Seconds()
	if res.TrainSeconds > 0 {
		res.SamplesPerS = num(float64(sessionSamples) / res.TrainSeconds)
	} else {
		res.SamplesPerS = num(math.NaN())
	}
	if runErr != nil {
		return nil, explain(runErr, net, s.runDir)
	}
	if pos, _ := net.Position(); pos < o.Epochs {
		fmt.Fprintf(e.stderr, "bsnn-train: stopped after epoch %d of %d (-stop-after); continue with: bsnn-train -run-dir %s -resume\n",
			pos, o.Epochs, quoteArg(s.runDir))
		return res, writeReport(s.report, res)
	}
	res.Finished = true
	if len(rows) > 0 && rows[len(rows)-1].Epoch == o.Epochs {
		res.TestAcc = rows[len(rows)-1].TestAcc
	} else {
		// A finished run resumed again: measure rather than guess.
		ev, err := net.EvaluateSource(testSrc)
		if err != nil {
			return nil, err
		}
		res.TestAcc = num(ev.Acc)
	}
	if s.out != "" {
		if err := export(net, &o, ds, res, s.out); err != nil {
			return nil, err
		}
		res.Model = s.out
	}
	if rss, err := peakRSS(); err == nil {
		res.PeakRSS = rss
	}
	res.WallSeconds = time.Since(t0).Seconds()
	fmt.Fprintln(e.stdout, finalLine(res, o.finetuning()))
	return res, writeReport(s.report, res)
}

// resumeOptions replaces o with the options stored in the checkpoint.
// Flags given on the resume command line must agree with them, except the
// session flags and -epochs, which may extend the run.
func resumeOptions(net *finetune.Net, fs *flag.FlagSet, o *options) error {
	raw, ok := net.Meta[metaOptions]
	if !ok {
		return fmt.Errorf("cannot resume: the checkpoint was not written by bsnn-train (no %q metadata)", metaOptions)
	}
	var stored options
	if err := json.Unmarshal([]byte(raw), &stored); err != nil {
		return fmt.Errorf("cannot resume: the checkpoint's run settings are corrupt: %w", err)
	}
	sfs := stored.flagSet()
	var conflicts []string
	fs.Visit(func(f *flag.Flag) {
		if sessionFlags[f.Name] || f.Name == "epochs" {
			return
		}
		if sf := sfs.Lookup(f.Name); sf != nil && sf.Value.String() != f.Value.String() {
			conflicts = append(conflicts, fmt.Sprintf("-%s %s (the run has %s)", f.Name, f.Value, sf.Value))
		}
	})
	if len(conflicts) > 0 {
		return fmt.Errorf("cannot resume with different settings: %s; only -epochs and the session flags (-threads, -kernels, -out, -progress, -stop-after, -report) may change", strings.Join(conflicts, ", "))
	}
	epochs := stored.Epochs
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "epochs" {
			epochs = o.Epochs
		}
	})
	if epochs < stored.Epochs {
		if pos, _ := net.Position(); epochs < pos {
			return fmt.Errorf("-epochs %d: the run has already trained %d epochs", epochs, pos)
		}
	}
	*o = stored
	o.Epochs = epochs
	if err := o.check(); err != nil {
		return fmt.Errorf("cannot resume: the checkpoint's run settings: %w", err)
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	net.Meta[metaOptions] = string(b)
	return nil
}

// buildNet makes the network of a new run: a preset shaped by the data, or
// the fine-tuning graph of a model.
func buildNet(o *options, cfg finetune.Config, base *model.Model, ds *dataSets) (*finetune.Net, error) {
	classes := ds.train.Classes()
	if base != nil {
		if base.Input.Shape != ds.shape {
			return nil, fmt.Errorf("-finetune %s takes %v input, but -data %s gives %v samples", o.Finetune, base.Input.Shape, o.Data, ds.shape)
		}
		if (base.Input.Encoding == model.EncodingEvents) != ds.events {
			return nil, fmt.Errorf("-finetune %s takes %v input, but -data %s is %s", o.Finetune, base.Input.Encoding, o.Data, map[bool]string{true: "event data", false: "images"}[ds.events])
		}
		net, err := finetune.FromModel(base, cfg)
		if err != nil {
			return nil, err
		}
		if c := net.Config().Classes; c != len(classes) {
			return nil, fmt.Errorf("-finetune %s has %d classes, but -data %s has %d", o.Finetune, c, o.Data, len(classes))
		}
		return net, nil
	}
	cfg.Input.Shape = ds.shape
	cfg.Input.Mean, cfg.Input.Std = ds.mean, ds.std
	switch {
	case ds.events:
		cfg.Input.Encoding = model.EncodingEvents
	case o.Encoding == "rate":
		cfg.Input.Encoding = model.EncodingRate
	default:
		cfg.Input.Encoding = model.EncodingDirect
	}
	cfg.Classes = len(classes)
	cfg.Labels = classes
	return finetune.NewNet(cfg)
}

// checkDataFits checks a resumed network against its reloaded data.
func checkDataFits(net *finetune.Net, ds *dataSets) error {
	c := net.Config()
	if c.Input.Shape != ds.shape {
		return fmt.Errorf("the checkpoint's network takes %v input, but the data now gives %v samples", c.Input.Shape, ds.shape)
	}
	if n := len(ds.train.Classes()); n != c.Classes {
		return fmt.Errorf("the checkpoint's network has %d classes, but the data now has %d", c.Classes, n)
	}
	return nil
}

// beforeAccuracy measures the untuned model once per run (a resumed run
// reads it from the checkpoint).
func beforeAccuracy(e *env, net *finetune.Net, test finetune.Source, res *result) error {
	if raw, ok := net.Meta[metaBefore]; ok {
		var v [2]num
		if err := json.Unmarshal([]byte(raw), &v); err == nil {
			res.BeforeAcc, res.BeforeLoss = v[0], v[1]
			return nil
		}
	}
	t := time.Now()
	ev, err := net.EvaluateSource(test)
	if err != nil {
		return fmt.Errorf("evaluating the model before fine-tuning: %w", err)
	}
	res.BeforeAcc, res.BeforeLoss = num(ev.Acc), num(ev.Loss)
	b, _ := json.Marshal([2]num{res.BeforeAcc, res.BeforeLoss})
	net.Meta[metaBefore] = string(b)
	fmt.Fprintf(e.stdout, "before fine-tuning: test loss %.4f acc %.2f%% (%d samples, %.1f s)\n", ev.Loss, 100*ev.Acc, ev.Samples, time.Since(t).Seconds())
	return nil
}

// explain turns a failed run's error into a message that says what
// happened to the checkpoint.
func explain(err error, net *finetune.Net, runDir string) error {
	epoch, batch := net.Position()
	var nf *finetune.NonFiniteError
	switch {
	case errors.Is(err, context.Canceled):
		if runDir == "" {
			return fmt.Errorf("%w at epoch %d batch %d; nothing was saved (no -run-dir)", errInterrupted, epoch+1, batch)
		}
		return fmt.Errorf("%w at epoch %d batch %d; checkpoint saved in %s; continue with: bsnn-train -run-dir %s -resume",
			errInterrupted, epoch+1, batch, runDir, quoteArg(runDir))
	case errors.As(err, &nf):
		where := "nothing was saved (no -run-dir)"
		if runDir != "" {
			where = fmt.Sprintf("the last checkpoint in %s (after epoch %d) is intact", runDir, epoch)
			if _, serr := os.Stat(filepath.Join(runDir, checkpointFile)); errors.Is(serr, fs.ErrNotExist) {
				where = fmt.Sprintf("no epoch had finished, so %s holds no checkpoint", runDir)
			}
		}
		return fmt.Errorf("training diverged: %w; %s. Try a lower -lr, a -warmup, or another -seed", err, where)
	}
	return err
}

// export writes the final model with its provenance.
func export(net *finetune.Net, o *options, ds *dataSets, res *result, path string) error {
	c := net.Config()
	prov := model.Provenance{
		Source:      "bsnn-train",
		Dataset:     ds.name,
		Accuracy:    float32(res.TestAcc),
		AGMM:        c.AGMMString(),
		ToolVersion: toolVersion(),
		Extra: []model.KV{
			{Key: "command", Value: res.Command},
			{Key: "test_samples", Value: strconv.Itoa(res.Test)},
			{Key: "train_samples", Value: strconv.Itoa(res.Train)},
			{Key: "epochs", Value: strconv.Itoa(o.Epochs)},
			{Key: "seed", Value: strconv.FormatUint(o.Seed, 10)},
			{Key: "optimizer", Value: describeOptim(c)},
		},
	}
	if o.finetuning() {
		prov.Source = "bsnn-train -finetune " + filepath.Base(o.Finetune)
		prov.Extra = append(prov.Extra, model.KV{Key: "accuracy_before", Value: strconv.FormatFloat(float64(res.BeforeAcc), 'f', 6, 64)})
	}
	m, err := net.Export(prov)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := model.Save(path, m); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	return nil
}

func writeReport(path string, res *result) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("-report: %w", err)
	}
	return nil
}

func describeNet(n *finetune.Net) string {
	c := n.Config()
	var params int
	for _, p := range n.Params() {
		params += len(p.Data)
	}
	return fmt.Sprintf("%s net, %d layers, %d parameters (%d binary layers), input %v %v T=%d, AGMM %s",
		c.Preset, n.NumLayers(), params, len(n.BinaryNames()), c.Input.Shape, c.Input.Encoding, c.Input.Timesteps, c.AGMMString())
}

func describeOptim(c finetune.Config) string {
	p := c.Optim
	s := fmt.Sprintf("%s lr=%g", p.Kind, p.LR)
	if p.Kind == "sgd" {
		s += fmt.Sprintf(" momentum=%g", p.Momentum)
		if p.Nesterov {
			s += " nesterov"
		}
	}
	s += fmt.Sprintf(" wd=%g", p.WeightDecay)
	if p.DecoupledWD {
		s += " decoupled"
	}
	if p.Schedule != "" {
		s += " " + p.Schedule
	}
	if p.WarmupSteps > 0 {
		s += fmt.Sprintf(" warmup=%d", p.WarmupSteps)
	}
	for _, g := range []string{finetune.GroupBinary, finetune.GroupFP, finetune.GroupBN, finetune.GroupAlpha} {
		if f, ok := p.GroupLR[g]; ok {
			s += fmt.Sprintf(" lr×%g(%s)", f, g)
		}
	}
	if p.TrainLast > 0 {
		s += fmt.Sprintf(" train-last=%d", p.TrainLast)
	}
	if p.TrainFirst > 0 {
		s += fmt.Sprintf(" train-first=%d", p.TrainFirst)
	}
	return s
}

// epochLine is the one-line summary of an epoch printed to stdout.
func epochLine(r epochRow, epochs int, ln layerNames) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d/%d: train loss %.4f acc %.2f%%", r.Epoch, epochs, r.TrainLoss, 100*r.TrainAcc)
	if !math.IsNaN(float64(r.TestAcc)) {
		fmt.Fprintf(&b, " | test loss %.4f acc %.2f%%", r.TestLoss, 100*r.TestAcc)
	}
	fmt.Fprintf(&b, " | %.1f s, %.0f samples/s", r.Seconds, r.SamplesPerSec)
	if len(ln.Binary) > 0 {
		b.WriteString(" | flips/step")
		for _, n := range ln.Binary {
			fmt.Fprintf(&b, " %s %.3f%%", n, 100*get(r.Flips, n))
		}
	}
	if len(ln.LIF) > 0 {
		b.WriteString(" | firing")
		for _, n := range ln.LIF {
			fmt.Fprintf(&b, " %.3f", get(r.Firing, n))
		}
	}
	return b.String()
}

func finalLine(res *result, finetuning bool) string {
	var b strings.Builder
	if finetuning {
		fmt.Fprintf(&b, "fine-tuned: test accuracy %.2f%% → %.2f%% (%d test samples)", 100*res.BeforeAcc, 100*res.TestAcc, res.Test)
	} else {
		fmt.Fprintf(&b, "done: test accuracy %.2f%% (%d test samples)", 100*res.TestAcc, res.Test)
	}
	fmt.Fprintf(&b, ", wall time %.1f s (training steps %.1f s, %.0f samples/s)", res.WallSeconds, res.TrainSeconds, res.SamplesPerS)
	if res.PeakRSS > 0 {
		fmt.Fprintf(&b, ", peak RSS %.1f MiB", float64(res.PeakRSS)/(1<<20))
	}
	if res.Model != "" {
		fmt.Fprintf(&b, "; model written to %s", res.Model)
	}
	return b.String()
}
