"""scSE: concurrent spatial and channel squeeze & excitation (Roy, Navab, Wachinger;
MICCAI 2018).

cSE is SE with biases; sSE is a 1x1 conv to one map and a sigmoid. The MICCAI paper adds the
two recalibrated maps; its journal version (TMI 2019) also proposes the element-wise max:
``combine`` picks. The papers' ratio for cSE is 2.
"""

from __future__ import annotations

import torch
from torch import nn


class SCSE(nn.Module):
    def __init__(self, channels: int, ratio: int = 2, combine: str = "add") -> None:
        super().__init__()
        hidden = channels // ratio
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)
        self.spatial = nn.Conv2d(channels, 1, 1)
        self.combine = combine

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        gate_c = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3)))))).view(b, c, 1, 1)
        gate_s = torch.sigmoid(self.spatial(x))
        if self.combine == "max":
            return torch.maximum(x * gate_c, x * gate_s)
        return x * gate_c + x * gate_s
