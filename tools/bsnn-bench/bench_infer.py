"""The PyTorch side of `bsnn-bench compare`: the same BSNN as plain PyTorch.

bsnn-bench writes a weight dump (graph.json + weights.bin, see
tools/bsnn-bench/dump.go) and starts this script with Debian's /usr/bin/python3
(torch 1.13, CPU):

    /usr/bin/python3 bench_infer.py DUMP_DIR

(the script is embedded in bsnn-bench and written next to the dump, so an
installed bsnn-bench needs no source tree).

It builds the network as an ordinary PyTorch user would deploy it: fp32
nn.Conv2d / nn.Linear whose weights are the binary signs times the
per-channel scale (bias = the folded BatchNorm shift), T folded into the batch
dimension for the convs, LIF neurons stepping over T, AGMM gates, Bi-Real
shortcuts as additions, eval mode, torch.no_grad. Layers whose input does not
change over time (the stem of a directly encoded image) run once per sample,
not T times, so the twin does no work bsnn would not have to do.

It then answers one JSON command per stdin line with one JSON line on stdout:

    {"cmd": "logits", "n": 4}          logits of the first n dumped samples
    {"cmd": "bench", "threads": 1, "batch": 32, "duration": 1.0, "min_calls": 3, "warmup": 1}
                                       seconds per forward call of `batch`
                                       samples, for at least `duration` s,
                                       after `warmup` untimed calls
    {"cmd": "quit"}

Every reply carries ru_maxrss (peak RSS so far, bytes). The first line written,
before any command, describes the process (torch version, thread count).
"""

import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(dirname):
    with open(dirname + "/graph.json") as f:
        g = json.load(f)
    data = np.fromfile(dirname + "/weights.bin", dtype="<f4")

    def tensor(t):
        n = int(np.prod(t["shape"])) if t["shape"] else 1
        a = data[t["offset"]:t["offset"] + n].reshape(t["shape"])
        return torch.from_numpy(a.copy())

    return g, tensor


class Conv(nn.Module):
    """Conv2D or Linear with the per-channel scale folded into the weights."""

    def __init__(self, L, tensor):
        super().__init__()
        w = tensor(L["tensors"]["weight"])
        scale = tensor(L["tensors"]["scale"])
        bias = tensor(L["tensors"]["bias"])
        w = w * scale.reshape(-1, *([1] * (w.dim() - 1)))
        if L["op"] == "linear":
            self.m = nn.Linear(L["in_c"], L["out_c"])
            self.m.weight.data.copy_(w.reshape(L["out_c"], L["in_c"]))
        else:
            self.m = nn.Conv2d(L["in_c"], L["out_c"], (L["kh"], L["kw"]), stride=L.get("stride", 1),
                               padding=L.get("pad", 0))
            self.m.weight.data.copy_(w)
        self.m.bias.data.copy_(bias)
        self.linear = L["op"] == "linear"

    def forward(self, x):
        if self.linear:
            return self.m(x.flatten(1)).reshape(x.shape[0], -1, 1, 1)
        return self.m(x)


class Affine(nn.Module):
    def __init__(self, L, tensor):
        super().__init__()
        self.register_buffer("scale", tensor(L["tensors"]["scale"]).reshape(1, -1, 1, 1))
        self.register_buffer("bias", tensor(L["tensors"]["bias"]).reshape(1, -1, 1, 1))

    def forward(self, x):
        return x * self.scale + self.bias


class AGMM(nn.Module):
    """Y[t] = alpha[t] * sigmoid(E(X[t])) * X[t] on time-folded [T*B, C, H, W]."""

    def __init__(self, L, tensor, T):
        super().__init__()
        self.T = T
        self.register_buffer("alpha", tensor(L["tensors"]["alpha"]).reshape(T, 1, 1, 1, 1))
        self.stat = L["stat"]

    def forward(self, x):
        y = x.reshape(self.T, -1, *x.shape[1:])
        if self.stat == "none":
            g = self.alpha
        elif self.stat == "spatial":
            g = self.alpha * torch.sigmoid(y.mean(dim=(3, 4), keepdim=True))
        else:
            g = self.alpha * torch.sigmoid(y.mean(dim=(2, 3, 4), keepdim=True))
        return (g * y).reshape(x.shape)


class LIF(nn.Module):
    """u[t] = lambda*h + x[t], h = u*(1-s) (hard) or u - vth*s (soft), s = u >= vth."""

    def __init__(self, L, T):
        super().__init__()
        self.T, self.lam, self.vth, self.hard = T, L.get("lambda", 0.5), L.get("vth", 1.0), L.get("reset", "hard") == "hard"

    def forward(self, x):
        xs = x.reshape(self.T, -1, *x.shape[1:])
        u = torch.zeros_like(xs[0])
        s = torch.zeros_like(xs[0])
        out = torch.empty_like(xs)
        for t in range(self.T):
            h = u * (1 - s) if self.hard else u - self.vth * s
            u = self.lam * h + xs[t]
            s = (u >= self.vth).to(x.dtype)
            out[t] = s
        return out.reshape(x.shape)


class Twin(nn.Module):
    """The dumped graph as PyTorch modules. Tensors are [B, ...] while they
    do not depend on the time step (static), else time-folded [T*B, ...]."""

    def __init__(self, g, tensor):
        super().__init__()
        inp = g["input"]
        self.T = T = inp["timesteps"]
        self.encoding = inp["encoding"]
        if self.encoding != "direct":
            raise ValueError("the PyTorch twin handles directly encoded images, not " + self.encoding + " input")
        C = inp["shape"][0]
        mean = inp.get("mean") or [0.0] * C
        std = inp.get("std") or [1.0] * C
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(1, C, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).reshape(1, C, 1, 1))
        self.layers = g["layers"]
        mods = []
        for L in self.layers:
            op = L["op"]
            if op in ("conv2d", "linear"):
                m = Conv(L, tensor)
            elif op == "affine":
                m = Affine(L, tensor)
            elif op == "agmm":
                m = AGMM(L, tensor, T)
            elif op == "lif":
                m = LIF(L, T)
            elif op == "avgpool":
                m = nn.AvgPool2d(L["kernel"], L.get("stride", 1), L.get("pad", 0), count_include_pad=False)
            elif op == "maxpool":
                # Padding never wins a max: PyTorch pads max pools with -inf.
                m = nn.MaxPool2d(L["kernel"], L.get("stride", 1), L.get("pad", 0))
            elif op in ("globalavgpool", "add", "flatten", "readout"):
                m = nn.Identity()
            else:
                raise ValueError("unknown op " + op)
            mods.append(m)
        self.mods = nn.ModuleList(mods)

    def forward(self, x):
        T = self.T
        cur = ((x - self.mean) / self.std, True)
        outs = []

        def temporal(v):
            a, static = v
            return a.repeat(T, *([1] * (a.dim() - 1))) if static else a

        for L, m in zip(self.layers, self.mods):
            srcs = [outs[i] if i >= 0 else cur for i in L["inputs"]]
            op = L["op"]
            a, static = srcs[0]
            if op in ("conv2d", "linear", "affine", "avgpool", "maxpool"):
                y = (m(a), static)
            elif op == "globalavgpool":
                y = (a.mean(dim=(2, 3), keepdim=True), static)
            elif op == "flatten":
                y = (a.flatten(1).reshape(a.shape[0], -1, 1, 1), static)
            elif op in ("agmm", "lif"):
                y = (m(temporal(srcs[0])), False)
            elif op == "add":
                b, bstatic = srcs[1]
                if static and bstatic:
                    y = (a + b, True)
                else:
                    y = (temporal(srcs[0]) + temporal(srcs[1]), False)
            elif op == "readout":
                a = a.flatten(1)
                y = (a if static else a.reshape(T, -1, a.shape[1]).mean(0), True)
            outs.append(y)
        return outs[-1][0]


def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reply(d):
    d["ru_maxrss"] = rss()
    sys.stdout.write(json.dumps(d) + "\n")
    sys.stdout.flush()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench_infer.py DUMP_DIR")
    g, tensor = load(sys.argv[1])
    samples = tensor(g["samples"])
    samples = samples.reshape(samples.shape[0], *g["input"]["shape"])
    net = Twin(g, tensor).eval()
    del tensor
    reply({"torch": torch.__version__, "python": sys.version.split()[0],
           "threads": torch.get_num_threads(), "samples": samples.shape[0]})
    with torch.no_grad():
        for line in sys.stdin:
            cmd = json.loads(line)
            c = cmd["cmd"]
            if c == "quit":
                reply({"ok": True})
                return
            if c == "logits":
                n = cmd["n"]
                torch.set_num_threads(cmd.get("threads", 1))
                lg = [net(samples[i:i + 1])[0].tolist() for i in range(n)]
                reply({"logits": lg})
            elif c == "bench":
                torch.set_num_threads(cmd["threads"])
                b = cmd["batch"]
                # Distinct samples per call, cycled, as the Go side does.
                n = samples.shape[0]
                batches = [samples[torch.arange(i * b, (i + 1) * b) % n].contiguous() for i in range(4)]
                for i in range(cmd.get("warmup", 1)):
                    net(batches[i % 4])
                times = []
                start = time.perf_counter()
                i = 0
                while len(times) < cmd.get("min_calls", 1) or time.perf_counter() - start < cmd["duration"]:
                    t0 = time.perf_counter()
                    net(batches[i % 4])
                    times.append(time.perf_counter() - t0)
                    i += 1
                reply({"seconds": times})
            else:
                reply({"error": "unknown command " + c})


if __name__ == "__main__":
    main()
