"""The blocks from the literature: closed-form parameter counts (formulas in C and the
options, written here from each paper's layers) and behaviour the papers specify."""

import pytest
import torch

import attnprof


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def bam(c, ratio=16, dilation=4):
    h = c // ratio
    channel = c * h + h + 2 * h + h * c + c  # Linear, BN1d, Linear (biases)
    spatial = (c * h + h) + 2 * h + 2 * (9 * h * h + h + 2 * h) + (h + 1)
    return channel + spatial


def sk(c, branches=2, groups=32, ratio=16, min_dim=32):
    d = max(c // ratio, min_dim)
    return (branches * (9 * c * (c // groups) + 2 * c) + c * d + 2 * d
            + branches * (d * c + c))


FORMULAS = {
    "bam": bam,
    "sk": sk,
    "gc": lambda c, ratio=16: (c + 1) + (c * (c // ratio) + c // ratio) + 2 * (c // ratio)
    + (c // ratio * c + c),
    "non_local": lambda c, reduction=2, sub_sample=True: 3 * (c * (c // reduction)
                                                             + c // reduction)
    + (c // reduction * c + c) + 2 * c,
    "coord_attention": lambda c, ratio=32, min_mip=8: (
        lambda mip: c * mip + mip + 2 * mip + 2 * (mip * c + c))(max(min_mip, c // ratio)),
    "simam": lambda c, e_lambda=1e-4: 0,
    "triplet_attention": lambda c, kernel_size=7: 3 * (2 * kernel_size**2 + 2),
    "scse": lambda c, ratio=2, combine="add": c * (c // ratio) + c // ratio
    + (c // ratio) * c + c + c + 1,
    "gather_excite": lambda c, extent=0, use_mlp=False, ratio=16: (
        c * (c // ratio) + c // ratio + (c // ratio) * c + c) if use_mlp else 0,
    "srm": lambda c: 2 * c + 2 * c,
    "gct": lambda c, epsilon=1e-5: 3 * c,
    "ese": lambda c: c * c + c,
    "fca": lambda c, ratio=16, num_freq=16, dct_size=7: 2 * c * (c // ratio),
    "shuffle_attention": lambda c, groups=64: 6 * (c // (2 * groups)),
    "sge": lambda c, groups=64: 2 * groups,
    "ema": lambda c, factor=32: 10 * (c // factor) ** 2 + 4 * (c // factor),
    "psa": lambda c: 2 * c * c + 3 * c,
    "criss_cross": lambda c, reduction=8: 2 * (c * (c // reduction) + c // reduction)
    + c * c + c + 1,
    "danet_position": lambda c, reduction=8: 2 * (c * (c // reduction) + c // reduction)
    + c * c + c + 1,
    "danet_channel": lambda c: 1,
    "double_attention": lambda c, reduction=4: 3 * (c * (c // reduction) + c // reduction)
    + (c // reduction) * c + c,
}

CASES = [
    ("bam", 64, {}), ("bam", 256, {"ratio": 8, "dilation": 2}),
    ("sk", 64, {}), ("sk", 256, {"branches": 3, "groups": 16, "ratio": 4, "min_dim": 8}),
    ("gc", 64, {}), ("gc", 256, {"ratio": 4}),
    ("non_local", 64, {}), ("non_local", 128, {"reduction": 4, "sub_sample": False}),
    ("coord_attention", 64, {}), ("coord_attention", 512, {"ratio": 16}),
    ("simam", 64, {}), ("triplet_attention", 64, {}), ("triplet_attention", 32,
                                                        {"kernel_size": 3}),
    ("scse", 64, {}), ("scse", 64, {"ratio": 16, "combine": "max"}),
    ("gather_excite", 64, {}), ("gather_excite", 64, {"use_mlp": True, "extent": 2}),
    ("srm", 64, {}), ("gct", 64, {}), ("ese", 64, {}),
    ("fca", 64, {}), ("fca", 256, {"ratio": 4, "num_freq": 32}),
    ("shuffle_attention", 256, {}), ("shuffle_attention", 64, {"groups": 8}),
    ("sge", 64, {}), ("sge", 256, {"groups": 8}),
    ("ema", 64, {}), ("ema", 256, {"factor": 8}),
    ("psa", 64, {}), ("criss_cross", 64, {}), ("criss_cross", 64, {"reduction": 4}),
    ("danet_position", 64, {}), ("danet_channel", 64, {}),
    ("double_attention", 64, {}), ("double_attention", 64, {"reduction": 2}),
]


@pytest.mark.parametrize("name,c,opts", CASES)
def test_parameter_closed_forms(name, c, opts):
    resolved = attnprof.get_block(name).resolve_options(c, opts)
    expected = FORMULAS[name](c, **resolved)
    assert n_params(attnprof.create_block(name, c, **opts)) == expected


def test_every_zoo_block_has_a_formula():
    seed = {"se", "eca", "cbam", "cbam_channel", "cbam_spatial"}
    names = {s.name for s in attnprof.list_blocks()}
    assert names - seed == set(FORMULAS)
    assert len(names) >= 25


@pytest.mark.parametrize("name,c,group_option,expected", [
    ("sk", 64, "groups", 32), ("sk", 48, "groups", 24), ("shuffle_attention", 256, "groups", 64),
    ("shuffle_attention", 64, "groups", 32), ("shuffle_attention", 96, "groups", 48),
    ("sge", 64, "groups", 64), ("sge", 48, "groups", 48), ("ema", 64, "factor", 32),
    ("ema", 40, "factor", 20), ("fca", 64, "num_freq", 16), ("fca", 24, "num_freq", 8),
])
def test_group_counts_default_to_the_paper_or_the_largest_divisor(name, c, group_option,
                                                                  expected):
    assert attnprof.get_block(name).resolve_options(c)[group_option] == expected


@pytest.mark.parametrize("name,c,opts,needle", [
    ("sk", 64, {"groups": 5}, "divisible"), ("shuffle_attention", 64, {"groups": 64},
                                             "divisible by 2·groups"),
    ("gc", 8, {}, "channels // ratio"), ("fca", 64, {"num_freq": 3}, "num_freq"),
    ("criss_cross", 4, {}, "channels // reduction"), ("psa", 1, {}, "channels >= 2"),
    ("scse", 64, {"combine": "mul"}, "one of add, max"),
])
def test_constraints(name, c, opts, needle):
    from attnprof.errors import BadOption

    with pytest.raises(BadOption, match=needle):
        attnprof.get_block(name).resolve_options(c, opts)


@pytest.mark.parametrize("name", ["gct", "non_local", "criss_cross", "danet_position",
                                  "danet_channel"])
def test_blocks_that_start_as_identity(name):
    """GCT (gamma = beta = 0), non-local (zero BN), CCNet and DANet (gamma = 0)."""
    block = attnprof.create_block(name, 32).eval()
    x = torch.randn(2, 32, 6, 5)
    with torch.no_grad():
        torch.testing.assert_close(block(x), x)


def test_simam_is_its_formula():
    x = torch.randn(2, 8, 5, 6)
    n = 5 * 6 - 1
    mu = x.mean(dim=(2, 3), keepdim=True)
    var = ((x - mu) ** 2).sum(dim=(2, 3), keepdim=True) / n
    expected = x * torch.sigmoid((x - mu) ** 2 / (4 * (var + 1e-4)) + 0.5)
    torch.testing.assert_close(attnprof.create_block("simam", 8)(x), expected)


def test_fca_lowest_frequency_is_average_pooling():
    """With one frequency, FcaNet's DCT pooling is global average pooling times sqrt(HW)/..."""
    block = attnprof.create_block("fca", 16, num_freq=1).eval()
    x = torch.randn(2, 16, 7, 7)
    pooled = (x * block.dct).sum(dim=(2, 3))
    torch.testing.assert_close(pooled, x.mean(dim=(2, 3)) * 7)  # (1/√7)² · 49 = 7


def test_criss_cross_attends_to_row_and_column_only():
    block = attnprof.create_block("criss_cross", 16).eval()
    block.gamma.data.fill_(1.0)
    x = torch.zeros(1, 16, 5, 5)
    y0 = block(x)
    x2 = x.clone()
    x2[0, :, 4, 4] = 10.0  # far corner: not in the row or column of (0, 0)
    y1 = block(x2)
    torch.testing.assert_close(y1[0, :, 0, 0], y0[0, :, 0, 0])
    assert not torch.allclose(y1[0, :, 0, 4], y0[0, :, 0, 4])  # same column as (4, 4)
