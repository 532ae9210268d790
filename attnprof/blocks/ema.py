"""EMA: Efficient Multi-scale Attention (Ouyang et al.; ICASSP 2023).

Channels are split into ``factor`` groups. A 1x1 branch encodes directional pools along H
and W (as coordinate attention) and gates the group, then GroupNorm; a 3x3 branch sees
local context. Cross-spatial learning: each branch's pooled, softmaxed channel descriptor
weighs the other branch's map; the sum gates the group through a sigmoid. Layout as in the
authors' code.
"""

from __future__ import annotations

import torch
from torch import nn


class EMA(nn.Module):
    def __init__(self, channels: int, factor: int = 32) -> None:
        super().__init__()
        self.groups = factor
        cg = channels // factor
        self.gn = nn.GroupNorm(cg, cg)
        self.conv1x1 = nn.Conv2d(cg, cg, 1)
        self.conv3x3 = nn.Conv2d(cg, cg, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = x.reshape(b * self.groups, -1, h, w)
        pooled = torch.cat([g.mean(dim=3, keepdim=True), g.mean(dim=2, keepdim=True)
                            .transpose(2, 3)], dim=2)
        ph, pw = torch.split(self.conv1x1(pooled), [h, w], dim=2)
        x1 = self.gn(g * torch.sigmoid(ph) * torch.sigmoid(pw.transpose(2, 3)))
        x2 = self.conv3x3(g)
        d1 = torch.softmax(x1.mean(dim=(2, 3)), dim=-1).unsqueeze(1)  # b*g, 1, cg
        d2 = torch.softmax(x2.mean(dim=(2, 3)), dim=-1).unsqueeze(1)
        weights = torch.bmm(d1, x2.flatten(2)) + torch.bmm(d2, x1.flatten(2))  # b*g, 1, hw
        return (g * torch.sigmoid(weights.reshape(b * self.groups, 1, h, w))).reshape(b, c, h, w)
