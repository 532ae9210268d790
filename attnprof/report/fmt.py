"""Formatting shared by every renderer: the unit formatting of attnprof.units (re-exported here
under the same names) and the text of a block's options."""

from __future__ import annotations

from typing import Any

from attnprof.units import count, ms, nbytes, percent, si

__all__ = ["count", "si", "nbytes", "ms", "percent", "option_text"]


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
