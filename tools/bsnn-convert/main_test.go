package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	err := mainImpl(args, &out, &errw)
	return out.String() + errw.String(), err
}

func TestConvertMNIST(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.bsnn")
	text, err := run(t, "-arch", "mnist", "-in", "testdata/mnist.pth", "-out", out, "-summary")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"conv2d binary", "[64, 32, 3, 3]", "linear fp32", "compression"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Provenance
	if !strings.HasPrefix(p.Source, "bsnn-convert -arch mnist mnist.pth") || p.Accuracy >= 0 || len(p.Extra) == 0 || p.Extra[0].Key != "checkpoint_sha256" {
		t.Errorf("provenance %+v", p)
	}
	if m.Input.Timesteps != 4 || len(m.Input.Mean) != 1 || m.Input.Mean[0] != float32(0.1307) {
		t.Errorf("input spec %+v", m.Input)
	}
	// The file size in the summary is the written file's.
	fi, _ := os.Stat(out)
	if !regexp.MustCompile(`\.bsnn file ` + strconv.FormatInt(fi.Size(), 10) + ` bytes`).MatchString(text) {
		t.Errorf("summary does not report the file size %d:\n%s", fi.Size(), text)
	}
}

// TestBadFiles: every kind of bad checkpoint gives one clear error line.
func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("testdata/mnist.pth")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)/2] ^= 0xff // inside conv3's weights: the CRC catches it
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	f, _ := zw.CreateHeader(&zip.FileHeader{Name: "a/data.pkl", Method: zip.Store})
	f.Write([]byte("\x80\x02csubprocess\nPopen\n(X\x02\x00\x00\x00lstR."))
	zw.Close()
	var legacy bytes.Buffer // a pickle that is not torch.save output
	legacy.WriteString("\x80\x02}q\x00.")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated.pth", good[:len(good)/3], "truncated or corrupt zip archive"},
		{"corrupt.pth", corrupt, "checksum error"},
		{"global.pth", zb.Bytes(), "global subprocess.Popen, which is not on the allow-list"},
		{"notes.txt", []byte("these are not weights\n"), "not a PyTorch checkpoint"},
		{"plain.pkl", legacy.Bytes(), "not a PyTorch checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, "-arch", "mnist", "-in", write(tc.name, tc.data), "-out", filepath.Join(dir, "x.bsnn"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			if _, serr := os.Stat(filepath.Join(dir, "x.bsnn")); serr == nil {
				t.Fatal("an output file was written")
			}
		})
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-in", "x.pth", "-out", "y"}, "exactly one of -arch and -spec"},
		{[]string{"-arch", "mnist", "-out", "y"}, "-in checkpoint is required"},
		{[]string{"-arch", "mnist", "-in", "x"}, "-out is required"},
		{[]string{"-arch", "alexnet", "-in", "testdata/mnist.pth", "-out", "y"}, `unknown preset`},
		{[]string{"-arch", "mnist", "-in", "testdata/mnist.pth", "-out", "y", "-fp", "fp16"}, `-fp "fp16"`},
		{[]string{"-arch", "mnist", "-in", "testdata/mnist.pth", "-out", "y", "-input", "1x28"}, "want CxHxW"},
		{[]string{"-spec", "testdata/mnist.spec.json", "-width", "2", "-in", "testdata/mnist.pth", "-out", "y"}, "apply to -arch presets"},
	} {
		_, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
	text, err := run(t, "-help")
	if err != nil || !strings.Contains(text, "resnet19") || !strings.Contains(text, "JSON spec format") {
		t.Errorf("-help: %v\n%s", err, text)
	}
}

// TestSpecFlag converts with the example spec and flag overrides.
func TestSpecFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s.bsnn")
	if _, err := run(t, "-spec", "testdata/mnist.spec.json", "-in", "testdata/mnist.pth", "-out", out, "-vth", "0.75", "-reset", "soft"); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		if l.Op == model.OpLIF && (l.Vth != 0.75 || l.Reset != model.ResetSoft || l.Lambda != 0.5) {
			t.Fatalf("LIF %s: λ %v vth %v reset %v", l.Name, l.Lambda, l.Vth, l.Reset)
		}
	}
}
