package arch

import (
	"math"
	"math/rand/v2"

	"github.com/bsnn/bsnn/model"
)

// Randomize fills every parameter of m with random values drawn from seed:
// random weight signs and fp32 weights scaled by fan-in, a per-channel
// affine that stands in for a folded BatchNorm, and AGMM α around 1. The
// scales are chosen so that a built net fires at rates like a trained one
// (roughly 5-30 % per LIF layer), which keeps tests and benchmarks honest
// about event-driven work. The same seed gives the same model.
func Randomize(m *model.Model, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x6273736e)) // "bsnn"
	for i := range m.Layers {
		l := &m.Layers[i]
		switch l.Op {
		case model.OpConv2D, model.OpLinear:
			fanIn := l.InC * l.KH * l.KW
			// std of the accumulator over the fan-in, for spike inputs at a
			// typical rate (binary) or unit-scale inputs (fp32).
			var std float64
			lo, span := -0.2, 1.0 // bias range
			switch l.Precision {
			case model.PrecisionBinary:
				fillBits(l, r)
				// Binary convs: the bias spread, not the input, decides
				// most of the firing, so the rate holds steady with depth
				// (where the shortcut adds spikes of its own) instead of
				// dying out or saturating.
				std = 2 * math.Sqrt(0.15*float64(fanIn))
				lo, span = -1.8, 2.8
			case model.PrecisionFloat32:
				ws := 1 / math.Sqrt(float64(fanIn))
				for j := range l.Weights {
					l.Weights[j] = float32(r.NormFloat64() * ws)
				}
				std = 0.5
			case model.PrecisionInt8:
				for j := range l.WeightsI8 {
					l.WeightsI8[j] = int8(r.IntN(255) - 127)
				}
				std = 73 * math.Sqrt(float64(fanIn)) * 0.5
			}
			for o := range l.Scale {
				l.Scale[o] = float32((0.7 + 0.6*r.Float64()) / std)
				l.Bias[o] = float32(lo + span*r.Float64())
			}
		case model.OpAffine:
			for c := range l.Scale {
				l.Scale[c] = float32(0.8 + 0.4*r.Float64())
				l.Bias[c] = float32(-0.1 + 0.2*r.Float64())
			}
		case model.OpAGMM:
			for t := range l.Alpha {
				l.Alpha[t] = float32(0.8 + 0.8*r.Float64())
			}
		}
	}
}
