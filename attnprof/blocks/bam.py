"""BAM: Bottleneck Attention Module (Park, Woo, Lee, Kweon; BMVC 2018).

The paper combines the two branches by element-wise *sum*; the authors' code
(Jongchan/attention-module, ``bam.py``) multiplies them, ``1 + sigmoid(Mc * Ms)``. attnprof
follows the code. All convolutions and linears have biases, as in that code.
"""

from __future__ import annotations

import torch
from torch import nn


class BAM(nn.Module):
    """x * (1 + sigmoid(channel(x) * spatial(x))): an MLP over pooled channels and a
    dilated conv stack over a reduced map."""

    def __init__(self, channels: int, ratio: int = 16, dilation: int = 4) -> None:
        super().__init__()
        hidden = channels // ratio
        self.channel = nn.Sequential(
            nn.Linear(channels, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, channels))
        self.spatial = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, padding=dilation, dilation=dilation),
            nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, padding=dilation, dilation=dilation),
            nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        mc = self.channel(x.mean(dim=(2, 3))).view(b, c, 1, 1)
        ms = self.spatial(x)
        return x * (1 + torch.sigmoid(mc * ms))
