"""Typed block options: declaration, parsing of ``-o KEY=VALUE`` and validation.

Torch-free on purpose: options are validated before a block is built, and ``show`` prints
them without importing torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from attnprof.errors import BadOption, did_you_mean

_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


@dataclass(frozen=True)
class Option:
    """One option a block accepts: its type, default, constraints and help text.

    ``default=None`` with ``derived`` set means the block works the value out from the
    channel count (ECA's kernel size); the resolved value is reported either way.
    """

    name: str
    type: type
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    odd: bool = False
    derived: str | None = None

    def constraints(self) -> str:
        """The constraints in words, e.g. 'integer, >= 1, odd'."""
        parts = [_TYPE_NAMES[self.type].replace("an ", "").replace("a ", "")]
        if self.minimum is not None:
            parts.append(f">= {_fmt(self.minimum)}")
        if self.maximum is not None:
            parts.append(f"<= {_fmt(self.maximum)}")
        if self.odd:
            parts.append("odd")
        if self.choices:
            parts.append("one of " + ", ".join(str(c) for c in self.choices))
        return ", ".join(parts)

    def default_text(self) -> str:
        """The default as ``show`` prints it."""
        if self.default is None and self.derived:
            return f"derived: {self.derived}"
        return _fmt(self.default)

    def validate(self, value: Any, block: str) -> Any:
        """Return ``value`` coerced to this option's type, or raise :class:`BadOption`."""
        where = f"option '{self.name}' of block '{block}'"
        if self.type is bool:
            ok = isinstance(value, bool)
        elif self.type is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            if isinstance(value, float) and value.is_integer():
                value, ok = int(value), True
        elif self.type is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok:
                value = float(value)
                ok = math.isfinite(value)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise BadOption(f"{where} must be {self.constraints()}, got {_fmt(value)!s}")
        if self.minimum is not None and value < self.minimum:
            raise BadOption(f"{where} must be >= {_fmt(self.minimum)}, got {_fmt(value)}")
        if self.maximum is not None and value > self.maximum:
            raise BadOption(f"{where} must be <= {_fmt(self.maximum)}, got {_fmt(value)}")
        if self.odd and value % 2 == 0:
            raise BadOption(f"{where} must be odd (so the output keeps its size), got {value}")
        if self.choices and value not in self.choices:
            raise BadOption(
                f"{where} must be one of {', '.join(map(str, self.choices))}, got {_fmt(value)}"
            )
        return value


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


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


def validate_options(
    block: str, declared: Iterable[Option], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Check ``given`` against ``declared``; return every option with defaults filled in."""
    by_name = {o.name: o for o in declared}
    for key in given:
        if key not in by_name:
            known = ", ".join(by_name) or "none"
            raise BadOption(
                f"block '{block}' has no option '{key}'{did_you_mean(key, by_name)}; "
                f"its options: {known}"
            )
    return {
        name: (opt.validate(given[name], block) if name in given else opt.default)
        for name, opt in by_name.items()
    }
