"""Coordinate attention (Hou, Zhou, Feng; CVPR 2021).

Average pools along H and along W keep position in the other direction; a shared 1x1 conv
(to mip = max(8, C / r) channels, BN, h-swish) encodes both, and two 1x1 convs give the
height and width gates. Layers as in the authors' code (houqb/CoordAttention).
"""

from __future__ import annotations

import torch
from torch import nn


class CoordAttention(nn.Module):
    def __init__(self, channels: int, ratio: int = 32, min_mip: int = 8) -> None:
        super().__init__()
        mip = max(min_mip, channels // ratio)
        self.encode = nn.Sequential(nn.Conv2d(channels, mip, 1), nn.BatchNorm2d(mip),
                                    nn.Hardswish(inplace=True))
        self.gate_h = nn.Conv2d(mip, channels, 1)
        self.gate_w = nn.Conv2d(mip, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2:]
        pooled_h = x.mean(dim=3, keepdim=True)  # B, C, H, 1
        pooled_w = x.mean(dim=2, keepdim=True).transpose(2, 3)  # B, C, W, 1
        y = self.encode(torch.cat([pooled_h, pooled_w], dim=2))
        y_h, y_w = torch.split(y, [h, w], dim=2)
        a_h = torch.sigmoid(self.gate_h(y_h))
        a_w = torch.sigmoid(self.gate_w(y_w.transpose(2, 3)))
        return x * a_h * a_w
