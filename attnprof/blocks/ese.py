"""Effective Squeeze-Excitation (Lee, Park; CVPR 2020, CenterMask / VoVNetV2).

SE with a single full-width 1x1 conv (no channel reduction, so no information loss) and a
hard sigmoid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class EffectiveSE(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * F.hardsigmoid(self.fc(x.mean(dim=(2, 3), keepdim=True)))
