"""Measuring records: a latency with its interval, the comparison of two, peak memory,
per-op times and the roofline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from attnprof.results.record import Record, key, optional
from attnprof.results.schema import INTERVAL_COVERS
from attnprof.stats.bootstrap import ratio_ci, ratio_from_cis
from attnprof.stats.uncertainty import Estimate, Quality

# -- measuring ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Latency(Record):
    """Wall time of one call of the block, from ``torch.utils.benchmark``."""

    median_ms: float
    iqr_ms: float
    min_ms: float
    mean_ms: float
    p90_ms: float
    samples: int
    runs_per_sample: int
    threads: int
    mode: str
    device: str
    images_per_s: float
    method: str
    compiled: bool = False
    cuda_graph: bool = False
    channels_last: bool = False
    device_ms: float | None = None  # CUDA only: kernel time between CUDA events, per call
    # the median's interval and how far to trust it (attnprof.stats); the interval
    # is None when there is none (one sample)
    ci_low_ms: float | None = None
    ci_high_ms: float | None = None
    ci_coverage: float | None = None  # the interval's exact confidence (order statistics)
    ci_method: str | None = None
    quality: Quality | None = field(default=None,
                                   metadata=key(load=optional(Quality.from_dict)))
    threads_reason: str | None = None
    l2_flush: bool = False  # CUDA cold-cache timing: L2 flushed before every call
    # the samples, ms per call, by interleaved round: in memory only (not in JSON), for
    # ratios within one run
    rounds_ms: tuple[tuple[float, ...], ...] = field(default=(), repr=False, compare=False,
                                                     metadata=key(stored=False))

    @property
    def samples_ms(self) -> tuple[float, ...]:
        """Every sample, ms per call (in memory only)."""
        return tuple(t for r in self.rounds_ms for t in r)

    @property
    def ci(self) -> Estimate:
        """The median (ms) and its interval; (0, inf) when there is none."""
        bounded = self.ci_low_ms is not None and self.ci_high_ms is not None
        return Estimate(self.median_ms, self.ci_low_ms if bounded else 0.0,
                        self.ci_high_ms if bounded else math.inf,
                        self.ci_coverage if bounded and self.ci_coverage else 1.0,
                        self.ci_method or "no interval")

    @property
    def trustworthy(self) -> bool:
        """False when the quality record says the samples timed the scheduler."""
        return self.quality is None or self.quality.trustworthy

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.quality.warnings if self.quality is not None else ()

    def ratio_to(self, baseline: Latency) -> Estimate:
        """This median / ``baseline``'s with a 95% interval: from both sets of samples when
        both are in memory (measured in this process; ``stats.ratio_ci``, by round when
        they were interleaved in the same rounds), else from the two stored intervals
        (``stats.ratio_from_cis``)."""
        a, b = self.rounds_ms, baseline.rounds_ms
        if len(self.samples_ms) > 1 and len(baseline.samples_ms) > 1:
            paired = len(a) == len(b)
            return ratio_ci(a if paired else self.samples_ms, b if paired else baseline.samples_ms)
        return ratio_from_cis(self.ci, baseline.ci)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "ci_covers": INTERVAL_COVERS}


@dataclass(frozen=True)
class Comparison(Record):
    """Two times measured interleaved in one run: ``candidate / baseline``, the ratio of
    their medians, with its interval (``stats.ratio_ci``: a bootstrap of the samples,
    widened to the per-round ratios) and a verdict (``stats.verdict``: faster, slower, same
    within the noise threshold, or inconclusive). ``verdict`` reads as "the candidate is
    ... than the baseline". The interval covers the variation within this process only
    (docs/latency.md)."""

    ratio: float
    ci_low: float | None
    ci_high: float | None
    coverage: float | None
    verdict: str
    method: str

    @classmethod
    def of(cls, candidate: Latency, baseline: Latency, threshold: float | None = None
           ) -> Comparison:
        from attnprof.stats.verdicts import NOISE_THRESHOLD, verdict

        est = candidate.ratio_to(baseline)
        trusted = candidate.trustworthy and baseline.trustworthy
        return cls(ratio=est.value, ci_low=est.low if est.bounded else None,
                   ci_high=est.high if est.bounded else None,
                   coverage=est.coverage if est.bounded else None,
                   verdict=verdict(est, NOISE_THRESHOLD if threshold is None else threshold,
                                   trusted=trusted),
                   method=est.method)

    @property
    def estimate(self) -> Estimate:
        bounded = self.ci_low is not None and self.ci_high is not None
        return Estimate(self.ratio, self.ci_low if bounded else 0.0,
                        self.ci_high if bounded else math.inf,
                        self.coverage if bounded and self.coverage else 1.0, self.method)


@dataclass(frozen=True)
class Memory(Record):
    params_bytes: int
    activations_bytes: int | None
    peak_bytes: int | None
    peak_method: str | None
    saved_for_backward_bytes: int | None = None


@dataclass(frozen=True)
class OpTime(Record):
    """torch.profiler's self time of one aten op, per call of the block (``--ops``)."""

    op: str
    calls: int
    self_ms: float
    share: float  # of the summed self time


@dataclass(frozen=True)
class Roofline(Record):
    """Achieved throughput against ``attnprof calibrate``'s peaks, and the floor
    max(FLOPs / peak, bytes / bandwidth)."""

    achieved_gbs: float
    achieved_gflops: float
    peak_gbs: float
    peak_gflops: float
    floor_ms: float
    bound: str  # "memory" | "compute"
    latency_over_floor: float | None
    calibrated_at: str | None = None
    # the last-level cache (bytes) and the block's working set (its estimated peak memory):
    # a working set that fits is not bound by the DRAM bandwidth the floor uses
    llc_bytes: int | None = None
    working_set_bytes: int | None = None
    cache_resident: bool | None = None

