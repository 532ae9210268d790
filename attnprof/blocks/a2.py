"""A²: double attention (Chen, Kalantidis, Li, Yan, Feng; NeurIPS 2018).

Gather: n attention maps (softmax over positions) pool m features (1x1 conv) into n global
descriptors. Distribute: at each position a softmax over the n descriptors mixes them back.
A 1x1 conv restores C channels, and the result is added to the input, as in the paper's
residual use of the block.
"""

from __future__ import annotations

import torch
from torch import nn


class DoubleAttention(nn.Module):
    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        m = n = channels // reduction
        self.features = nn.Conv2d(channels, m, 1)
        self.gather_maps = nn.Conv2d(channels, n, 1)
        self.distribute = nn.Conv2d(channels, n, 1)
        self.restore = nn.Conv2d(m, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        a = self.features(x).flatten(2)  # B, m, N
        maps = torch.softmax(self.gather_maps(x).flatten(2), dim=-1)  # B, n, N
        vectors = torch.softmax(self.distribute(x).flatten(2), dim=1)  # B, n, N
        descriptors = torch.bmm(a, maps.transpose(1, 2))  # B, m, n
        z = torch.bmm(descriptors, vectors).view(b, -1, h, w)  # B, m, H, W
        return x + self.restore(z)
