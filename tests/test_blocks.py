"""Every registered block builds, keeps its input's shape, has its closed-form parameter count,
and the seed's blocks compute what the seed's code computes for the same weights."""

import pytest
import torch
from seed_reference import SEED_BLOCKS, seed_block

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
