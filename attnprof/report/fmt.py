"""Formatting shared by every renderer: the unit formatting of attnprof.units (re-exported here
under the same names) and the text of a block's options."""

from __future__ import annotations

import math
from typing import Any

from attnprof.units import count, ms, nbytes, percent, si

__all__ = ["count", "si", "nbytes", "ms", "percent", "option_text", "sig3"]


def option_text(options: dict[str, Any]) -> str:
    def one(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if v is None:
            return "None"
        if isinstance(v, (list, tuple)):
            return ",".join(one(x) for x in v)
        return str(v)

    return ", ".join(f"{k}={one(v)}" for k, v in options.items()) or "none"


def sig3(x: float | None) -> str:
    """Three significant digits with thousands separators: 119,874.9 -> '120,000', 12.345 ->
    '12.3' (a rate derived from a time is no more precise than the time)."""
    if x is None or not math.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    digits = 2 - math.floor(math.log10(abs(x)))
    rounded = round(x, digits)
    return f"{rounded:,.{max(digits, 0)}f}"
