"""Statistics for latencies: intervals, ratios, verdicts, noise, threads and fits.

Torch-free (standard library only), so reports, checks and suites can judge stored
Profiles without loading torch. Every function is deterministic: the same input gives the
same output, bootstrap included (a fixed seed).

Intervals
    ``median_ci``: the distribution-free confidence interval of a median from order
    statistics. With ``K ~ Binomial(n, 1/2)`` the number of samples below the true median,
    ``P(x(l) <= median <= x(n+1-l)) = 1 - 2 P(K <= l-1)``; the narrowest symmetric pair
    whose coverage is at least the level is chosen, and its exact coverage is reported. It
    assumes nothing about the shape of the distribution (latencies are skewed and often
    bimodal), only independent samples. Fallback for tiny n: with n <= 5 no pair reaches
    95% (``[min, max]`` covers ``1 - 2^(1-n)``: 50% at n=2 ... 93.75% at n=5), so the
    interval is ``[min, max]`` with that lower coverage stated; with one sample there is no
    interval at all: ``(0, inf)``.

    ``ratio_ci``: the ratio of two medians (candidate / baseline). The interval is a
    percentile bootstrap of the pooled samples, the two sets resampled independently, 4000
    replicates, seed 0; the bootstrap median of a resample is drawn exactly without
    building the resample (the k-th order statistic of n uniform indices is
    ``floor(n * Beta(k, n+1-k))``, and the next one is ``Beta(1, n-k)`` of the way from it
    to the end), so a replicate costs O(1). The bootstrap takes the samples as independent,
    which load bursts break: a burst that hits one call in one round shifts many of its
    samples at once. So when the samples come in interleaved rounds (2 or more), the
    interval is widened to contain the Student-t interval of the per-round log ratios
    (``log median(A_r) / median(B_r)``, each round's pair measured side by side): a ratio is
    decisive only when the rounds agree. (Order statistics of the per-round ratios were the
    alternative; with 3-5 rounds they cannot reach 95%, see above.)

    ``ratio_from_cis``: the same ratio from two stored intervals alone (a baseline JSON
    document carries intervals, not samples): log half-widths added in quadrature on each
    side. Approximate; prefer ``ratio_ci`` when both sample sets are at hand.

Decisions
    ``verdict``: faster / slower / same / inconclusive for a ratio interval against a noise
    threshold (default ``NOISE_THRESHOLD`` = 5%, about what separate runs of one block on a
    busy 2-core machine disagree by). Same when the whole interval lies within
    ``[1 - t, 1 + t]``; faster when it lies wholly below 1 and the estimate is below
    ``1 - t``; slower, mirrored; anything else is inconclusive (more samples would decide).
    ``budget``: pass / fail / inconclusive for ``latency_vs`` budgets: pass when the whole
    interval is at or below ``max_ratio``, fail only when the whole interval is above it.
    Both take ``trusted=False`` (see ``Quality.trustworthy``) to refuse a decisive claim
    drawn from samples the scheduler quantised.

Noise
    ``quality``: IQR/median, the gap between min and median, samples quantised to scheduler
    slices, and the machine's run queue against the usable CPUs, as a ``Quality`` record
    with the figures and a tuple of warnings. ``default_threads``: the thread count to time
    with, from affinity, cgroup quota and the run queue, with the reason.

Presentation and fits
    ``significant`` / ``format_ms``: a value with no more digits than its interval supports.
    ``loglog_fit``: ``y = a * x^k`` by least squares in log-log space, with R² and a Student-t
    interval of the exponent; it says "untrustworthy" when any input time is flagged.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

__all__ = [
    "CONFIDENCE", "NOISE_THRESHOLD", "QUANTA_MS", "Estimate", "Fit", "MachineState",
    "Quality", "budget", "default_threads", "format_ms", "is_decisive", "loglog_fit",
    "machine_state", "median_ci", "order_statistic_indices", "quality", "quantum_of",
    "ratio_ci", "ratio_from_cis", "significant", "t_quantile", "usable_cpus", "verdict",
]

CONFIDENCE = 0.95
NOISE_THRESHOLD = 0.05
BOOTSTRAP_RESAMPLES = 4000

# Warning thresholds of ``quality`` (pyperf warns at a std dev above 10% of the mean).
IQR_WARN = 0.10        # IQR / median
MIN_GAP_WARN = 0.25    # median / min - 1
# Scheduler quanta looked for, ms: ticks at HZ=1000/300/250/100 and the CFS/EEVDF slice
# lengths and their doubles seen on small machines.
QUANTA_MS = (1.0, 2.0, 3.0, 10 / 3, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0)
QUANTUM_TOLERANCE = 0.05   # a sample is "on" a multiple within +-5% of the quantum
QUANTUM_SHARE = 0.8        # ... and quantised when this share of samples is on multiples


# -- intervals ------------------------------------------------------------------------------

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


def _bootstrap_medians(xs: Sequence[float], count: int, rng: random.Random) -> list[float]:
    """``count`` bootstrap medians of the sorted ``xs``, drawn exactly (module docstring)."""
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


# -- decisions ------------------------------------------------------------------------------

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


# -- machine state and threads --------------------------------------------------------------

@dataclass(frozen=True)
class MachineState:
    """The run queue as /proc sees it. ``others``: runnable tasks that are not this
    process's threads; ``cores``: CPUs this process may use."""

    load1: float | None
    runnable: int | None
    own_running: int
    cores: int

    @property
    def others(self) -> int | None:
        return None if self.runnable is None else max(0, self.runnable - self.own_running)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _own_running(proc: Path) -> int:
    """This process's threads in state R (running or runnable)."""
    n = 0
    with contextlib.suppress(OSError):
        for task in (proc / "self" / "task").iterdir():
            stat = _read(task / "stat")
            if stat and stat.rpartition(")")[2].split()[:1] == ["R"]:
                n += 1
    return max(n, 1)   # the thread reading this is running


def _cgroup_quota(root: Path, proc: Path) -> tuple[float | None, str]:
    """CPUs allowed by a cgroup CPU quota (v2 ``cpu.max``, v1 ``cfs_quota_us``), if any."""
    groups = _read(proc / "self" / "cgroup") or ""
    own_v2 = next((line.split(":", 2)[2].strip() for line in groups.splitlines()
                   if line.startswith("0::")), "/")
    for d in dict.fromkeys((root / own_v2.lstrip("/"), root)):
        text = _read(d / "cpu.max")
        if text:
            quota, period = (text.split() + ["100000"])[:2]
            if quota != "max" and int(period) > 0:
                return int(quota) / int(period), f"cgroup v2 cpu.max {text.strip()}"
            return None, ""
    for d in (root / "cpu", root / "cpu,cpuacct", root / "cpuacct,cpu"):
        quota, period = _read(d / "cpu.cfs_quota_us"), _read(d / "cpu.cfs_period_us")
        if quota and period and int(quota) > 0 and int(period) > 0:
            return int(quota) / int(period), f"cgroup v1 quota {int(quota)}/{int(period)} us"
    return None, ""


def usable_cpus(*, cgroup_root: str | Path = "/sys/fs/cgroup",
                proc: str | Path = "/proc") -> tuple[int, str]:
    """How many CPUs this process may use: its affinity mask, cut by a cgroup CPU quota
    (rounded up: 1.5 CPUs of quota can keep two threads half-busy). With the reason."""
    try:
        affinity = len(os.sched_getaffinity(0))
        why = f"affinity {affinity}"
    except (AttributeError, OSError):
        affinity = os.cpu_count() or 1
        why = f"{affinity} CPUs"
    quota, quota_why = _cgroup_quota(Path(cgroup_root), Path(proc))
    if quota is not None and math.ceil(quota) < affinity:
        return max(1, math.ceil(quota)), f"{why}, {quota_why}"
    return affinity, why


def machine_state(*, cores: int | None = None, proc: str | Path = "/proc",
                  reads: int = 1, interval_s: float = 0.002) -> MachineState:
    """The run queue now: /proc/loadavg's runnable count (the median of ``reads`` reads) less
    this process's own running threads, and the 1-minute load. Without /proc: unknowns."""
    proc = Path(proc)
    cores = cores if cores is not None else usable_cpus(proc=proc)[0]
    runnable, own, load1 = [], [], None
    for i in range(max(1, reads)):
        text = _read(proc / "loadavg")
        if text is None:
            return MachineState(None, None, 1, cores)
        parts = text.split()
        load1 = float(parts[0])
        runnable.append(int(parts[3].split("/")[0]))
        own.append(_own_running(proc))
        if i + 1 < reads:
            time.sleep(interval_s)
    others = sorted(r - o for r, o in zip(runnable, own, strict=True))[len(runnable) // 2]
    own_now = own[-1]
    return MachineState(load1, max(0, others) + own_now, own_now, cores)


def default_threads(*, limit: int | None = None, state: MachineState | None = None,
                    cgroup_root: str | Path = "/sys/fs/cgroup",
                    proc: str | Path = "/proc") -> tuple[int, str]:
    """The thread count to time with, and why: the usable CPUs (affinity, cgroup quota),
    less the other runnable tasks, less one CPU left for the rest of the machine (when all
    of them would be busy, one descheduled worker stalls every parallel op for a whole
    scheduler slice: the times snap to 4/8/16 ms), at most ``limit`` (torch's own count),
    at least 1."""
    cores, why = usable_cpus(cgroup_root=cgroup_root, proc=proc)
    if state is None:
        state = machine_state(cores=cores, proc=proc, reads=5)
    others = state.others or 0
    free = cores - others
    threads = max(1, free - 1) if cores > 1 else 1
    parts = [f"{cores} usable CPU{'s' * (cores != 1)} ({why})"]
    if state.others is None:
        parts.append("run queue unknown")
    else:
        parts.append(f"{others} other runnable task{'s' * (others != 1)}")
    if cores > 1:
        parts.append("one CPU left for the rest of the machine")
    if limit is not None and threads > limit:
        threads = limit
        parts.append(f"capped at torch's {limit}")
    return threads, ", ".join(parts) + f": {threads} thread{'s' * (threads != 1)}"


# -- quality --------------------------------------------------------------------------------

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


def quantum_of(block_ms: Sequence[float], quanta: Sequence[float] = QUANTA_MS) -> float | None:
    """The largest quantum q (ms) such that the block times sit on whole multiples of it:
    at least 80% of them within +-5% of q of some k*q with k >= 1, on at least two distinct
    multiples, the second most common holding at least 2 samples and 5% of them. None for
    fewer than 8 samples or continuous times. (One occupied multiple cannot be told from a
    tight distribution that happens to lie there.)"""
    n = len(block_ms)
    if n < 8:
        return None
    for q in sorted(quanta, reverse=True):
        counts: dict[int, int] = {}
        on = 0
        for t in block_ms:
            k = round(t / q)
            if k >= 1 and abs(t / q - k) <= QUANTUM_TOLERANCE:
                on += 1
                counts[k] = counts.get(k, 0) + 1
        if on < QUANTUM_SHARE * n or len(counts) < 2:
            continue
        second = sorted(counts.values(), reverse=True)[1]
        if second >= max(2, 0.05 * n):
            return q
    return None


def quality(samples: Sequence[float], *, block_sizes: Sequence[int] | int = 1,
            threads: int | None = None, machine: MachineState | None = None,
            ci: Estimate | None = None) -> Quality:
    """The quality record of per-call times ``samples`` (seconds). ``block_sizes``: calls
    per sample (one number, or one per sample), so block times can be checked for
    scheduler quantisation. ``machine``: the run queue while measuring (``machine_state``)."""
    xs = list(samples)
    if not xs:
        raise ValueError("no samples")
    sizes = [block_sizes] * len(xs) if isinstance(block_sizes, int) else list(block_sizes)
    median, low = statistics.median(xs), min(xs)
    if len(xs) > 1:
        q = statistics.quantiles(xs, n=4, method="inclusive")
        iqr = q[2] - q[0]
    else:
        iqr = 0.0
    iqr_rel = iqr / median if median > 0 else 0.0
    gap = median / low - 1 if low > 0 else 0.0
    ci_rel = None
    if ci is not None and math.isfinite(ci.high) and median > 0:
        ci_rel = (ci.high - ci.low) / median
    quantum = quantum_of([t * s * 1e3 for t, s in zip(xs, sizes, strict=True)])
    warnings = []
    if quantum is not None:
        warnings.append(f"samples sit on multiples of {quantum:.3g} ms (scheduler slices): "
                        "they time the scheduler, not the block; use fewer threads or a "
                        "quieter machine")
    if iqr_rel > IQR_WARN:
        warnings.append(f"noisy: IQR is {100 * iqr_rel:.0f}% of the median "
                        f"(> {100 * IQR_WARN:.0f}%)")
    if gap > MIN_GAP_WARN:
        warnings.append(f"median is {100 * gap:.0f}% above the fastest sample "
                        f"(> {100 * MIN_GAP_WARN:.0f}%): interference")
    if len(xs) == 1:
        warnings.append("one sample: no interval; give it a longer budget")
    elif ci is not None and ci.coverage < CONFIDENCE:
        warnings.append(f"only {len(xs)} samples: the interval covers "
                        f"{100 * ci.coverage:.0f}%, not {100 * CONFIDENCE:g}%")
    run_queue = load1 = cores = None
    if machine is not None:
        run_queue, load1, cores = machine.others, machine.load1, machine.cores
        busy = (run_queue or 0) + (threads or 1)
        if run_queue is not None and busy > machine.cores:
            warnings.append(f"busy machine: {run_queue} other runnable task"
                            f"{'s' * (run_queue != 1)} + {threads or 1} timing thread"
                            f"{'s' * ((threads or 1) != 1)} > {machine.cores} usable CPUs")
        elif load1 is not None and load1 > machine.cores:
            warnings.append(f"busy machine: 1-minute load {load1:.2f} > "
                            f"{machine.cores} usable CPUs")
    return Quality(iqr_over_median=iqr_rel, min_gap=gap, ci_over_median=ci_rel,
                   quantum_ms=quantum, run_queue=run_queue, load1=load1, cores=cores,
                   threads=threads, warnings=tuple(warnings))


# -- presentation ---------------------------------------------------------------------------

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


# -- fits -----------------------------------------------------------------------------------

def _t_two_sided(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with integer ``df`` (Abramowitz & Stegun 26.7.3-4)."""
    theta = math.atan(t / math.sqrt(df))
    c2, s = math.cos(theta) ** 2, math.sin(theta)
    if df % 2:
        total, term = 1.0, 1.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        return (2 / math.pi) * (theta + (s * math.cos(theta) * total if df > 1 else 0.0))
    total, term = 1.0, 1.0
    for k in range(1, df // 2):
        term *= c2 * (2 * k - 1) / (2 * k)
        total += term
    return s * total


def t_quantile(level: float, df: int) -> float:
    """t such that P(|T| <= t) = ``level`` for Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("df must be >= 1")
    lo, hi = 0.0, 1.0
    while _t_two_sided(hi, df) < level:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if _t_two_sided(mid, df) < level:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


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

