// Command bsnn-train trains binary spiking neural networks with the AGMM
// gate (package finetune) from scratch or by fine-tuning a .bsnn model, on
// MNIST, Fashion-MNIST, image folders or event data, and runs the two
// studies of the project: the Fashion-MNIST AGMM ablation (bsnn-train
// study) and the on-device fine-tuning scenario (bsnn-train scenario).
//
//	bsnn-train -arch mnist -data mnist -epochs 10 -T 4 -out mnist.bsnn -run-dir runs/mnist
//	bsnn-train -run-dir runs/mnist -resume
//	bsnn-train -finetune mnist.bsnn -data mnist -transform invert -train-n 2000 -epochs 2 -out inv.bsnn
//	bsnn-train study -dir runs/ablation -epochs 5
//	bsnn-train scenario -dir runs/scenario -model mnist.bsnn
//
// Results are deterministic for a given seed (and independent of -threads
// and -kernels): the same flags give the same metrics, except timings, and
// the same .bsnn bytes. A run interrupted by Ctrl-C (SIGINT or SIGTERM) or
// by -stop-after and continued with -resume ends bit-identical to an
// uninterrupted one. The exported model records the data set, the test
// accuracy, the AGMM settings, the tool version and the canonical command
// line (the training flags that differ from their defaults) in its
// provenance. See docs/training.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/bsnn/bsnn/tools/internal/cli"
)

func main() {
	if err := mainImpl(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bsnn-train: %v\n", err)
		os.Exit(1)
	}
}

// mainImpl runs the command; SIGINT and SIGTERM cancel the training
// context, which makes the trainer finish its step and save a checkpoint.
func mainImpl(args []string, stdout, stderr io.Writer) error {
	ctx, stop := cli.InterruptContext()
	defer stop()
	return run(&env{ctx: ctx, stdout: stdout, stderr: stderr}, args)
}

// env is what a command runs with: its context and output, and a seam for
// tests.
type env struct {
	ctx            context.Context
	stdout, stderr io.Writer
	// onStep, if set, runs after every training step (tests cancel the
	// context from it, as Ctrl-C would).
	onStep func(epoch, batch int)
	// noPlots skips the PNG charts (tests that do not look at them: the
	// charts are the slowest part of a tiny run under the race detector).
	noPlots bool
}

// run dispatches the subcommands.
func run(e *env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "study":
			return study(e, args[1:])
		case "scenario":
			return scenario(e, args[1:])
		}
	}
	_, err := train(e, args)
	return err
}

// errInterrupted marks a run stopped by its context (Ctrl-C) after saving
// its checkpoint.
var errInterrupted = errors.New("interrupted")

// toolVersion names the tool and, when the build recorded them, the module
// version and VCS revision.
func toolVersion() string {
	v := "bsnn-train"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v += " " + bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
			if s.Key == "vcs.modified" && s.Value == "true" {
				v += " (modified)"
			}
		}
	}
	return v
}
