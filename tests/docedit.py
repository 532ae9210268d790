"""Editing a written profile document the way a real change would have made it.

Documents read back are held to what their figures mean (attnprof.coherence): attnprof's
totals are the sums of its ops, every backend's coverage adds up to attnprof's FLOPs, the
median lies in its interval and the throughput is the batch over the median. A test that
injects "eca got more expensive" or "se got 3x slower" into a file edits every figure that
follows from the one it changes, so that the file stays one attnprof could have written."""

from __future__ import annotations

from typing import Any

OWN = ("macs", "flops", "transcendentals", "bytes_read", "bytes_written")


def change_count(p: dict[str, Any], metric: str, delta: int) -> dict[str, Any]:
    """Add ``delta`` to attnprof's ``metric`` (one of :data:`OWN`) in profile ``p``: to its
    total, to its ops (the largest first, none below 0), to their intensities, and, for
    FLOPs, to each backend's coverage (what it counted, or else missed, or else could not
    explain)."""
    own = p["counters"]["attnprof"]
    own[metric] += delta
    if {"MACs": "macs", "FLOPs": "flops"}.get(own.get("unit")) == metric:
        own["reported"] = own[metric]
    left = delta
    for op in sorted(own.get("ops") or (), key=lambda o: -o[metric]):
        step = max(left, -op[metric])
        op[metric] += step
        left -= step
        moved = op["bytes_read"] + op["bytes_written"]
        if moved:
            op["intensity"] = float(f"{op['flops'] / moved:.4g}")
        if not left:
            break
    assert not left or not own.get("ops"), "the ops cannot absorb the change"
    if metric == "flops":
        for c in p["counters"].values():
            if c.get("counted_flops") is None:
                continue
            if c["counted_flops"] + delta >= 0:
                c["counted_flops"] += delta
            elif c["missed_ops"] and c["missed_ops"][0]["flops"] + delta >= 0:
                c["missed_ops"][0]["flops"] += delta
            else:
                c["unexplained_flops"] += delta
    return p


def set_count(p: dict[str, Any], metric: str, value: int) -> dict[str, Any]:
    return change_count(p, metric, value - p["counters"]["attnprof"][metric])


def set_latency(p: dict[str, Any], median: float, low: float, high: float) -> dict[str, Any]:
    """The latency of ``p`` made ``median`` ms with the interval [low, high], and what
    follows from it (min, mean, p90 within reach, throughput, the roofline's ratio)."""
    lat = p["latency"]
    lat.update(median_ms=median, ci_low_ms=low, ci_high_ms=high, min_ms=low, mean_ms=median,
               p90_ms=high, iqr_ms=high - low,
               images_per_s=p["input"]["shape"][0] / (median / 1e3))
    roof = p.get("roofline")
    if roof and roof.get("floor_ms"):
        roof["latency_over_floor"] = median / roof["floor_ms"]
    return p


def scale_latency(p: dict[str, Any], factor: float) -> dict[str, Any]:
    """Every time of ``p``'s latency multiplied by ``factor`` (a machine that much slower)."""
    lat = p["latency"]
    for key in ("median_ms", "iqr_ms", "min_ms", "mean_ms", "p90_ms", "ci_low_ms",
                "ci_high_ms", "device_ms"):
        if lat.get(key) is not None:
            lat[key] *= factor
    lat["images_per_s"] = p["input"]["shape"][0] / (lat["median_ms"] / 1e3)
    roof = p.get("roofline")
    if roof and roof.get("floor_ms"):
        roof["latency_over_floor"] = lat["median_ms"] / roof["floor_ms"]
    return p
