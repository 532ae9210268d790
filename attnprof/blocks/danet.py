"""DANet's position and channel attention modules (Fu et al.; CVPR 2019).

Position: every position attends to every other (queries and keys of C / 8 channels).
Channel: every channel attends to every other through their Gram matrix (the authors' code
subtracts each row from its max before the softmax). Each result, scaled by a learned
gamma (zero at start), is added to the input.
"""

from __future__ import annotations

import torch
from torch import nn

from attnprof.blocks._qkv import QKVAttention


class PositionAttention(QKVAttention):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # B, N, C'
        attn = torch.softmax(torch.bmm(q, self.key(x).flatten(2)), dim=-1)  # B, N, N
        out = torch.bmm(self.value(x).flatten(2), attn.transpose(1, 2)).view(b, c, h, w)
        return self.gamma * out + x


class ChannelAttentionModule(nn.Module):
    def __init__(self, channels: int | None = None) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        flat = x.flatten(2)  # B, C, N
        energy = torch.bmm(flat, flat.transpose(1, 2))  # B, C, C
        energy = energy.amax(dim=-1, keepdim=True) - energy
        out = torch.bmm(torch.softmax(energy, dim=-1), flat).view(b, c, h, w)
        return self.gamma * out + x
