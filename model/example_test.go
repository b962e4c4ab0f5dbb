package model_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/modeltest"
)

func ExampleSave() {
	dir, err := os.MkdirTemp("", "bsnn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	m := modeltest.MNIST(rand.New(rand.NewPCG(1, 2))) // random weights
	path := filepath.Join(dir, "mnist.bsnn")
	if err := model.Save(path, m); err != nil {
		log.Fatal(err)
	}

	got, err := model.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	shapes, err := got.Shapes()
	if err != nil {
		log.Fatal(err)
	}
	for i, l := range got.Layers[:4] {
		fmt.Println(i, l.Op, shapes[i])
	}
	fmt.Println("layer 2 weights:", got.Layers[2].Precision)
	fmt.Println(len(got.Layers), "layers,", len(got.Labels), "labels, T =", got.Timesteps())
	// Output:
	// 0 conv2d 32×28×28
	// 1 lif 32×28×28
	// 2 conv2d 64×28×28
	// 3 agmm 64×28×28
	// layer 2 weights: binary
	// 13 layers, 10 labels, T = 4
}
