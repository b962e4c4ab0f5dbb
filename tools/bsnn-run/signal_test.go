//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bsnn/bsnn/model"
)

// signalWriter sends the process SIGINT once it has seen n lines.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	n     int
	fired bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.fired && bytes.Count(w.buf.Bytes(), []byte("\n")) > w.n {
		w.fired = true
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func TestInterrupt(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero for an endless stream")
	}
	mpath, _ := randomNet(t, model.Shape{C: 1, H: 8, W: 8}, 2, model.EncodingDirect, 29)
	w := &signalWriter{n: 3}
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- mainImpl([]string{"-model", mpath, "-input", "raw:gray:8x8:/dev/zero"}, w, &stderr) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("interrupted run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("SIGINT did not stop the endless stream")
	}
	out := w.buf.String()
	n := len(predictionLines(out))
	if n < 3 {
		t.Errorf("%d frames before the interrupt", n)
	}
	if sum := commentLine(t, out, "# frames="); !strings.HasPrefix(sum, fmt.Sprintf("# frames=%d ", n)) {
		t.Errorf("summary %q after %d frames", sum, n)
	}
	if !strings.Contains(stderr.String(), "interrupted after") {
		t.Errorf("stderr %q", stderr.String())
	}
}
