"""Shuffle attention (Zhang, Yang; ICASSP 2021, SA-Net) and spatial group-wise enhance
(Li, Hu, Yang; arXiv 2019, SGE).

Both split the channels into groups that are treated as sub-features, each with a handful
of parameters per group: SA gates half of each group by channel (pooled mean, affine,
sigmoid) and half by position (GroupNorm, affine, sigmoid), then shuffles the channels; SGE
scores each position by its similarity to the group's mean feature.
"""

from __future__ import annotations

import torch
from torch import nn


class ShuffleAttention(nn.Module):
    def __init__(self, channels: int, groups: int = 64) -> None:
        super().__init__()
        self.groups = groups
        half = channels // (2 * groups)
        self.cweight = nn.Parameter(torch.zeros(1, half, 1, 1))
        self.cbias = nn.Parameter(torch.ones(1, half, 1, 1))
        self.sweight = nn.Parameter(torch.zeros(1, half, 1, 1))
        self.sbias = nn.Parameter(torch.ones(1, half, 1, 1))
        self.gn = nn.GroupNorm(half, half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = x.reshape(b * self.groups, -1, h, w)
        xc, xs = g.chunk(2, dim=1)
        xc = xc * torch.sigmoid(self.cweight * xc.mean(dim=(2, 3), keepdim=True) + self.cbias)
        xs = xs * torch.sigmoid(self.sweight * self.gn(xs) + self.sbias)
        out = torch.cat([xc, xs], dim=1).reshape(b, c, h, w)
        return out.reshape(b, 2, c // 2, h, w).transpose(1, 2).reshape(b, c, h, w)


class SpatialGroupEnhance(nn.Module):
    def __init__(self, channels: int, groups: int = 64, eps: float = 1e-5) -> None:
        super().__init__()
        self.groups = groups
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(1, groups, 1, 1))
        self.bias = nn.Parameter(torch.ones(1, groups, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = x.reshape(b * self.groups, -1, h, w)
        score = (g * g.mean(dim=(2, 3), keepdim=True)).sum(dim=1).reshape(b * self.groups, -1)
        score = score - score.mean(dim=1, keepdim=True)
        score = score / (score.std(dim=1, keepdim=True) + self.eps)
        score = score.reshape(b, self.groups, h, w) * self.weight + self.bias
        return (g * torch.sigmoid(score.reshape(b * self.groups, 1, h, w))).reshape(b, c, h, w)
