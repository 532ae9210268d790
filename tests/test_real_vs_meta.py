"""Counting on real tensors (a small input: attnprof.counters.real) and on the meta device give
the same figures: every registered block, the seed's blocks and timm's blocks, both passes,
attnprof's own counter and torch's FlopCounterMode, every figure (MACs, FLOPs,
transcendentals, bytes, per-op and per-module tables, peak). Only ``input``, ``input_why``
and ``device`` say which was used. The meta count is the reference: it needs no data."""

import copy
import json
import resource

import pytest
import torch
from seed_reference import SEED_BLOCKS, seed_block
from test_zoo_timm import BUILDABLE
from zoo_env import needs_zoo

import attnprof
from attnprof.counters import Target, real, run_backend
from attnprof.counters.own import count_module

ALL = [s.name for s in attnprof.list_blocks()]
WHICH = ("input", "input_why", "device")  # the fields that say where the count ran


def figures(count) -> dict:
    d = count.to_dict()
    assert d["status"] == "ok", d["error"]
    return {k: v for k, v in d.items() if k not in WHICH}


def both_ways(module, shape, mode="infer", backends=("attnprof", "torch"), monkeypatch=None):
    """Each backend's Count on meta (the real-count limit at 0) and on real tensors."""
    out = {}
    for where, limit in (("meta", 0), ("real", 1 << 40)):
        monkeypatch.setattr(real, "LIMIT_BYTES", limit)
        t = Target(copy.deepcopy(module), shape, torch.float32, "cpu", mode)
        out[where] = {b: run_backend(b, t) for b in backends}
    for b in backends:
        assert out["meta"][b].input == "meta", (b, out["meta"][b].input_why)
        assert out["real"][b].input == "real", (b, out["real"][b].input_why)
    return out["meta"], out["real"]


def assert_same(meta, real_):
    for backend, count in meta.items():
        assert figures(real_[backend]) == figures(count), backend
    own = real_["attnprof"]
    assert own.device == "cpu" and meta["attnprof"].device == "meta"
    assert own.ops and own.layer_costs and own.extra["peak_live_bytes"] > 0


@pytest.mark.parametrize("mode", ["infer", "train"])
@pytest.mark.parametrize("name", ALL)
def test_every_registered_block_counts_the_same_on_meta_and_real(name, mode, monkeypatch):
    meta, real_ = both_ways(attnprof.create_block(name, 16), (2, 16, 12, 10), mode,
                            monkeypatch=monkeypatch)
    assert_same(meta, real_)


@pytest.mark.parametrize("name", SEED_BLOCKS)
def test_the_seeds_blocks_count_the_same_on_meta_and_real(name, monkeypatch):
    meta, real_ = both_ways(seed_block(name, 16), (1, 16, 14, 14), monkeypatch=monkeypatch)
    assert_same(meta, real_)


@needs_zoo
@pytest.mark.parametrize("key,opts", BUILDABLE, ids=[k for k, _ in BUILDABLE])
def test_timm_blocks_count_the_same_on_meta_and_real(key, opts, monkeypatch):
    block = attnprof.create_block(f"timm:{key}", 64, **opts)
    meta, real_ = both_ways(block, (1, 64, 16, 16), monkeypatch=monkeypatch)
    assert_same(meta, real_)


@pytest.mark.parametrize("block,mode", [("se", "infer"), ("cbam", "infer"),
                                        ("non_local", "infer"), ("cbam", "train")])
def test_a_profiles_json_differs_only_in_where_it_counted(block, mode, monkeypatch):
    """Every backend, the memory figures (saved-for-backward bytes in train mode) and the
    layer table: the JSON is the same but for ``input``/``input_why``/``device`` of the
    counters that ran on meta or real tensors."""
    docs = {}
    for where, limit in (("meta", 0), ("real", 1 << 40)):
        monkeypatch.setattr(real, "LIMIT_BYTES", limit)
        p = attnprof.profile(block, channels=16, size=12, latency=False, mode=mode)
        docs[where] = json.loads(json.dumps(p.to_dict()))
    for doc in docs.values():
        doc.pop("environment")
    for where, doc in docs.items():
        assert {doc["counters"][b]["input"] for b in ("attnprof", "torch")} == {where}
        for count in doc["counters"].values():
            assert count["status"] == "ok", count["error"]
            for key in WHICH:
                count.pop(key, None)
    assert docs["real"] == docs["meta"]


@pytest.mark.parametrize("name", ALL)
def test_saved_for_backward_bytes_are_the_same_on_meta_and_real(name, monkeypatch):
    from attnprof.measure.memory import saved_for_backward_bytes

    block = attnprof.create_block(name, 16)
    got = {}
    for where, limit in (("meta", 0), ("real", 1 << 40)):
        monkeypatch.setattr(real, "LIMIT_BYTES", limit)
        got[where] = saved_for_backward_bytes(block, (2, 16, 12, 10), torch.float32, "cpu")
    assert got["real"] == got["meta"] > 0


def test_a_small_input_counts_on_real_tensors_and_a_huge_one_on_meta():
    """cbam 16x256x256 (4 MiB) counts on real CPU tensors; 64x1024x1024x1024 float32 (256 GiB)
    on meta, without memory."""
    small = Target(attnprof.create_block("cbam", 16), (1, 16, 256, 256), torch.float32, "cpu",
                   "infer")
    assert small.counts_on_real() and run_backend("attnprof", small).input == "real"
    huge = Target(attnprof.create_block("cbam", 1024), (64, 1024, 1024, 1024), torch.float32,
                  "cpu", "infer")
    assert not huge.counts_on_real()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    own = run_backend("attnprof", huge)
    assert own.ok and own.input == "meta" and own.device == "meta"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500 * 1024  # KiB


def test_a_cuda_target_counts_on_meta():
    """Counting on real CUDA tensors would initialise CUDA: the meta device is cheaper."""
    assert not real.counts_on_real(attnprof.create_block("se", 16), (1, 16, 8, 8),
                                   torch.float32, "cuda")


@pytest.mark.parametrize("name", ["non_local", "danet_position"])
def test_an_attention_map_too_large_for_real_tensors_is_counted_on_meta(name, monkeypatch):
    """A 1 MiB input whose block builds an (H W) x (H W) map: at 128x128 that is 1 GiB, which
    the estimate cannot foresee; the guard stops the real count before allocating it and the
    count runs on meta, with the meta count's figures."""
    block = attnprof.create_block(name, 16)
    shape = (1, 16, 128, 128)
    t = Target(copy.deepcopy(block), shape, torch.float32, "cpu", "infer")
    assert t.counts_on_real()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    own = run_backend("attnprof", t)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert own.ok and own.input == "meta", own.input_why
    assert grown_kib < real.CAP_BYTES // 1024 + 200 * 1024
    monkeypatch.setattr(real, "LIMIT_BYTES", 0)
    ref = run_backend("attnprof", Target(copy.deepcopy(block), shape, torch.float32, "cpu",
                                         "infer"))
    assert figures(own) == figures(ref)


def test_a_small_input_with_much_work_is_counted_on_meta(monkeypatch):
    """A 3x3 convolution of 256 channels at 64x64: a 4 MiB input, but 2.4 G MACs, more than
    real.CAP_MACS: the real count stops at that op and the count runs on meta."""
    conv = torch.nn.Conv2d(256, 256, 3, padding=1, bias=False)
    shape = (1, 256, 64, 64)
    t = Target(copy.deepcopy(conv), shape, torch.float32, "cpu", "infer")
    assert t.counts_on_real()
    own = run_backend("attnprof", t)
    assert own.ok and own.input == "meta" and own.macs == 64 * 64 * 256 * 256 * 9 > real.CAP_MACS
    monkeypatch.setattr(real, "LIMIT_BYTES", 0)
    ref = run_backend("attnprof", Target(copy.deepcopy(conv), shape, torch.float32, "cpu",
                                         "infer"))
    assert figures(own) == figures(ref)


def test_the_budget_estimates_a_matrix_products_output_before_it_runs():
    a, b = torch.empty(2, 300, 8, device="meta"), torch.empty(2, 8, 400, device="meta")
    assert real.output_elements(torch.ops.aten.bmm.default, (a, b)) == 2 * 300 * 400
    x, y = torch.empty(5, 1, 3, device="meta"), torch.empty(4, 1, device="meta")
    assert real.output_elements(torch.ops.aten.mul.Tensor, (x, y)) == 5 * 4 * 3
    assert real.work_macs(torch.ops.aten.bmm.default, (a, b)) == 2 * 300 * 8 * 400
    budget = real.Budget(cap=2 * 300 * 400 * 4 - 1)
    with pytest.raises(real.TooLarge):
        budget.before(torch.ops.aten.bmm.default, (a, b))
    with pytest.raises(real.TooLarge):
        real.Budget(cap_macs=2 * 300 * 8 * 400 - 1).before(torch.ops.aten.bmm.default, (a, b))


def test_a_value_read_counts_only_when_it_follows_from_the_input_or_weights():
    budget = real.Budget()
    x = torch.ones(3)
    budget.mark([x])
    noise = torch.rand(1)
    budget.before(torch.ops.aten._local_scalar_dense.default, (noise,))
    assert budget.reads == []
    budget.before(torch.ops.aten._local_scalar_dense.default, (x,))
    assert budget.reads == ["aten::_local_scalar_dense"]


def test_count_module_on_real_tensors_matches_closed_form():
    """SE at 1x64x56x56 (docs/counting.md's worked example), counted on real tensors."""
    own = count_module(attnprof.create_block("se", 64), (1, 64, 56, 56), torch.float32,
                       device="cpu", budget=real.Budget())
    assert own.total.flops == 405_584 and own.total.macs == 2_048
    assert own.reads_values == ()


def test_real_runs_use_one_thread_and_leave_torchs_count_as_found():
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(torch.get_num_threads())
            return x * 2

    threads = torch.get_num_threads()
    own = run_backend("attnprof", Target(Probe(), (1, 2, 4, 4), torch.float32, "cpu", "infer"))
    assert own.ok and own.input == "real" and seen == [1]
    assert torch.get_num_threads() == threads
