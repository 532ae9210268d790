"""Unit formatting: counts, SI and binary prefixes, milliseconds, percentages.

A leaf module (standard library only, no torch), for any part of attnprof that prints a number.
"""

from __future__ import annotations

__all__ = ["count", "si", "nbytes", "ms", "percent"]


def count(n: int | None) -> str:
    """6422784 -> '6,422,784'; None -> '-'."""
    return "-" if n is None else f"{n:,}"


def si(n: float | None, unit: str = "") -> str:
    """6422784 -> '6.42 M'."""
    if n is None:
        return "-"
    for div, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g} {prefix}{unit}"
    return f"{n:.3g} {unit}".rstrip() if isinstance(n, float) else f"{n} {unit}".rstrip()


def nbytes(n: int | None) -> str:
    """Binary units: 1048576 -> '1.00 MiB'."""
    if n is None:
        return "-"
    for div, prefix in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(n) >= div:
            return f"{n / div:.2f} {prefix}"
    return f"{n} B"


def ms(v: float | None) -> str:
    if v is None:
        return "-"
    if abs(v) < 1:
        return f"{v * 1e3:.1f} µs"
    return f"{v:.3f} ms"


def percent(part: float | None, whole: float | None) -> str:
    if part is None or not whole:
        return "-"
    p = 100 * part / whole
    if 0 < p < 0.1:
        return "<0.1%"
    return f"{p:.1f}%"
