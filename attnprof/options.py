"""Block options on the command line: parsing of ``-o KEY=VALUE``.

Torch-free on purpose. The declaration and validation of options (:class:`Option`,
:func:`validate_options`) live in :mod:`attnprof.spec` and are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from attnprof.errors import BadOption
from attnprof.spec import Option, validate_options

__all__ = ["Option", "validate_options", "parse_value", "parse_assignments", "distribute"]


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


def distribute(blocks: list[str], assignments: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each block's options from ``assignments`` given for several blocks at once (``compare``,
    ``sweep``, the library's ``compare``): ``KEY`` goes to every block that declares it (a
    registered or timm block's schema, a ``module:Name``'s constructor), else to those whose
    constructor takes ``**kwargs``; ``BLOCK.KEY`` to that block, and wins over ``KEY``
    whatever their order. An option no block takes is :class:`BadOption`."""
    from attnprof.registry import REGISTRY

    per_block: list[dict[str, Any]] = [{} for _ in blocks]
    specific: list[tuple[str, str, Any]] = []
    for key, value in assignments.items():
        target, dot, leaf = key.rpartition(".")
        if dot and target in blocks:
            specific.append((target, leaf, value))
            continue
        specs = [REGISTRY.get(b) for b in blocks]
        takers = [i for i, spec in enumerate(specs) if spec.names_option(key)] or [
            i for i, spec in enumerate(specs) if spec.takes_any_option()]  # into **kwargs
        if not takers:
            raise BadOption(f"no block among {', '.join(blocks)} has option '{key}'; "
                            f"give -o BLOCK.{key}=VALUE for one block")
        for i in takers:
            per_block[i][key] = value
    for target, leaf, value in specific:  # after the general ones: the specific one wins
        for i, b in enumerate(blocks):
            if b == target:
                per_block[i][leaf] = value
    return per_block
