"""Gather-Excite (Hu, Shen, Albanie, Sun, Vedaldi; NeurIPS 2018).

GE-theta-minus: gather by average pooling over an extent (0 = the whole map), excite by
nearest-neighbour upsampling and a sigmoid, then gate. ``use_mlp`` adds the paper's
GE-theta-plus style 1x1-conv bottleneck (C -> C / r -> C) on the gathered map.
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.extent == 0:
            gathered = x.mean(dim=(2, 3), keepdim=True)
        else:
            k = 2 * self.extent - 1
            gathered = F.avg_pool2d(x, k, stride=self.extent, padding=k // 2,
                                    count_include_pad=False)
        gate = self.mlp(gathered)
        if gate.shape[-2:] != x.shape[-2:]:
            gate = F.interpolate(gate, size=x.shape[-2:], mode="nearest")
        return x * torch.sigmoid(gate)
