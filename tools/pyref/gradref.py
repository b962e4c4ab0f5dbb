#!/usr/bin/python3
"""Gradient-parity fixtures for bsnn's trainer (package finetune).

Builds small binary spiking networks out of the bsnnref layers, from the same
JSON layer specs finetune uses (its nodeSpec, as checkpoints store them), runs one forward and
backward pass on fixed weights and inputs, and writes everything the Go test
needs to reproduce the step: specs, configuration, inputs, labels, every
parameter, the loss, the logits, every parameter gradient and the BatchNorm
running statistics after the step.

    /usr/bin/python3 tools/pyref/gradref.py            # writes finetune/testdata/gradref.json

Every case is float32, like Go. Spikes are the only discontinuity, so a case
is redrawn (next seed) until no LIF membrane potential lies within MARGIN of
V_th: Go's forward differs from PyTorch's by rounding only (~1e-6), far
inside the margin, so both see the same spikes.
"""

import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bsnnref as R  # noqa: E402

MARGIN = 1e-4

# model.Op values (model/model.go; stored in files, never renumbered).
CONV, LINEAR, AFFINE, AGMM, LIF, AVGPOOL, MAXPOOL, GAP, ADD, FLATTEN, READOUT = range(1, 12)
RESETS = ["hard", "soft"]
STATS = ["spatial", "channel-spatial", "none"]
SURROGATES = ["triangle", "sigmoid"]


class Net(nn.Module):
    """Executes a list of finetune nodeSpec dicts on [T, B, ...] tensors."""

    def __init__(self, specs, cfg, in_shape):
        super().__init__()
        self.specs, self.cfg = specs, cfg
        T = cfg["input"]["Timesteps"]
        lif, agmm = cfg["lif"], cfg["agmm"]
        self.mods = nn.ModuleDict()
        self.bns = nn.ModuleDict()
        shapes = []
        for i, s in enumerate(specs):
            op, name = s["op"], s["name"]
            src = [in_shape if j < 0 else shapes[j] for j in s["inputs"]]
            c, h, w = src[0]
            key = str(i)
            if op == CONV:
                k, st, pd = s.get("kh", 1), s.get("stride", 1), s.get("pad", 0)
                if s.get("binary"):
                    m = R.BinaryConv2d(s["in_c"], s["out_c"], k, stride=st, padding=pd)
                else:
                    m = R.Conv2d(s["in_c"], s["out_c"], k, stride=st, padding=pd, bias=bool(s.get("bias")))
                self.mods[key] = m
                if s.get("bn"):
                    self.bns[key] = R.BatchNorm2d(s["out_c"], eps=cfg["bn"]["eps"], momentum=cfg["bn"]["momentum"])
                out = (s["out_c"], (h + 2 * pd - k) // st + 1, (w + 2 * pd - k) // st + 1)
            elif op == LINEAR:
                if s.get("binary"):
                    m = R.BinaryLinear(s["in_c"], s["out_c"])
                else:
                    m = nn.Linear(s["in_c"], s["out_c"], bias=bool(s.get("bias")))
                self.mods[key] = m
                if s.get("bn"):
                    self.bns[key] = nn.BatchNorm1d(s["out_c"], eps=cfg["bn"]["eps"], momentum=cfg["bn"]["momentum"])
                out = (s["out_c"], 1, 1)
            elif op == AGMM:
                self.mods[key] = R.AGMM(T, stat=STATS[s.get("stat", 0)], alpha_init=agmm["alpha_init"],
                                        learn_alpha=agmm["alpha"] == 0, detach=agmm["detach"])
                out = src[0]
            elif op == LIF:
                sur = SURROGATES[lif["surrogate"]]
                self.mods[key] = R.LIF(lam=s["lambda"], vth=s["vth"], reset=RESETS[s.get("reset", 0)],
                                       surrogate=sur, gamma=lif["gamma"], detach_reset=lif["detach_reset"])
                out = src[0]
            elif op in (AVGPOOL, MAXPOOL):
                k, st, pd = s["kernel"], s["stride"], s.get("pad", 0)
                out = (c, (h + 2 * pd - k) // st + 1, (w + 2 * pd - k) // st + 1)
            elif op == GAP:
                out = (c, 1, 1)
            elif op == FLATTEN:
                out = (c * h * w, 1, 1)
            elif op in (ADD, READOUT):
                out = src[0]
            else:
                raise ValueError(f"unsupported op {op}")
            shapes.append(out)
        self.shapes = shapes
        self.lif_inputs = []

    def forward(self, x):
        outs = []
        self.lif_inputs = []
        for i, s in enumerate(self.specs):
            op, key = s["op"], str(i)
            a = [x if j < 0 else outs[j] for j in s["inputs"]]
            v = a[0]
            T = v.shape[0]
            if op == CONV:
                y = self.mods[key](v)
                if key in self.bns:
                    y = self.bns[key](y)
            elif op == LINEAR:
                if v.dim() == 5:
                    v = v.flatten(2)
                y = self.mods[key](v)
                if key in self.bns:
                    y = R.time_unfold(self.bns[key](R.time_fold(y)), T)
            elif op == AGMM:
                y = self.mods[key](v)
            elif op == LIF:
                self.lif_inputs.append((self.mods[key], v.detach().clone()))
                y = self.mods[key](v)
            elif op == AVGPOOL:
                y = R.time_unfold(F.avg_pool2d(R.time_fold(v), s["kernel"], s["stride"], s.get("pad", 0),
                                               count_include_pad=False), T)
            elif op == MAXPOOL:
                y = R.time_unfold(F.max_pool2d(R.time_fold(v), s["kernel"], s["stride"], s.get("pad", 0)), T)
            elif op == GAP:
                y = v.mean(dim=(3, 4), keepdim=True)
            elif op == ADD:
                y = a[0] + a[1]
            elif op == FLATTEN:
                y = v.flatten(2)  # vectors are [T, B, F]
            elif op == READOUT:
                y = R.readout(v.flatten(2))
            outs.append(y)
        return outs[-1]

    def params(self):
        """Name -> parameter, with finetune's names."""
        out = {}
        for i, s in enumerate(self.specs):
            key, name = str(i), s["name"]
            if key in self.mods:
                for pn, p in self.mods[key].named_parameters():
                    out[f"{name}.{pn}"] = p
            if key in self.bns:
                out[f"{name}.bn.weight"] = self.bns[key].weight
                out[f"{name}.bn.bias"] = self.bns[key].bias
        return out

    def buffers_(self):
        out = {}
        for i, s in enumerate(self.specs):
            key, name = str(i), s["name"]
            if key in self.bns:
                out[f"{name}.bn.running_mean"] = self.bns[key].running_mean
                out[f"{name}.bn.running_var"] = self.bns[key].running_var
            if key in self.mods and isinstance(self.mods[key], R.AGMM) and not isinstance(self.mods[key].alpha, nn.Parameter):
                out[f"{name}.alpha"] = self.mods[key].alpha
        return out


def lif_potentials(lif, x):
    """Every membrane potential the LIF computes on input x (same ops)."""
    u = torch.zeros_like(x[0])
    s = torch.zeros_like(x[0])
    us = []
    for t in range(x.shape[0]):
        h = u * (1 - s) if lif.reset == "hard" else u - lif.vth * s
        u = lif.lam * h + x[t]
        s = (u - lif.vth >= 0).to(x.dtype)
        us.append(u - lif.vth)
    return torch.stack(us)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def conv(name, cin, cout, k=3, stride=1, pad=1, binary=False, bn=True, bias=False, inputs=None):
    s = {"op": CONV, "name": name, "in_c": cin, "out_c": cout, "kh": k, "kw": k, "stride": stride, "pad": pad}
    if binary:
        s["binary"] = True
    if bn:
        s["bn"] = True
    if bias:
        s["bias"] = True
    if inputs is not None:
        s["inputs"] = inputs
    return s


def seq(specs):
    """Fill in sequential inputs where a spec does not name its own."""
    for i, s in enumerate(specs):
        s.setdefault("inputs", [i - 1])
    return specs


def lif(name, reset):
    return {"op": LIF, "name": name, "lambda": 0.5, "vth": 1.0, "reset": reset}


def tiny(reset, agmm, pool=AVGPOOL, stat=0, window=(2, 2, 0)):
    """FP conv → BN → LIF → binary conv → BN → [AGMM] → LIF → pool → FC."""
    k, st, pd = window
    specs = [conv("conv1", 2, 4), lif("lif1", reset), conv("conv2", 4, 8, binary=True)]
    if agmm:
        specs.append({"op": AGMM, "name": "agmm2", "stat": stat})
    specs += [lif("lif2", reset), {"op": pool, "name": "pool2", "kernel": k, "stride": st, "pad": pd},
              {"op": FLATTEN, "name": "flatten"},
              {"op": LINEAR, "name": "fc", "in_c": 8 * 4 * 4, "out_c": 5, "kh": 1, "kw": 1, "stride": 1, "bias": True},
              {"op": READOUT, "name": "readout"}]
    return seq(specs)


def binary_linear(reset):
    """… → LIF → max pool → flatten → binary linear → BN → AGMM → LIF → FC."""
    specs = [conv("conv1", 2, 4), lif("lif1", reset), {"op": MAXPOOL, "name": "pool1", "kernel": 2, "stride": 2},
             {"op": FLATTEN, "name": "flatten"},
             {"op": LINEAR, "name": "fc1", "in_c": 4 * 4 * 4, "out_c": 16, "kh": 1, "kw": 1, "stride": 1, "binary": True, "bn": True},
             {"op": AGMM, "name": "agmm1", "stat": 1},
             lif("lif2", reset),
             {"op": LINEAR, "name": "fc", "in_c": 16, "out_c": 5, "kh": 1, "kw": 1, "stride": 1, "bias": True},
             {"op": READOUT, "name": "readout"}]
    return seq(specs)


def bireal(reset):
    """Stem → Bi-Real unit with a downsampling shortcut → unit with an
    identity shortcut → global average pool → FC."""
    s = [conv("conv1", 2, 4, inputs=[-1]), lif("lif1", reset) | {"inputs": [0]},
         {"op": AVGPOOL, "name": "down.pool", "kernel": 2, "stride": 2, "inputs": [1]},
         conv("down.conv", 4, 8, k=1, pad=0, inputs=[2]),
         conv("conv2", 4, 8, stride=2, binary=True, inputs=[1]),
         {"op": AGMM, "name": "agmm2", "inputs": [4]},
         {"op": ADD, "name": "add2", "inputs": [5, 3]},
         lif("lif2", reset) | {"inputs": [6]},
         conv("conv3", 8, 8, binary=True, inputs=[7]),
         {"op": AGMM, "name": "agmm3", "inputs": [8]},
         {"op": ADD, "name": "add3", "inputs": [9, 7]},
         lif("lif3", reset) | {"inputs": [10]},
         {"op": GAP, "name": "gap", "inputs": [11]},
         {"op": LINEAR, "name": "fc", "in_c": 8, "out_c": 5, "kh": 1, "kw": 1, "stride": 1, "bias": True, "inputs": [12]},
         {"op": READOUT, "name": "readout", "inputs": [13]}]
    return s


def config(T, encoding=0, surrogate=0, gamma=1.0, detach_reset=False, alpha=0, detach=False):
    return {
        "input": {"Shape": {"C": 2, "H": 8, "W": 8}, "Mean": None, "Std": None, "Encoding": encoding, "Timesteps": T},
        "classes": 5,
        "lif": {"lambda": 0.5, "vth": 1.0, "reset": 0, "detach_reset": detach_reset, "surrogate": surrogate, "gamma": gamma},
        "agmm": {"enabled": True, "stat": 0, "alpha": alpha, "alpha_init": 1.0, "alpha_end": 1.0, "detach": detach},
        "bn": {"momentum": 0.1, "eps": 1e-5, "frozen": False},
        "optim": {"kind": "sgd", "lr": 0.1},
        "seed": 1,
    }


def cases():
    T = 3
    out = []
    for reset in (0, 1):
        for agmm in (True, False):
            out.append((f"tiny-{RESETS[reset]}-agmm{'on' if agmm else 'off'}", tiny(reset, agmm), config(T)))
    out.append(("tiny-hard-agmm-detached", tiny(0, True), config(T, detach=True)))
    out.append(("tiny-hard-agmm-channel-spatial-fixed-alpha", tiny(0, True, stat=1), config(T, alpha=1)))
    out.append(("tiny-soft-agmm-none", tiny(1, True, stat=2), config(T)))
    out.append(("tiny-hard-maxpool-sigmoid-detach-reset", tiny(0, True, pool=MAXPOOL), config(T, surrogate=1, gamma=4.0, detach_reset=True)))
    out.append(("tiny-events", tiny(1, True), config(T, encoding=2)))
    out.append(("tiny-avgpool-3x3-s2-p1", tiny(0, True, window=(3, 2, 1)), config(T)))
    out.append(("tiny-maxpool-3x3-s2-p1", tiny(0, True, pool=MAXPOOL, window=(3, 2, 1)), config(T)))
    out.append(("binary-linear", binary_linear(0), config(T)))
    out.append(("bireal", bireal(0), config(T)))
    return out


def build_case(name, specs, cfg, seed):
    g = torch.Generator().manual_seed(seed)
    T, B = cfg["input"]["Timesteps"], 4
    shp = cfg["input"]["Shape"]
    in_shape = (shp["C"], shp["H"], shp["W"])
    net = Net(specs, cfg, in_shape)
    net.train()
    with torch.no_grad():
        for i, s in enumerate(specs):
            key = str(i)
            if key in net.mods:
                m = net.mods[key]
                if isinstance(m, R.AGMM):
                    m.alpha.copy_(1 + 0.3 * torch.rand(T, generator=g) - 0.1)
                    continue
                if isinstance(m, R.LIF):
                    continue
                if s.get("binary"):
                    m.weight.copy_((torch.rand(m.weight.shape, generator=g) * 2 - 1) * 1.25)
                else:
                    fan = m.weight[0].numel()
                    m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (1.5 / fan ** 0.5))
                    if m.bias is not None:
                        m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            if key in net.bns:
                bn = net.bns[key]
                bn.weight.copy_(0.6 + 0.8 * torch.rand(bn.weight.shape, generator=g))
                bn.bias.copy_(0.4 * torch.rand(bn.bias.shape, generator=g) - 0.1)
    if cfg["input"]["Encoding"] == 2:
        x = (torch.rand(B, T, *in_shape, generator=g) < 0.3).float()  # event frames, [B][T][C][H][W]
        xt = x.transpose(0, 1).contiguous()
    else:
        x = torch.randn(B, *in_shape, generator=g)
        xt = x.unsqueeze(0).repeat(T, 1, 1, 1, 1)
    labels = torch.randint(0, cfg["classes"], (B,), generator=g)
    params = {k: v.detach().clone() for k, v in net.params().items()}
    buffers0 = {k: v.detach().clone() for k, v in net.buffers_().items()}

    logits = net(xt)
    loss = F.cross_entropy(logits, labels)
    margin = min(float(lif_potentials(m, v).abs().min()) for m, v in net.lif_inputs)
    if margin <= MARGIN:
        return None, margin
    loss.backward()
    rates = []
    for m, v in net.lif_inputs:
        u = lif_potentials(m, v)
        rates.append(float((u >= 0).float().mean()))
    case = {
        "name": name, "seed": seed, "specs": specs, "config": cfg,
        "input": flat(x), "labels": [int(v) for v in labels],
        "params": {k: flat(v) for k, v in params.items()},
        "alpha_fixed": {k: flat(v) for k, v in buffers0.items() if k.endswith(".alpha")},
        "loss": float(loss), "logits": flat(logits),
        "grads": {k: flat(p.grad) for k, p in net.params().items() if p.grad is not None},
        "running": {k: flat(v) for k, v in net.buffers_().items() if ".bn." in k},
        "firing": rates, "margin": margin,
    }
    return case, margin


def main():
    torch.set_num_threads(1)
    out = []
    for name, specs, cfg in cases():
        seed = 1
        while True:
            case, margin = build_case(name, specs, cfg, seed)
            if case is not None:
                break
            seed += 1
        print(f"{name}: seed {seed}, loss {case['loss']:.6f}, min |u - vth| {margin:.2e}, firing {['%.2f' % r for r in case['firing']]}")
        out.append(case)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "finetune", "testdata", "gradref.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"generator": "tools/pyref/gradref.py", "torch": torch.__version__, "cases": out}, f)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
