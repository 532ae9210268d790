"""GCT: Gated Channel Transformation (Yang, Zhu, Wu, Yang; CVPR 2020).

Global context embedding alpha * ||x_c||_2, channel normalisation (scaled by
gamma * sqrt(C) / ||s||_2, as the authors' code writes it), and the gate 1 + tanh(. + beta).
The gate starts as identity (gamma = beta = 0).
"""

from __future__ import annotations

import torch
from torch import nn


class GCT(nn.Module):
    def __init__(self, channels: int, epsilon: float = 1e-5) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.epsilon = epsilon

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embedding = (x.pow(2).sum(dim=(2, 3), keepdim=True) + self.epsilon).sqrt() * self.alpha
        norm = self.gamma / (embedding.pow(2).mean(dim=1, keepdim=True) + self.epsilon).sqrt()
        return x * (1 + torch.tanh(embedding * norm + self.beta))
