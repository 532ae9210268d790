"""The machine's roofline: memory bandwidth and matmul throughput, measured once by
``attnprof calibrate`` and cached per machine and device in the user's cache directory.

A block's floor is max(FLOPs / peak FLOP/s, bytes / bandwidth), from the counts of the own
counter; ``stat`` reports how far the measured latency is above it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path
from typing import Any

CACHE_FILE = "calibration.json"


def cache_dir() -> Path:
    """$ATTNPROF_CACHE_DIR, else $XDG_CACHE_HOME/attnprof, else ~/.cache/attnprof."""
    if os.environ.get("ATTNPROF_CACHE_DIR"):
        return Path(os.environ["ATTNPROF_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "attnprof"


def machine_key(device: str, threads: int) -> str:
    from attnprof.env import environment

    env = environment(device)
    return f"{platform.node()}|{env['device_name']}|{device}|threads={threads}"


def load(device: str, threads: int) -> dict[str, Any] | None:
    path = cache_dir() / CACHE_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = doc.get(machine_key(device, threads)) if isinstance(doc, dict) else None
    return entry if isinstance(entry, dict) and _usable(entry) else None


def _usable(entry: dict[str, Any]) -> bool:
    """A cache entry is read like any file: its peaks must be positive finite numbers (a
    damaged entry is ignored, as if the machine were not calibrated)."""
    import math

    def positive(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) \
            and math.isfinite(v) and v > 0

    peaks = entry.get("matmul_flops_per_s")
    return positive(entry.get("bandwidth_bytes_per_s")) and isinstance(peaks, dict) \
        and bool(peaks) and all(positive(v) for v in peaks.values())


def save(entry: dict[str, Any]) -> Path:
    from attnprof.errors import BadInput
    from attnprof.files import write_json

    path = cache_dir() / CACHE_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # checked before measuring (files.check_cache_dir); gone since
        raise BadInput(f"cannot use the cache directory {path.parent}: "
                       f"{exc.strerror or type(exc).__name__}") from None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            doc = {}
    except (OSError, ValueError):
        doc = {}
    doc[entry["key"]] = entry
    write_json(str(path), doc)
    return path


def calibrate(device: str = "cpu", threads: int | None = None, budget_s: float = 0.5,
              copy_mib: int | None = None, matmul_n: int | None = None) -> dict[str, Any]:
    """Measure bandwidth (a large copy: bytes read + written) and matmul FLOP/s."""
    import torch
    from torch.utils import benchmark

    from attnprof.env import environment

    if threads is None:  # the count latency times with by default, so the entry is found
        from attnprof.measure.latency import default_threads

        threads = default_threads()[0]
    cuda = device.startswith("cuda")
    mib = copy_mib or (1024 if cuda else 256)
    n = matmul_n or (8192 if cuda else 2048)
    src = torch.empty(mib * 2**20 // 4, dtype=torch.float32, device=device).uniform_()
    dst = torch.empty_like(src)
    t = benchmark.Timer("dst.copy_(src)", globals={"dst": dst, "src": src}, num_threads=threads)
    copy_s = t.blocked_autorange(min_run_time=budget_s).median
    bandwidth = 2 * src.numel() * 4 / copy_s
    del src, dst
    results: dict[str, float] = {}
    dtypes = [torch.float32] + ([torch.bfloat16, torch.float16] if cuda else [])
    for dtype in dtypes:
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)
        t = benchmark.Timer("a @ b", globals={"a": a, "b": b}, num_threads=threads)
        mm_s = t.blocked_autorange(min_run_time=budget_s).median
        results[str(dtype).replace("torch.", "")] = 2 * n**3 / mm_s
    env = environment(device)
    return {
        "key": machine_key(device, threads), "device": device,
        "device_name": env["device_name"], "threads": threads,
        "bandwidth_bytes_per_s": bandwidth, "matmul_flops_per_s": results,
        "copy_mib": mib, "matmul_n": n, "torch": torch.__version__,
        "measured_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def roofline(calibration: dict[str, Any] | None, flops: int | None, nbytes: int | None,
             latency_s: float | None, dtype: str) -> dict[str, Any] | None:
    """Achieved throughput and distance from the floor; None when anything is missing."""
    if calibration is None or flops is None or nbytes is None or not latency_s:
        return None
    peaks = calibration["matmul_flops_per_s"]
    peak = peaks.get(dtype, peaks.get("float32"))
    bw = calibration["bandwidth_bytes_per_s"]
    compute_s, memory_s = flops / peak, nbytes / bw
    floor = max(compute_s, memory_s)
    return {
        "achieved_gbs": nbytes / latency_s / 1e9,
        "achieved_gflops": flops / latency_s / 1e9,
        "peak_gbs": bw / 1e9,
        "peak_gflops": peak / 1e9,
        "floor_ms": floor * 1e3,
        "bound": "memory" if memory_s >= compute_s else "compute",
        "latency_over_floor": latency_s / floor if floor > 0 else None,
        "calibrated_at": calibration.get("measured_at"),
    }
