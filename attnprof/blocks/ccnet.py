"""Criss-cross attention (Huang et al.; ICCV 2019, CCNet).

Each position attends to the positions in its row and its column (H + W - 1 of them; the
column term skips the position itself, as the authors' code does with -inf), with queries
and keys of C / 8 channels; the result, scaled by a learned gamma (zero at start), is added
to the input.
"""

from __future__ import annotations

import torch

from attnprof.blocks._qkv import QKVAttention


class CrissCrossAttention(QKVAttention):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2:]
        q, k, v = self.query(x), self.key(x), self.value(x)
        energy_h = torch.einsum("bchw,bcgw->bhwg", q, k)  # along the column
        self_mask = torch.eye(h, dtype=torch.bool, device=x.device).view(h, 1, h)
        energy_h = energy_h.masked_fill(self_mask, float("-inf"))
        energy_w = torch.einsum("bchw,bchv->bhwv", q, k)  # along the row
        attn = torch.softmax(torch.cat([energy_h, energy_w], dim=-1), dim=-1)
        out = torch.einsum("bhwg,bcgw->bchw", attn[..., :h], v) \
            + torch.einsum("bhwv,bchv->bchw", attn[..., h:], v)
        return self.gamma * out + x
