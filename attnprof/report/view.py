"""What a view is, and the figures every view writes the same way.

A view is data: a :class:`Heading` (a title and lines of text) or a :class:`TableView`
(title, columns, rows of strings, notes). The builders decide *what* a report shows and
format every number once (:mod:`attnprof.report.block_views` for one profile,
:mod:`~attnprof.report.comparison_views` for several, :mod:`~attnprof.report.network_views`
for a whole network, :mod:`~attnprof.report.gate_views` for budgets and checks); the
renderers only lay views out, one :class:`Renderer` per medium (``rich_render.py`` for the
terminal, ``markdown.py`` for GitHub, ``html.py`` for notebooks; ``media.py`` names them),
so each format carries the same facts and a new format is one class that reads these views.
CSV, which users parse, has records of raw values instead (:mod:`attnprof.report.csv`).

This module holds the view types, the renderers' protocol and the texts of times, ratios
and their intervals that several builders write. Torch-free and rich-free, as every builder
is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from attnprof.results import Comparison, HostDelta

Tone = Literal["good", "bad", "warn"]


# -- the views ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    align: Literal["left", "right"] = "left"


@dataclass(frozen=True)
class TableView:
    """A table of already-formatted cells. ``tones`` (one per row, or empty) marks a row
    good, bad or worth a warning; renderers show it on the cells of column ``toned``."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    tones: tuple[Tone | None, ...] = ()
    toned: int | None = None

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"{self.title}: a row of {len(row)} cells under "
                                 f"{len(self.columns)} columns")
        if self.tones and len(self.tones) != len(self.rows):
            raise ValueError(f"{self.title}: {len(self.tones)} tones for {len(self.rows)} rows")


@dataclass(frozen=True)
class Heading:
    """What a group of tables is about: a title and lines of detail."""

    title: str
    lines: tuple[str, ...] = ()


View = Heading | TableView

Out = TypeVar("Out", covariant=True)


@runtime_checkable
class Renderer(Protocol[Out]):
    """One medium's layout of views (a terminal's renderable, Markdown text, HTML): it
    places the views' already-formatted strings and computes or formats no figure, so every
    medium carries the same facts."""

    def render(self, views: Iterable[View]) -> Out:
        """``views``, in order, laid out for this medium."""
        ...


def _cols(*spec: str) -> tuple[Column, ...]:
    """Columns from names; a name ending in ``>`` is right-aligned (numbers)."""
    return tuple(Column(s[:-1], "right") if s.endswith(">") else Column(s) for s in spec)


def _table(title: str, columns: tuple[Column, ...], rows: Iterable[Sequence[str]],
           notes: Iterable[str] = (), tones: Iterable[Tone | None] = (),
           toned: int | None = None) -> TableView:
    return TableView(title, columns, tuple(tuple(r) for r in rows), tuple(notes),
                     tuple(tones), toned)


# -- figures: times, ratios and their intervals ---------------------------------------------

def ratio_text(x: float, low: float | None = None, high: float | None = None) -> str:
    """A ratio with the digits its interval supports (3 significant without one)."""
    from attnprof.units import significant

    return significant(x, math.nan if low is None else low, math.nan if high is None else high)


def time_format(lat: Any) -> Callable[[float | None], str]:
    """The one precision rule for a latency's figures: the median gets the digits its 95%
    interval supports (3 significant without one), and every other time of the same
    measurement (interval, IQR, min, mean, p90) is written in the same unit with the same
    decimals, so no figure claims more than the median's."""
    from attnprof.units import format_ms

    head = format_ms(lat.median_ms, lat.ci_low_ms, lat.ci_high_ms)
    number, unit = head.split(" ")
    decimals = len(number.split(".")[1]) if "." in number else 0
    scale = 1e3 if unit == "µs" else 1.0

    def one(value_ms: float | None) -> str:
        if value_ms is None:
            return "-"
        return f"{value_ms * scale:.{decimals}f} {unit}"

    return one


def median_text(lat: Any) -> str:
    """A latency's median with no more digits than its 95% interval supports."""
    return time_format(lat)(lat.median_ms)


def interval_text(lat: Any) -> str:
    """``95% CI 20.3 to 21.3 µs`` (the interval's own coverage when it is not 95%)."""
    if lat.ci_low_ms is None or lat.ci_high_ms is None:
        return "no interval"
    t = time_format(lat)
    low, high = t(lat.ci_low_ms), t(lat.ci_high_ms)
    level = f"{100 * lat.ci_coverage:.1f}%" if lat.ci_coverage else "95%"
    return f"{level} CI {low.split(' ')[0]} to {high}"


def comparison_text(c: Comparison) -> str:
    """"1.21x [1.15x, 1.26x] slower": a ratio with the digits its interval supports."""
    if c.ci_low is None or c.ci_high is None:
        return f"{ratio_text(c.ratio)}x (no interval) {c.verdict}"
    lo, hi = c.ci_low, c.ci_high
    return (f"{ratio_text(c.ratio, lo, hi)}x [{ratio_text(lo, lo, hi)}x, "
            f"{ratio_text(hi, lo, hi)}x] {c.verdict}")


def added_ms_text(h: HostDelta) -> str:
    """The latency the block adds, with the digits its interval supports."""
    from attnprof.units import significant

    added, ci = h.added("latency_ms"), h.added_ci_ms()
    if added is None:
        return "-"
    if ci is None:
        return f"{added:+.3g} ms"
    lo, hi = ci
    text = significant(added, lo, hi)
    d = len(text.partition(".")[2])
    return f"{'+' if added >= 0 else ''}{text} ms [{lo:+.{d}f}, {hi:+.{d}f}]"
