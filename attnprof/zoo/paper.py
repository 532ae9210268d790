"""Blocks as the papers' released models configured them, for the paper suites.

``eca_by_stage``: ECA-Net's released ResNets do not use the adaptive kernel formula; each
stage has its own kernel size, named by the model (``eca_resnet50_k3557``: 3, 5, 5 and 7 for
the 256-, 512-, 1024- and 2048-channel stages), which makes the "80 parameters" ECA-Net adds
to ResNet-50 (3·3 + 4·5 + 6·5 + 3·7). The formula (attnprof's ``eca`` default) gives 5, 5, 5
and 7: 86 parameters.
"""

from __future__ import annotations

from typing import Any


def eca_by_stage(channels: int, ksize: int | str = 3557, base: int = 256) -> Any:
    """attnprof's ECA block with the kernel size of the slot's stage: the digits of ``ksize``
    are the kernels at ``base``, 2·base, 4·base, ... channels (256 for bottleneck ResNets,
    64 for basic-block ResNets)."""
    from attnprof.blocks.eca import ECABlock

    digits = str(ksize)
    if not digits.isdigit() or any(int(d) % 2 == 0 for d in digits):
        raise ValueError(f"ksize is one odd digit per stage (e.g. 3557), got {ksize!r}")
    if not isinstance(base, int) or isinstance(base, bool) or base < 1:
        raise ValueError(f"base must be a positive integer, got {base!r}")
    stage, c = 0, base
    while c < channels:
        c, stage = c * 2, stage + 1
    if c != channels or stage >= len(digits):
        stages = ", ".join(str(base << i) for i in range(len(digits)))
        raise ValueError(f"{channels} channels is not a stage of ksize={digits} with base={base} "
                         f"(stages: {stages} channels)")
    return ECABlock(channels, kernel_size=int(digits[stage]))
