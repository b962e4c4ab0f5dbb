package arch

import (
	"slices"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
)

func TestEveryArchBuilds(t *testing.T) {
	for _, a := range All() {
		t.Run(a.Name, func(t *testing.T) {
			o := Options{Width: 0.125}
			if a.Name == "resnet18" {
				o.In = model.Shape{C: 3, H: 64, W: 64}
			}
			m, err := a.Build(o)
			if err != nil {
				t.Fatal(err)
			}
			Randomize(m, 1)
			if err := m.Check(); err != nil {
				t.Fatal(err)
			}
			shapes, err := m.Shapes()
			if err != nil {
				t.Fatal(err)
			}
			if got := shapes[len(shapes)-1]; got != (model.Shape{C: a.Classes, H: 1, W: 1}) {
				t.Errorf("logits %v, want %d classes", got, a.Classes)
			}
			if m.Timesteps() != a.T || !slices.Equal(m.Input.Mean, a.Mean) || m.Provenance.Source != "arch."+a.Name {
				t.Errorf("input %+v, provenance %+v", m.Input, m.Provenance)
			}
			// Every parameter has its state_dict keys, and names are unique.
			seen := map[string]bool{}
			for _, l := range m.Layers {
				if seen[l.Name] {
					t.Errorf("layer name %q twice", l.Name)
				}
				seen[l.Name] = true
				k := StateDictKeys(&l)
				if (l.Op == model.OpConv2D || l.Op == model.OpLinear) && k.Weight == "" ||
					l.Op == model.OpConv2D && k.BN == "" || l.Op == model.OpAGMM && k.Alpha == "" {
					t.Errorf("%s: keys %+v", l.Name, k)
				}
			}
			// The stem is full precision and never gated; binary layers are.
			if l := Find(m, "conv1"); l == nil || l.Precision != model.PrecisionFloat32 || Find(m, "agmm1") != nil {
				t.Errorf("stem conv1 %v, agmm1 %v", l, Find(m, "agmm1"))
			}
		})
	}
}

func TestLookup(t *testing.T) {
	for name, want := range map[string]string{"mnist": "mnist", "vgg": "vgg-small", "vggsmall": "vgg-small", "vgg-small": "vgg-small", "vgg11": "vgg11", "resnet19": "resnet19", "resnet18": "resnet18"} {
		a, err := Lookup(name)
		if err != nil || a.Name != want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", name, a, err, want)
		}
	}
	_, err := Lookup("lenet")
	if err == nil || !strings.Contains(err.Error(), strings.Join(Names(), ", ")) {
		t.Errorf("Lookup(lenet) error %v, want the list of names", err)
	}
	if h := Help(); strings.Count(h, "\n") != 2*len(Names()) || !strings.Contains(h, "vgg-small (vgg, vggsmall)") {
		t.Errorf("Help:\n%s", h)
	}
}

func TestBuildOptions(t *testing.T) {
	a, _ := Lookup("resnet19")
	m, err := a.Build(Options{Width: 0.5, Blocks: []int{1, 1, 1}, Classes: 4, T: 3})
	if err != nil {
		t.Fatal(err)
	}
	if l := Find(m, "layer3.0.conv2"); l == nil || l.OutC != 256 || Find(m, "layer1.1.conv1") != nil {
		t.Errorf("widths/blocks not applied: %+v", l)
	}
	if m.Timesteps() != 3 {
		t.Errorf("T %d", m.Timesteps())
	}
	// A one-channel input takes no CIFAR normalization.
	m, err = a.Build(Options{In: model.Shape{C: 1, H: 16, W: 16}, Widths: []int{4, 8, 16}})
	if err != nil || m.Input.Mean != nil {
		t.Errorf("1-channel build: %v, mean %v", err, m.Input.Mean)
	}
	if ScaleWidth(64, 0.3) != 19 || ScaleWidth(3, 0.1) != 1 || ScaleWidth(32, 0.25) != 8 {
		t.Error("ScaleWidth rounding")
	}
	mn, _ := Lookup("mnist")
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Widths: []int{1, 2}}, "takes 3 widths"},
		{Options{Widths: []int{1, 2, 3}, Width: 2}, "not both"},
		{Options{Width: -1}, "width multiplier"},
		{Options{Blocks: []int{1}}, "no blocks"},
		{Options{Shortcut: model.PrecisionInt8}, "no shortcut"},
		{Options{Widths: []int{1, 0, 3}}, "width 0"},
	} {
		if _, err := mn.Build(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.o, err, c.want)
		}
	}
	if _, err := a.Build(Options{Blocks: []int{1, 1}}); err == nil || !strings.Contains(err.Error(), "3 block counts") {
		t.Errorf("block count error %v", err)
	}
}

func TestBatchNormName(t *testing.T) {
	for in, want := range map[string]string{"conv1": "bn1", "layer1.0.conv2": "layer1.0.bn2", "layer2.0.downsample.conv": "layer2.0.downsample.bn", "stem": "stem.bn"} {
		if got := BatchNormName(in); got != want {
			t.Errorf("BatchNormName(%q) = %q, want %q", in, got, want)
		}
	}
}
