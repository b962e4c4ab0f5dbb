package main

import (
	"fmt"

	"github.com/bsnn/bsnn/model"
)

// Energy per operation in 45 nm CMOS (Horowitz, ISSCC 2014), as the SNN
// literature uses them: a 32-bit float add (the accumulate a spike
// triggers) and a 32-bit float multiply-accumulate.
const (
	pJPerAC  = 0.9
	pJPerMAC = 4.6
)

// EnergyLayer is one conv or linear layer's synaptic operations per sample.
type EnergyLayer struct {
	Layer     int    `json:"layer"`
	Name      string `json:"name"`
	Precision string `json:"precision"`
	// SpikeInput: the layer reads spikes (a LIF output, possibly through a
	// max pool or flatten), so each input spike costs one accumulate per
	// synapse it reaches; otherwise every step is a dense float MAC pass.
	SpikeInput bool `json:"spike_input"`
	// InputRate is the input's spikes / (input neurons × T) (spike inputs).
	InputRate float64 `json:"input_rate,omitempty"`
	ACs       float64 `json:"acs"`
	MACs      float64 `json:"macs"`
	// DenseMACs is one dense pass of the layer (one time step): what the
	// same layer costs in a float ANN.
	DenseMACs int64 `json:"dense_macs"`
}

// EnergyReport is the synaptic-operation count and the 45 nm energy
// estimate of one sample (mean over the samples run), beside the same
// network run once as a float ANN (every conv and linear a dense MAC pass).
type EnergyReport struct {
	Samples  int           `json:"samples"`
	ACs      float64       `json:"acs"`
	MACs     float64       `json:"macs"`
	ANNMACs  int64         `json:"ann_macs"`
	PJPerAC  float64       `json:"pj_per_ac"`
	PJPerMAC float64       `json:"pj_per_mac"`
	SNNuJ    float64       `json:"snn_uj"`
	ANNuJ    float64       `json:"ann_uj"`
	Ratio    float64       `json:"ann_over_snn"` // ANNuJ / SNNuJ
	Layers   []EnergyLayer `json:"layers"`
}

// spikeSource reports whether layer j's output holds only spikes (0 or 1):
// a LIF, or a max pool or flatten of spikes. The model input does not count
// (direct images are pixel values, event frames counts).
func spikeSource(m *model.Model, j int) bool {
	for j >= 0 {
		switch m.Layers[j].Op {
		case model.OpLIF:
			return true
		case model.OpMaxPool, model.OpFlatten:
			j = m.Layers[j].Inputs[0]
		default:
			return false
		}
	}
	return false
}

// fanAxis returns, per input coordinate 0..n-1, how many output
// coordinates of a K-tap, stride-S, pad-P window along one axis read it.
func fanAxis(n, out, k, s, p int) []int64 {
	f := make([]int64, n)
	for o := 0; o < out; o++ {
		for t := 0; t < k; t++ {
			if y := o*s - p + t; y >= 0 && y < n {
				f[y]++
			}
		}
	}
	return f
}

// inputShape is the shape layer i reads.
func inputShape(m *model.Model, shapes []model.Shape, i int) model.Shape {
	if j := m.Layers[i].Inputs[0]; j >= 0 {
		return shapes[j]
	}
	return m.Input.Shape
}

// denseMACs is one time step of conv or linear layer i done densely.
func denseMACs(m *model.Model, shapes []model.Shape, i int) int64 {
	l := &m.Layers[i]
	return int64(shapes[i].Size()) * int64(l.InC) * int64(l.KH) * int64(l.KW)
}

// countOps counts one sample's synaptic operations. output(j) returns
// layer j's output over all T steps (T×C×H×W, CHW order), as
// runtime.Engine.LayerOutput gives it; it is called only for the spike
// sources feeding conv and linear layers. A spike at input (c, y, x) of a
// conv reaches OutC × (outputs along y that read y) × (along x) synapses,
// padding and stride included exactly; a linear layer's reaches OutC.
func countOps(m *model.Model, shapes []model.Shape, output func(j int) ([]float32, error)) ([]EnergyLayer, error) {
	T := m.Timesteps()
	var layers []EnergyLayer
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.Op != model.OpConv2D && l.Op != model.OpLinear {
			continue
		}
		el := EnergyLayer{Layer: i, Name: l.Name, Precision: l.Precision.String(), DenseMACs: denseMACs(m, shapes, i)}
		j := l.Inputs[0]
		if !spikeSource(m, j) {
			el.MACs = float64(el.DenseMACs) * float64(T)
			layers = append(layers, el)
			continue
		}
		el.SpikeInput = true
		in, err := output(j)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s) input: %w", i, l.Name, err)
		}
		is := inputShape(m, shapes, i)
		if len(in) != T*is.Size() {
			return nil, fmt.Errorf("layer %d (%s): input has %d values, want T×%v = %d", i, l.Name, len(in), is, T*is.Size())
		}
		var spikes, acs int64
		if l.Op == model.OpLinear {
			for _, v := range in {
				if v != 0 {
					spikes++
				}
			}
			acs = spikes * int64(l.OutC)
		} else {
			os := shapes[i]
			fy := fanAxis(is.H, os.H, l.KH, l.Stride, l.Pad)
			fx := fanAxis(is.W, os.W, l.KW, l.Stride, l.Pad)
			k := 0
			for t := 0; t < T; t++ {
				for c := 0; c < is.C; c++ {
					for y := 0; y < is.H; y++ {
						for x := 0; x < is.W; x++ {
							if in[k] != 0 {
								spikes++
								acs += fy[y] * fx[x]
							}
							k++
						}
					}
				}
			}
			acs *= int64(l.OutC)
		}
		el.ACs = float64(acs)
		el.InputRate = float64(spikes) / float64(T*is.Size())
		layers = append(layers, el)
	}
	return layers, nil
}

// summarizeEnergy averages per-sample layer counts (runs[s][k] is sample
// s's k-th conv/linear layer) and prices them.
func summarizeEnergy(runs [][]EnergyLayer) EnergyReport {
	r := EnergyReport{Samples: len(runs), PJPerAC: pJPerAC, PJPerMAC: pJPerMAC}
	if len(runs) == 0 {
		return r
	}
	n := float64(len(runs))
	r.Layers = make([]EnergyLayer, len(runs[0]))
	copy(r.Layers, runs[0])
	for k := range r.Layers {
		var acs, macs, rate float64
		for _, run := range runs {
			acs += run[k].ACs
			macs += run[k].MACs
			rate += run[k].InputRate
		}
		r.Layers[k].ACs, r.Layers[k].MACs, r.Layers[k].InputRate = acs/n, macs/n, rate/n
		r.ACs += r.Layers[k].ACs
		r.MACs += r.Layers[k].MACs
		r.ANNMACs += r.Layers[k].DenseMACs
	}
	r.SNNuJ = (r.ACs*pJPerAC + r.MACs*pJPerMAC) / 1e6
	r.ANNuJ = float64(r.ANNMACs) * pJPerMAC / 1e6
	if r.SNNuJ > 0 {
		r.Ratio = r.ANNuJ / r.SNNuJ
	}
	return r
}
