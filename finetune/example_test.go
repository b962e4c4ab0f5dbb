package finetune_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/model"
)

// A small MNIST-preset network trained for a few steps on random data,
// evaluated and exported to a model the runtime can run.
func Example() {
	cfg := finetune.DefaultConfig(finetune.PresetMNIST)
	cfg.Widths = []int{8, 16, 16}                     // narrower than the default 32, 64, 64
	cfg.Input.Shape = model.Shape{C: 1, H: 12, W: 12} // 12×12 instead of 28×28
	net, err := finetune.NewNet(cfg)
	if err != nil {
		log.Fatal(err)
	}
	const B = 8
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, B*net.InputLen())
	labels := make([]int, B)
	for i := range x {
		x[i] = r.Float32()
	}
	for i := range labels {
		labels[i] = r.IntN(10)
	}
	for step := 0; step < 3; step++ {
		if _, err := net.TrainStep(x, labels); err != nil {
			log.Fatal(err)
		}
	}
	ev, err := net.Evaluate(x, labels)
	if err != nil {
		log.Fatal(err)
	}
	m, err := net.Export(model.Provenance{Dataset: "random", Accuracy: float32(ev.Correct) / B})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("layers:", len(m.Layers))
	fmt.Println("binary:", net.BinaryNames())
	fmt.Println("gates:", net.GateNames())
	fmt.Println("AGMM:", m.Provenance.AGMM)
	// Output:
	// layers: 13
	// binary: [conv2 conv3]
	// gates: [agmm2 agmm3]
	// AGMM: stat=spatial alpha=learn init=1
}
