"""The ratio of two medians (candidate / baseline) with its interval.

``ratio_ci``: a percentile bootstrap of the pooled samples, the two sets resampled
independently, 4000 replicates, seed 0; the bootstrap median of a resample is drawn exactly
without building the resample (the k-th order statistic of n uniform indices is
``floor(n * Beta(k, n+1-k))``, and the next one is ``Beta(1, n-k)`` of the way from it to the
end), so a replicate costs O(1). The bootstrap takes the samples as independent, which load
bursts break: a burst that hits one call in one round shifts many of its samples at once. So
when the samples come in interleaved rounds (2 or more), the interval is widened to contain
the Student-t interval of the per-round log ratios (``log median(A_r) / median(B_r)``, each
round's pair measured side by side): a ratio is decisive only when the rounds agree. (Order
statistics of the per-round ratios were the alternative; with 3-5 rounds they cannot reach
95%: :mod:`attnprof.stats.order`.)

``ratio_from_cis``: the same ratio from two stored intervals alone (a baseline JSON document
carries intervals, not samples): log half-widths added in quadrature on each side.
Approximate; prefer ``ratio_ci`` when both sample sets are at hand.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence

from attnprof.stats.student import t_quantile
from attnprof.stats.uncertainty import CONFIDENCE, Estimate

__all__ = ["BOOTSTRAP_RESAMPLES", "Samples", "ratio_ci", "ratio_from_cis"]

BOOTSTRAP_RESAMPLES = 4000


def _bootstrap_medians(xs: Sequence[float], count: int, rng: random.Random) -> list[float]:
    """``count`` bootstrap medians of the sorted ``xs``, drawn exactly (this module's docstring)."""
    n = len(xs)
    out = []
    for _ in range(count):
        if n % 2:
            k = (n + 1) // 2
            out.append(xs[min(n - 1, int(n * rng.betavariate(k, n + 1 - k)))])
        else:
            k = n // 2
            u = rng.betavariate(k, n + 1 - k)
            v = u + (1.0 - u) * rng.betavariate(1, n - k)
            out.append((xs[min(n - 1, int(n * u))] + xs[min(n - 1, int(n * v))]) / 2)
    return out


Samples = Sequence[float] | Sequence[Sequence[float]]


def _split(samples: Samples) -> tuple[list[float], list[list[float]] | None]:
    """Flat samples and, when given per round, the rounds."""
    if len(samples) and isinstance(samples[0], Sequence):
        rounds = [[float(x) for x in r] for r in samples]  # type: ignore[union-attr]
        return [x for r in rounds for x in r], rounds
    return [float(x) for x in samples], None  # type: ignore[arg-type]


def ratio_ci(candidate: Samples, baseline: Samples, level: float = CONFIDENCE, *,
             resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> Estimate:
    """median(candidate) / median(baseline) with an interval. Deterministic (``seed``).

    Each side is a sequence of samples, or of interleaved rounds (a sequence of sequences,
    the same number of rounds on both sides). The interval is the percentile bootstrap of
    the pooled medians; with two rounds or more it is widened to hold the Student-t
    interval of the per-round log ratios as well, so a burst of load that hit one call in
    one round (samples that are not independent) cannot make the ratio look decisive: the
    rounds must agree. Fewer than two samples on either side: no interval."""
    a, rounds_a = _split(candidate)
    b, rounds_b = _split(baseline)
    if not a or not b:
        raise ValueError("no samples")
    a.sort()
    b.sort()
    mb = statistics.median(b)
    value = statistics.median(a) / mb if mb > 0 else math.inf
    if len(a) < 2 or len(b) < 2 or mb <= 0:
        return Estimate(value, 0.0, math.inf, 1.0, "too few samples: no interval")
    rng = random.Random(seed)
    ma = _bootstrap_medians(a, resamples, rng)
    mbs = _bootstrap_medians(b, resamples, rng)
    ratios = sorted(x / y if y > 0 else math.inf for x, y in zip(ma, mbs, strict=True))
    alpha = 1.0 - level
    low = ratios[max(0, int(math.floor(alpha / 2 * resamples)))]
    high = ratios[min(resamples - 1, int(math.ceil((1 - alpha / 2) * resamples)) - 1)]
    method = (f"bootstrap of medians ({resamples} resamples, n={len(a)}/{len(b)}, "
              f"seed {seed}), {100 * level:g}% percentile")
    if rounds_a is None or rounds_b is None or len(rounds_a) < 2:
        return Estimate(value, low, high, level, method + "; samples taken as independent")
    if len(rounds_a) != len(rounds_b):
        raise ValueError("candidate and baseline have different numbers of rounds")
    logs = [math.log(statistics.median(ra) / statistics.median(rb))
            for ra, rb in zip(rounds_a, rounds_b, strict=True) if ra and rb]
    if len(logs) >= 2:
        half = t_quantile(level, len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
        mid = statistics.fmean(logs)
        low, high = min(low, math.exp(mid - half)), max(high, math.exp(mid + half))
        method += f", widened to the t interval of {len(logs)} per-round ratios"
    return Estimate(value, low, high, level, method)


def ratio_from_cis(candidate: Estimate, baseline: Estimate) -> Estimate:
    """candidate / baseline from two intervals alone: on each side the log half-widths add
    in quadrature (independent, approximately log-normal errors). An unbounded side stays
    unbounded. The coverage is the smaller of the two."""
    if baseline.value <= 0 or candidate.value <= 0:
        raise ValueError("medians must be positive")
    value = candidate.value / baseline.value

    def side(a: float, b: float, a_edge: float, b_edge: float) -> float:
        # distance in log space from the estimate to each interval's edge
        if a_edge <= 0 or not math.isfinite(a_edge) or b_edge <= 0 or not math.isfinite(b_edge):
            return math.inf
        return math.hypot(math.log(a_edge / a), math.log(b_edge / b))

    down = side(candidate.value, baseline.value, candidate.low, baseline.high)
    up = side(candidate.value, baseline.value, candidate.high, baseline.low)
    low = value * math.exp(-down) if math.isfinite(down) else 0.0
    high = value * math.exp(up) if math.isfinite(up) else math.inf
    return Estimate(value, low, high, min(candidate.coverage, baseline.coverage),
                    "ratio of two medians' intervals (log half-widths in quadrature)")
