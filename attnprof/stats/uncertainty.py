"""How sure a figure is: ``Estimate`` (a value and its interval) and ``Quality`` (how far a
latency can be trusted: noise figures, the machine's state, warnings). A leaf: the records of
:mod:`attnprof.results` are built on it, and it imports nothing of attnprof.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["CONFIDENCE", "Estimate", "Quality"]

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its interval. ``coverage`` is the interval's actual confidence
    (order statistics give exact coverages such as 0.9785, not 0.95); an interval of
    ``(0, inf)`` means "no interval" (too few samples)."""

    value: float
    low: float
    high: float
    coverage: float
    method: str

    @property
    def bounded(self) -> bool:
        """False for "no interval" (0, inf)."""
        return self.low > 0 and math.isfinite(self.high)

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "low": _finite(self.low), "high": _finite(self.high),
                "coverage": self.coverage, "method": self.method}


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Quality:
    """How far a latency can be trusted: noise figures, the machine's state while it was
    measured, and the warnings they raise. ``quantum_ms`` is the scheduler slice the block
    times sit on (whole multiples of it), or None; samples like that measure the scheduler,
    not the block (``trustworthy`` is False)."""

    iqr_over_median: float
    min_gap: float                      # median / min - 1
    ci_over_median: float | None        # (CI high - CI low) / median
    quantum_ms: float | None
    run_queue: int | None               # other runnable tasks
    load1: float | None
    cores: int | None                   # CPUs this process may use
    threads: int | None
    warnings: tuple[str, ...] = ()

    @property
    def trustworthy(self) -> bool:
        return self.quantum_ms is None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["warnings"] = list(self.warnings)
        d["trustworthy"] = self.trustworthy
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Quality:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["warnings"] = tuple(kw.get("warnings") or ())
        return cls(**kw)
