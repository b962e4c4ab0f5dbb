// Package finetune trains binary spiking neural networks with the AGMM gate
// (adaptive gradient modulation: a learnable gain, set by each sample's own
// statistics, before the LIF of every binary layer; it scales the gradient
// that reaches the binary weights, so their latent values flip sign less
// often), from scratch or starting from a deployed .bsnn model, on the same
// packed-bit kernels the runtime uses.
//
// # API
//
//	cfg := finetune.DefaultConfig(finetune.PresetMNIST) // or any arch.Names() entry
//	net, err := finetune.NewNet(cfg)                    // fresh weights from cfg.Seed
//	net, err := finetune.FromModel(m, finetune.DefaultConfig(finetune.PresetModel)) // fine-tune a model.Model
//	st, err := net.TrainStep(x, labels)                 // one step; StepStats
//	ev, err := net.Evaluate(x, labels)                  // evaluation mode; EvalStats
//	m, err := net.Export(model.Provenance{...})         // model.Model, BN folded
//	err = net.SaveCheckpoint(path)                      // atomic
//	net, err = finetune.LoadCheckpoint(path, threads, kernels)
//	err = (&finetune.Trainer{Net: net, Train: src, Test: test, Epochs: 5, Checkpoint: path}).Run(ctx)
//
// A batch x holds len(labels) samples of Net.InputLen() floats: C×H×W pixel
// values in [0,1] for direct and rate encoding (the network normalizes with
// the input's mean and std, as the runtime does), T×C×H×W event frames for
// event input — the layout of the data package's batches.
//
// # Network
//
// A Net is a graph of layers that mirrors model.Model layer for layer: it is
// built from a model.Model graph (model/arch's for NewNet, the loaded model's
// for FromModel). Its nodes are conv2d and linear layers, full precision or binary, each with
// an optional BatchNorm (statistics over T·B·H·W, shared by all steps;
// PyTorch's momentum 0.1 and ε 1e-5) that Export folds into the layer's
// Scale/Bias; AGMM gates; LIF layers; average, max and global average pools;
// Add (Bi-Real shortcuts); flatten; and the readout, whose T-mean logits feed
// the cross-entropy loss. Activations are [T][B][C][H][W] float32; a tensor
// that is the same at every step (a directly encoded image and the stem conv
// and BatchNorm computed from it) is stored and computed once.
//
// Binary layers keep latent float32 weights w. Forward: w_b = α_o·sign(w),
// α_o = mean|w| over the output channel's fan-in; the accumulator is the
// exact integer AND-popcount of packed spikes against packed weight signs
// (bitops kernels, im2col over the channel-packed NHWC spikes), times α_o.
// Backward (BPTT over T): exact float math, dW_b = Σ dy ⊗ spikes adding only
// where a spike is 1, dIn = W_b^T dy, and the binarization's gradient through
// α_o and the straight-through estimator masked at |w| > 1
// (tools/pyref/bsnnref.binarize).
//
// The architectures are model/arch's (Config.Preset is a name of its
// registry: PresetMNIST, PresetVGGSmall, PresetResNet19, vgg11, resnet18),
// trained with a BatchNorm after every conv and a bias on the classifier, as
// arch.StateDictKeys names them. Widths and blocks are configurable.
//
// # Exactness
//
// Evaluation (BatchNorm with running statistics) computes exactly what
// model/model.go defines for the exported model, in the same operation
// order: the runtime and runtime/reference reproduce Evaluate's logits bit
// for bit (export_test.go). A training forward differs only by using batch
// statistics (or, with BNConfig.Frozen, is again bit-identical).
//
// Results do not depend on the number of threads: every reduction runs in
// an order fixed by the data shapes, and the AVX2 kernels of
// finetune/internal/f32 compute bit for bit what their generic Go twins do
// (no fused multiply-add), so a run is reproducible from its seed, and a
// resumed run is bit-identical to an uninterrupted one.
//
// # Gradient parity
//
// tools/pyref/gradref.py builds small networks (the FP conv → BN →
// LIF → binary conv → BN → AGMM → LIF → pool → FC at T=3, batch 4, for hard
// and soft reset, AGMM on and off, detached gate, every statistic, fixed α,
// sigmoid surrogate with detached reset, max pool, event input, a binary
// linear layer and a Bi-Real block) with the bsnnref layers, and writes their
// inputs, parameters, loss, logits, gradients and running statistics to
// testdata/gradref.json. TestGradientParityWithPyTorch requires every
// gradient to match with ‖g_Go − g_PyTorch‖₂ ≤ 1e-4·‖g_PyTorch‖₂ (a
// norm-relative error: single entries near zero differ in their last bits
// by cancellation, which a per-element relative error would flag). The
// measured errors are around 1e-7 to 1e-6. Regenerate the fixture with
// /usr/bin/python3 tools/pyref/gradref.py; it redraws a case until no
// membrane potential lies within 1e-4 of V_th, so Go and PyTorch see the
// same spikes.
//
// # Fine-tuning from a model
//
// FromModel maps a model.Model back to a trainable graph: binary weights
// become latent ±a with a a power of two, each conv gets a BatchNorm with
// running mean 0 and running variance 1 − ε and γ = Scale/a, β = Bias, so
// the folded affine is reproduced exactly and the untuned network predicts
// exactly what the model does. DefaultConfig(PresetModel) freezes the
// BatchNorm statistics (γ and β still train), which keeps training forwards
// equal to the model too.
//
// # Optimizers and instrumentation
//
// SGD with momentum (optionally Nesterov) and Adam, PyTorch's update rules;
// coupled (L2) or decoupled weight decay on conv/linear weights; constant or
// cosine schedule with linear warm-up; learning-rate factors per parameter
// group (GroupBinary, GroupFP, GroupBN, GroupAlpha), so "binary layers at a
// lower learning rate" is one setting; OptimConfig.TrainLast freezes all but
// the last k conv/linear layers. Every step reports the loss, accuracy,
// firing rate per LIF layer, sign-flip rate per binary layer, gradient mean
// and standard deviation of each binary layer's latent weights and every
// gate's α[t] (StepStats); the Trainer aggregates them per epoch, adds the
// epoch-to-epoch flip rate and the test metrics (EpochStats).
//
// # Checkpoints and failures
//
// SaveCheckpoint writes weights, BatchNorm running statistics, optimizer
// state, step, position, generator state, configuration and architecture
// to a temporary file in the target directory, syncs it and renames it over
// the target. A corrupt, truncated or foreign file, or a checkpoint of a
// different architecture, is a *CheckpointError that says which. A NaN or
// Inf in the loss or a gradient is a *NonFiniteError naming the step and
// the first layer where it appears; the failed step changes nothing.
package finetune
