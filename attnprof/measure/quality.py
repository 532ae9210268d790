"""Quality checks of timed samples: how far a latency can be trusted.

``quality``: IQR/median, the gap between min and median, samples quantised to scheduler
slices (``quantum_of``), and the machine's run queue against the usable CPUs
(:mod:`attnprof.measure.machine`), as a :class:`~attnprof.stats.uncertainty.Quality` record
with the figures and a tuple of warnings. Standard library only.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from attnprof.measure.machine import MachineState
from attnprof.stats.uncertainty import CONFIDENCE, Estimate, Quality

__all__ = ["QUANTA_MS", "quality", "quantum_of"]

# Warning thresholds of ``quality`` (pyperf warns at a std dev above 10% of the mean).
IQR_WARN = 0.10        # IQR / median
MIN_GAP_WARN = 0.25    # median / min - 1
# Scheduler quanta looked for, ms: ticks at HZ=1000/300/250/100 and the CFS/EEVDF slice
# lengths and their doubles seen on small machines.
QUANTA_MS = (1.0, 2.0, 3.0, 10 / 3, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0)
QUANTUM_TOLERANCE = 0.05   # a sample is "on" a multiple within +-5% of the quantum
QUANTUM_SHARE = 0.8        # ... and quantised when this share of samples is on multiples


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
