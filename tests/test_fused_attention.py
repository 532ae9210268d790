"""Scaled dot-product attention, fused or not, counted as the math it does.

``F.scaled_dot_product_attention`` runs as one fused kernel where torch has one (the CPU's
flash kernel, CUDA's flash, memory-efficient and cuDNN kernels) and as its math elsewhere
(the meta device, or inputs the kernels do not take). attnprof counts a fused call as the
math it fuses, so both give the same MACs, FLOPs and transcendentals. Expected figures are
the closed forms: q and k each scaled by sqrt(scale) (one multiply per element), QK^T and
(softmax)V (2 x MACs, MACs = B·H·L·S·(E + Ev)), a softmax over the B·H·L·S scores (4 FLOPs
and one exp each), and with a mask or is_causal one add per score (a causal mask is first
made into a bias: one op per L·S). Bytes differ by design: a fused kernel never writes the
scores out."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import attnprof
from attnprof.counters import Target, real, run_backend

B, C, H, W = 2, 8, 3, 3
HEADS, E = 2, 4  # C = HEADS x E
L = S = H * W


class SDPA(nn.Module):
    """Self-attention over the H·W positions of x, its only arithmetic the SDPA call."""

    def __init__(self, mask: str = "none"):
        super().__init__()
        self.mask = mask

    def forward(self, x):
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2).reshape(b, h * w, HEADS, E).transpose(1, 2)
        t = t.contiguous()  # the CPU's flash kernel takes it
        n = h * w
        if self.mask == "bool":
            m = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
            out = F.scaled_dot_product_attention(t, t, t, attn_mask=m)
        elif self.mask == "causal":
            out = F.scaled_dot_product_attention(t, t, t, is_causal=True)
        else:
            out = F.scaled_dot_product_attention(t, t, t)
        return out.transpose(1, 2).reshape(b, n, c).transpose(1, 2).reshape(b, c, h, w)


def closed_form(mask: str, train: bool) -> dict[str, int]:
    scores = B * HEADS * L * S
    macs = scores * (E + E)
    scaled = 2 * B * HEADS * L * E  # q and k
    flops = 2 * macs + scaled + 4 * scores
    if mask != "none":
        flops += scores  # the bias added to the scores
    if mask == "bool":
        flops += L * S  # the bool mask made a float bias (where), outside the kernel
    if mask == "causal":
        flops += L * S  # the causal mask made a bias, inside the math
    out = {"macs": macs, "flops": flops, "transcendentals": scores}
    if train:  # the gradients' four matmuls, softmax backward, the scaling's backward, and
        # the gradients of q, k and v summed into t's (one tensor used three times: 2 adds)
        out["macs"] += 2 * macs
        out["flops"] += 4 * macs + 3 * scores + scaled + 2 * B * HEADS * L * E
    return out


def counts(module, mode, where, monkeypatch):
    monkeypatch.setattr(real, "LIMIT_BYTES", 1 << 40 if where == "real" else 0)
    c = run_backend("attnprof", Target(copy.deepcopy(module), (B, C, H, W), torch.float32,
                                       "cpu", mode))
    assert c.ok and c.input == where, (c.error, c.input, c.input_why)
    return c


@pytest.mark.parametrize("mode", ["infer", "train"])
@pytest.mark.parametrize("mask", ["none", "bool", "causal"])
def test_fused_and_unfused_attention_count_as_their_math(mask, mode, monkeypatch):
    expected = closed_form(mask, mode == "train")
    got = {where: counts(SDPA(mask), mode, where, monkeypatch) for where in ("real", "meta")}
    real_ops = {o.op for o in got["real"].ops}
    # on real CPU tensors torch ran its fused kernel; on meta, the math
    assert "aten::_scaled_dot_product_flash_attention_for_cpu" in real_ops
    assert "aten::bmm" in {o.op for o in got["meta"].ops}
    for where, c in got.items():
        assert {k: getattr(c, k) for k in expected} == expected, where
        assert not c.uncounted, (where, c.uncounted)


def test_a_profile_counts_the_fused_kernel():
    """What stat and attnprof.profile report for a block that calls SDPA (a small input:
    counted on real tensors, where torch runs the fused kernel)."""
    p = attnprof.profile(SDPA(), channels=C, size=(H, W), batch=B, latency=False,
                         backends=("attnprof",))
    expected = closed_form("none", False)
    assert (p.macs, p.flops) == (expected["macs"], expected["flops"])


class ClassToken(nn.Module):
    """A parameter expanded in the forward and handed to a submodule (CaiT's class token):
    under no_grad the expanded view still says it requires a gradient, which torch's
    ModuleTracker cannot hook."""

    def __init__(self):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, C, 1, 1))
        self.mix = Mix()

    def forward(self, x):
        return self.mix(x, self.token.expand(x.shape[0], -1, -1, -1))


class Mix(nn.Module):
    def forward(self, x, token):
        return x * torch.sigmoid(token)


@pytest.mark.parametrize("where", ["real", "meta"])
def test_a_parameter_view_handed_to_a_submodule_is_counted(where, monkeypatch):
    c = counts(ClassToken(), "infer", where, monkeypatch)
    # sigmoid of the B x C token (1 FLOP, 1 exp each), the broadcast multiply over x
    assert (c.flops, c.transcendentals) == (B * C + B * C * H * W, B * C)


@pytest.mark.parametrize("where", ["real", "meta"])
def test_torchs_counter_runs_on_a_parameter_view_too(where, monkeypatch):
    """torch's FlopCounterMode (the ``torch`` backend) counts the same block: its private copy
    needs no gradient either. It counts matmuls only: none here."""
    monkeypatch.setattr(real, "LIMIT_BYTES", 1 << 40 if where == "real" else 0)
    c = run_backend("torch", Target(ClassToken(), (B, C, H, W), torch.float32, "cpu", "infer"))
    assert c.ok and c.flops == 0, c.error
