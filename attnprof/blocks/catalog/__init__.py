"""What every built-in block is: names, papers, options, derived values, constraints.

Torch-free, so ``list`` and ``show`` stay instant. Each spec names its implementation by
import path (``attnprof.blocks.<family>:<Class>``), imported only when a block is built.
"""

from __future__ import annotations

from attnprof.blocks.catalog.seed import SEED, eca_kernel
from attnprof.blocks.catalog.zoo import ZOO

BUILTIN = SEED + ZOO

__all__ = ["BUILTIN", "eca_kernel"]
