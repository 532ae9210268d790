"""The machine's roofline: memory bandwidth and matmul throughput, measured once by
``attnprof calibrate`` and cached per machine and device in the user's cache directory.

A block's floor is max(FLOPs / peak FLOP/s, bytes / bandwidth), from the counts of the own
counter; ``stat`` reports how far the measured latency is above it. The bandwidth is DRAM's
(a copy far larger than any cache), so a block whose working set (its estimated peak
memory) fits in the last-level cache is not bound by it: the roofline says so
(``cache_resident``), with the cache size read from the machine (:func:`last_level_cache`)
and recorded in the calibration.
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


def _size(text: str) -> int | None:
    """``32768K`` -> 33554432 (sysfs cache sizes)."""
    text = text.strip().upper()
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
    digits = text[:-1] if text[-1:] in "KMG" else text
    return int(digits) * scale if digits.isdigit() else None


SYSFS_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")


def last_level_cache(device: str = "cpu", root: Path = SYSFS_CACHE) -> tuple[int | None, str]:
    """The size of the device's last-level cache in bytes, and where it was read: a GPU's
    L2 (``torch.cuda.get_device_properties``); on Linux, the highest-level data or unified
    cache of CPU 0 in ``/sys/devices/system/cpu/cpu0/cache``, else glibc's
    ``sysconf(_SC_LEVEL3_CACHE_SIZE)``. (None, why) where the machine does not say."""
    if device.startswith("cuda"):
        import torch

        index = int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()
        size = getattr(torch.cuda.get_device_properties(index), "L2_cache_size", 0)
        return (int(size), "CUDA device properties (L2)") if size else (None, "not reported")
    best: tuple[int, int] | None = None
    try:
        for index in sorted(root.glob("index*")):
            kind = (index / "type").read_text().strip()
            if kind not in ("Data", "Unified"):
                continue
            level = int((index / "level").read_text())
            size = _size((index / "size").read_text())
            if size and (best is None or level > best[0]):
                best = (level, size)
    except (OSError, ValueError):
        best = None
    if best is not None:
        return best[1], f"L{best[0]}, {root}"
    for name in ("SC_LEVEL3_CACHE_SIZE", "SC_LEVEL2_CACHE_SIZE"):
        try:
            size = os.sysconf(name)
        except (ValueError, OSError, AttributeError):
            continue
        if size and size > 0:
            return int(size), f"sysconf({name})"
    return None, "not reported by this system"


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
    llc, llc_source = last_level_cache(device)
    return {
        "key": machine_key(device, threads), "device": device,
        "device_name": env["device_name"], "threads": threads,
        "bandwidth_bytes_per_s": bandwidth, "matmul_flops_per_s": results,
        "llc_bytes": llc, "llc_source": llc_source,
        "copy_mib": mib, "matmul_n": n, "torch": torch.__version__,
        "measured_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def roofline(calibration: dict[str, Any] | None, flops: int | None, nbytes: int | None,
             latency_s: float | None, dtype: str,
             working_set: int | None = None) -> dict[str, Any] | None:
    """Achieved throughput and distance from the floor; None when anything is missing.
    ``working_set`` (bytes: the block's estimated peak memory) against the last-level cache
    says whether DRAM bandwidth bounds the block at all (``cache_resident``)."""
    if calibration is None or flops is None or nbytes is None or not latency_s:
        return None
    peaks = calibration["matmul_flops_per_s"]
    peak = peaks.get(dtype, peaks.get("float32"))
    bw = calibration["bandwidth_bytes_per_s"]
    compute_s, memory_s = flops / peak, nbytes / bw
    floor = max(compute_s, memory_s)
    llc = calibration.get("llc_bytes")
    if not isinstance(llc, int) or isinstance(llc, bool) or llc <= 0:  # an older calibration
        llc = last_level_cache(str(calibration.get("device") or "cpu"))[0]
    return {
        "achieved_gbs": nbytes / latency_s / 1e9,
        "achieved_gflops": flops / latency_s / 1e9,
        "peak_gbs": bw / 1e9,
        "peak_gflops": peak / 1e9,
        "floor_ms": floor * 1e3,
        "bound": "memory" if memory_s >= compute_s else "compute",
        "latency_over_floor": latency_s / floor if floor > 0 else None,
        "calibrated_at": calibration.get("measured_at"),
        "llc_bytes": llc, "working_set_bytes": working_set,
        "cache_resident": (working_set <= llc) if llc and working_set is not None else None,
    }
