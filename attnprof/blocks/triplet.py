"""Triplet attention (Misra, Nalamada, Arasanipalai, Hou; WACV 2021).

Three branches see the tensor rotated so that (C, W), (H, C) and (H, W) are the spatial
plane; each pools max and mean over the remaining axis (Z-pool), applies a k x k conv with
BN (no bias) and a sigmoid, and gates its view; the three results are averaged.
"""

from __future__ import annotations

import torch
from torch import nn


class _Gate(nn.Module):
    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.bn(self.conv(pooled)))


class TripletAttention(nn.Module):
    def __init__(self, channels: int | None = None, kernel_size: int = 7) -> None:
        super().__init__()
        self.cw = _Gate(kernel_size)  # rotate H to the channel axis: plane (C, W)
        self.hc = _Gate(kernel_size)  # rotate W to the channel axis: plane (H, C)
        self.hw = _Gate(kernel_size)  # the plain spatial plane

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cw = self.cw(x.transpose(1, 2)).transpose(1, 2)
        hc = self.hc(x.transpose(1, 3)).transpose(1, 3)
        return (cw + hc + self.hw(x)) / 3
