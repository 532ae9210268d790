"""Squeeze-and-Excitation (Hu et al., CVPR 2018), as the seed writes it.

Parameter names (``fc1``, ``fc2``) follow the seed so its state dicts load unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


class SEBlock(nn.Module):
    """Global average pool -> Linear(C, C//r) -> ReLU -> Linear(C//r, C) -> sigmoid -> x * gate."""

    def __init__(self, channels: int, ratio: int = 4, bias: bool = False) -> None:
        super().__init__()
        hidden = channels // ratio
        if hidden < 1:
            raise ValueError(f"channels // ratio must be >= 1, got {channels} // {ratio}")
        self.avg_pool = nn.AdaptiveAvgPool2d(1)  # lowers to mean(); kept as a module, as the seed
        self.fc1 = nn.Linear(channels, hidden, bias=bias)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(hidden, channels, bias=bias)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        squeezed = self.avg_pool(x).view(b, c)
        gate = self.sigmoid(self.fc2(self.relu(self.fc1(squeezed))))
        return x * gate.view(b, c, 1, 1)
