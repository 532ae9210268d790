"""The query/key/value layout shared by CCNet's criss-cross and DANet's position attention:
1x1 convs to C / reduction (query, key) and C (value), and a zero-initialised gamma that
scales the attended result before it is added to the input."""

from __future__ import annotations

import torch
from torch import nn


class QKVAttention(nn.Module):
    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        self.query = nn.Conv2d(channels, channels // reduction, 1)
        self.key = nn.Conv2d(channels, channels // reduction, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
