// Package runtime compiles a model.Model into an Engine that runs binary
// spiking networks fast, exactly and without allocating.
//
// # Exactness
//
// The Engine computes what model/model.go's package doc defines, bit for bit
// on spikes: binary layers are exact integer AND-popcounts; every float
// reduction accumulates in float64 in the reference's order; every
// element-wise expression rounds to float32 after each operation. The test
// oracle is runtime/reference, a plain float executor; every kernel set,
// thread count and execution mode must reproduce its spikes exactly.
//
// # Execution
//
// A pass runs layer by layer over all T steps (and the samples of a batch,
// as many as keep its largest map within about 4 MiB) at once, so each
// binary layer is one AND-popcount GEMM with T·pixels rows and its weights
// are streamed once per pass. Dense binary convs are direct: a spike map
// that a padded binary conv reads carries a zero halo as wide as the
// padding, so each output pixel's taps are read in place from the
// channel-packed map (no im2col), its spike count is looked up in a table
// of box sums made once per pass, and the kernel applies the scale and
// bias as it writes the output row. The sparse kernel, which skips zero
// words inside a row, works on gathered patches. LIF layers go from the
// pre-activations to packed spike words in one kernel pass, with a Bi-Real
// unit's AGMM gate and shortcut Add inside it; the gate's spatial mean needs
// the whole layer's pre-activations first, which is why they are a float
// map and not fused into the conv. Max pooling over spikes ORs words;
// average pooling counts them. Float layers that read spikes (a classifier
// on flattened spikes) add the weight rows of the set bits. A silent step,
// and any output pixel whose input patch is silent, costs nothing but
// writing the bias. Per layer and call the Engine runs the dense kernel or
// the sparse one (WithExecution; Auto decides from the fraction of
// non-zero words in the layer's input, counted as the spikes are packed,
// and runs dense on AVX-512, where the direct kernel beats skipping). Work
// is split over threads in units that each own their outputs, so results
// do not depend on the thread count; workers spin between the jobs of a
// pass rather than park. Floats are stored per step in H,W,C order; the
// directly encoded input and everything computed from it alone (the stem
// conv) is computed once, not T times. Activation buffers are reused once
// their last reader has run.
//
// The one place the engine leaves out an operation the reference performs:
// a fused LIF does not add the 0 of a silent shortcut spike, so where the
// gated value is −0 its membrane input stays −0 instead of becoming +0. No
// spike and no non-zero value can tell the two apart. (Zero terms skipped in
// float sums change nothing: a sum that starts at +0 never becomes −0.)
//
// # Input
//
// Infer takes C×H×W floats in CHW order with pixel values in [0,1]:
// EncodingDirect normalizes them with the model's mean and std and repeats
// them every step; EncodingRate draws a spike per value and step with that
// probability (splitmix64 seeded with WithSeed; draws run over steps, then
// CHW order; a spike when the top 24 bits u of a draw give u·2⁻²⁴ < p — the
// same rule as reference.Rate). EncodingEvents takes T×C×H×W: T binned event
// frames, used as they are.
package runtime
