package input

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// tail keeps the last bytes written to it (ffmpeg's stderr).
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// ffmpegSource decodes a video through an ffmpeg subprocess that writes
// Y4M to a pipe.
type ffmpegSource struct {
	*y4mSource
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr *tail
	name   string
	done   bool
}

// NewFFmpeg decodes a video file (or anything ffmpeg opens: a device, an
// rtsp:// URL) by running `ffmpeg -i INPUT -f yuv4mpegpipe -pix_fmt gray -`
// (yuv444p for RGB) and reading its standard output. Frames are stamped
// from the stream's frame rate.
func NewFFmpeg(input string, opt Options) (Source, error) {
	bin := opt.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: %w; install it (apt-get install ffmpeg) to read video files, or pipe Y4M or MJPEG frames to -input -", err)
	}
	pixfmt := "gray"
	if opt.channels() == 3 {
		pixfmt = "yuv444p"
	}
	cmd := exec.Command(path, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-i", input, "-f", "yuv4mpegpipe", "-pix_fmt", pixfmt, "-")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &ffmpegSource{cmd: cmd, stdout: stdout, stderr: &tail{}, name: input}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %w", err)
	}
	y, err := NewY4M(stdout, opt)
	if err != nil {
		// The header is missing because ffmpeg failed: its message says why.
		werr := s.wait()
		if werr != nil {
			return nil, werr
		}
		return nil, fmt.Errorf("ffmpeg %s: %w", input, err)
	}
	s.y4mSource = y.(*y4mSource)
	s.y4mSource.closer = nil // Close handles the pipe and the process
	return s, nil
}

// wait reaps ffmpeg and turns a failure into an error quoting its stderr.
func (s *ffmpegSource) wait() error {
	if s.done {
		return nil
	}
	s.done = true
	err := s.cmd.Wait()
	if err == nil {
		return nil
	}
	msg := s.stderr.String()
	if msg == "" {
		msg = "no message"
	}
	return fmt.Errorf("ffmpeg %s: %v: %s", s.name, err, msg)
}

func (s *ffmpegSource) Next() (*Sample, error) {
	smp, err := s.y4mSource.Next()
	if err != nil && !s.done {
		// Drain so ffmpeg can exit, then report its failure if it had one.
		io.Copy(io.Discard, s.stdout)
		if werr := s.wait(); werr != nil {
			s.y4mSource.err = werr
			return nil, werr
		}
	}
	return smp, err
}

func (s *ffmpegSource) Close() error {
	if s.done {
		return nil
	}
	s.cmd.Process.Kill()
	s.stdout.Close()
	s.done = true
	s.cmd.Wait() // killed: its exit status says nothing
	return nil
}
