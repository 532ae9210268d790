"""Every registered block builds, keeps its input's shape, has its closed-form parameter count,
and the seed's blocks compute what the seed's code computes for the same weights."""

import pytest
import torch
from seed_reference import SEED_BLOCKS, seed_block
from torch import nn

import attnprof
from attnprof.blocks.catalog import eca_kernel

ALL = [s.name for s in attnprof.list_blocks()]


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("channels", [32, 64])
def test_builds_and_keeps_shape(name, channels):
    block = attnprof.create_block(name, channels)
    x = torch.randn(2, channels, 9, 7)
    assert block(x).shape == x.shape


def closed_form(name, c, ratio=4, bias=False, kernel_size=7, **_):
    """Closed forms: SE 2·C·(C//r); ECA k; CBAM 2·C·(C//r) + 2·k² (plus biases)."""
    h = c // ratio
    mlp = 2 * c * h + ((h + c) if bias else 0)
    if name in ("se", "cbam_channel"):
        return mlp
    if name == "eca":
        return kernel_size
    if name == "cbam_spatial":
        return 2 * kernel_size**2
    if name == "cbam":
        return mlp + 2 * kernel_size**2
    raise KeyError(name)


# Valid combinations only: ratio > channels is a BadOption, tested in test_registry.
GRID = [(n, c, r, b, k) for n in SEED_BLOCKS for c in (4, 16, 64, 257) for r in (1, 4, 16)
        for b in (False, True) for k in (1, 3, 7) if c // r >= 1]


@pytest.mark.parametrize("name,c,ratio,bias,k", GRID)
def test_parameter_closed_forms(name, c, ratio, bias, k):
    spec = attnprof.get_block(name)
    declared = {o.name for o in spec.options}
    given = {key: v for key, v in (("ratio", ratio), ("bias", bias), ("kernel_size", k))
             if key in declared}
    block = attnprof.create_block(name, c, **given)
    expected = closed_form(name, c, **given)
    assert n_params(block) == expected


@pytest.mark.parametrize("c", [1, 8, 16, 64, 512])
def test_eca_derived_kernel_params(c):
    assert n_params(attnprof.create_block("eca", c)) == eca_kernel(c, 1, 2)


@pytest.mark.parametrize("name", SEED_BLOCKS)
@pytest.mark.parametrize("c,opts", [(16, {}), (64, {"ratio": 8, "bias": True}),
                                    (32, {"kernel_size": 3})])
def test_same_outputs_as_seed_code(name, c, opts):
    declared = {o.name for o in attnprof.get_block(name).options}
    opts = {k: v for k, v in opts.items() if k in declared}
    ours = attnprof.create_block(name, c, **opts)
    seed = seed_block(name, c, **opts)
    assert n_params(ours) == n_params(seed)
    # The seed's weights load into ours by name: the same parameters.
    ours.load_state_dict(seed.state_dict())
    torch.manual_seed(1)
    x = torch.randn(3, c, 11, 13)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), seed(x), rtol=1e-5, atol=1e-6)


def test_train_mode_gradients_match_seed():
    ours, seed = attnprof.create_block("cbam", 16), seed_block("cbam", 16)
    ours.load_state_dict(seed.state_dict())
    x = torch.randn(2, 16, 8, 8)
    ours(x).square().sum().backward()
    seed(x).square().sum().backward()
    for (n1, p1), (_, p2) in zip(ours.named_parameters(), seed.named_parameters(), strict=True):
        torch.testing.assert_close(p1.grad, p2.grad, rtol=1e-4, atol=1e-6, msg=n1)


# -- the paper's computation, not more -------------------------------------------------------

def _ge_as_upsampled_first(block, x):
    """Gather-Excite as it was written before: upsample the gate to H x W, then sigmoid."""
    import torch.nn.functional as F

    gate = F.interpolate(block.mlp(block.gather(x)), size=x.shape[-2:], mode="nearest")
    return x * torch.sigmoid(gate)


@pytest.mark.parametrize("extent,use_mlp", [(0, False), (0, True), (2, False), (3, True)])
@pytest.mark.parametrize("hw", [(56, 56), (9, 13), (16, 16)])
def test_gather_excite_sigmoid_before_broadcast_keeps_outputs(extent, use_mlp, hw):
    block = attnprof.create_block("gather_excite", 32, extent=extent, use_mlp=use_mlp, ratio=4)
    x = torch.randn(2, 32, *hw)
    with torch.no_grad():
        torch.testing.assert_close(block(x), _ge_as_upsampled_first(block, x), rtol=0, atol=0)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(block(x_cl), _ge_as_upsampled_first(block, x_cl), rtol=0,
                                   atol=0)
    assert n_params(block) == (2 * 32 * 8 + 8 + 32 if use_mlp else 0)


def test_gather_excite_costs_what_timm_computes():
    """Global extent at 64x56x56: mean (N) + sigmoid on the 64 gathered values + the gating
    multiply (N) = 401,472 FLOPs and 64 transcendentals (the issue's timm figures)."""
    from attnprof.counters.own import count_module

    n = 64 * 56 * 56
    r = count_module(attnprof.create_block("gather_excite", 64), (1, 64, 56, 56), torch.float32)
    assert r.total.flops == n + 64 + n == 401_472
    assert r.total.transcendentals == 64
    # extent 2: the sigmoid runs on the 28x28 gathered map, the gate is a broadcast (no copy)
    r = count_module(attnprof.create_block("gather_excite", 64, extent=2), (1, 64, 56, 56),
                     torch.float32)
    assert r.total.transcendentals == 64 * 28 * 28
    assert "aten::upsample_nearest2d" not in r.ops


def _sk_stacked(block, x):
    """SK as it was written before: every branch stacked into one tensor, then reduced."""
    feats = torch.stack([branch(x) for branch in block.branches], dim=1)
    z = block.squeeze(feats.sum(dim=1).mean(dim=(2, 3), keepdim=True))
    logits = torch.stack([s(z) for s in block.select], dim=1)
    return (feats * torch.softmax(logits, dim=1)).sum(dim=1)


@pytest.mark.parametrize("branches", [1, 2, 3])
def test_sk_fuses_and_selects_without_stacking(branches):
    """The paper's U = sum U_m and V = sum a_m U_m: (M - 1) N adds each and M N multiplies,
    where stacking first added a copy of every branch and M N reduction reads twice."""
    from attnprof.counters.own import count_module

    c, h, w = 32, 9, 11
    block = attnprof.create_block("sk", c, branches=branches).eval()
    x = torch.randn(2, c, h, w)
    with torch.no_grad():
        torch.testing.assert_close(block(x), _sk_stacked(block, x), rtol=1e-5, atol=1e-6)
    n = 2 * c * h * w
    r = count_module(block, (2, c, h, w), torch.float32)
    assert r.ops["aten::add"].flops == 2 * (branches - 1) * n
    assert r.ops["aten::mul"].flops == branches * n
    # only the small logits are stacked: one (B, M, C, 1, 1) float32 tensor, no branch output
    stacked = r.ops["aten::stack"]
    assert stacked.calls == 1 and stacked.bytes_written == 4 * 2 * branches * c


# -- train mode at batch 1 -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bam", "sk", "srm"])
def test_train_mode_at_batch_one_says_to_use_batch_two(name, cli):
    r = cli("stat", name, "-c", "32", "-s", "8", "--mode", "train", "--no-latency")
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--batch 2" in lines[0] and "Traceback" not in r.output
    with pytest.raises(attnprof.BadInput, match="batch=2"):
        attnprof.profile(name, channels=32, size=8, mode="train", latency=False)
    ok = attnprof.profile(name, channels=32, size=8, mode="train", batch=2, latency=False,
                          backends="attnprof")
    assert ok.flops > 0


# -- channels of a user's module ---------------------------------------------------------------

class _Conv(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return x * torch.sigmoid(self.conv(x))


@pytest.mark.parametrize("module,channels", [(lambda: attnprof.create_block("se", 48), 48),
                                             (lambda: attnprof.create_block("cbam", 24), 24),
                                             (lambda: _Conv(12), 12)])
def test_profile_reads_channels_the_module_fixes(module, channels):
    p = attnprof.profile(module(), size=8, latency=False, backends="attnprof")
    assert p.input.shape[1] == channels


@pytest.mark.parametrize("make,why", [
    (lambda: attnprof.create_block("eca", 64), "runs on"),  # Conv1d(1, 1, k) takes any C
    (lambda: attnprof.create_block("simam", 64), "no parameters"),
    (lambda: attnprof.create_block("sge", 64), "runs on 64 and on 128"),
    (lambda: attnprof.create_block("danet_channel", 64), "runs on"),
])
def test_profile_never_guesses_channels(make, why):
    with pytest.raises(attnprof.BadInput, match=why) as err:
        attnprof.profile(make(), size=56, latency=False)
    assert "channels=" in str(err.value)
    p = attnprof.profile(make(), channels=64, size=8, latency=False, backends="attnprof")
    assert p.input.shape[1] == 64
