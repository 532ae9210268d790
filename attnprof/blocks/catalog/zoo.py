"""Blocks from the literature beyond the seed, each with its paper, kind, options (the papers'
defaults) and constraints. Torch-free.

Group counts that must divide the channels (SK, shuffle attention, SGE, EMA, FcaNet) default
to the paper's value, or to the largest value below it that divides the channels, and the
resolved value is reported; an explicit value that does not divide is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attnprof.blocks.catalog.seed import ratio_option
from attnprof.spec import BlockSpec, Option, Paper


def P(title: str, venue: str, year: int, arxiv: str) -> Paper:  # noqa: N802
    return Paper(title, venue, year, f"https://arxiv.org/abs/{arxiv}")


def hidden_at_least_one(option: str = "ratio") -> Callable[[int, dict[str, Any]], str | None]:
    def check(channels: int, opts: dict[str, Any]) -> str | None:
        if channels // opts[option] < 1:
            return (f"channels // {option} must be >= 1: channels={channels}, "
                    f"{option}={opts[option]}; use {option} <= {channels}")
        return None

    return check


def divisor_option(name: str, paper_default: int, what: str, multiple: int = 1) -> Option:
    return Option(name, int, None, what, minimum=1,
                  derived=f"{paper_default}, or the largest value below it with channels "
                          f"divisible by {multiple}·{name}" if multiple > 1 else
                          f"{paper_default}, or the largest divisor of channels below it")


def derive_divisor(name: str, paper_default: int, multiple: int = 1):
    """Fill ``name`` with the largest g <= paper_default such that channels % (multiple·g) == 0."""

    def derive(channels: int, opts: dict[str, Any]) -> dict[str, Any]:
        if opts[name] is not None:
            return opts
        g = next((g for g in range(paper_default, 0, -1) if channels % (multiple * g) == 0), 1)
        return {**opts, name: g}

    return derive


def check_divides(name: str, multiple: int = 1, extra=None):
    def check(channels: int, opts: dict[str, Any]) -> str | None:
        g = opts[name]
        if channels % (multiple * g) != 0:
            factor = f"{multiple}·{name} = {multiple * g}" if multiple > 1 else f"{name} = {g}"
            return f"channels ({channels}) must be divisible by {factor}"
        return extra(channels, opts) if extra else None

    return check


def at_least(min_channels: int, why: str):
    def check(channels: int, opts: dict[str, Any]) -> str | None:
        if channels < min_channels:
            return f"needs channels >= {min_channels} ({why}), got {channels}"
        return None

    return check


def both(*checks):
    def check(channels: int, opts: dict[str, Any]) -> str | None:
        return next((m for m in (c(channels, opts) for c in checks) if m), None)

    return check


BAM_PAPER = P("BAM: Bottleneck Attention Module", "BMVC", 2018, "1807.06514")
DANET = P("Dual Attention Network for Scene Segmentation", "CVPR", 2019, "1809.02983")
SHUFFLE_PAPER = P("SA-Net: Shuffle Attention for Deep Convolutional Neural Networks", "ICASSP",
                  2021, "2102.00240")


def fca_derive(channels: int, opts: dict[str, Any]) -> dict[str, Any]:
    if opts["num_freq"] is None:
        n = next(n for n in (16, 8, 4, 2, 1) if channels % n == 0)
        opts = {**opts, "num_freq": n}
    return opts


def fca_check(channels: int, opts: dict[str, Any]) -> str | None:
    if opts["num_freq"] not in (1, 2, 4, 8, 16, 32):
        return f"num_freq must be one of 1, 2, 4, 8, 16, 32, got {opts['num_freq']}"
    if channels % opts["num_freq"]:
        return f"channels ({channels}) must be divisible by num_freq ({opts['num_freq']})"
    if opts["dct_size"] % 7:
        return f"dct_size must be a multiple of 7 (the frequencies are on a 7x7 grid), " \
               f"got {opts['dct_size']}"
    return hidden_at_least_one()(channels, opts)


ZOO: tuple[BlockSpec, ...] = (
    BlockSpec(
        name="bam", kind="mixed", paper=BAM_PAPER, factory="attnprof.blocks.bam:BAM",
        summary="channel MLP and dilated spatial convs in parallel; x * (1 + sigmoid(Mc·Ms))",
        options=(ratio_option(16), Option("dilation", int, 4, "dilation of the two 3x3 convs",
                                          minimum=1)),
        check=hidden_at_least_one(),
    ),
    BlockSpec(
        name="sk", aliases=("selective_kernel", "skconv"), kind="channel",
        paper=P("Selective Kernel Networks", "CVPR", 2019, "1903.06586"),
        factory="attnprof.blocks.sk:SKConv",
        summary="grouped conv branches of growing dilation, mixed per channel by a softmax",
        options=(Option("branches", int, 2, "number of branches M (dilation 1..M)", minimum=1),
                 divisor_option("groups", 32, "groups of each branch's 3x3 conv"),
                 ratio_option(16),
                 Option("min_dim", int, 32, "lower bound L of the squeezed width d", minimum=1)),
        derive=derive_divisor("groups", 32), check=check_divides("groups"),
    ),
    BlockSpec(
        name="gc", aliases=("global_context", "gcnet"), kind="channel",
        paper=P("GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond",
                "ICCVW", 2019, "1904.11492"),
        factory="attnprof.blocks.gc:GlobalContext",
        summary="softmax attention pooling to one context vector, a bottleneck transform, "
                "added everywhere",
        options=(ratio_option(16),), check=hidden_at_least_one(),
    ),
    BlockSpec(
        name="non_local", aliases=("nonlocal", "nl"), kind="spatial",
        paper=P("Non-local Neural Networks", "CVPR", 2018, "1711.07971"),
        factory="attnprof.blocks.non_local:NonLocal",
        summary="embedded Gaussian self-attention over all positions, added to the input",
        options=(Option("reduction", int, 2, "theta/phi/g width = channels // reduction",
                        minimum=1),
                 Option("sub_sample", bool, True, "max-pool phi and g by 2 (the authors' "
                        "default)")),
        check=hidden_at_least_one("reduction"),
    ),
    BlockSpec(
        name="coord_attention", aliases=("ca", "coordinate_attention", "coordatt"), kind="mixed",
        paper=P("Coordinate Attention for Efficient Mobile Network Design", "CVPR", 2021,
                "2103.02907"),
        factory="attnprof.blocks.coord:CoordAttention",
        summary="pools along H and along W, a shared 1x1 encoder, height and width gates",
        options=(ratio_option(32), Option("min_mip", int, 8, "lower bound of the encoder "
                                          "width mip = max(min_mip, channels // ratio)",
                                          minimum=1)),
    ),
    BlockSpec(
        name="simam", kind="mixed",
        paper=Paper("SimAM: A Simple, Parameter-Free Attention Module for Convolutional "
                    "Neural Networks", "ICML", 2021,
                    "https://proceedings.mlr.press/v139/yang21o.html"),
        factory="attnprof.blocks.simam:SimAM",
        summary="parameter-free: each neuron gated by its inverse energy against its channel",
        options=(Option("e_lambda", float, 1e-4, "regulariser lambda of the energy",
                        minimum=0.0),),
    ),
    BlockSpec(
        name="triplet_attention", aliases=("triplet",), kind="mixed",
        paper=P("Rotate to Attend: Convolutional Triplet Attention Module", "WACV", 2021,
                "2010.03045"),
        factory="attnprof.blocks.triplet:TripletAttention",
        summary="three rotated views, each Z-pooled, a kxk conv and a gate; averaged",
        options=(Option("kernel_size", int, 7, "size of each branch's conv", minimum=1,
                        odd=True),),
    ),
    BlockSpec(
        name="scse", aliases=("sc_se",), kind="mixed",
        paper=P("Concurrent Spatial and Channel Squeeze & Excitation in Fully Convolutional "
                "Networks", "MICCAI", 2018, "1803.02579"),
        factory="attnprof.blocks.scse:SCSE",
        summary="channel SE and a 1x1-conv spatial gate, applied concurrently and combined",
        options=(ratio_option(2), Option("combine", str, "add", "how the two gated maps "
                                         "combine", choices=("add", "max"))),
        check=hidden_at_least_one(),
    ),
    BlockSpec(
        name="gather_excite", aliases=("ge",), kind="mixed",
        paper=P("Gather-Excite: Exploiting Feature Context in Convolutional Neural Networks",
                "NeurIPS", 2018, "1810.12348"),
        factory="attnprof.blocks.gather_excite:GatherExcite",
        summary="average-pool over an extent (0 = global), sigmoid, then broadcast to H x W "
                "as the gate (GE-θ-)",
        options=(Option("extent", int, 0, "gather extent; 0 gathers the whole map",
                        minimum=0),
                 Option("use_mlp", bool, False, "add a 1x1-conv bottleneck on the gathered map"),
                 ratio_option(16)),
        check=lambda c, o: hidden_at_least_one()(c, o) if o["use_mlp"] else None,
    ),
    BlockSpec(
        name="srm", kind="channel",
        paper=P("SRM: A Style-based Recalibration Module for Convolutional Neural Networks",
                "ICCV", 2019, "1903.10829"),
        factory="attnprof.blocks.srm:SRM",
        summary="style pooling (mean, std), channel-wise FC, BN, sigmoid gate",
    ),
    BlockSpec(
        name="gct", aliases=("gated_channel_transformation",), kind="channel",
        paper=P("Gated Channel Transformation for Visual Recognition", "CVPR", 2020,
                "1909.11519"),
        factory="attnprof.blocks.gct:GCT",
        summary="l2 embedding, channel normalisation, gate 1 + tanh(gamma·norm + beta)",
        options=(Option("epsilon", float, 1e-5, "numerical floor inside the square roots",
                        minimum=0.0),),
    ),
    BlockSpec(
        name="ese", aliases=("effective_se",), kind="channel",
        paper=P("CenterMask: Real-Time Anchor-Free Instance Segmentation", "CVPR", 2020,
                "1911.06667"),
        factory="attnprof.blocks.ese:EffectiveSE",
        summary="SE with one full-width 1x1 conv (no reduction) and a hard sigmoid",
    ),
    BlockSpec(
        name="fca", aliases=("fcanet", "multi_spectral"), kind="channel",
        paper=P("FcaNet: Frequency Channel Attention Networks", "ICCV", 2021, "2012.11879"),
        factory="attnprof.blocks.fca:MultiSpectralAttention",
        summary="SE whose pooling is a set of 2-D DCT frequencies, one per channel group",
        options=(ratio_option(16),
                 Option("num_freq", int, None, "number of DCT frequencies (the paper's "
                        "'top' selection)", minimum=1,
                        derived="16, or the largest of 8, 4, 2, 1 dividing channels"),
                 Option("dct_size", int, 7, "grid the input is pooled to", minimum=7)),
        derive=fca_derive, check=fca_check,
    ),
    BlockSpec(
        name="shuffle_attention", aliases=("sa", "sanet"), kind="mixed", paper=SHUFFLE_PAPER,
        factory="attnprof.blocks.shuffle:ShuffleAttention",
        summary="channel groups, each half gated by channel and half by position, shuffled",
        options=(divisor_option("groups", 64, "number of channel groups", multiple=2),),
        derive=derive_divisor("groups", 64, multiple=2), check=check_divides("groups", 2),
    ),
    BlockSpec(
        name="sge", aliases=("spatial_group_enhance",), kind="spatial",
        paper=P("Spatial Group-wise Enhance: Improving Semantic Feature Learning in "
                "Convolutional Networks", "arXiv", 2019, "1905.09646"),
        factory="attnprof.blocks.shuffle:SpatialGroupEnhance",
        summary="per channel group, positions scored by similarity to the group's mean",
        options=(divisor_option("groups", 64, "number of channel groups"),),
        derive=derive_divisor("groups", 64), check=check_divides("groups"),
    ),
    BlockSpec(
        name="ema", aliases=("efficient_multiscale_attention",), kind="mixed",
        paper=P("Efficient Multi-Scale Attention Module with Cross-Spatial Learning", "ICASSP",
                2023, "2305.13563"),
        factory="attnprof.blocks.ema:EMA",
        summary="grouped 1x1 (directional) and 3x3 branches weighing each other across space",
        options=(divisor_option("factor", 32, "number of channel groups"),),
        derive=derive_divisor("factor", 32), check=check_divides("factor"),
    ),
    BlockSpec(
        name="psa", aliases=("polarized_self_attention",), kind="mixed",
        paper=P("Polarized Self-Attention: Towards High-quality Pixel-wise Regression",
                "arXiv", 2021, "2107.00782"),
        factory="attnprof.blocks.psa:PolarizedSelfAttention",
        summary="channel-only and spatial-only self-attention branches in parallel, summed",
        check=at_least(2, "its branches use channels // 2"),
    ),
    BlockSpec(
        name="criss_cross", aliases=("cca", "ccnet"), kind="spatial",
        paper=P("CCNet: Criss-Cross Attention for Semantic Segmentation", "ICCV", 2019,
                "1811.11721"),
        factory="attnprof.blocks.ccnet:CrissCrossAttention",
        summary="each position attends to its row and column; scaled by gamma, added",
        options=(Option("reduction", int, 8, "query/key width = channels // reduction",
                        minimum=1),),
        check=hidden_at_least_one("reduction"),
    ),
    BlockSpec(
        name="danet_position", aliases=("pam", "position_attention"), kind="spatial",
        paper=DANET, factory="attnprof.blocks.danet:PositionAttention",
        summary="DANet's position module: all-pairs attention over positions, added",
        options=(Option("reduction", int, 8, "query/key width = channels // reduction",
                        minimum=1),),
        check=hidden_at_least_one("reduction"),
    ),
    BlockSpec(
        name="danet_channel", aliases=("cam",), kind="channel",
        paper=DANET, factory="attnprof.blocks.danet:ChannelAttentionModule",
        summary="DANet's channel module: all-pairs attention over channels (Gram), added",
    ),
    BlockSpec(
        name="double_attention", aliases=("a2", "a2net"), kind="mixed",
        paper=P("A²-Nets: Double Attention Networks", "NeurIPS", 2018, "1810.11579"),
        factory="attnprof.blocks.a2:DoubleAttention",
        summary="gather global descriptors with attention maps, distribute them per position",
        options=(Option("reduction", int, 4, "descriptor widths m = n = channels // reduction",
                        minimum=1),),
        check=hidden_at_least_one("reduction"),
    ),
)
