"""Polarized self-attention, parallel layout (Liu, Lin, Liu, Cao, Yang; arXiv 2021).

Channel-only branch: a query map softmaxed over positions pools Wv(x) to a C/2 vector,
expanded by Wz to C, LayerNorm, sigmoid. Spatial-only branch: a globally pooled query
softmaxed over C/2 channels weighs Wv(x) into one map, sigmoid. The output adds both gated
inputs. Convolutions without bias as in the authors' code; the LayerNorm is the paper's.
"""

from __future__ import annotations

import torch
from torch import nn


class PolarizedSelfAttention(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        half = channels // 2
        self.ch_wv = nn.Conv2d(channels, half, 1, bias=False)
        self.ch_wq = nn.Conv2d(channels, 1, 1, bias=False)
        self.ch_wz = nn.Conv2d(half, channels, 1, bias=False)
        self.ln = nn.LayerNorm([channels, 1, 1])
        self.sp_wv = nn.Conv2d(channels, half, 1, bias=False)
        self.sp_wq = nn.Conv2d(channels, half, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = torch.softmax(self.ch_wq(x).view(b, 1, h * w), dim=-1)  # B, 1, HW
        z = torch.bmm(self.ch_wv(x).flatten(2), q.transpose(1, 2)).unsqueeze(-1)  # B, C/2, 1, 1
        channel_gate = torch.sigmoid(self.ln(self.ch_wz(z)))
        sq = torch.softmax(self.sp_wq(x).mean(dim=(2, 3)), dim=-1).unsqueeze(1)  # B, 1, C/2
        spatial_gate = torch.sigmoid(torch.bmm(sq, self.sp_wv(x).flatten(2)).view(b, 1, h, w))
        return x * channel_gate + x * spatial_gate
