"""Unit formatting: counts, SI and binary prefixes, milliseconds, percentages, and a time with
no more digits than its interval supports (``significant``, ``format_ms``).

A leaf module (standard library only, no torch), for any part of attnprof that prints a number.
"""

from __future__ import annotations

import math

__all__ = ["count", "si", "nbytes", "ms", "percent", "significant", "format_ms"]


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


def _decimals(value: float, low: float, high: float, unknown_digits: int) -> int:
    """Decimal places for ``value``: the interval's half-width to one significant digit
    (two when it starts with 1), never fewer than one significant digit of the value."""
    half = (high - low) / 2 if math.isfinite(high) and math.isfinite(low) else math.nan
    mag = math.floor(math.log10(abs(value))) if value else 0
    if not half > 0:   # no interval (or a zero-width one): a few significant digits
        return unknown_digits - 1 - mag
    e = math.floor(math.log10(half))
    if round(half / 10 ** e, 6) < 2:
        e -= 1
    return max(-e, -mag)


def significant(value: float, low: float, high: float, *, unknown_digits: int = 3) -> str:
    """``value`` with no more digits than [low, high] supports: 15.98 in [8, 24] -> "16",
    0.25312 in [0.2501, 0.2562] -> "0.253". Without a usable interval, ``unknown_digits``
    significant digits."""
    d = _decimals(value, low, high, unknown_digits)
    if d >= 0:
        return f"{value:.{d}f}"
    step = 10 ** (-d)
    return f"{round(value / step) * step:.0f}"


def format_ms(value_ms: float, low_ms: float | None = None, high_ms: float | None = None,
              *, unknown_digits: int = 3) -> str:
    """A time in ms (µs below 1 ms) with the digits its interval supports: "253 µs",
    "16 ms"."""
    lo = math.nan if low_ms is None else low_ms
    hi = math.nan if high_ms is None else high_ms
    if abs(value_ms) < 1:
        return (significant(value_ms * 1e3, lo * 1e3, hi * 1e3,
                            unknown_digits=unknown_digits) + " µs")
    return significant(value_ms, lo, hi, unknown_digits=unknown_digits) + " ms"
