"""CBAM (Woo et al., ECCV 2018): channel attention, then spatial attention.

Same parameters and outputs as the seed's code (names ``fc1``/``fc2``/``conv`` kept so its
state dicts load), with a faster forward: the max pool keeps values only (``amax``, no
indices) and both pooled vectors go through the shared MLP in one batched pass. The average
pool stays an ``nn.AdaptiveAvgPool2d`` module, as in the seed: ATen lowers it to ``mean``, and
the wrapped counters see the same module they see in the seed's code.

Inside CBAM the spatial gate multiplies the channel-gated tensor in place when autograd does
not need it: that tensor is CBAM's own intermediate, and on large inputs allocating (and
page-faulting) a fresh output of the input's size costs more than all the arithmetic.
"""

from __future__ import annotations

import torch
from torch import nn

from attnprof.blocks.se import SEBlock


class ChannelAttention(SEBlock):
    """max and average pool -> shared MLP (one pass over both) -> sum -> sigmoid -> x * gate.

    SE's layers (average pool, MLP, sigmoid) with a max-pool path beside the average."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        pooled = torch.cat([x.amax(dim=(2, 3)), self.avg_pool(x).view(b, c)])  # [2B, C]
        scores = self.fc2(self.relu(self.fc1(pooled)))
        gate = self.sigmoid(scores[:b] + scores[b:])
        return x * gate.view(b, c, 1, 1)


class SpatialAttention(nn.Module):
    """[max, mean] over channels -> Conv2d(2, 1, k) -> sigmoid -> x * gate."""

    def __init__(self, channels: int | None = None, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and >= 1, got {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.sigmoid = nn.Sigmoid()
        # Set by CBAM only, whose input here is a fresh tensor it owns; never the user's.
        self.owns_input = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        descriptor = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        gate = self.sigmoid(self.conv(descriptor))
        if self.owns_input and not x.requires_grad:
            return x.mul_(gate)
        return x * gate


class CBAM(nn.Module):
    """Channel attention followed by spatial attention."""

    def __init__(self, channels: int, ratio: int = 4, kernel_size: int = 7,
                 bias: bool = False) -> None:
        super().__init__()
        self.channel_attention = ChannelAttention(channels, ratio, bias)
        self.spatial_attention = SpatialAttention(channels, kernel_size)
        self.spatial_attention.owns_input = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial_attention(self.channel_attention(x))
