"""Backends against the libraries called directly; attnprof's counter against closed forms."""

import pytest
import torch
from fvcore.nn import FlopCountAnalysis
from seed_reference import SEED_BLOCKS
from torch.utils.flop_counter import FlopCounterMode
from torchinfo import summary

import attnprof
from attnprof.counters import Target, run_backend
from attnprof.counters.own import count_module

ALL = [s.name for s in attnprof.list_blocks()]


def target(name, c=16, shape=(1, 16, 32, 32), mode="infer", **opts):
    return Target(attnprof.create_block(name, c, **opts), shape, torch.float32, "cpu", mode)


@pytest.mark.parametrize("name", ALL)
def test_torchinfo_fvcore_torch_match_the_libraries_called_directly(name):
    t = target(name)
    x = torch.randn(t.shape)
    direct_info = summary(attnprof.create_block(name, 16).eval(), input_data=[x], verbose=0)
    direct_fv = FlopCountAnalysis(attnprof.create_block(name, 16).eval(), (x,))
    direct_fv.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        attnprof.create_block(name, 16).eval()(x)
    counts = {b: run_backend(b, t) for b in ("torchstat", "torchinfo", "fvcore", "attnprof")}
    for backend, c in counts.items():
        assert c.status == "ok", (backend, c.error)
    assert counts["torchinfo"].macs == direct_info.total_mult_adds
    assert counts["fvcore"].macs == direct_fv.total()
    # fvcore's matmul/conv handles count one multiply-add per "flop": twice that is attnprof's
    # FLOPs for the matmul/conv calls fvcore did not miss (einsum is estimated by numpy's
    # einsum_path, not per matmul, so it is left out)
    fv_ops = direct_fv.by_operator()
    if "einsum" not in fv_ops:
        mac_ops = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::convolution")
        own_mac = sum(r.flops for r in counts["attnprof"].ops if r.op in mac_ops)
        missed_mac = sum(m.flops for m in counts["fvcore"].missed if m.op in mac_ops)
        fv_mac = sum(n for op, n in fv_ops.items()
                     if op in ("conv", "linear", "matmul", "addmm", "bmm", "mm", "baddbmm"))
        assert 2 * fv_mac == own_mac - missed_mac
    torch_count = run_backend("torch", t)
    assert torch_count.reported == fc.get_total_flops()
    assert torch_count.macs == fc.get_total_flops() // 2


def test_reference_figures_for_cbam16_and_se16():
    """The libraries' figures for the seed's blocks at 1x16x256x256."""
    cbam = target("cbam", shape=(1, 16, 256, 256))
    se = target("se", shape=(1, 16, 256, 256))
    assert run_backend("torchinfo", cbam).macs == 6_422_784
    assert run_backend("fvcore", cbam).macs == 7_471_360
    assert run_backend("torch", cbam).reported == 12_845_568
    assert run_backend("torchinfo", se).macs == 128
    assert run_backend("fvcore", se).macs == 1_048_704
    assert run_backend("torch", se).reported == 256


def test_torchstat_gives_its_own_numbers_and_leaves_no_trace():
    import torch.nn as nn
    from seed_reference import SeedSE

    before = {cls: dict(vars(cls)) for cls in (nn.Linear, nn.ReLU, nn.Sigmoid,
                                               nn.AdaptiveAvgPool2d, nn.Conv2d)}
    t = target("se", shape=(1, 16, 32, 32))
    c = run_backend("torchstat", t)
    assert c.status == "ok", c.error
    # torchstat's formulas (compute_flops.py): Linear = in x out per sample; ReLU = elements.
    assert c.macs == 16 * 4 + 4 + 4 * 16
    assert "AdaptiveAvgPool2d (module)" in c.uncounted_ops
    assert list(t.module.named_buffers()) == []
    for cls, attrs in before.items():
        assert dict(vars(cls)) == attrs, f"{cls.__name__} was left patched"
    # a user's module (the seed's own class) given to the backend: torchstat registers its
    # statistics as buffers on every module it hooks, and must have done so on a copy only
    seed = SeedSE(16)
    keys = list(seed.state_dict())
    c = run_backend("torchstat", Target(seed, (1, 16, 32, 32), torch.float32, "cpu", "infer"))
    assert c.status == "ok" and c.macs == 16 * 4 + 4 + 4 * 16  # it was profiled
    assert list(seed.named_buffers()) == [] and list(seed.state_dict()) == keys


def test_torchstat_is_skipped_on_cuda_rows():
    t = Target(attnprof.create_block("se", 16), (1, 16, 8, 8), torch.float32, "cuda", "infer")
    c = run_backend("torchstat", t)
    assert c.status == "skipped" and "CPU only" in c.error


def closed_form_macs(name, b, c, h, w, ratio=4, kernel_size=None):
    """Closed forms: SE FC 2·C·(C//r)·B; ECA conv k·C·B; CBAM FC 4·C·(C//r)·B + 2·k²·H·W·B."""
    hid = c // ratio
    if name == "se":
        return 2 * c * hid * b
    if name == "eca":
        return kernel_size * c * b
    if name == "cbam_channel":
        return 4 * c * hid * b
    if name == "cbam_spatial":
        return 2 * kernel_size**2 * h * w * b
    if name == "cbam":
        return 4 * c * hid * b + 2 * kernel_size**2 * h * w * b
    raise KeyError(name)


@pytest.mark.parametrize("name", SEED_BLOCKS)
@pytest.mark.parametrize("b", [1, 2, 8])
@pytest.mark.parametrize("c,h,w", [(16, 32, 32), (64, 14, 20)])
def test_attnprof_macs_equal_closed_forms_and_torch(name, b, c, h, w):
    opts = attnprof.get_block(name).resolve_options(c, {})
    t = target(name, c, (b, c, h, w))
    own = run_backend("attnprof", t)
    expected = closed_form_macs(name, b, c, h, w, opts.get("ratio", 4), opts.get("kernel_size"))
    assert own.macs == expected
    assert own.macs == run_backend("torch", t).macs


def test_se_flops_transcendentals_bytes_by_formula():
    b, c, h, w, r = 2, 64, 56, 56, 4
    hid = c // r
    own = run_backend("attnprof", target("se", c, (b, c, h, w), ratio=r))
    n = b * c * h * w
    # mean over H·W (per input element) + two matmuls (2·MACs) + relu + sigmoid + gating multiply
    assert own.flops == n + 2 * (2 * b * c * hid) + b * hid + b * c + n
    assert own.transcendentals == b * c  # one sigmoid per channel
    # at least: read the input twice (pool, multiply), write the output once
    assert own.bytes_read >= 2 * n * 4 and own.bytes_written >= n * 4


def test_cbam_flops_include_pooling_gating_and_channel_reductions():
    b, c, h, w = 1, 16, 64, 64
    own = run_backend("attnprof", target("cbam", c, (b, c, h, w)))
    ops = {r.op: r for r in own.ops}
    n = b * c * h * w
    # channel gate and spatial gate (CBAM multiplies its own intermediate in place)
    gating = sum(r.flops for op, r in ops.items() if op in ("aten::mul", "aten::mul_"))
    assert gating == 2 * n
    assert ops["aten::amax"].flops == 2 * n  # global max pool and max over channels
    assert ops["aten::mean"].flops == 2 * n  # global average pool and mean over channels
    assert ops["aten::sigmoid"].transcendentals == b * c + b * h * w
    assert own.transcendentals == b * c + b * h * w
    assert own.uncounted_ops == ()


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("mode", ["infer", "train"])
def test_meta_and_real_counts_agree(name, mode):
    block = attnprof.create_block(name, 16)
    meta = count_module(block, (2, 16, 12, 10), torch.float32, train=mode == "train")
    real = count_module(block, (2, 16, 12, 10), torch.float32, train=mode == "train",
                        device="cpu")
    assert meta.device == "meta" and real.device == "cpu"
    assert meta.uncounted_ops == {}, "every op of a built-in block has a rule"
    assert meta.total == real.total
    assert {k: v for k, v in meta.ops.items()} == {k: v for k, v in real.ops.items()}


def test_counting_a_huge_input_needs_no_memory():
    """256x512x112x112 float32 is 6.6 GB; on meta it is counted without allocating it."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    own = run_backend("attnprof", target("cbam", 512, (256, 512, 112, 112)))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert own.ok and own.device == "meta"
    assert own.macs == closed_form_macs("cbam", 256, 512, 112, 112, 4, 7)
    assert grown_kib < 500 * 1024  # far below the input's 6.6 GB


def test_layers_are_attributed_to_submodules():
    own = run_backend("attnprof", target("cbam", 16, (1, 16, 32, 32)))
    assert own.layers["spatial_attention.conv"] == 2 * 49 * 32 * 32
    assert own.layers["channel_attention.fc1"] == 2 * 16 * 4
    assert own.layers[""] == own.macs
    assert own.layer_costs["spatial_attention"].flops > own.layer_costs[
        "spatial_attention.conv"].flops


def test_train_mode_counts_backward():
    infer = run_backend("attnprof", target("se", 16, (2, 16, 8, 8)))
    train = run_backend("attnprof", target("se", 16, (2, 16, 8, 8), mode="train"))
    assert train.flops > 2 * infer.flops
    assert train.macs == 3 * infer.macs  # forward, grad of input, grad of weight
    assert any(r.op == "aten::sigmoid_backward" for r in train.ops)


class _KwChild(torch.nn.Module):
    def forward(self, x=None):
        return x * 2


class _CallsChildByKeyword(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.child = _KwChild()

    def forward(self, x):
        return self.child(x=x)


def test_a_failing_backend_is_a_status_row_and_still_restores():
    """torchstat's wrapper reads input[0]: a child called by keyword breaks it."""
    t = Target(_CallsChildByKeyword(), (1, 4, 4, 4), torch.float32, "cpu", "infer")
    c = run_backend("torchstat", t)
    assert c.status == "failed" and "IndexError" in c.error
    assert "__call__" not in vars(_KwChild)
    assert run_backend("attnprof", t).flops == 64


class _BN(torch.nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.bn = torch.nn.BatchNorm2d(channels)

    def forward(self, x):
        return self.bn(x)


@pytest.mark.parametrize("mode,per_element", [("infer", 4), ("train", 6)])
def test_batch_norm_costs_by_mode(mode, per_element):
    """Eval: (x - mean) * invstd * w + b, 4 per element; training adds the statistics (2)."""
    shape = (2, 8, 5, 5)
    block = _BN()
    result = count_module(block, shape, torch.float32, train=mode == "train")
    bn_rows = {k: v for k, v in result.ops.items() if "batch_norm" in k and "backward" not in k}
    assert sum(t.flops for t in bn_rows.values()) == per_element * 2 * 8 * 5 * 5
    if mode == "infer":
        assert sum(t.bytes_written for t in bn_rows.values()) == 2 * 8 * 5 * 5 * 4


def test_reconciliation_explains_the_gap():
    """The ops each backend missed add up to the difference from attnprof's count."""
    from attnprof.reconcile import missed_ops

    r = attnprof.profile("cbam", channels=16, size=64, latency=False)
    own = r.counters["attnprof"]
    n = 16 * 64 * 64
    for name in ("torchinfo", "torch"):
        missed = {m.op: m.flops for m in missed_ops(r.counters[name], own)}
        # both gating multiplies (one in place), both max and both mean reductions
        assert missed["mul"] == 2 * n and missed["amax"] == 2 * n and missed["mean"] == 2 * n
        assert sum(missed.values()) + r.counters[name].flops == own.flops
