//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bsnn/bsnn/finetune"
)

// TestSIGINT starts the command as a child process, interrupts it with
// SIGINT once it is training, and checks that it saved a resumable
// checkpoint and said so.
func TestSIGINT(t *testing.T) {
	needMNIST(t)
	if testing.Short() || raceEnabled {
		t.Skip("starts a child process (slow with -short's qemu or -race)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	runDir := filepath.Join(t.TempDir(), "run")
	a := args("-train-n", "2048", "-run-dir", runDir, "-progress", "bar")
	cmd := exec.Command(exe, a...)
	cmd.Env = append(os.Environ(), "BSNN_TRAIN_AS_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The bar is redrawn with \r after every step: split on it.
	sc := bufio.NewScanner(stderr)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	var log strings.Builder
	sent := false
	for sc.Scan() {
		line := sc.Text()
		log.WriteString(line + "\n")
		if !sent && strings.HasPrefix(line, "epoch 1/2 [") {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			sent = true
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the child did not stop after SIGINT:\n%s", log.String())
	}
	var exit *exec.ExitError
	if !sent || !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child: signal sent %v, exit %v\n%s", sent, err, log.String())
	}
	if !strings.Contains(log.String(), "interrupted at epoch 1") || !strings.Contains(log.String(), "-resume") {
		t.Errorf("no interruption message:\n%s", log.String())
	}
	net, err := finetune.LoadCheckpoint(filepath.Join(runDir, checkpointFile), 1, nil)
	if err != nil {
		t.Fatalf("checkpoint after SIGINT: %v", err)
	}
	if e, k := net.Position(); e != 0 || k < 1 || k >= 64 {
		t.Errorf("checkpoint at epoch %d batch %d, want epoch 0 mid-way", e, k)
	}
}
