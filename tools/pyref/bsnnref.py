"""PyTorch reference layers for bsnn.

These modules define, in PyTorch, exactly the network semantics that bsnn's Go
code implements (see model/model.go's package doc). They are
the oracle for the trainer's gradients (finetune) and for the converter's
outputs (bsnn-convert). Run with Debian's /usr/bin/python3 (torch 1.13, CPU).

Tensors that carry time are laid out [T, B, C, H, W] (or [T, B, F]).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class SignSTE(torch.autograd.Function):
    """sign(w) with sign(0) = +1; straight-through gradient masked at |w| > 1."""

    @staticmethod
    def forward(ctx, w):
        ctx.save_for_backward(w)
        return torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))

    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        return g * (w.abs() <= 1).to(g.dtype)


def binarize(w):
    """Binary weight a_o * sign(w): a_o = mean |w| over the output channel's
    fan-in. The gradient flows through both a_o and the STE."""
    dims = tuple(range(1, w.dim()))
    alpha = w.abs().mean(dim=dims, keepdim=True)
    return alpha * SignSTE.apply(w)


def channel_scale(w):
    """a_o as a flat vector (what the .bsnn file stores, before BN folding)."""
    return w.abs().reshape(w.shape[0], -1).mean(dim=1)


def time_fold(x):
    """[T, B, ...] -> [T*B, ...]"""
    return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])


def time_unfold(x, T):
    return x.reshape(T, x.shape[0] // T, *x.shape[1:])


class BinaryConv2d(nn.Conv2d):
    """Conv with binary weights; input [T, B, C, H, W] spikes."""

    def __init__(self, cin, cout, k, stride=1, padding=0):
        super().__init__(cin, cout, k, stride=stride, padding=padding, bias=False)

    def forward(self, x):
        T = x.shape[0]
        y = F.conv2d(time_fold(x), binarize(self.weight), None, self.stride, self.padding)
        return time_unfold(y, T)


class Conv2d(nn.Conv2d):
    """Full-precision conv over [T, B, C, H, W]."""

    def forward(self, x):
        T = x.shape[0]
        return time_unfold(super().forward(time_fold(x)), T)


class BinaryLinear(nn.Linear):
    def __init__(self, fin, fout):
        super().__init__(fin, fout, bias=False)

    def forward(self, x):
        return F.linear(x, binarize(self.weight))


class BatchNorm2d(nn.BatchNorm2d):
    """BN over [T, B, C, H, W]: statistics over T*B*H*W, shared by all steps."""

    def forward(self, x):
        T = x.shape[0]
        return time_unfold(super().forward(time_fold(x)), T)


class SpikeFn(torch.autograd.Function):
    """Heaviside s = (v >= 0) with a surrogate gradient."""

    @staticmethod
    def forward(ctx, v, surrogate, gamma):
        ctx.save_for_backward(v)
        ctx.surrogate, ctx.gamma = surrogate, gamma
        return (v >= 0).to(v.dtype)

    @staticmethod
    def backward(ctx, g):
        (v,) = ctx.saved_tensors
        if ctx.surrogate == "triangle":
            gm = ctx.gamma
            d = torch.clamp(gm - v.abs(), min=0) / (gm * gm)
        elif ctx.surrogate == "sigmoid":
            k = ctx.gamma  # slope
            sg = torch.sigmoid(k * v)
            d = k * sg * (1 - sg)
        else:
            raise ValueError(ctx.surrogate)
        return g * d, None, None


class LIF(nn.Module):
    """u[t] = lam*h + x[t]; h = u*(1-s) (hard) or u - vth*s (soft); s = H(u - vth)."""

    def __init__(self, lam=0.5, vth=1.0, reset="hard", surrogate="triangle", gamma=None,
                 detach_reset=False):
        super().__init__()
        self.lam, self.vth, self.reset = lam, vth, reset
        self.surrogate = surrogate
        self.gamma = gamma if gamma is not None else (1.0 if surrogate == "triangle" else 4.0)
        self.detach_reset = detach_reset

    def forward(self, x):
        u = torch.zeros_like(x[0])
        s = torch.zeros_like(x[0])
        out = []
        for t in range(x.shape[0]):
            sr = s.detach() if self.detach_reset else s
            h = u * (1 - sr) if self.reset == "hard" else u - self.vth * sr
            u = self.lam * h + x[t]
            s = SpikeFn.apply(u - self.vth, self.surrogate, self.gamma)
            out.append(s)
        return torch.stack(out)


class AGMM(nn.Module):
    """Gate Y[t] = alpha[t] * sigmoid(E(X[t])) * X[t].

    stat: "spatial" (per-sample, per-channel mean over H,W), "channel-spatial"
    (mean over C,H,W), "none" (G = alpha[t]). detach: the statistic does not
    carry gradient. learn_alpha: alpha is a parameter.
    """

    def __init__(self, T, stat="spatial", alpha_init=1.0, learn_alpha=True, detach=False):
        super().__init__()
        a = torch.full((T,), float(alpha_init))
        if learn_alpha:
            self.alpha = nn.Parameter(a)
        else:
            self.register_buffer("alpha", a)
        self.stat, self.detach = stat, detach

    def forward(self, x):
        T = x.shape[0]
        a = self.alpha.reshape(T, *([1] * (x.dim() - 1)))
        if self.stat == "none":
            return a * x
        xs = x.detach() if self.detach else x
        if self.stat == "spatial":
            e = xs.mean(dim=tuple(range(3, x.dim())), keepdim=True) if x.dim() > 3 else xs
        elif self.stat == "channel-spatial":
            e = xs.mean(dim=tuple(range(2, x.dim())), keepdim=True)
        else:
            raise ValueError(self.stat)
        return a * torch.sigmoid(e) * x


def readout(x):
    """Mean over T of the logits [T, B, K] -> [B, K]."""
    return x.mean(0)


def fold_bn(bn):
    """BatchNorm (eval) as per-channel (scale, shift): y = x*scale + shift."""
    std = torch.sqrt(bn.running_var + bn.eps)
    scale = bn.weight / std
    shift = bn.bias - bn.running_mean * scale
    return scale.detach(), shift.detach()
