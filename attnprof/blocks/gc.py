"""GC: Global Context block (Cao, Xu, Lin, Wei, Hu; ICCVW 2019, GCNet).

Attention pooling (a 1x1 conv to one map, softmax over positions) gives one context vector
per image; a bottleneck transform (1x1 conv, LayerNorm, ReLU, 1x1 conv) is added to every
position. Biases and LayerNorm as in the authors' code (mmcv ``ContextBlock``).
"""

from __future__ import annotations

import torch
from torch import nn


class GlobalContext(nn.Module):
    def __init__(self, channels: int, ratio: int = 16) -> None:
        super().__init__()
        hidden = channels // ratio
        self.mask = nn.Conv2d(channels, 1, 1)
        self.transform = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.LayerNorm([hidden, 1, 1]), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        weights = torch.softmax(self.mask(x).view(b, 1, h * w), dim=-1)  # B, 1, HW
        context = torch.bmm(x.view(b, c, h * w), weights.transpose(1, 2)).view(b, c, 1, 1)
        return x + self.transform(context)
