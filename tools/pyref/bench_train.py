#!/usr/bin/python3
"""Training throughput of the MNIST preset in PyTorch, for comparison with
finetune's BenchmarkTrainStep (same network, T, batch, data and thread count).

    /usr/bin/python3 tools/pyref/bench_train.py [-threads 1] [-batch 32] [-T 4] [-steps 10]
    go test -bench TrainStep -run '^$' ./finetune/

The network is finetune's PresetMNIST built from the bsnnref layers:
fp32 conv 3×3 32 → BN → LIF → binary conv 3×3 64 → BN → AGMM → LIF → max pool 2
→ binary conv 3×3 64 → BN → AGMM → LIF → max pool 2 → flatten → linear 10,
cross-entropy on the T-mean logits, SGD (lr 0.1, momentum 0.9, weight decay
5e-4). Batches are the first MNIST training images, as in the Go benchmark.

It prints samples per wall-second and per CPU-second (process CPU time): on a
shared machine the CPU-time figure is the one to compare.
"""

import argparse
import gzip
import os
import struct
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bsnnref as R  # noqa: E402

MNIST_MODULE = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"


def mnist_dir():
    d = os.environ.get("BSNN_MNIST_DIR")
    if d:
        return d
    cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True).stdout.strip()
    return os.path.join(cache, MNIST_MODULE, "data")


def load_mnist(n):
    """The first n training images in [0,1], [n,1,28,28], and labels."""
    d = mnist_dir()
    with gzip.open(os.path.join(d, "train-images-idx3-ubyte.gz")) as f:
        _, count, h, w = struct.unpack(">IIII", f.read(16))
        n = min(n, count)
        pix = f.read(n * h * w)
    with gzip.open(os.path.join(d, "train-labels-idx1-ubyte.gz")) as f:
        f.read(8)
        lab = f.read(n)
    x = torch.tensor(list(pix), dtype=torch.float32).reshape(n, 1, h, w) / 255
    return x, torch.tensor(list(lab), dtype=torch.long)


class MNISTNet(nn.Module):
    def __init__(self, T, widths=(32, 64, 64)):
        super().__init__()
        self.T = T
        self.conv1 = R.Conv2d(1, widths[0], 3, padding=1, bias=False)
        self.bn1 = R.BatchNorm2d(widths[0])
        self.lif1 = R.LIF()
        self.conv2 = R.BinaryConv2d(widths[0], widths[1], 3, padding=1)
        self.bn2 = R.BatchNorm2d(widths[1])
        self.agmm2 = R.AGMM(T)
        self.lif2 = R.LIF()
        self.conv3 = R.BinaryConv2d(widths[1], widths[2], 3, padding=1)
        self.bn3 = R.BatchNorm2d(widths[2])
        self.agmm3 = R.AGMM(T)
        self.lif3 = R.LIF()
        self.fc = nn.Linear(widths[2] * 7 * 7, 10)

    @staticmethod
    def pool(x):
        return R.time_unfold(F.max_pool2d(R.time_fold(x), 2), x.shape[0])

    def forward(self, x):
        x = (x - 0.1307) / 0.3081
        x = x.unsqueeze(0).repeat(self.T, 1, 1, 1, 1)
        x = self.lif1(self.bn1(self.conv1(x)))
        x = self.pool(self.lif2(self.agmm2(self.bn2(self.conv2(x)))))
        x = self.pool(self.lif3(self.agmm3(self.bn3(self.conv3(x)))))
        return R.readout(self.fc(x.flatten(2)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-threads", type=int, default=1)
    ap.add_argument("-batch", type=int, default=32)
    ap.add_argument("-T", type=int, default=4)
    ap.add_argument("-steps", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x, y = load_mnist(a.batch * (a.steps + 2))
    net = MNISTNet(a.T)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    nb = x.shape[0] // a.batch

    def step(i):
        k = i % nb
        xb, yb = x[k * a.batch:(k + 1) * a.batch], y[k * a.batch:(k + 1) * a.batch]
        opt.zero_grad()
        loss = F.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        return float(loss)

    for i in range(2):
        step(i)
    w0, c0 = time.perf_counter(), time.process_time()
    for i in range(a.steps):
        loss = step(i + 2)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n = a.steps * a.batch
    print(f"pytorch {torch.__version__} threads={a.threads} T={a.T} batch={a.batch}: "
          f"{n / wall:.1f} samples/s, {n / cpu:.1f} samples/cpu-s (last loss {loss:.3f})")


if __name__ == "__main__":
    main()
