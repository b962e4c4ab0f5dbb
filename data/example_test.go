package data_test

import (
	"fmt"
	"log"

	"github.com/bsnn/bsnn/data"
)

// The fine-tuning scenario's data: 2,000 MNIST training digits rotated by
// 30°, in shuffled batches of 64 that are the same for a given seed.
func Example() {
	train, err := data.LoadMNIST("", data.Train)
	if err != nil {
		log.Fatal(err) // names the directories tried and the install command
	}
	shifted := data.Random(data.Rotate(train, 30), 2000, 1)
	b, err := data.NewBatcher(shifted, data.BatchOptions{Size: 64, Shuffle: true, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	for batch, err := range b.Epoch(0, 0) {
		if err != nil {
			log.Fatal(err)
		}
		n += batch.N
	}
	fmt.Println(b.Batches(), "batches,", n, "samples of", shifted.Shape())
	// Output: 32 batches, 2000 samples of 1×28×28
}

// N-MNIST-style event samples made from MNIST by the saccade emulator: T = 4
// binned frames of 2 polarities on a 34×34 sensor.
func ExampleNewSaccadeSet() {
	test, err := data.LoadMNIST("", data.Test)
	if err != nil {
		log.Fatal(err)
	}
	events, err := data.NewSaccadeSet(data.First(test, 100), 4, data.BinBinary, data.SaccadeConfig{})
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, data.SampleSize(events))
	label, err := events.Get(0, x)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(events.Steps(), "steps of", events.Shape(), "label", label)
	// Output: 4 steps of 2×34×34 label 7
}
