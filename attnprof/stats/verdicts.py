"""Decisions on a ratio interval: a comparison's verdict and a budget's outcome.

``verdict``: faster / slower / same / inconclusive against a noise threshold (default
``NOISE_THRESHOLD`` = 5%, about what separate runs of one block on a busy 2-core machine
disagree by). ``budget``: pass / fail / inconclusive for ``latency_vs`` budgets. Both take
``trusted=False`` (see ``Quality.trustworthy``) to refuse a decisive claim drawn from samples
the scheduler quantised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attnprof.stats.bootstrap import ratio_ci
from attnprof.stats.uncertainty import Estimate

__all__ = ["NOISE_THRESHOLD", "budget", "is_decisive", "pairs_decisive", "verdict"]

NOISE_THRESHOLD = 0.05


def verdict(ratio: Estimate, threshold: float = NOISE_THRESHOLD, *,
            trusted: bool = True) -> str:
    """"faster", "slower", "same" or "inconclusive" for candidate / baseline time.

    same: the whole interval within [1 - threshold, 1 + threshold]; faster: the whole
    interval below 1 and the estimate below 1 - threshold; slower: mirrored. With
    ``trusted=False`` (quantised samples) only "inconclusive" can come out."""
    if not trusted:
        return "inconclusive"
    lo, hi, v = ratio.low, ratio.high, ratio.value
    if 1 - threshold <= lo and hi <= 1 + threshold:
        return "same"
    if hi < 1 and v < 1 - threshold:
        return "faster"
    if lo > 1 and v > 1 + threshold:
        return "slower"
    return "inconclusive"


def budget(ratio: Estimate, max_ratio: float, *, trusted: bool = True) -> str:
    """A ``latency_vs`` budget: "pass" when the whole interval is <= ``max_ratio``, "fail"
    only when the whole interval is above it, else "inconclusive". With ``trusted=False``
    (quantised samples) a fail becomes "inconclusive": never a failure on noise."""
    if ratio.high <= max_ratio:
        return "pass"
    if ratio.low > max_ratio:
        return "fail" if trusted else "inconclusive"
    return "inconclusive"


def is_decisive(outcome: str) -> bool:
    """True for a verdict or budget outcome other than "inconclusive" (for adaptive rounds)."""
    return outcome != "inconclusive"


def pairs_decisive(by_case: Sequence[Any], pairs: Sequence[tuple[int, int, float | None]]) -> bool:
    """Whether every (candidate, baseline, max_ratio) pair of cases is decided from their
    samples by round (``by_case[i]``; None for a case not timed): by :func:`budget` against
    ``max_ratio``, or by :func:`verdict` when ``max_ratio`` is None. What adaptive timing
    (``measure_until``) asks after each round."""
    for cand, base, max_ratio in pairs:
        a, b = by_case[cand], by_case[base]
        if not a or not b:
            continue
        ratio = ratio_ci(a, b)
        outcome = verdict(ratio) if max_ratio is None else budget(ratio, max_ratio)
        if not is_decisive(outcome):
            return False
    return True
