"""SK: Selective Kernel convolution (Li, Wang, Hu, Yang; CVPR 2019).

M branches of grouped 3x3 convolutions with dilation 1..M (the paper's 5x5 as a dilated
3x3), each with BN and ReLU; their sum is pooled and squeezed to d = max(C / r, L), and a
softmax across branches selects among them, per channel. Layer layout as in the widely used
reference code (pppLang/SKNet): bias-free branch convs, a bias-free squeeze with BN, biased
selection convs. The branches are summed and weighted one by one, as the paper writes the
fuse and select steps, rather than stacked into one tensor first (a copy of every branch).
"""

from __future__ import annotations

import torch
from torch import nn


class SKConv(nn.Module):
    def __init__(self, channels: int, branches: int = 2, groups: int = 32, ratio: int = 16,
                 min_dim: int = 32) -> None:
        super().__init__()
        d = max(channels // ratio, min_dim)
        self.branches = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1 + i, dilation=1 + i,
                                    groups=groups, bias=False),
                          nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
            for i in range(branches))
        self.squeeze = nn.Sequential(nn.Conv2d(channels, d, 1, bias=False), nn.BatchNorm2d(d),
                                     nn.ReLU(inplace=True))
        self.select = nn.ModuleList(nn.Conv2d(d, channels, 1) for _ in range(branches))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The paper's fuse and select: U = U_1 + ... + U_M, V = a_1 U_1 + ... + a_M U_M. The
        # branch outputs are added and weighted where they lie, not stacked into a copy.
        feats = [branch(x) for branch in self.branches]  # M x (B, C, H, W)
        fused = feats[0]
        for f in feats[1:]:
            fused = fused + f
        z = self.squeeze(fused.mean(dim=(2, 3), keepdim=True))
        logits = torch.stack([s(z) for s in self.select], dim=1)  # B, M, C, 1, 1
        weights = torch.softmax(logits, dim=1).unbind(dim=1)  # M x (B, C, 1, 1)
        out = feats[0] * weights[0]
        for f, a in zip(feats[1:], weights[1:], strict=True):
            out = out + f * a
        return out
