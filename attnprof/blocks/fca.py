"""FcaNet: multi-spectral channel attention (Qin, Zhang, Wu, Li; ICCV 2021).

SE's global average pool is the lowest 2-D DCT frequency; FcaNet splits the channels into
``num_freq`` groups, pools each with one fixed DCT basis on a 7x7 grid (the 'top' frequency
selection of the paper, scaled to the grid), then applies SE's MLP (no biases) and a sigmoid.
The DCT filters are a buffer, not parameters.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# The paper's 'top' frequency selection on a 7x7 grid, best first (top1 ... top32).
TOP_U = (0, 0, 6, 0, 0, 1, 1, 4, 5, 1, 3, 0, 0, 0, 3, 2,
         4, 6, 3, 5, 5, 2, 6, 5, 5, 3, 3, 4, 2, 2, 6, 1)
TOP_V = (0, 1, 0, 5, 2, 0, 2, 0, 0, 6, 0, 4, 6, 3, 5, 2,
         6, 3, 3, 3, 5, 1, 1, 2, 4, 2, 1, 1, 3, 0, 5, 3)


def dct_basis(pos: int, freq: int, size: int) -> float:
    value = math.cos(math.pi * freq * (pos + 0.5) / size) / math.sqrt(size)
    return value if freq == 0 else value * math.sqrt(2)


def dct_filters(channels: int, num_freq: int, size: int = 7) -> torch.Tensor:
    scale = size // 7
    weight = torch.zeros(channels, size, size)
    part = channels // num_freq
    for i in range(num_freq):
        u, v = TOP_U[i] * scale, TOP_V[i] * scale
        basis = torch.tensor([[dct_basis(x, u, size) * dct_basis(y, v, size)
                               for y in range(size)] for x in range(size)])
        weight[i * part:(i + 1) * part] = basis
    return weight


class MultiSpectralAttention(nn.Module):
    def __init__(self, channels: int, ratio: int = 16, num_freq: int = 16,
                 dct_size: int = 7) -> None:
        super().__init__()
        self.dct_size = dct_size
        self.register_buffer("dct", dct_filters(channels, num_freq, dct_size), persistent=False)
        self.fc1 = nn.Linear(channels, channels // ratio, bias=False)
        self.fc2 = nn.Linear(channels // ratio, channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        pooled = x
        if x.shape[-2:] != (self.dct_size, self.dct_size):
            pooled = F.adaptive_avg_pool2d(x, self.dct_size)
        y = (pooled * self.dct).sum(dim=(2, 3))
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(y))))
        return x * gate.view(b, c, 1, 1)
