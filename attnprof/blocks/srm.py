"""SRM: Style-based Recalibration Module (Lee, Kim, Nam; ICCV 2019).

Style pooling (each channel's mean and standard deviation), style integration (a
channel-wise fully connected layer: per channel, a weighted sum of its two statistics; a
grouped 1-D conv without bias), BN, sigmoid, gate.
"""

from __future__ import annotations

import torch
from torch import nn


class SRM(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.cfc = nn.Conv1d(channels, channels, kernel_size=2, groups=channels, bias=False)
        self.bn = nn.BatchNorm1d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        flat = x.flatten(2)
        style = torch.stack([flat.mean(dim=2), flat.std(dim=2)], dim=2)  # B, C, 2
        z = self.bn(self.cfc(style))  # B, C, 1
        return x * torch.sigmoid(z).view(b, c, 1, 1)
