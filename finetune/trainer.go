package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bsnn/bsnn/data"
)

// Source yields batches: training batches in an order that depends only on
// (epoch, batch index), which is what makes a resumed run bit-identical.
type Source interface {
	// Batches returns the number of batches per epoch.
	Batches() int
	// Batch returns batch k of an epoch: samples of Net.InputLen() floats
	// each, and their labels. The slices may be reused by the next call.
	Batch(epoch, k int) (x []float32, labels []int, err error)
}

// BatcherSource adapts a data.Batcher (whose samples are laid out as
// Net.TrainStep expects: [step][C][H][W] per sample).
func BatcherSource(b *data.Batcher) Source { return &batcherSource{b: b} }

type batcherSource struct {
	b   *data.Batcher
	buf data.Batch
}

func (s *batcherSource) Batches() int { return s.b.Batches() }

func (s *batcherSource) Batch(epoch, k int) ([]float32, []int, error) {
	if err := s.b.Fill(&s.buf, epoch, k); err != nil {
		return nil, nil, err
	}
	size := data.SampleSize(s.b.Data())
	return s.buf.X[:s.buf.N*size], s.buf.Labels[:s.buf.N], nil
}

// EpochStats is what one epoch measured: loss, accuracy, and the sign-flip,
// firing-rate and gate statistics that show whether AGMM is doing its job.
type EpochStats struct {
	Epoch   int     // counted from 0
	Steps   int     // training steps in the epoch
	Samples int     // training samples
	Seconds float64 // wall time of the training steps (after a resume: of this session's part)
	LR      float32 // base learning rate of the last step

	TrainLoss, TrainAcc float64 // over the epoch's batches, as trained
	HasTest             bool
	TestLoss, TestAcc   float64 // evaluation mode, on the test source

	// Per LIF layer (Net.LIFNames): mean firing rate over the training
	// steps, and on the test source.
	Firing, TestFiring []float64
	// Per binary layer (Net.BinaryNames): the per-iteration flip rate
	// averaged over the epoch, the fraction of weights whose sign differs
	// between the start and the end of the epoch, and the latent-weight
	// gradient's mean and standard deviation averaged over the steps.
	Flips, EpochFlips []float64
	GradMean, GradStd []float64
	// Alpha holds every AGMM gate's α[t] at the end of the epoch
	// (Net.GateNames).
	Alpha [][]float32
}

// EvalSummary is the outcome of evaluating a whole source.
type EvalSummary struct {
	Loss, Acc float64
	Samples   int
	Firing    []float64 // per LIF layer, weighted by samples
}

// EvaluateSource evaluates the network on every batch of src (epoch 0).
func (n *Net) EvaluateSource(src Source) (EvalSummary, error) {
	var s EvalSummary
	var loss float64
	var correct int
	for k := 0; k < src.Batches(); k++ {
		x, y, err := src.Batch(0, k)
		if err != nil {
			return s, err
		}
		st, err := n.Evaluate(x, y)
		if err != nil {
			return s, err
		}
		loss += st.Loss * float64(st.Samples)
		correct += st.Correct
		if s.Firing == nil {
			s.Firing = make([]float64, len(st.Firing))
		}
		for i, f := range st.Firing {
			s.Firing[i] += f * float64(st.Samples)
		}
		s.Samples += st.Samples
	}
	if s.Samples > 0 {
		s.Loss, s.Acc = loss/float64(s.Samples), float64(correct)/float64(s.Samples)
		for i := range s.Firing {
			s.Firing[i] /= float64(s.Samples)
		}
	}
	return s, nil
}

// Trainer runs epochs of training with checkpoints and hooks.
type Trainer struct {
	Net   *Net
	Train Source
	Test  Source // nil: no evaluation
	// Epochs is the number of epochs of the whole run; a resumed network
	// continues from its Position.
	Epochs int
	// Checkpoint is written (atomically) after every epoch and when Run is
	// interrupted; "" disables checkpoints.
	Checkpoint string
	// OnStep runs after every training step (progress display); an error
	// stops the run.
	OnStep func(epoch, batch, batches int, st StepStats) error
	// OnEpoch runs after every epoch, before its checkpoint is written.
	OnEpoch func(EpochStats) error
}

// epochAcc accumulates an epoch's statistics; it is kept in the
// checkpoint's metadata so an epoch interrupted and resumed reports the
// whole epoch.
type epochAcc struct {
	Steps, Samples, Correct int
	Loss                    float64
	Firing, Flips           []float64
	GradMean, GradStd       []float64
	Signs                   [][]uint64
	Seconds                 float64
	LR                      float32
}

const trainerMeta = "finetune.trainer"

func addTo(dst *[]float64, v []float64, w float64) {
	if *dst == nil {
		*dst = make([]float64, len(v))
	}
	for i, x := range v {
		(*dst)[i] += x * w
	}
}

func (a *epochAcc) add(st StepStats) {
	a.Steps++
	a.Samples += st.Samples
	a.Correct += st.Correct
	a.Loss += st.Loss * float64(st.Samples)
	addTo(&a.Firing, st.Firing, 1)
	addTo(&a.Flips, st.Flips, 1)
	addTo(&a.GradMean, st.GradMean, 1)
	addTo(&a.GradStd, st.GradStd, 1)
	a.LR = st.LR
}

func scaled(v []float64, d float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / d
	}
	return out
}

// Run trains from the network's position to the end of epoch Epochs−1.
// When ctx is cancelled (Ctrl-C), it finishes the current step, writes a
// checkpoint at the current position and returns ctx.Err(). A failed step
// (a NaN loss) returns its error without writing a checkpoint, so the last
// good one stays.
func (t *Trainer) Run(ctx context.Context) error {
	n := t.Net
	nb := t.Train.Batches()
	if nb == 0 {
		return fmt.Errorf("finetune: the training source has no batches")
	}
	if n.cfg.Optim.TotalSteps == 0 {
		n.cfg.Optim.TotalSteps = t.Epochs * nb
	}
	epoch, k := n.Position()
	var acc epochAcc
	if k > 0 {
		if s, ok := n.Meta[trainerMeta]; ok {
			if err := json.Unmarshal([]byte(s), &acc); err != nil {
				return fmt.Errorf("finetune: checkpoint metadata: %w", err)
			}
		}
	}
	save := func() error {
		if t.Checkpoint == "" {
			return nil
		}
		return n.SaveCheckpoint(t.Checkpoint)
	}
	for ; epoch < t.Epochs; epoch++ {
		if k == 0 {
			acc = epochAcc{}
		}
		if acc.Signs == nil {
			// The epoch's start (or, resuming a checkpoint without the
			// trainer's record, the resume point) for the epoch-to-epoch
			// flip rate.
			acc.Signs = n.Signs()
		}
		start := time.Now()
		for ; k < nb; k++ {
			if err := ctx.Err(); err != nil {
				acc.Seconds += time.Since(start).Seconds()
				b, jerr := json.Marshal(acc)
				if jerr != nil {
					return jerr
				}
				n.SetPosition(epoch, k)
				if n.Meta == nil {
					n.Meta = map[string]string{}
				}
				n.Meta[trainerMeta] = string(b)
				if serr := save(); serr != nil {
					return fmt.Errorf("%w (and the checkpoint failed: %v)", err, serr)
				}
				return err
			}
			x, y, err := t.Train.Batch(epoch, k)
			if err != nil {
				return fmt.Errorf("finetune: epoch %d batch %d: %w", epoch, k, err)
			}
			st, err := n.TrainStep(x, y)
			if err != nil {
				return fmt.Errorf("finetune: epoch %d batch %d: %w", epoch, k, err)
			}
			acc.add(st)
			n.SetPosition(epoch, k+1)
			if t.OnStep != nil {
				if err := t.OnStep(epoch, k, nb, st); err != nil {
					return err
				}
			}
		}
		acc.Seconds += time.Since(start).Seconds()
		es, err := t.finish(epoch, &acc)
		if err != nil {
			return err
		}
		if t.OnEpoch != nil {
			if err := t.OnEpoch(es); err != nil {
				return err
			}
		}
		k = 0
		n.SetPosition(epoch+1, 0)
		delete(n.Meta, trainerMeta)
		if err := save(); err != nil {
			return err
		}
	}
	return nil
}

// finish turns an epoch's accumulators into its statistics and evaluates
// the test source.
func (t *Trainer) finish(epoch int, a *epochAcc) (EpochStats, error) {
	n := t.Net
	st := EpochStats{Epoch: epoch, Steps: a.Steps, Samples: a.Samples, Seconds: a.Seconds, LR: a.LR, Alpha: n.Alphas()}
	if a.Samples > 0 {
		st.TrainLoss = a.Loss / float64(a.Samples)
		st.TrainAcc = float64(a.Correct) / float64(a.Samples)
	}
	if a.Steps > 0 {
		d := float64(a.Steps)
		st.Firing, st.Flips = scaled(a.Firing, d), scaled(a.Flips, d)
		st.GradMean, st.GradStd = scaled(a.GradMean, d), scaled(a.GradStd, d)
	}
	var err error
	if st.EpochFlips, err = n.FlipsSince(a.Signs); err != nil {
		return st, err
	}
	if t.Test != nil {
		ev, err := n.EvaluateSource(t.Test)
		if err != nil {
			return st, fmt.Errorf("finetune: epoch %d: test: %w", epoch, err)
		}
		st.HasTest, st.TestLoss, st.TestAcc, st.TestFiring = true, ev.Loss, ev.Acc, ev.Firing
	}
	return st, nil
}
