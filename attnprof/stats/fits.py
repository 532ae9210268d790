"""Power laws fitted to a sweep: ``y = a * x^k`` by least squares in log-log space, with R²
and a Student-t interval of the exponent; "untrustworthy" when any input time is flagged."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from attnprof.stats.student import t_quantile
from attnprof.stats.uncertainty import CONFIDENCE

__all__ = ["Fit", "loglog_fit"]


@dataclass(frozen=True)
class Fit:
    """``y = a * x^slope`` fitted in log-log space. ``slope_low``/``slope_high``: the
    exponent's interval (None below three points); ``trustworthy``: False when an input
    time was flagged, and then ``describe`` says so instead of giving a number."""

    slope: float
    intercept: float                     # log(a)
    r2: float | None
    slope_low: float | None
    slope_high: float | None
    points: int
    level: float
    trustworthy: bool = True
    flagged: int = 0

    def describe(self, x: str = "x", y: str = "y") -> str:
        if not self.trustworthy:
            return (f"{y} ∝ {x}^k: untrustworthy ({self.flagged} of {self.points} times "
                    "flagged noisy); no exponent given")
        text = f"{y} ∝ {x}^{self.slope:.2f}"
        if self.slope_low is not None and self.slope_high is not None:
            text += (f" ({100 * self.level:g}% CI {self.slope_low:.2f} to "
                     f"{self.slope_high:.2f}")
            text += f", R² {self.r2:.3f})" if self.r2 is not None else ")"
        else:
            text += f" ({self.points} points: no interval)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def loglog_fit(xs: Sequence[float], ys: Sequence[float], *,
               flagged: Sequence[bool] | bool = False, level: float = CONFIDENCE) -> Fit:
    """Least squares of log(y) on log(x): the exponent with a Student-t interval and R².
    ``flagged``: per point (or for all) whether its time is untrustworthy (a ``Quality``
    with warnings, say); any flag makes the fit untrustworthy."""
    if len(xs) != len(ys):
        raise ValueError("xs and ys differ in length")
    if len(xs) < 2:
        raise ValueError("a fit needs at least two points")
    if any(v <= 0 for v in (*xs, *ys)):
        raise ValueError("a log-log fit needs positive values")
    lx, ly = [math.log(v) for v in xs], [math.log(v) for v in ys]
    n = len(lx)
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    if sxx == 0:
        raise ValueError("a fit needs at least two distinct x values")
    sxy = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    sse = sum((b - intercept - slope * a) ** 2 for a, b in zip(lx, ly, strict=True))
    sst = sum((b - my) ** 2 for b in ly)
    r2 = 1 - sse / sst if sst > 0 else None
    low = high = None
    if n >= 3:
        se = math.sqrt(sse / (n - 2) / sxx)
        t = t_quantile(level, n - 2)
        low, high = slope - t * se, slope + t * se
    flags = [flagged] * n if isinstance(flagged, bool) else list(flagged)
    bad = sum(bool(f) for f in flags)
    return Fit(slope=slope, intercept=intercept, r2=r2, slope_low=low, slope_high=high,
               points=n, level=level, trustworthy=bad == 0, flagged=bad)
