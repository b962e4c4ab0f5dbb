package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/model"
)

// TestMain runs main() instead of the tests when the scenario (or the
// signal test) starts this test binary as its child process.
func TestMain(m *testing.M) {
	if os.Getenv("BSNN_TRAIN_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	cacheData()
	os.Exit(m.Run())
}

// tiny is a training configuration that runs in well under a second: 128
// MNIST images, narrow layers, T = 2, 4 steps per epoch.
var tiny = []string{"-data", "mnist", "-train-n", "128", "-test-n", "64", "-batch", "32", "-widths", "2,4,4", "-T", "2",
	"-epochs", "2", "-progress", "none", "-threads", "2"}

func args(extra ...string) []string { return append(append([]string{}, tiny...), extra...) }

type out struct{ stdout, stderr bytes.Buffer }

// call runs the command in-process.
func call(t *testing.T, e *env, a ...string) (*out, *result, error) {
	t.Helper()
	var o out
	if e == nil {
		e = &env{ctx: context.Background()}
	}
	e.stdout, e.stderr = &o.stdout, &o.stderr
	var res *result
	var err error
	if len(a) > 0 && (a[0] == "study" || a[0] == "scenario") {
		err = run(e, a)
	} else {
		res, err = train(e, a)
	}
	return &o, res, err
}

func needMNIST(t *testing.T) {
	t.Helper()
	if _, err := loadIDXSet("mnist", data.Test); err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
}

func mustTrain(t *testing.T, a ...string) *result {
	t.Helper()
	o, res, err := call(t, &env{ctx: context.Background(), noPlots: true}, a...)
	if err != nil {
		t.Fatalf("bsnn-train %s: %v\nstderr:\n%s", strings.Join(a, " "), err, o.stderr.String())
	}
	return res
}

// mustNet builds the tiny configuration's network (for its layer names).
func mustNet(t *testing.T) *finetune.Net {
	t.Helper()
	cfg := finetune.DefaultConfig(finetune.PresetMNIST)
	cfg.Widths, cfg.Input.Timesteps = []int{2, 4, 4}, 2
	n, err := finetune.NewNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// untimed returns the metrics rows as JSON without the timing fields,
// which are the only ones allowed to differ between identical runs.
func untimed(t *testing.T, rows []epochRow) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		r.Seconds, r.SamplesPerSec, r.CPUSeconds, r.EvalSeconds, r.Resumed = 0, 0, 0, 0, false
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestTrainOutputs(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	runDir, path := filepath.Join(dir, "run"), filepath.Join(dir, "m.bsnn")
	// The charts are drawn by the last epoch only here (-stop-after and a
	// resume would draw them twice): rendering is the slow part under -race.
	o, res, err := call(t, &env{ctx: context.Background(), noPlots: raceEnabled}, args("-run-dir", runDir, "-out", path, "-report", filepath.Join(dir, "r.json"))...)
	if err != nil {
		t.Fatalf("%v\n%s", err, o.stderr.String())
	}
	if !res.Finished || len(res.Epochs) != 2 || math.IsNaN(float64(res.TestAcc)) {
		t.Fatalf("result %+v", res)
	}
	rows, err := readMetrics(runDir)
	if err != nil || len(rows) != 2 {
		t.Fatalf("metrics.jsonl: %d rows, %v", len(rows), err)
	}
	r := rows[1]
	if r.Epoch != 2 || r.Steps != 4 || r.Samples != 128 || len(r.Firing) != 3 || len(r.Flips) != 2 || len(r.EpochFlips) != 2 ||
		len(r.GradStd) != 2 || len(r.Alpha) != 2 || len(r.Alpha["agmm2"]) != 2 || !(r.SamplesPerSec > 0) {
		t.Errorf("epoch row %+v", r)
	}
	csvText := string(readFile(t, filepath.Join(runDir, metricsCSV)))
	lines := strings.Split(strings.TrimSpace(csvText), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "flips_conv2") || !strings.Contains(lines[0], "alpha_agmm3_t1") ||
		strings.Count(lines[0], ",") != strings.Count(lines[2], ",") {
		t.Errorf("metrics.csv:\n%s", csvText)
	}
	if raceEnabled {
		// Charts of the two epochs, drawn once.
		if err := writePlots(runDir, rows, namesOf(mustNet(t))); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"accuracy.png", "loss.png", "flips.png", "flips-epoch.png", "firing.png"} {
		if _, err := png.Decode(bytes.NewReader(readFile(t, filepath.Join(runDir, name)))); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	m, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Provenance
	if p.Source != "bsnn-train" || p.Dataset != "mnist" || p.Accuracy != float32(res.TestAcc) || !strings.Contains(p.AGMM, "spatial") ||
		!strings.HasPrefix(p.ToolVersion, "bsnn-train") {
		t.Errorf("provenance %+v", p)
	}
	var cmd string
	for _, kv := range p.Extra {
		if kv.Key == "command" {
			cmd = kv.Value
		}
	}
	if !strings.Contains(cmd, "-train-n=128") || !strings.Contains(cmd, "-widths=2,4,4") || strings.Contains(cmd, "-run-dir") || strings.Contains(cmd, "-threads") {
		t.Errorf("recorded command %q", cmd)
	}
	rep, err := readResult(filepath.Join(dir, "r.json"))
	if err != nil || rep == nil || rep.TestAcc != res.TestAcc || len(rep.Epochs) != 2 {
		t.Errorf("report %+v, %v", rep, err)
	}
}

// TestDeterministic: the same command twice gives the same metrics
// (timings aside) and the same model bytes, and so does another thread
// count.
func TestDeterministic(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	runDir, path := filepath.Join(dir, "run"), filepath.Join(dir, "m.bsnn")
	var metrics []string
	var models [][]byte
	threadCounts := []string{"2", "2", "1"}
	if raceEnabled {
		threadCounts = threadCounts[1:] // thread independence implies repeatability
	}
	for _, threads := range threadCounts {
		os.RemoveAll(runDir)
		mustTrain(t, args("-run-dir", runDir, "-out", path, "-threads", threads, "-aug-shift", "1")...)
		rows, err := readMetrics(runDir)
		if err != nil {
			t.Fatal(err)
		}
		metrics = append(metrics, untimed(t, rows))
		models = append(models, readFile(t, path))
	}
	for i := 1; i < len(models); i++ {
		if metrics[i] != metrics[0] {
			t.Errorf("run %d metrics differ:\n%s\nvs\n%s", i, metrics[i], metrics[0])
		}
		if !bytes.Equal(models[i], models[0]) {
			t.Errorf("run %d model bytes differ", i)
		}
	}
}

// TestResume: 2 epochs in one go, or 1 epoch (-stop-after) and a resumed
// second, or interrupted mid-epoch (as Ctrl-C does) and resumed: the same
// model bytes and metrics.
func TestResume(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	want := filepath.Join(dir, "want.bsnn")
	mustTrain(t, args("-run-dir", filepath.Join(dir, "want"), "-out", want)...)
	wantRows, _ := readMetrics(filepath.Join(dir, "want"))

	check := func(name, runDir, path string) {
		t.Helper()
		if !bytes.Equal(readFile(t, path), readFile(t, want)) {
			t.Errorf("%s: the resumed model differs from the uninterrupted one", name)
		}
		rows, err := readMetrics(runDir)
		if err != nil {
			t.Fatal(err)
		}
		if got, w := untimed(t, rows), untimed(t, wantRows); got != w {
			t.Errorf("%s: metrics differ:\n%s\nvs\n%s", name, got, w)
		}
	}

	// Stopped after one epoch, then resumed with only the session flags.
	run1, out1 := filepath.Join(dir, "stop"), filepath.Join(dir, "stop.bsnn")
	res := mustTrain(t, args("-run-dir", run1, "-out", out1, "-stop-after", "1")...)
	if res.Finished {
		t.Fatal("-stop-after 1 finished the run")
	}
	if _, err := os.Stat(out1); err == nil {
		t.Fatal("a model was written before the run finished")
	}
	// A row of an epoch the checkpoint does not hold (written just before a
	// crash) is dropped on resume.
	f, err := os.OpenFile(filepath.Join(run1, metricsJSONL), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"epoch":2,"train_loss":99}` + "\n")
	f.Close()
	mustTrain(t, "-run-dir", run1, "-resume", "-out", out1, "-progress", "none", "-threads", "1")
	check("-stop-after", run1, out1)

	// Interrupted at epoch 1, batch 2 through the context, as SIGINT does.
	run2, out2 := filepath.Join(dir, "int"), filepath.Join(dir, "int.bsnn")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := &env{ctx: ctx, noPlots: true, onStep: func(epoch, batch int) {
		if epoch == 1 && batch == 1 {
			cancel()
		}
	}}
	o, _, err := call(t, e, args("-run-dir", run2, "-out", out2)...)
	if !errors.Is(err, errInterrupted) || !strings.Contains(err.Error(), "-resume") {
		t.Fatalf("interrupted run: %v\n%s", err, o.stderr.String())
	}
	mustTrain(t, "-run-dir", run2, "-resume", "-out", out2, "-progress", "none")
	check("interrupt", run2, out2)
	rows, _ := readMetrics(run2)
	if !rows[1].Resumed {
		t.Error("the epoch resumed mid-way is not marked resumed")
	}
}

func TestResumeErrors(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	mustTrain(t, args("-run-dir", runDir, "-stop-after", "1")...)
	ckpt := filepath.Join(runDir, checkpointFile)
	good := readFile(t, ckpt)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{args("-run-dir", runDir), "already holds a run's checkpoint"},
		{[]string{"-run-dir", runDir, "-resume", "-lr", "0.5", "-seed", "1"}, "-lr 0.5 (the run has 0)"},
		{[]string{"-resume"}, "-resume needs -run-dir"},
		{[]string{"-run-dir", filepath.Join(dir, "none"), "-resume"}, "cannot resume"},
	} {
		_, _, err := call(t, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
	// A corrupt checkpoint is named as such, and left as it is.
	bad := append([]byte{}, good...)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(ckpt, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := call(t, nil, "-run-dir", runDir, "-resume")
	if err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Errorf("corrupt checkpoint: %v", err)
	}
	if err := os.WriteFile(ckpt, good[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := call(t, nil, "-run-dir", runDir, "-resume"); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Errorf("truncated checkpoint: %v", err)
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-arch", "lenet"}, "-arch \"lenet\""},
		{[]string{"-data", "cifar"}, "-data \"cifar\""},
		{[]string{"-data", "folder:"}, "folder:DIR"},
		{[]string{"-data", "mnist:/x"}, "takes no directory"},
		{[]string{"-widths", "8,8"}, "3 comma-separated"},
		{[]string{"-widths", "8,0,8"}, "not a positive integer"},
		{[]string{"-blocks", "1,1,1"}, "-blocks applies to"},
		{[]string{"-opt", "rmsprop"}, "-opt"},
		{[]string{"-agmm", "maybe"}, "-agmm"},
		{[]string{"-agmm-stat", "max"}, "-agmm-stat"},
		{[]string{"-agmm-alpha", "random"}, "-agmm-alpha"},
		{[]string{"-reset", "none"}, "-reset"},
		{[]string{"-surrogate", "relu"}, "-surrogate"},
		{[]string{"-epochs", "0"}, "-epochs 0"},
		{[]string{"-batch", "0"}, "-batch 0"},
		{[]string{"-T", "2000"}, "-T 2000"},
		{[]string{"-lr", "-1"}, "-lr"},
		{[]string{"-momentum", "1"}, "-momentum"},
		{[]string{"-transform", "blur"}, "-transform"},
		{[]string{"-transform", "rotate=x"}, "not a number"},
		{[]string{"-train-last", "2"}, "fine-tuning"},
		{[]string{"-train-first", "1"}, "fine-tuning"},
		{[]string{"-train-first", "-1"}, "negative"},
		{[]string{"-latent-scale", "0.0078125"}, "fine-tuning"},
		{[]string{"-finetune", "m.bsnn", "-latent-scale", "0.01"}, "power of two"},
		{[]string{"-finetune", "m.bsnn", "-latent-scale", "-0.5"}, "power of two"},
		{[]string{"-progress", "fancy"}, "-progress"},
		{[]string{"-kernels", "sse9"}, "sse9"},
		{[]string{"-threads", "-2"}, "-threads"},
		{[]string{"-stop-after", "-1"}, "-stop-after"},
		{[]string{"-bogus"}, "bogus"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"study"}, "-dir is required"},
		{[]string{"study", "-dir", "x", "-variants", "sgd,rmsprop"}, "unknown variant"},
		{[]string{"study", "-dir", "x", "-binary-factor", "-1"}, "-binary-factor"},
		{[]string{"study", "-dir", "x", "-train-flags", "-opt rmsprop"}, "-opt"},
		{[]string{"scenario"}, "-dir is required"},
		{[]string{"scenario", "-dir", "x", "-shift", "none"}, "no domain shift"},
		{[]string{"scenario", "-dir", "x", "-n", "0"}, "-n 0"},
	} {
		_, _, err := call(t, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
	// -h prints the usage and is not an error.
	o, _, err := call(t, nil, "-h")
	if err != nil || !strings.Contains(o.stderr.String(), "-agmm-detach") {
		t.Errorf("-h: %v\n%s", err, o.stderr.String())
	}
}

func TestMissingData(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"folder:" + filepath.Join(dir, "none"), "nmnist:" + filepath.Join(dir, "none")} {
		_, _, err := call(t, nil, "-data", d, "-progress", "none")
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "none")) {
			t.Errorf("-data %s: %v, want an error naming the path", d, err)
		}
	}
	t.Setenv(data.EnvFashionDir, filepath.Join(dir, "none"))
	if _, err := os.Stat(data.FashionSystemDir); err != nil {
		_, _, err := call(t, nil, "-data", "fashion", "-progress", "none")
		if !errors.Is(err, data.ErrMissing) {
			t.Errorf("-data fashion without the files: %v, want data.ErrMissing", err)
		}
	}
}

// TestDiverged: an overflowing gate stops the run at its first step with
// the library's error (step and layer) and says nothing was checkpointed.
func TestDiverged(t *testing.T) {
	needMNIST(t)
	runDir := filepath.Join(t.TempDir(), "run")
	_, _, err := call(t, nil, args("-agmm-alpha", "fixed", "-agmm-alpha-init", "3e38", "-run-dir", runDir)...)
	if err == nil || !strings.Contains(err.Error(), "diverged") || !strings.Contains(err.Error(), "step 0") ||
		!strings.Contains(err.Error(), "agmm2") || !strings.Contains(err.Error(), "holds no checkpoint") {
		t.Errorf("diverging run: %v", err)
	}
}

// writeFolder makes an image folder data set: class a is dark squares,
// class b light ones, n of each.
func writeFolder(t *testing.T, dir string, n int) {
	t.Helper()
	for ci, class := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			img := image.NewGray(image.Rect(0, 0, 12, 12))
			for p := range img.Pix {
				img.Pix[p] = uint8(20 + 160*ci + (p*7+i*13)%60)
			}
			img.SetGray(i%12, (i/12)%12, color.Gray{Y: 255})
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, class, string(rune('a'+i%26))+string(rune('a'+i/26))+".png"), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestFolderAndFinetune(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	folder := filepath.Join(dir, "imgs")
	writeFolder(t, folder, 40)
	res := mustTrain(t, "-data", "folder:"+folder, "-shape", "1,12,12", "-batch", "16", "-widths", "2,4,4", "-T", "2",
		"-epochs", "1", "-progress", "none", "-test-fraction", "0.25")
	if res.Train != 60 || res.Test != 20 {
		t.Errorf("folder split %d/%d, want 60/20", res.Train, res.Test)
	}

	base := filepath.Join(dir, "base.bsnn")
	mustTrain(t, args("-out", base)...)
	tuned := filepath.Join(dir, "tuned.bsnn")
	o, res, err := call(t, nil, "-finetune", base, "-data", "mnist", "-transform", "invert", "-train-n", "64", "-test-n", "64",
		"-batch", "32", "-epochs", "1", "-train-last", "2", "-progress", "none", "-out", tuned)
	if err != nil {
		t.Fatalf("fine-tuning: %v\n%s", err, o.stderr.String())
	}
	if math.IsNaN(float64(res.BeforeAcc)) || math.IsNaN(float64(res.TestAcc)) || !strings.Contains(o.stdout.String(), "fine-tuned: test accuracy") {
		t.Errorf("fine-tuning result %+v\n%s", res, o.stdout.String())
	}
	if _, err := peakRSS(); err == nil && res.PeakRSS <= 0 {
		t.Errorf("peak RSS %d", res.PeakRSS)
	}
	m, err := model.Load(tuned)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Provenance.Source, "bsnn-train -finetune") || m.Provenance.Dataset != "mnist (invert)" {
		t.Errorf("provenance %+v", m.Provenance)
	}
	// The model takes 1×28×28 images; a 12×12 folder does not fit.
	_, _, err = call(t, nil, "-finetune", base, "-data", "folder:"+folder, "-shape", "1,12,12", "-progress", "none")
	if err == nil || !strings.Contains(err.Error(), "1×28×28") {
		t.Errorf("shape mismatch: %v", err)
	}
	if _, _, err := call(t, nil, "-finetune", base, "-T", "3", "-progress", "none"); err == nil || !strings.Contains(err.Error(), "T = 2") {
		t.Errorf("-T on a fine-tuned model: %v", err)
	}
	if _, _, err := call(t, nil, "-finetune", filepath.Join(dir, "none.bsnn")); err == nil || !strings.Contains(err.Error(), "none.bsnn") {
		t.Errorf("missing model: %v", err)
	}
}

func TestStudy(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	a := []string{"study", "-dir", dir, "-data", "mnist", "-variants", "sgd,sgd-lowlr", "-seeds", "1", "-epochs", "1",
		"-train-n", "64", "-test-n", "32", "-batch", "32", "-widths", "2,4,4", "-T", "2", "-probe", "2", "-progress", "none", "-threads", "2"}
	// Interrupted during its second run (as by Ctrl-C), the study stops;
	// the same command then resumes that run and finishes.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	o, _, err := call(t, &env{ctx: ctx, noPlots: true, onStep: func(int, int) {
		if steps++; steps == 3 {
			cancel()
		}
	}}, a...)
	if !errors.Is(err, errInterrupted) || !strings.Contains(err.Error(), "sgd-lowlr seed 1") {
		t.Fatalf("interrupted study: %v\n%s", err, o.stderr.String())
	}
	o, _, err = call(t, &env{ctx: context.Background(), noPlots: true}, a...)
	if err != nil || !strings.Contains(o.stderr.String(), "sgd-lowlr seed 1: resuming") || !strings.Contains(o.stderr.String(), "sgd seed 1: finished earlier") {
		t.Fatalf("study: %v\n%s", err, o.stderr.String())
	}
	var fp factorProbe
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, factorFile)), &fp); err != nil || !(fp.Factor > 0) || len(fp.Ratio) != 2 {
		t.Errorf("binary-factor.json: %+v, %v", fp, err)
	}
	md := string(readFile(t, filepath.Join(dir, "summary.md")))
	if !strings.Contains(md, "| sgd (no AGMM, SGD) | 1 |") || !strings.Contains(md, "sgd-lowlr") || !strings.Contains(md, "flips/iter conv2") ||
		!strings.Contains(md, "Budget: a fixed random 64 training images, the first 32 test images") {
		t.Errorf("summary.md:\n%s", md)
	}
	csvText := string(readFile(t, filepath.Join(dir, "summary.csv")))
	if n := strings.Count(csvText, "\n"); n != 3 {
		t.Errorf("summary.csv has %d lines:\n%s", n, csvText)
	}
	res, err := readResult(filepath.Join(dir, "sgd-lowlr", "seed1", "result.json"))
	if err != nil || res == nil || res.Options.LRBinary <= 0 || res.Options.LRBinary == 1 {
		t.Errorf("sgd-lowlr result %+v, %v", res, err)
	}
	for _, name := range []string{"study-accuracy.png", "study-flips.png", "study-firing.png"} {
		if _, err := png.Decode(bytes.NewReader(readFile(t, filepath.Join(dir, name)))); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Run again: every run is finished, nothing trains.
	o, _, err = call(t, nil, a...)
	if err != nil || strings.Contains(o.stdout.String(), "epoch 1/1") || strings.Count(o.stderr.String(), "finished earlier") != 2 {
		t.Errorf("second study run: %v\nstdout:\n%s\nstderr:\n%s", err, o.stdout.String(), o.stderr.String())
	}
}

func TestScenario(t *testing.T) {
	needMNIST(t)
	if testing.Short() || raceEnabled {
		t.Skip("starts a child process (slow with -short's qemu or -race)")
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base.bsnn")
	mustTrain(t, args("-out", base)...)
	o, _, err := call(t, nil, "scenario", "-dir", dir, "-model", base, "-shift", "rotate=30", "-n", "64", "-epochs", "1",
		"-batch", "32", "-test-n", "64", "-progress", "none", "-threads", "1")
	if err != nil {
		t.Fatalf("scenario: %v\n%s", err, o.stderr.String())
	}
	var r scenarioReport
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "scenario.json")), &r); err != nil {
		t.Fatal(err)
	}
	if r.TrainImages != 64 || r.TestImages != 64 || math.IsNaN(float64(r.BeforeAcc)) || math.IsNaN(float64(r.AfterAcc)) ||
		r.PeakRSSBytes <= 0 || r.WallSeconds <= 0 || !strings.Contains(r.Command, "-transform rotate=30") ||
		math.IsNaN(float64(r.OriginalBefore)) || math.IsNaN(float64(r.OriginalAfter)) {
		t.Errorf("scenario report %+v", r)
	}
	if md := o.stdout.String(); !strings.Contains(md, "accuracy after") || !strings.Contains(md, "peak RSS") || !strings.Contains(md, "original-domain") {
		t.Errorf("scenario output:\n%s", md)
	}
	if _, err := model.Load(filepath.Join(dir, "finetuned.bsnn")); err != nil {
		t.Error(err)
	}
}

// TestEventData trains on both event sources: MNIST through the saccade
// emulator, and a small folder in N-MNIST's file format.
func TestEventData(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "dvs.bsnn")
	mustTrain(t, "-data", "dvs-mnist", "-train-n", "32", "-test-n", "16", "-batch", "16", "-widths", "2,4,4", "-T", "2",
		"-epochs", "1", "-progress", "none", "-out", path)
	m, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Input.Encoding != model.EncodingEvents || m.Input.Shape != (model.Shape{C: 2, H: 34, W: 34}) || m.Input.Timesteps != 2 {
		t.Errorf("dvs-mnist model input %+v", m.Input)
	}

	nm := filepath.Join(dir, "nmnist")
	for _, split := range []string{"Train", "Test"} {
		for c := 0; c < 2; c++ {
			d := filepath.Join(nm, split, string(rune('0'+c)))
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 8; i++ {
				var ev []data.Event
				for k := 0; k < 40; k++ {
					// Class 0 fires on the left half, class 1 on the right.
					ev = append(ev, data.Event{T: int64(1000 * k), X: uint16(c*17 + (k*5+i)%17), Y: uint16((k*3 + i) % 34), P: uint8(k % 2)})
				}
				var b bytes.Buffer
				if err := data.WriteNMNIST(&b, ev); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, string(rune('a'+i))+".bin"), b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	res := mustTrain(t, "-data", "nmnist:"+nm, "-batch", "8", "-widths", "2,4,4", "-T", "3", "-epochs", "1", "-progress", "none")
	if res.Train != 16 || res.Test != 16 {
		t.Errorf("N-MNIST folder: %d/%d samples, want 16/16", res.Train, res.Test)
	}
	t.Setenv(data.EnvNMNISTDir, nm)
	if _, _, err := call(t, &env{ctx: context.Background(), noPlots: true}, "-data", "nmnist", "-batch", "8", "-widths", "2,4,4", "-T", "3", "-epochs", "1", "-progress", "none"); err != nil {
		t.Errorf("-data nmnist with $%s: %v", data.EnvNMNISTDir, err)
	}
	if _, _, err := call(t, nil, "-data", "nmnist:"+nm, "-transform", "invert"); err == nil || !strings.Contains(err.Error(), "-transform") {
		t.Errorf("-transform on N-MNIST: %v", err)
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	p, err := newProgress("bar", &b, 2, 8)
	if err != nil {
		t.Fatal(err)
	}
	p.now = func() time.Time { return now }
	st := finetune.StepStats{Loss: 1, Correct: 16, Samples: 32}
	for k := 0; k < 4; k++ {
		p.step(0, k, 4, st)
		now = now.Add(time.Second)
	}
	s := b.String()
	if strings.Count(s, "\r") != 4 || !strings.Contains(s, "epoch 1/2 [====================] 100% 4/4 loss 1.0000 acc  50.0%") ||
		!strings.Contains(s, "ETA 0s (run 4s)") || strings.Contains(s, "\n") {
		t.Errorf("bar output %q", s)
	}
	b.Reset()
	p.clear()
	if s := b.String(); !strings.HasPrefix(s, "\r ") || !strings.HasSuffix(s, "\r") || strings.TrimSpace(s) != "" {
		t.Errorf("clear wrote %q", s)
	}

	// Lines: one every interval, and at the end of each epoch.
	b.Reset()
	p, _ = newProgress("lines", &b, 1, 100)
	p.now = func() time.Time { return now }
	for k := 0; k < 100; k++ {
		p.step(0, k, 100, st)
		now = now.Add(time.Second)
	}
	if n := strings.Count(b.String(), "\n"); n != 10 {
		t.Errorf("lines mode printed %d lines over 100 s at a 10 s interval, want 10:\n%s", n, b.String())
	}
	if p, err := newProgress("none", &b, 1, 1); p != nil || err != nil {
		t.Errorf("none: %v, %v", p, err)
	}
	var nilp *progress
	nilp.step(0, 0, 1, st) // a nil display ignores steps
	nilp.clear()
}

func TestExplainDivergence(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, checkpointFile)
	if err := os.WriteFile(ckpt, []byte("ckpt"), 0o644); err != nil {
		t.Fatal(err)
	}
	net, err := finetune.NewNet(finetune.DefaultConfig(finetune.PresetMNIST))
	if err != nil {
		t.Fatal(err)
	}
	net.SetPosition(3, 0)
	nf := &finetune.NonFiniteError{Step: 40, What: "loss", Layer: 3, Name: "agmm2", Where: "output"}
	err = explain(fmt.Errorf("finetune: epoch 3 batch 2: %w", nf), net, dir)
	if msg := err.Error(); !strings.Contains(msg, "step 40") || !strings.Contains(msg, "agmm2") ||
		!strings.Contains(msg, "(after epoch 3) is intact") || !errors.As(err, &nf) {
		t.Errorf("divergence message %q", msg)
	}
	if !errors.Is(explain(context.Canceled, net, ""), errInterrupted) {
		t.Error("a cancelled run is not reported as interrupted")
	}
}
