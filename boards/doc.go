// Package boards knows the boards bsnn runs on and drives their GPIO from
// predictions. Only the tools import it (bsnn-run); the runtime never does.
//
// # Profiles and detection
//
// [DetectHost] reads /proc/cpuinfo, /proc/meminfo, the device tree
// (/proc/device-tree or /sys/firmware/devicetree/base) and the x86 DMI
// tables, and picks the first matching profile of [Profiles]: "rpi5"
// (Raspberry Pi 5, 500, CM5), "rpi4" (Pi 4 Model B, 400, CM4), "arm64"
// (any other arm64 Linux), "x86" (x86-64 Linux edge boxes) and "other". The
// [Board] it returns carries the facts read, the kernel sets bitops is
// expected to offer, a recommended thread count and the header pins.
// [Detect] does the same over any fs.FS, which is how the tests fake a Pi 4
// on an x86 machine; package boardtest has fixtures of several boards.
//
// Nothing here is architecture-specific code: the package compiles for every
// GOOS/GOARCH, and the Pi profiles are compile-time false off arm.
//
// # GPIO rules
//
// bsnn-run's -gpio flag takes rules of the form PIN=COND (see [RuleSyntax]):
//
//	GPIO17=class:3                   high while the predicted class is 3
//	GPIO22=class:cat&conf>=0.8       class by label, only when confident
//	GPIO27=spike-rate>0.2            high while the network fires above 20 %
//	GPIO5,GPIO6,GPIO13=class:0-2     a pin per class: GPIO5 for 0, GPIO6 for 1, ...
//	GPIO23=busy                      high while a frame is processed
//
// Several rules go in one value separated by ';' or in repeated flags. Pins
// are named as periph names them ("GPIO17"); on a Pi, "P1_11"/"J8_11" name
// the physical header pin and only header GPIOs are accepted. Conditions
// joined by '&' must all hold. conf is the probability of the predicted
// class and spike-rate the frame's mean firing rate, both in [0,1]. Labels
// containing ',', '&' or ';' must be written by number.
//
// # Use in a tool
//
//	b := boards.DetectHost()
//	fmt.Fprintln(os.Stderr, b)
//	rules, err := boards.ParseRules(m.Labels, gpioFlags...)
//	if err == nil {
//		err = boards.CheckClasses(rules, len(m.Labels))
//	}
//	out, err := b.Outputs(rules) // periph host.Init, pins driven low
//	defer out.Close()
//	for each frame {
//		out.FrameStart()
//		... run the engine ...
//		out.FrameDone(boards.Prediction{Class: k, Confidence: p, SpikeRate: r})
//	}
//
// On-device checks live in boards/rpi/rpismoketest.
package boards
