package boards_test

import (
	"fmt"
	"log"

	"github.com/bsnn/bsnn/boards"
	"github.com/bsnn/bsnn/boards/boardtest"
)

// Example detects a Raspberry Pi 4 from its /proc files and lights GPIO17
// while the model sees a confident "dog", with GPIO22 as a busy strobe.
// On a real board, boards.DetectHost and Board.Outputs replace the fixture
// and the fake pins.
func Example() {
	root, err := boardtest.Fixture("rpi4")
	if err != nil {
		log.Fatal(err)
	}
	b := boards.Detect(root, "linux", "arm64")
	fmt.Println(b.ID, b.ExpectedKernels(), b.Threads)

	rules, err := boards.ParseRules([]string{"cat", "dog"}, "GPIO17=class:dog&conf>0.8", "GPIO22=busy")
	if err != nil {
		log.Fatal(err)
	}
	pins := boardtest.NewPins("GPIO17", "GPIO22")
	out, err := boards.NewOutputs(rules, pins.Open)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range []boards.Prediction{
		{Class: 1, Confidence: 0.93, SpikeRate: 0.12},
		{Class: 1, Confidence: 0.97, SpikeRate: 0.10},
		{Class: 0, Confidence: 0.88, SpikeRate: 0.15},
	} {
		_ = out.FrameStart()
		// ... the engine runs here ...
		if err := out.FrameDone(p); err != nil {
			log.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)
	fmt.Println(pins.Histories())
	// Output:
	// rpi4 neon 4
	// GPIO17=class:1&conf>0.8; GPIO22=busy
	// GPIO17:LHL GPIO22:LHLHLHL
}

func ExampleBoard_String() {
	root, err := boardtest.Fixture("rpi5")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(boards.Detect(root, "linux", "arm64"))
	// Output:
	// board    Raspberry Pi 5 (rpi5): Raspberry Pi 5 Model B Rev 1.0
	// cpu      linux/arm64, 4 cores: 4× Cortex-A76 (BCM2712 @ 2.4 GHz)
	// memory   7.9 GiB
	// kernels  neon > generic
	// threads  4 recommended
	// gpio     28 header GPIOs: GPIO0-27; P1_<n> names physical pin n
}

func ExampleParseRules() {
	rules, err := boards.ParseRules(nil, "GPIO5,GPIO6,GPIO13=class:0-2&conf>0.5; GPIO23=busy")
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rules {
		fmt.Println(r)
	}
	_, err = boards.ParseRules(nil, "GPIO17=spike-rate>20")
	fmt.Println(err)
	// Output:
	// GPIO5=class:0&conf>0.5
	// GPIO6=class:1&conf>0.5
	// GPIO13=class:2&conf>0.5
	// GPIO23=busy
	// gpio rule "GPIO17=spike-rate>20": "spike-rate>20": spike-rate threshold "20" is not a number in [0,1]
}
