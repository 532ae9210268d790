"""Blocks that cannot run on the meta device, or whose count depends on the input: counted on
attnprof's seeded input, by attnprof and torch alike; the count is repeated on seeds 1 and 2
and its range reported; a backend that ran on its own input is not compared; the process is
left as found. Expected counts come from the seeded inputs themselves, by formula."""

import json
import random

import jsonschema
import pytest
import torch
from torch import nn

import attnprof
from attnprof.counters import Target, run_backend
from attnprof.reconcile import share_text
from attnprof.schemas import schema

SHAPE = (1, 4, 8, 8)
N = 4 * 8 * 8


def seeded(seed, shape=SHAPE):
    """attnprof's documented input: N(0, 1) from torch.Generator seed ``seed``."""
    return torch.empty(shape).normal_(generator=torch.Generator().manual_seed(seed))


class PositiveSum(nn.Module):
    """A boolean mask (a data-dependent shape): 2 N + P FLOPs, P = positive elements."""

    def forward(self, x):
        flat = x.flatten()
        return x * flat[flat > 0].sum()


class MeanBranch(nn.Module):
    """``if x.mean() > 0``: a bias-free 1x1 conv (C x N MACs, 2 C N FLOPs) or a doubling."""

    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x):
        if x.mean() > 0:
            return self.conv(x)
        return x * 2


class ItemScale(nn.Module):
    def forward(self, x):
        return x / x.abs().amax().item()


class RandomBranch(nn.Module):
    """Draws from the global RNG: runs on meta, but the count depends on the draw."""

    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x):
        if torch.rand(1) > 0.5:
            return self.conv(x)
        return x + 1


def target(block, mode="infer"):
    return Target(block, SHAPE, torch.float32, "cpu", mode, runs_on_meta=False)


def positive_sum_flops(seed):
    p = int((seeded(seed) > 0).sum())
    return N + p + N  # gt, sum of the P positives, the gating multiply


def mean_branch_flops(seed):
    x = seeded(seed)
    taken = 2 * 4 * N if x.mean() > 0 else N  # conv (2 x MACs) or x * 2
    return N + 1 + taken  # mean, the comparison, the branch


def random_branch_flops(seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        draw = torch.rand(1)
    return 1 + (2 * 4 * N if draw > 0.5 else N)  # the comparison, then the branch


@pytest.mark.parametrize("block,expected", [(PositiveSum(), positive_sum_flops),
                                            (MeanBranch(), mean_branch_flops)])
def test_counted_on_the_seeded_real_input_and_its_range(block, expected):
    own = run_backend("attnprof", target(block))
    assert own.ok and own.input == "real" and own.device == "cpu"
    assert "does not run on the meta device" in own.input_why
    per_seed = [expected(s) for s in (0, 1, 2)]
    assert own.flops == per_seed[0]
    if len(set(per_seed)) > 1:
        assert own.flops_range == (min(per_seed), max(per_seed))
        assert any(n.startswith("WARNING: the count depends on the input") for n in own.notes)
    else:
        assert own.flops_range is None


def test_the_seeds_give_different_counts_for_a_mask():
    """The test above is able to fail: seeds 0-2 have different numbers of positives."""
    assert len({positive_sum_flops(s) for s in (0, 1, 2)}) == 3


@pytest.mark.parametrize("block", [PositiveSum(), MeanBranch(), ItemScale()])
def test_torch_row_is_there_wherever_attnprofs_is(block):
    t = target(block)
    own, flop_counter = run_backend("attnprof", t), run_backend("torch", t)
    assert own.ok and flop_counter.ok, flop_counter.error
    assert flop_counter.input == "real"
    # FlopCounterMode counts matmuls and convs only; on the same input it sees the same ones
    conv = sum(r.flops for r in own.ops if r.op == "aten::convolution")
    assert flop_counter.flops == conv == flop_counter.counted_flops


@pytest.mark.parametrize("where", ["meta", "real"])
def test_random_branch_is_counted_on_three_seeds_on_meta_or_real(where, monkeypatch):
    """Above the real-count limit the block runs on meta; under it (a small input), on real
    tensors: either way its random branch is counted on three seeds."""
    if where == "meta":
        monkeypatch.setattr("attnprof.counters.real.LIMIT_BYTES", 0)
    t = Target(RandomBranch(), SHAPE, torch.float32, "cpu", "infer")
    own, flop_counter = run_backend("attnprof", t), run_backend("torch", t)
    per_seed = [random_branch_flops(s) for s in (0, 1, 2)]
    assert own.input == flop_counter.input == where and own.flops == per_seed[0]
    assert "draws random numbers" in own.input_why
    assert len(set(per_seed)) == 2  # able to fail: the draws take both branches
    assert own.flops_range == (min(per_seed), max(per_seed))
    convs = [f - 1 if f > N + 1 else 0 for f in per_seed]
    assert flop_counter.flops == convs[0] and flop_counter.flops_range == (min(convs), max(convs))


def test_backend_on_its_own_input_is_not_compared():
    """torchstat makes its own input (torch.rand, batch 1): for a block whose count depends on
    the input, no percentage; the same-input backends are compared."""
    t = target(MeanBranch())
    stat = run_backend("torchstat", t)
    assert stat.ok and stat.input == "own"
    assert stat.not_compared and "own input" in stat.not_compared
    assert stat.counted_flops is None and stat.missed == ()
    own = run_backend("attnprof", t)
    assert share_text(stat, own, lambda a, b: f"{100 * a / b:.1f}%") == "not compared"
    for name in ("torchinfo", "fvcore", "torch"):
        c = run_backend(name, t)
        assert c.not_compared is None and c.input == "real"
        assert c.counted_flops + sum(m.flops for m in c.missed) + c.unexplained_flops \
            == own.flops


def test_a_meta_block_is_compared_with_torchstat():
    t = Target(attnprof.create_block("se", 16), (1, 16, 8, 8), torch.float32, "cpu", "infer")
    stat = run_backend("torchstat", t)
    assert stat.input == "own" and stat.not_compared is None and stat.counted_flops is not None


@pytest.mark.parametrize("mode", ["infer", "train"])
def test_profile_says_so_everywhere_and_leaves_the_process_as_found(mode):
    block = MeanBranch()
    before = {k: v.clone() for k, v in block.state_dict().items()}
    rng, py_rng = torch.get_rng_state(), random.getstate()
    p = attnprof.profile(block, channels=4, size=8, mode=mode, latency=False)
    assert torch.equal(torch.get_rng_state(), rng) and random.getstate() == py_rng
    assert all(torch.equal(v, before[k]) for k, v in block.state_dict().items())
    d = json.loads(json.dumps(p.to_dict()))
    jsonschema.validate(d, schema("attnprof.profile/1"))
    counters = d["counters"]
    assert {n: c["status"] for n, c in counters.items()} == dict.fromkeys(counters, "ok")
    assert counters["attnprof"]["input"] == counters["torch"]["input"] == "real"
    assert "does not run on the meta device" in counters["attnprof"]["input_why"]
    assert counters["torchstat"]["input"] == "own" and counters["torchstat"]["not_compared"]
    assert "cpu tensors" in d["memory"]["peak_method"]  # not "meta trace"
    if mode == "train":
        assert d["memory"]["saved_for_backward_bytes"] > 0


def test_a_block_that_never_runs_on_meta_times_and_counts_with_every_backend():
    p = attnprof.profile(PositiveSum(), channels=4, size=8, budget_s=0.02, threads=1)
    assert p.latency is not None and p.latency.median_ms > 0
    assert all(c.ok for c in p.counters.values())
    assert p.counters["attnprof"].flops == positive_sum_flops(0)
