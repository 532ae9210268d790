"""The median's interval from order statistics, distribution-free.

With ``K ~ Binomial(n, 1/2)`` the number of samples below the true median,
``P(x(l) <= median <= x(n+1-l)) = 1 - 2 P(K <= l-1)``; the narrowest symmetric pair whose
coverage is at least the level is chosen, and its exact coverage is reported. It assumes
nothing about the shape of the distribution (latencies are skewed and often bimodal), only
independent samples. Fallback for tiny n: with n <= 5 no pair reaches 95% (``[min, max]``
covers ``1 - 2^(1-n)``: 50% at n=2 ... 93.75% at n=5), so the interval is ``[min, max]`` with
that lower coverage stated; with one sample there is no interval at all: ``(0, inf)``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from attnprof.stats.uncertainty import CONFIDENCE, Estimate

__all__ = ["median_ci", "order_statistic_indices"]


def _log_binom_pmf(n: int, k: int) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            - n * math.log(2.0))


def order_statistic_indices(n: int, level: float = CONFIDENCE) -> tuple[int, int, float]:
    """0-based indices ``(lo, hi)`` into the sorted samples and the exact coverage of
    ``[x[lo], x[hi]]`` as an interval of the median. The narrowest symmetric pair with
    coverage >= ``level``; for n too small to reach it, ``(0, n-1)`` with its lower
    coverage ``1 - 2^(1-n)``."""
    if n < 1:
        raise ValueError("no samples")
    alpha = 1.0 - level
    cdf, best = 0.0, None
    for k in range(0, (n - 1) // 2 + 1):   # k = l-1 in 1-based terms, lo index = k
        cdf += math.exp(_log_binom_pmf(n, k))
        if 2 * cdf > alpha * (1 + 1e-12):
            break
        best = (k, 1.0 - 2 * cdf)
    if best is None:
        return 0, n - 1, (1.0 - 2.0 ** (1 - n)) if n > 1 else 0.0
    lo, coverage = best
    return lo, n - 1 - lo, coverage


def median_ci(samples: Sequence[float], level: float = CONFIDENCE) -> Estimate:
    """The median of ``samples`` with its distribution-free order-statistic interval."""
    xs = sorted(samples)
    n = len(xs)
    if n == 0:
        raise ValueError("no samples")
    median = statistics.median(xs)
    if n == 1:
        return Estimate(median, 0.0, math.inf, 1.0, "one sample: no interval")
    lo, hi, coverage = order_statistic_indices(n, level)
    method = f"order statistics x({lo + 1})..x({hi + 1}) of {n}, {100 * coverage:.1f}%"
    if coverage < level:
        method += f" (n={n}: too few samples for {100 * level:g}%)"
    return Estimate(median, xs[lo], xs[hi], coverage, method)
