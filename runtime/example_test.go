package runtime_test

import (
	"fmt"
	"log"

	"github.com/bsnn/bsnn/model/arch"
	"github.com/bsnn/bsnn/runtime"
)

func Example() {
	// A small MNIST-style net with random weights; a real model comes from
	// model.Load.
	m, err := arch.MNIST(arch.MNISTConfig{C1: 8, C2: 16, C3: 16, T: 2})
	if err != nil {
		log.Fatal(err)
	}
	arch.Randomize(m, 1)

	e, err := runtime.New(m, runtime.WithThreads(2), runtime.WithExecution(runtime.Auto))
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	img := make([]float32, e.InputLen()) // 1×28×28, CHW, values in [0,1]
	for i := range img {
		img[i] = float32(i%28) / 28
	}
	res, err := e.Infer(img)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logits:", len(res.Logits), "class:", res.Class)
	for _, l := range res.Stats.Layers {
		if l.Name == "lif2" {
			fmt.Printf("%s fired: %v\n", l.Name, l.Spikes > 0)
		}
	}

	_, err = e.Infer(img[:100])
	fmt.Println(err)
	// Output:
	// logits: 10 class: 6
	// lif2 fired: true
	// runtime: input holds 100 values, want C×H×W = 1×28×28 = 784 (CHW order)
}
