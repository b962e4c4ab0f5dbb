"""The bsnn-convert architecture presets, defined in PyTorch (single source of truth).

Each preset is an nn.Module built from tools/pyref/bsnnref.py layers. Its
state_dict keys are the names bsnn-convert -arch looks up. Each module also
emits its graph as a bsnn-convert JSON spec (spec() below; the format is
documented in `bsnn-convert -help`), written beside the module code so the two
cannot drift; the Go presets (tools/bsnn-convert/internal/convert/presets.go)
must produce the same spec, and the parity fixtures check it.

Presets (all: first and last layer full precision; every binary conv is
followed by BN, then an AGMM gate; LIF after that; T steps, direct encoding):

  mnist     conv3x3 1->32 (FP) BN LIF | bconv3x3 32->64 BN AGMM LIF MP2 |
            bconv3x3 64->64 BN AGMM LIF MP2 | flatten | FC 3136->classes
            (exactly finetune's PresetMNIST: 2x2 max pools after the LIF keep the
            binary convs' input binary; no gate after the FP stem)
  vgg11     64C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-512C3-512C3-GAP-FC,
            first conv FP, the rest binary (BN, AGMM, LIF after each)
  resnet19  Bi-Real, 32x32: FP stem conv3x3 128 BN LIF; stages of 3/3/2 basic
            blocks at 128/256/512 (stride 1/2/2); GAP; FC
  resnet18  Bi-Real ResNet-18, 224x224: FP stem conv7x7/2 64 BN LIF maxpool3/2;
            stages of 2/2/2/2 blocks at 64/128/256/512 (stride 1/2/2/2); GAP; FC

Bi-Real unit (every binary conv of a basic block): s_out = LIF(AGMM(BN(bconv(s_in)))
+ R), R = s_in (identity) or, when the shape changes, BN(conv1x1(AvgPool2(s_in)))
with a full-precision 1x1 conv.

Channel widths are scaled by a width multiplier: c = floor(base * width + 0.5),
at least 1 (the Go presets use the same rule).

This file also holds the deployment "mirror": fold() folds a state_dict into
the .bsnn per-layer terms exactly as bsnn-convert does (float64, rounded to
float32 once), and mirror_forward() runs a spec with the exact semantics of
model/model.go (float64 reductions rounded once, float32 element-wise ops),
so that Go and PyTorch agree bit for bit on spikes.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import bsnnref as ref

# Input normalization defaults (per channel), as the presets' data pipelines use.
MNIST_MEAN, MNIST_STD = [0.1307], [0.3081]
CIFAR_MEAN, CIFAR_STD = [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def scaled(base, width):
    return max(1, int(math.floor(base * width + 0.5)))


# ---------------------------------------------------------------------------
# Building blocks. Each has forward() over [T, B, ...] and spec(prefix, src)
# returning (layers, name of its output layer).


def conv_spec(name, conv, precision, bn=None, src=None):
    d = {
        "name": name, "op": "conv", "precision": precision,
        "in": conv.in_channels, "out": conv.out_channels,
        "kernel": conv.kernel_size[0], "stride": conv.stride[0], "pad": conv.padding[0],
        "weight": name + ".weight",
    }
    if conv.bias is not None:
        d["bias"] = name + ".bias"
    if bn is not None:
        d["bn"] = bn
    if src is not None:
        d["inputs"] = [src]
    return d


class FPUnit(nn.Module):
    """Full-precision conv, BN, LIF (the stems)."""

    def __init__(self, cin, cout, k, stride=1, padding=0, lif=None):
        super().__init__()
        self.conv = ref.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)
        self.bn = ref.BatchNorm2d(cout)
        self.lif = ref.LIF(**(lif or {}))

    def forward(self, x):
        return self.lif(self.bn(self.conv(x)))


class BinUnit(nn.Module):
    """Binary conv, BN, AGMM, LIF (plain nets: mnist, vgg11)."""

    def __init__(self, cin, cout, T, stride=1, lif=None, agmm=None):
        super().__init__()
        self.conv = ref.BinaryConv2d(cin, cout, 3, stride=stride, padding=1)
        self.bn = ref.BatchNorm2d(cout)
        self.agmm = ref.AGMM(T, **(agmm or {}))
        self.lif = ref.LIF(**(lif or {}))

    def forward(self, x):
        return self.lif(self.agmm(self.bn(self.conv(x))))


class Downsample(nn.Module):
    """Bi-Real shortcut when the shape changes: AvgPool2 (if strided), FP 1x1 conv, BN."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.pool = nn.AvgPool2d(stride) if stride > 1 else None
        self.conv = ref.Conv2d(cin, cout, 1, bias=False)
        self.bn = ref.BatchNorm2d(cout)

    def forward(self, x):
        if self.pool is not None:
            T = x.shape[0]
            x = ref.time_unfold(self.pool(ref.time_fold(x)), T)
        return self.bn(self.conv(x))

    def spec(self, p, src):
        layers = []
        if self.pool is not None:
            layers.append({"name": p + "pool", "op": "avgpool", "kernel": self.pool.kernel_size,
                           "stride": self.pool.kernel_size, "inputs": [src]})
            src = p + "pool"
        layers.append(conv_spec(p + "conv", self.conv, "fp", bn=p + "bn", src=src))
        return layers, p + "conv"


class BiRealUnit(nn.Module):
    """One binary conv of a Bi-Real block with its own shortcut:
    s_out = LIF(AGMM(BN(bconv(s_in))) + R)."""

    def __init__(self, cin, cout, T, stride=1, lif=None, agmm=None):
        super().__init__()
        self.conv = ref.BinaryConv2d(cin, cout, 3, stride=stride, padding=1)
        self.bn = ref.BatchNorm2d(cout)
        self.agmm = ref.AGMM(T, **(agmm or {}))
        self.downsample = Downsample(cin, cout, stride) if (stride != 1 or cin != cout) else None
        self.lif = ref.LIF(**(lif or {}))

    def forward(self, x):
        r = x if self.downsample is None else self.downsample(x)
        return self.lif(self.agmm(self.bn(self.conv(x))) + r)


class BasicBlock(nn.Module):
    """Bi-Real basic block: two units (conv1 may downsample; conv2 keeps the shape).
    Keys: <block>.conv1.weight, <block>.bn1.*, <block>.agmm1.alpha,
    <block>.downsample.conv.weight, <block>.downsample.bn.*, <block>.conv2.weight, ..."""

    def __init__(self, cin, cout, T, stride, lif=None, agmm=None):
        super().__init__()
        u1 = BiRealUnit(cin, cout, T, stride, lif, agmm)
        u2 = BiRealUnit(cout, cout, T, 1, lif, agmm)
        # Flat names (conv1, bn1, agmm1, lif1, downsample, conv2, ...) read
        # better in a state_dict than unit1.conv.
        self.conv1, self.bn1, self.agmm1, self.lif1 = u1.conv, u1.bn, u1.agmm, u1.lif
        self.downsample = u1.downsample
        self.conv2, self.bn2, self.agmm2, self.lif2 = u2.conv, u2.bn, u2.agmm, u2.lif

    def forward(self, x):
        r = x if self.downsample is None else self.downsample(x)
        y = self.lif1(self.agmm1(self.bn1(self.conv1(x))) + r)
        return self.lif2(self.agmm2(self.bn2(self.conv2(y))) + y)

    def spec(self, p, src):
        layers = []
        for i, conv in ((1, self.conv1), (2, self.conv2)):
            layers.append(conv_spec(f"{p}conv{i}", conv, "binary", bn=f"{p}bn{i}", src=src))
            layers.append({"name": f"{p}agmm{i}", "op": "agmm", "alpha": f"{p}agmm{i}.alpha"})
            short = src
            if i == 1 and self.downsample is not None:
                ds, short = self.downsample.spec(p + "downsample.", src)
                layers += ds
            layers.append({"name": f"{p}add{i}", "op": "add", "inputs": [f"{p}agmm{i}", short]})
            layers.append({"name": f"{p}lif{i}", "op": "lif"})
            src = f"{p}lif{i}"
        return layers, src


def repeat_T(x, T):
    return x.unsqueeze(0).expand(T, *x.shape).contiguous()


class Net(nn.Module):
    """Common tail: readout = mean over T of the FC logits."""

    def readout(self, y):
        return ref.readout(y)


# ---------------------------------------------------------------------------
# Presets.


class MnistNet(Net):
    """The MNIST / Fashion-MNIST conv net (1x28x28), the twin of bsnn's trainer
    preset (finetune.PresetMNIST, same layer names): conv1 (FP) BN lif1 |
    conv2 (binary) BN agmm2 lif2 pool2 | conv3 (binary) BN agmm3 lif3 pool3 |
    flatten fc readout. The pools are 2x2 max pools after the LIF: the max of
    spikes is a spike, so the binary convs read binary maps. Keys: conv1.weight,
    bn1.*, conv2.weight, bn2.*, agmm2.alpha, conv3.weight, bn3.*, agmm3.alpha,
    fc.weight, fc.bias."""

    def __init__(self, T=4, width=1.0, classes=10, lif=None, agmm=None):
        super().__init__()
        c1, c2, c3 = scaled(32, width), scaled(64, width), scaled(64, width)
        self.T = T
        self.conv1 = ref.Conv2d(1, c1, 3, padding=1, bias=False)
        self.bn1 = ref.BatchNorm2d(c1)
        self.lif1 = ref.LIF(**(lif or {}))
        self.conv2 = ref.BinaryConv2d(c1, c2, 3, padding=1)
        self.bn2 = ref.BatchNorm2d(c2)
        self.agmm2 = ref.AGMM(T, **(agmm or {}))
        self.lif2 = ref.LIF(**(lif or {}))
        self.conv3 = ref.BinaryConv2d(c2, c3, 3, padding=1)
        self.bn3 = ref.BatchNorm2d(c3)
        self.agmm3 = ref.AGMM(T, **(agmm or {}))
        self.lif3 = ref.LIF(**(lif or {}))
        self.fc = nn.Linear(c3 * 7 * 7, classes)
        self.input_shape, self.mean, self.std = [1, 28, 28], MNIST_MEAN, MNIST_STD

    def forward(self, x):
        T = self.T
        x = repeat_T(x, T)
        s = self.lif1(self.bn1(self.conv1(x)))
        s = self.lif2(self.agmm2(self.bn2(self.conv2(s))))
        s = ref.time_unfold(F.max_pool2d(ref.time_fold(s), 2), T)
        s = self.lif3(self.agmm3(self.bn3(self.conv3(s))))
        s = ref.time_unfold(F.max_pool2d(ref.time_fold(s), 2), T)
        return self.readout(self.fc(s.flatten(2)))

    def layers(self):
        return [
            conv_spec("conv1", self.conv1, "fp", bn="bn1", src="input"),
            {"name": "lif1", "op": "lif"},
            conv_spec("conv2", self.conv2, "binary", bn="bn2"),
            {"name": "agmm2", "op": "agmm", "alpha": "agmm2.alpha"},
            {"name": "lif2", "op": "lif"},
            {"name": "pool2", "op": "maxpool", "kernel": 2, "stride": 2},
            conv_spec("conv3", self.conv3, "binary", bn="bn3"),
            {"name": "agmm3", "op": "agmm", "alpha": "agmm3.alpha"},
            {"name": "lif3", "op": "lif"},
            {"name": "pool3", "op": "maxpool", "kernel": 2, "stride": 2},
            {"name": "flatten", "op": "flatten"},
            linear_spec("fc", self.fc),
            {"name": "readout", "op": "readout"},
        ]


def linear_spec(name, fc):
    d = {"name": name, "op": "linear", "precision": "fp", "in": fc.in_features,
         "out": fc.out_features, "weight": name + ".weight"}
    if fc.bias is not None:
        d["bias"] = name + ".bias"
    return d


VGG11_CFG = [64, 128, "P", 256, 256, "P", 512, 512, "P", 512, 512]


class VGG11(Net):
    """VGG-11 BSNN for 3x32x32. Keys: conv1.weight, bn1.* (FP stem);
    conv2..conv8.weight, bn2..bn8.*, agmm2..agmm8.alpha (binary); fc.weight, fc.bias.
    AP2 after conv2, conv4 and conv6 (after their LIF); GAP after conv8."""

    def __init__(self, T=4, width=1.0, classes=10, lif=None, agmm=None):
        super().__init__()
        self.T = T
        self.plan = []  # (index, pool after)
        cin, i = 3, 0
        for v in VGG11_CFG:
            if v == "P":
                self.plan[-1] = (self.plan[-1][0], True)
                continue
            i += 1
            c = scaled(v, width)
            if i == 1:
                setattr(self, "conv1", ref.Conv2d(cin, c, 3, padding=1, bias=False))
            else:
                setattr(self, f"conv{i}", ref.BinaryConv2d(cin, c, 3, padding=1))
                setattr(self, f"agmm{i}", ref.AGMM(T, **(agmm or {})))
            setattr(self, f"bn{i}", ref.BatchNorm2d(c))
            setattr(self, f"lif{i}", ref.LIF(**(lif or {})))
            self.plan.append((i, False))
            cin = c
        self.fc = nn.Linear(cin, classes)
        self.input_shape, self.mean, self.std = [3, 32, 32], CIFAR_MEAN, CIFAR_STD

    def forward(self, x):
        T = self.T
        s = repeat_T(x, T)
        for i, pool in self.plan:
            y = getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(s))
            if i > 1:
                y = getattr(self, f"agmm{i}")(y)
            s = getattr(self, f"lif{i}")(y)
            if pool:
                s = ref.time_unfold(F.avg_pool2d(ref.time_fold(s), 2), T)
        s = s.mean(dim=(3, 4))
        return self.readout(self.fc(s))

    def layers(self):
        out = []
        for i, pool in self.plan:
            conv = getattr(self, f"conv{i}")
            out.append(conv_spec(f"conv{i}", conv, "fp" if i == 1 else "binary", bn=f"bn{i}",
                                 src="input" if i == 1 else None))
            if i > 1:
                out.append({"name": f"agmm{i}", "op": "agmm", "alpha": f"agmm{i}.alpha"})
            out.append({"name": f"lif{i}", "op": "lif"})
            if pool:
                out.append({"name": f"pool{i}", "op": "avgpool", "kernel": 2, "stride": 2})
        out += [{"name": "gap", "op": "gap"}, linear_spec("fc", self.fc),
                {"name": "readout", "op": "readout"}]
        return out


class BiRealResNet(Net):
    """Bi-Real ResNet. Keys: conv1.weight, bn1.* (FP stem); layer<s>.<b>.* (BasicBlock);
    fc.weight, fc.bias."""

    def __init__(self, T, width, classes, stem, widths, blocks, strides, input_shape, mean, std,
                 lif=None, agmm=None):
        super().__init__()
        self.T = T
        k, st, pad, c0, maxpool = stem
        c0 = scaled(c0, width)
        self.conv1 = ref.Conv2d(3, c0, k, stride=st, padding=pad, bias=False)
        self.bn1 = ref.BatchNorm2d(c0)
        self.lif1 = ref.LIF(**(lif or {}))
        self.maxpool = nn.MaxPool2d(3, 2, 1) if maxpool else None
        cin = c0
        self.stages = []
        for s, (w, n, stride) in enumerate(zip(widths, blocks, strides)):
            c = scaled(w, width)
            blks = []
            for b in range(n):
                blks.append(BasicBlock(cin, c, T, stride if b == 0 else 1, lif, agmm))
                cin = c
            setattr(self, f"layer{s + 1}", nn.Sequential(*blks))
            self.stages.append(f"layer{s + 1}")
        self.fc = nn.Linear(cin, classes)
        self.input_shape, self.mean, self.std = input_shape, mean, std

    def forward(self, x):
        T = self.T
        s = self.lif1(self.bn1(self.conv1(repeat_T(x, T))))
        if self.maxpool is not None:
            s = ref.time_unfold(self.maxpool(ref.time_fold(s)), T)
        for name in self.stages:
            s = getattr(self, name)(s)
        s = s.mean(dim=(3, 4))
        return self.readout(self.fc(s))

    def layers(self):
        out = [conv_spec("conv1", self.conv1, "fp", bn="bn1", src="input"),
               {"name": "lif1", "op": "lif"}]
        src = "lif1"
        if self.maxpool is not None:
            out.append({"name": "maxpool", "op": "maxpool", "kernel": 3, "stride": 2, "pad": 1})
            src = "maxpool"
        for name in self.stages:
            for b, blk in enumerate(getattr(self, name)):
                ls, src = blk.spec(f"{name}.{b}.", src)
                out += ls
        out += [{"name": "gap", "op": "gap"}, linear_spec("fc", self.fc),
                {"name": "readout", "op": "readout"}]
        return out


def ResNet19(T=4, width=1.0, classes=10, lif=None, agmm=None):
    return BiRealResNet(T, width, classes, (3, 1, 1, 128, False), [128, 256, 512], [3, 3, 2],
                        [1, 2, 2], [3, 32, 32], CIFAR_MEAN, CIFAR_STD, lif, agmm)


def ResNet18(T=4, width=1.0, classes=1000, input_size=224, lif=None, agmm=None):
    return BiRealResNet(T, width, classes, (7, 2, 3, 64, True), [64, 128, 256, 512], [2, 2, 2, 2],
                        [1, 2, 2, 2], [3, input_size, input_size], IMAGENET_MEAN, IMAGENET_STD,
                        lif, agmm)


PRESETS = {"mnist": MnistNet, "vgg11": VGG11, "resnet19": ResNet19, "resnet18": ResNet18}


def spec(net, name, lif=None, agmm_stat="spatial", eps=1e-5):
    """The bsnn-convert JSON spec of a preset net (what -arch builds)."""
    lif = lif or {}
    return {
        "name": name,
        "input": {"shape": list(net.input_shape), "mean": list(net.mean), "std": list(net.std),
                  "encoding": "direct"},
        "timesteps": net.T,
        "lif": {"lambda": lif.get("lam", 0.5), "vth": lif.get("vth", 1.0),
                "reset": lif.get("reset", "hard")},
        "agmm": {"stat": agmm_stat},
        "bn_eps": eps,
        "layers": net.layers(),
    }


# ---------------------------------------------------------------------------
# Folding, exactly as bsnn-convert does it (float64, one rounding to float32).


def exact_mean_abs(w):
    """Per output channel mean |w| over the fan-in: the exactly rounded float64
    sum (math.fsum) divided by n, so the result does not depend on summation order."""
    rows = w.double().abs().reshape(w.shape[0], -1).tolist()
    return torch.tensor([math.fsum(r) / len(r) for r in rows], dtype=torch.float64)


def fold_terms(sd, layer, eps):
    """(scale, shift) in float64 of the per-channel affine after the accumulator,
    before the binarization / quantization scale."""
    out = layer["out"]
    bias = sd[layer["bias"]].double() if "bias" in layer else None
    if "bn" not in layer:
        return torch.ones(out, dtype=torch.float64), (bias if bias is not None else torch.zeros(out, dtype=torch.float64))
    p = layer["bn"]
    g, b = sd[p + ".weight"].double(), sd[p + ".bias"].double()
    m, v = sd[p + ".running_mean"].double(), sd[p + ".running_var"].double()
    e = layer.get("bn_eps", eps)
    s = g / torch.sqrt(v + e)
    if bias is not None:
        return s, b + (bias - m) * s
    return s, b - m * s


def fold(spec_, sd, fp="fp32"):
    """Per-layer deployment parameters (float32 tensors) for mirror_forward."""
    eps = spec_.get("bn_eps", 1e-5)
    out = {}
    for L in spec_["layers"]:
        op = L["op"]
        if op in ("conv", "linear"):
            w = sd[L["weight"]]
            s, sh = fold_terms(sd, L, eps)
            if L["precision"] == "binary":
                a = exact_mean_abs(w)
                wq = torch.where(w.double() >= 0, 1.0, -1.0).double()
                scale = (a * s).float()
            elif fp == "int8":
                wd = w.double().reshape(w.shape[0], -1)
                mx = wd.abs().max(dim=1).values
                sq = torch.where(mx > 0, mx / 127, torch.ones_like(mx))
                wq = torch.clamp(torch.round(wd / sq[:, None]), -127, 127).reshape(w.shape)
                scale = (sq * s).float()
            else:
                wq = w.float().double()
                scale = s.float()
            out[L["name"]] = {"w": wq, "scale": scale, "bias": sh.float()}
        elif op == "batchnorm":
            s, sh = fold_terms(sd, dict(L, out=sd[L["bn"] + ".weight"].shape[0]), eps)
            out[L["name"]] = {"scale": s.float(), "bias": sh.float()}
        elif op == "agmm":
            out[L["name"]] = {"alpha": sd[L["alpha"]].float() if "alpha" in L
                              else torch.full((spec_["timesteps"],), float(L["alpha_value"]))}
    return out


# ---------------------------------------------------------------------------
# The mirror: model/model.go semantics, in PyTorch.


def _affine(acc32, scale, bias, dims):
    shape = [1, 1, -1] + [1] * dims
    return acc32 * scale.reshape(shape) + bias.reshape(shape)  # two float32 roundings, no FMA


def mirror_forward(spec_, params, x):
    """Runs spec_ on raw inputs x (float32 [B, C, H, W] in [0, 1]) and returns
    (logits [B, K] float32, {lif name: spikes [T, B, C, H, W]})."""
    T = spec_["timesteps"]
    inp = spec_["input"]
    C = inp["shape"][0]
    mean = torch.tensor(inp.get("mean") or [0.0] * C, dtype=torch.float32).reshape(1, C, 1, 1)
    std = torch.tensor(inp.get("std") or [1.0] * C, dtype=torch.float32).reshape(1, C, 1, 1)
    xn = (x.float() - mean) / std
    outs = {"input": repeat_T(xn, T)}
    spikes = {}
    prev = "input"
    gl = spec_.get("lif", {})
    gstat = spec_.get("agmm", {}).get("stat", "spatial")
    for L in spec_["layers"]:
        op, name = L["op"], L["name"]
        srcs = L.get("inputs", [prev])
        a = outs[srcs[0]]
        TB = a.shape[:2]
        if op == "conv":
            p = params[name]
            acc = F.conv2d(a.double().flatten(0, 1), p["w"], None, L.get("stride", 1), L.get("pad", 0))
            y = _affine(acc.float().reshape(*TB, *acc.shape[1:]), p["scale"], p["bias"], 2)
        elif op == "linear":
            p = params[name]
            acc = a.double().flatten(2) @ p["w"].reshape(p["w"].shape[0], -1).t()
            y = _affine(acc.float(), p["scale"], p["bias"], 0).reshape(*TB, -1, 1, 1)
        elif op == "batchnorm":
            p = params[name]
            y = _affine(a, p["scale"], p["bias"], 2)
        elif op == "agmm":
            alpha = params[name]["alpha"]
            stat = L.get("stat", gstat)
            if stat == "none":
                g = alpha.reshape(T, 1, 1, 1, 1).expand(*TB, a.shape[2], 1, 1)
            else:
                dims = (3, 4) if stat == "spatial" else (2, 3, 4)
                e = a.double().mean(dim=dims, keepdim=True).float()
                sig = (1 / (1 + torch.exp(-e.double()))).float()
                g = alpha.reshape(T, 1, 1, 1, 1) * sig
            y = g * a
        elif op == "lif":
            lam = torch.tensor(L.get("lambda", gl.get("lambda", 0.5)), dtype=torch.float32)
            vth = torch.tensor(L.get("vth", gl.get("vth", 1.0)), dtype=torch.float32)
            reset = L.get("reset", gl.get("reset", "hard"))
            u = torch.zeros_like(a[0])
            s = torch.zeros_like(a[0])
            ys = []
            for t in range(T):
                h = torch.where(s > 0, torch.zeros_like(u), u) if reset == "hard" else torch.where(s > 0, u - vth, u)
                u = lam * h + a[t]
                s = (u >= vth).float()
                ys.append(s)
            y = torch.stack(ys)
            spikes[name] = y
        elif op in ("avgpool", "maxpool"):
            k, st, pd = L["kernel"], L.get("stride", L["kernel"]), L.get("pad", 0)
            f = a.flatten(0, 1)
            if op == "avgpool":
                r = F.avg_pool2d(f.double(), k, st, pd, count_include_pad=False).float()
            else:
                r = F.max_pool2d(f, k, st, pd)
            y = r.reshape(*TB, *r.shape[1:])
        elif op == "gap":
            y = a.double().mean(dim=(3, 4), keepdim=True).float()
        elif op == "add":
            y = a + outs[srcs[1]]
        elif op == "flatten":
            y = a.reshape(*TB, -1, 1, 1)
        elif op == "readout":
            y = a.double().sum(0).div(T).float().flatten(1)
        else:
            raise ValueError(op)
        outs[name] = y
        prev = name
    return outs[prev], spikes
