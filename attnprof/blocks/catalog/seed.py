"""The seed's blocks (SE, ECA, CBAM and its halves): names, papers, options, constraints."""

from __future__ import annotations

import math
from typing import Any

from attnprof.spec import BlockSpec, Option, Paper

SE_PAPER = Paper("Squeeze-and-Excitation Networks", "CVPR", 2018, "https://arxiv.org/abs/1709.01507")
ECA_PAPER = Paper(
    "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
    "CVPR", 2020, "https://arxiv.org/abs/1910.03151",
)
CBAM_PAPER = Paper("CBAM: Convolutional Block Attention Module", "ECCV", 2018,
                   "https://arxiv.org/abs/1807.06521")


def ratio_option(default: int = 4) -> Option:
    return Option("ratio", int, default,
                  "reduction ratio of the MLP: hidden units = channels // ratio", minimum=1)


def bias_option() -> Option:
    return Option("bias", bool, False, "give the MLP's linear layers a bias (the seed has none, "
                  "the papers do)")


def kernel_option(default: int | None, help_text: str, derived: str | None = None) -> Option:
    return Option("kernel_size", int, default, help_text, minimum=1, odd=True, derived=derived)


def check_ratio(channels: int, opts: dict[str, Any]) -> str | None:
    """The seed's constraint: the hidden layer needs at least one unit."""
    hidden = channels // opts["ratio"]
    if hidden < 1:
        return (f"channels // ratio must be >= 1 (the MLP's hidden layer would have {hidden} "
                f"units): channels={channels}, ratio={opts['ratio']}; use ratio <= {channels}")
    return None


def eca_kernel(channels: int, b: float, gamma: float) -> int:
    """ECA-Net's adaptive kernel: |(log2 C + b) / gamma|, rounded down, made odd by adding 1."""
    q = abs((math.log2(channels) + b) / gamma)
    if not math.isfinite(q) or q >= 2**31 - 1:  # gamma=1e-320 makes an infinite kernel
        raise OverflowError(f"the kernel size |(log2({channels}) + {b:g}) / {gamma:g}| = "
                            f"{q:.4g} is out of range (at most 2,147,483,646)")
    k = int(q)
    return k if k % 2 else k + 1


def derive_eca(channels: int, opts: dict[str, Any]) -> dict[str, Any]:
    if opts["kernel_size"] is None and opts["gamma"] > 0:  # gamma <= 0: check_eca says so
        opts = {**opts, "kernel_size": eca_kernel(channels, opts["b"], opts["gamma"])}
    return opts


def check_eca(channels: int, opts: dict[str, Any]) -> str | None:
    if opts["gamma"] <= 0:
        return f"gamma must be > 0, got {opts['gamma']}"
    return None


SEED: tuple[BlockSpec, ...] = (
    BlockSpec(
        name="se", aliases=("se_block",), kind="channel", paper=SE_PAPER,
        factory="attnprof.blocks.se:SEBlock",
        summary="squeeze (global average pool) and excite (two-layer MLP, sigmoid) each channel",
        options=(ratio_option(), bias_option()), check=check_ratio,
    ),
    BlockSpec(
        name="eca", aliases=("eca_block",), kind="channel", paper=ECA_PAPER,
        factory="attnprof.blocks.eca:ECABlock",
        summary="global average pool, then a 1-D convolution across channels, sigmoid, rescale",
        options=(
            Option("b", float, 1.0, "offset b of the adaptive kernel formula"),
            Option("gamma", float, 2.0, "divisor gamma of the adaptive kernel formula (> 0)"),
            kernel_option(None, "width of the 1-D convolution across channels",
                          derived="|(log2(channels) + b) / gamma|, made odd"),
        ),
        derive=derive_eca, check=check_eca,
    ),
    BlockSpec(
        name="cbam", kind="mixed", paper=CBAM_PAPER, factory="attnprof.blocks.cbam:CBAM",
        summary="channel attention (max and average pool through a shared MLP), then spatial "
                "attention (a conv over channel max and mean)",
        options=(ratio_option(), kernel_option(7, "size of the spatial attention's conv"),
                 bias_option()),
        check=check_ratio,
        example="attnprof stat cbam --channels 16 --size 256",
    ),
    BlockSpec(
        name="cbam_channel", aliases=("channel_attention",), kind="channel", paper=CBAM_PAPER,
        factory="attnprof.blocks.cbam:ChannelAttention",
        summary="CBAM's channel half: max and average pool through a shared MLP, summed, sigmoid",
        options=(ratio_option(), bias_option()), check=check_ratio,
    ),
    BlockSpec(
        name="cbam_spatial", aliases=("spatial_attention",), kind="spatial", paper=CBAM_PAPER,
        factory="attnprof.blocks.cbam:SpatialAttention",
        summary="CBAM's spatial half: a conv over the channel-wise max and mean, sigmoid",
        options=(kernel_option(7, "size of the conv over [max, mean]"),),
    ),
)
