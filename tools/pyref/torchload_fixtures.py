"""Writes the small torch.save files that tools/internal/torchload's tests read.

Run with Debian's /usr/bin/python3 (torch 1.13):
    /usr/bin/python3 tools/pyref/torchload_fixtures.py
Each file holds the same tensors, saved in a different way; the Go test checks
every value against what this script computes (values are simple formulas).
"""

import collections
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "internal", "torchload", "testdata")


def tensors():
    sd = collections.OrderedDict()
    # w[i, j] = i*10 + j/4: exact in every float type used below.
    w = torch.tensor([[i * 10 + j / 4 for j in range(5)] for i in range(3)], dtype=torch.float32)
    sd["conv.weight"] = w
    sd["conv.weight_t"] = w.t()  # non-contiguous view sharing w's storage
    sd["row"] = w[1]  # view with a storage offset
    sd["half"] = (w - 7).half()
    sd["bf16"] = (w + 0.5).bfloat16()
    sd["double"] = w.double() / 3
    sd["bn.num_batches_tracked"] = torch.tensor(17)
    sd["ints"] = torch.arange(-3, 3, dtype=torch.int32)
    sd["flags"] = torch.tensor([True, False, True])
    sd["empty"] = torch.zeros(0, 4)
    sd["scalar"] = torch.tensor(2.5)
    return sd


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = tensors()
    torch.save(sd, os.path.join(OUT, "zip.pt"))
    torch.save(sd, os.path.join(OUT, "legacy.pt"), _use_new_zipfile_serialization=False)
    # Pickle protocol 4: frames, memoize, short unicode, stack globals.
    torch.save(sd, os.path.join(OUT, "proto4.pt"), pickle_protocol=4)
    # A training checkpoint: wrapped, DataParallel prefix, an optimizer state
    # and a plain number beside it.
    wrapped = {
        "epoch": 3,
        "best_acc": 0.875,
        "state_dict": collections.OrderedDict(("module." + k, v) for k, v in sd.items()),
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]},
    }
    torch.save(wrapped, os.path.join(OUT, "wrapped.pt"))
    # nn.Parameter values (saved through _rebuild_parameter).
    params = collections.OrderedDict(w=torch.nn.Parameter(sd["conv.weight"].clone()))
    torch.save(params, os.path.join(OUT, "params.pt"))
    # A whole pickled module: must be refused with a clear error.
    torch.save(torch.nn.Linear(2, 2), os.path.join(OUT, "module.pt"))


if __name__ == "__main__":
    main()
