"""Gather-Excite (Hu, Shen, Albanie, Sun, Vedaldi; NeurIPS 2018).

GE-theta-minus: gather by average pooling over an extent (0 = the whole map), excite by a
sigmoid and nearest-neighbour upsampling, then gate. ``use_mlp`` adds the paper's
GE-theta-plus style 1x1-conv bottleneck (C -> C / r -> C) on the gathered map.

The sigmoid runs on the gathered map, before it is brought back to H x W (as timm's
``GatherExcite`` does for the global extent): nearest upsampling only repeats values, so
sigmoid-then-repeat equals repeat-then-sigmoid, at one sigmoid per gathered value instead of
one per position. A 1 x 1 gate, or one that divides the map by whole factors, is applied as
a broadcast, so no H x W copy of the gate is made at all.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class GatherExcite(nn.Module):
    def __init__(self, channels: int, extent: int = 0, use_mlp: bool = False,
                 ratio: int = 16) -> None:
        super().__init__()
        self.extent = extent
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, channels // ratio, 1), nn.ReLU(inplace=True),
            nn.Conv2d(channels // ratio, channels, 1)) if use_mlp else nn.Identity()

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        """The gather step: the whole map's mean (extent 0), else an average over each
        extent-strided window."""
        if self.extent == 0:
            return x.mean(dim=(2, 3), keepdim=True)
        k = 2 * self.extent - 1
        return F.avg_pool2d(x, k, stride=self.extent, padding=k // 2, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.mlp(self.gather(x)))
        b, c, h, w = x.shape
        gh, gw = gate.shape[-2:]
        if (gh, gw) in ((1, 1), (h, w)):
            return x * gate
        if h % gh == 0 and w % gw == 0 and x.is_contiguous():
            # nearest upsampling by whole factors repeats each value in a block: a broadcast
            blocks = x.view(b, c, gh, h // gh, gw, w // gw) * gate.view(b, c, gh, 1, gw, 1)
            return blocks.view(b, c, h, w)
        return x * F.interpolate(gate, size=(h, w), mode="nearest")
