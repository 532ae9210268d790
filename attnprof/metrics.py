"""Named figures of a Profile, as compare tables, budgets and checks read them. Torch-free.

Counts (params, MACs, FLOPs, bytes) are attnprof's own count: exact and deterministic.
Latency and peak memory are measurements.
"""

from __future__ import annotations

from collections.abc import Callable

from attnprof.results import Profile


def _own(p: Profile, attr: str) -> int | None:
    c = p.counters.get("attnprof")
    return getattr(c, attr) if c is not None and c.ok else None


METRICS: dict[str, Callable[[Profile], float | None]] = {
    "params": lambda p: p.params,
    "macs": lambda p: _own(p, "macs"),
    "flops": lambda p: _own(p, "flops"),
    "transcendentals": lambda p: _own(p, "transcendentals"),
    "bytes": lambda p: _own(p, "bytes"),
    "peak_bytes": lambda p: p.memory.peak_bytes,
    "latency_ms": lambda p: p.latency.median_ms if p.latency else None,
}
COUNTS = ("params", "macs", "flops", "transcendentals", "bytes")


def metric(p: Profile, name: str) -> float | None:
    return METRICS[name](p)
