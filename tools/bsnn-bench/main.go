// Command bsnn-bench measures bsnn on this machine. Each measurement is a
// subcommand:
//
//	bsnn-bench kernels [-kernels=NAME] [-threads=N] [-duration=D | -iters=N] [-json]
//
// kernels prints, per kernel set, binary-MAC throughput on a 3×3 256→256
// conv at 16×16, a 4096×4096 fully connected layer and a 10 % spike-rate
// sparse input, with the fraction of the popcount peak measured in the same
// run. Run "bsnn-bench help" for the list of subcommands and
// "bsnn-bench NAME -h" for the flags of one.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// A subcommand is one "bsnn-bench NAME ..." command. Each lives in its own
// file (kernels.go, and later model.go, train.go) and adds itself from that
// file's init with register, so new measurements need no edit here.
type subcommand struct {
	summary string
	// run parses args (the words after the subcommand name) with its own
	// flag.FlagSet and writes its report to stdout.
	run func(args []string) error
}

var subcommands = map[string]subcommand{}

// stdout receives the reports; tests redirect it.
var stdout io.Writer = os.Stdout

func register(name, summary string, run func(args []string) error) {
	if _, dup := subcommands[name]; dup {
		panic("bsnn-bench: subcommand " + name + " registered twice")
	}
	subcommands[name] = subcommand{summary: summary, run: run}
}

func main() {
	if err := mainImpl(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "bsnn-bench: %v\n", err)
		os.Exit(1)
	}
}

func mainImpl(args []string) error {
	if len(args) == 0 {
		usage()
		return fmt.Errorf("missing subcommand (one of %s)", strings.Join(names(), ", "))
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage()
		return nil
	}
	sc, ok := subcommands[args[0]]
	if !ok {
		return fmt.Errorf("unknown subcommand %q (known: %s)", args[0], strings.Join(names(), ", "))
	}
	if err := sc.run(args[1:]); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}

func names() []string {
	var n []string
	for name := range subcommands {
		n = append(n, name)
	}
	sort.Strings(n)
	return n
}

func usage() {
	w := os.Stderr
	fmt.Fprintf(w, "usage: bsnn-bench SUBCOMMAND [flags]\n\nsubcommands:\n")
	for _, name := range names() {
		fmt.Fprintf(w, "  %-10s %s\n", name, subcommands[name].summary)
	}
	fmt.Fprintf(w, "\nbsnn-bench SUBCOMMAND -h lists the flags of one.\n")
}
