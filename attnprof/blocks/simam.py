"""SimAM: a parameter-free attention module (Yang, Zhang, Li, Xie; ICML 2021).

Each neuron's inverse energy, (x - mu)^2 / (4 (var + lambda)) + 0.5 over its channel's
positions, gates it through a sigmoid.
"""

from __future__ import annotations

import torch
from torch import nn


class SimAM(nn.Module):
    def __init__(self, channels: int | None = None, e_lambda: float = 1e-4) -> None:
        super().__init__()
        self.e_lambda = e_lambda

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[2] * x.shape[3] - 1
        d = (x - x.mean(dim=(2, 3), keepdim=True)).pow(2)
        var = d.sum(dim=(2, 3), keepdim=True) / max(n, 1)
        energy_inv = d / (4 * (var + self.e_lambda)) + 0.5
        return x * torch.sigmoid(energy_inv)
