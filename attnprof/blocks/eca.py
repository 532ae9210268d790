"""Efficient Channel Attention (Wang et al., CVPR 2020), as the seed writes it.

The kernel size is derived in ``catalog.eca_kernel`` (torch-free) and passed in resolved.
"""

from __future__ import annotations

import torch
from torch import nn

from attnprof.blocks.catalog import eca_kernel


class ECABlock(nn.Module):
    """Global average pool -> Conv1d(1, 1, k) across channels -> sigmoid -> x * gate."""

    def __init__(self, channels: int, b: float = 1, gamma: float = 2,
                 kernel_size: int | None = None) -> None:
        super().__init__()
        k = kernel_size if kernel_size is not None else eca_kernel(channels, b, gamma)
        if k < 1 or k % 2 == 0:
            raise ValueError(f"kernel_size must be odd and >= 1, got {k}")
        self.kernel_size = k
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=k // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        squeezed = self.avg_pool(x).view(b, 1, c)
        gate = self.sigmoid(self.conv(squeezed))
        return x * gate.view(b, c, 1, 1)
