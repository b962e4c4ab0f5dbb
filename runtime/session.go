package runtime

import (
	"fmt"

	"github.com/bsnn/bsnn/model"
)

// ResetPolicy says what a Session keeps from one frame to the next.
type ResetPolicy uint8

// Reset policies.
const (
	// ResetPerFrame starts every frame from membrane potential zero, like
	// Infer.
	ResetPerFrame ResetPolicy = iota
	// ResetContinuous carries every LIF layer's membrane potential and
	// last spikes from a frame's last step into the next frame's first, so
	// a stream of frames acts as one long spike train.
	ResetContinuous
)

func (p ResetPolicy) String() string {
	switch p {
	case ResetPerFrame:
		return "per-frame"
	case ResetContinuous:
		return "continuous"
	}
	return fmt.Sprintf("reset-policy(%d)", uint8(p))
}

// Session runs a stream of frames through an Engine. It shares the Engine's
// buffers: use an Engine and its Sessions from one goroutine at a time.
type Session struct {
	e      *Engine
	policy ResetPolicy
	st     sessionState
	rng    uint64
	in     [1][]float32
}

// sessionState is what survives between frames: every LIF layer's membrane
// (after its last reset), for one sample.
type sessionState struct {
	lif []lifState // per model layer; empty for non-LIF layers
}

type lifState struct {
	h []float32 // [H·W][C]: membrane after the last step's reset
}

// NewSession starts a stream with the given policy. The rate encoder (if
// the model uses one) is seeded here with WithSeed's value and runs on across
// frames.
func (e *Engine) NewSession(policy ResetPolicy) *Session {
	s := &Session{e: e, policy: policy, rng: e.cfg.seed}
	s.st.lif = make([]lifState, len(e.m.Layers))
	for i := range e.m.Layers {
		if e.m.Layers[i].Op == model.OpLIF {
			t := e.outs[i]
			s.st.lif[i] = lifState{h: make([]float32, t.hw*t.shape.C)}
		}
	}
	return s
}

// Policy returns the session's reset policy.
func (s *Session) Policy() ResetPolicy { return s.policy }

// Reset clears the carried state and reseeds the rate encoder, as at
// NewSession.
func (s *Session) Reset() {
	s.clearLIF()
	s.rng = s.e.cfg.seed
}

func (s *Session) clearLIF() {
	for i := range s.st.lif {
		clear(s.st.lif[i].h)
	}
}

// Step runs one frame (same layout as Engine.Infer's input) and returns its
// result, with the same ownership rules. It allocates nothing.
func (s *Session) Step(frame []float32) (Result, error) {
	e := s.e
	if err := e.checkInput(frame); err != nil {
		return Result{}, err
	}
	if s.policy == ResetPerFrame {
		s.clearLIF()
	}
	s.in[0] = frame
	e.resetStats()
	e.pass(s.in[:], &s.rng, &s.st)
	s.in[0] = nil
	lg := e.logits[:e.classes]
	return Result{Logits: lg, Class: argmax(lg), Stats: e.summary()}, nil
}
