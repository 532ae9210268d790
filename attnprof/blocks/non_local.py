"""Non-local block, embedded Gaussian (Wang, Girshick, Gupta, He; CVPR 2018).

theta, phi, g are 1x1 convs to C / reduction channels; y = softmax(theta^T phi) g; a 1x1 conv
with BN (initialised to zero, so the block starts as identity) maps back and adds to x.
``sub_sample`` max-pools phi and g by 2, as the authors' code does by default.
"""

from __future__ import annotations

import torch
from torch import nn


class NonLocal(nn.Module):
    def __init__(self, channels: int, reduction: int = 2, sub_sample: bool = True) -> None:
        super().__init__()
        inter = channels // reduction
        self.theta = nn.Conv2d(channels, inter, 1)
        self.phi = nn.Conv2d(channels, inter, 1)
        self.g = nn.Conv2d(channels, inter, 1)
        self.pool = nn.MaxPool2d(2) if sub_sample else nn.Identity()
        self.out = nn.Sequential(nn.Conv2d(inter, channels, 1), nn.BatchNorm2d(channels))
        nn.init.zeros_(self.out[1].weight)
        nn.init.zeros_(self.out[1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        q = self.theta(x).flatten(2).transpose(1, 2)  # B, HW, C'
        k = self.pool(self.phi(x)).flatten(2)  # B, C', N
        v = self.pool(self.g(x)).flatten(2).transpose(1, 2)  # B, N, C'
        y = torch.bmm(torch.softmax(torch.bmm(q, k), dim=-1), v)  # B, HW, C'
        return x + self.out(y.transpose(1, 2).reshape(b, -1, h, w))
