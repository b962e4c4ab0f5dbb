"""The bsnn-train -> PyTorch -> bsnn-convert round trip fixture.

Run with Debian's python3 (torch 1.13, CPU), from anywhere:
    /usr/bin/python3 tools/pyref/roundtrip.py             # retrain, dump, write the .pth
    /usr/bin/python3 tools/pyref/roundtrip.py --no-train  # keep the committed checkpoint

Steps (files in tools/bsnn-convert/testdata/roundtrip/):

 1. bsnn-train trains the mnist preset at widths 8,16,16 for one epoch of 40
    batches of 32 MNIST images (seed 1) and writes its checkpoint:
    mnist.ckpt. The trainer is deterministic for a seed, so this reproduces
    the same bytes as long as the trainer's arithmetic does not change.
 2. Go (tools/internal/statedict, via the flag-gated TestRoundTripDump of
    tools/bsnn-convert) maps the checkpoint's latent weights, BatchNorm
    affine terms and running statistics and AGMM alphas onto the PyTorch
    twin's state_dict keys: mnist_go.npz (float32 .npy per key + meta.json).
 3. This script loads that dump into presets.MnistNet (strict: every key of
    the twin must be there, nothing else; num_batches_tracked = the trainer's
    step count) and torch.saves its state_dict: mnist.pth. It also runs the
    twin in plain float32 PyTorch eval mode on the first 64 inputs of
    inputs_mnist28.npz and stores the logits: mnist_torch.npz.

TestRoundTrip (tools/bsnn-convert, no Python needed) then requires the
trainer's export of mnist.ckpt and `bsnn-convert -arch mnist -width 0.25` of
mnist.pth to be the same model.
"""

import argparse
import collections
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import presets  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TESTDATA = os.path.join(ROOT, "tools", "bsnn-convert", "testdata")
OUT = os.path.join(TESTDATA, "roundtrip")
WIDTHS = "8,16,16"
N = 64  # inputs whose twin logits are stored

TRAIN = ["go", "run", "./tools/bsnn-train", "-arch", "mnist", "-widths", WIDTHS, "-data", "mnist",
         "-train-n", "1280", "-batch", "32", "-epochs", "1", "-seed", "1", "-test-n", "512",
         "-progress", "none"]
DUMP = ["go", "test", "./tools/bsnn-convert", "-run", "^TestRoundTripDump$", "-count=1", "-roundtrip-dump"]


def train():
    d = tempfile.mkdtemp(prefix="bsnn-roundtrip-")
    try:
        subprocess.run(TRAIN + ["-run-dir", d], cwd=ROOT, check=True)
        shutil.copyfile(os.path.join(d, "checkpoint.ckpt"), os.path.join(OUT, "mnist.ckpt"))
    finally:
        shutil.rmtree(d)


def load_dump(path):
    """(meta, OrderedDict key -> float32 tensor) from the Go dump."""
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("meta.json"))
        sd = collections.OrderedDict()
        for name in z.namelist():
            if name.endswith(".npy"):
                a = np.load(io.BytesIO(z.read(name)), allow_pickle=False)
                if a.dtype != np.float32:
                    raise ValueError("%s: dtype %s, want float32" % (name, a.dtype))
                sd[name[:-len(".npy")]] = torch.from_numpy(a.copy())
    return meta, sd


def width_of(meta):
    """The -width multiplier giving the dumped widths (presets.scaled's rule)."""
    base = [32, 64, 64]
    w = meta["widths"][0] / base[0]
    if [presets.scaled(b, w) for b in base] != meta["widths"]:
        raise ValueError("widths %s are not one multiplier of %s" % (meta["widths"], base))
    return w


def twin(meta, sd):
    if meta["preset"] != "mnist":
        raise ValueError("preset %r: only the mnist twin is wired here" % meta["preset"])
    if np.float32(meta["bn_eps"]) != np.float32(1e-5) or np.float32(meta["bn_momentum"]) != np.float32(0.1):
        raise ValueError("BN eps/momentum %s/%s differ from the twin's 1e-5/0.1" % (meta["bn_eps"], meta["bn_momentum"]))
    lif = dict(lam=meta["lambda"], vth=meta["vth"], reset=meta["reset"])
    net = presets.MnistNet(T=meta["timesteps"], width=width_of(meta), classes=meta["classes"],
                           lif=lif, agmm=dict(stat=meta["agmm_stat"]))
    f32 = lambda vs: [np.float32(v) for v in vs]  # noqa: E731 (JSON holds the float32 values' shortest form)
    if f32(net.mean) != f32(meta["mean"]) or f32(net.std) != f32(meta["std"]):
        raise ValueError("input mean/std %s/%s differ from the twin's %s/%s" % (meta["mean"], meta["std"], net.mean, net.std))
    want = net.state_dict()
    full = collections.OrderedDict()
    for k, v in want.items():
        if k.endswith(".num_batches_tracked"):
            full[k] = torch.tensor(meta["step"], dtype=v.dtype)
        elif k not in sd:
            raise KeyError("the Go dump has no %s" % k)
        else:
            full[k] = sd[k]
    extra = sorted(set(sd) - set(full))
    if extra:
        raise KeyError("the Go dump has keys the twin lacks: %s" % extra)
    net.load_state_dict(full, strict=True)
    net.eval()
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-train", action="store_true", help="keep the committed checkpoint (skip step 1)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    if not args.no_train:
        train()
    subprocess.run(DUMP, cwd=ROOT, check=True)
    meta, sd = load_dump(os.path.join(OUT, "mnist_go.npz"))
    net = twin(meta, sd)
    torch.save(net.state_dict(), os.path.join(OUT, "mnist.pth"))

    with zipfile.ZipFile(os.path.join(TESTDATA, "inputs_mnist28.npz")) as z:
        u8 = np.load(io.BytesIO(z.read("inputs.npy")), allow_pickle=False)[:N]
    x = torch.from_numpy(u8).float() / 255
    mean = torch.tensor(net.mean, dtype=torch.float32).reshape(1, -1, 1, 1)
    std = torch.tensor(net.std, dtype=torch.float32).reshape(1, -1, 1, 1)
    with torch.no_grad():
        logits = net((x - mean) / std).numpy().astype(np.float32)
    b = io.BytesIO()
    np.save(b, logits, allow_pickle=False)
    with zipfile.ZipFile(os.path.join(OUT, "mnist_torch.npz"), "w") as z:
        z.writestr(zipfile.ZipInfo("logits.npy", date_time=(1980, 1, 1, 0, 0, 0)), b.getvalue(),
                   compress_type=zipfile.ZIP_DEFLATED)
    print("roundtrip: step %d, widths %s, %d tensors; twin logits on %d inputs, classes %s"
          % (meta["step"], meta["widths"], len(sd), N, np.bincount(logits.argmax(1), minlength=meta["classes"])))


if __name__ == "__main__":
    main()
