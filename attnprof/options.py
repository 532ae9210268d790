"""Block options on the command line: parsing of ``-o KEY=VALUE``.

Torch-free on purpose. The declaration and validation of options (:class:`Option`,
:func:`validate_options`) live in :mod:`attnprof.spec` and are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from attnprof.errors import BadOption
from attnprof.spec import Option, validate_options

__all__ = ["Option", "validate_options", "parse_value", "parse_assignments"]


def parse_value(text: str) -> Any:
    """Parse a command-line value as int, float, bool (true/false) or, failing those, string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """Turn ``["ratio=8", "bias=true"]`` into ``{"ratio": 8, "bias": True}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep:
            raise BadOption(f"-o expects KEY=VALUE, got {item!r} (for example: -o ratio=8)")
        if not key:
            raise BadOption(f"-o {item!r} has an empty key (for example: -o ratio=8)")
        if not raw.strip():
            raise BadOption(f"-o {item!r} has an empty value (for example: -o {key}=8)")
        if key in out:
            raise BadOption(f"option '{key}' is given twice")
        out[key] = parse_value(raw.strip())
    return out
