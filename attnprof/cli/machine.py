"""``calibrate`` and ``env``: this machine."""

from __future__ import annotations

import json
import sys

from rich.table import Table

from attnprof.cli.app import app, handled
from attnprof.cli.options import declared
from attnprof.cli.output import out_console, status_line


@app.command()
@handled
@declared("calibrate")
def calibrate(
    device: str, threads: int | None, budget: float, format: str,
) -> None:
    """Measure this device's memory bandwidth and matmul throughput.

    Cached for the roofline that 'stat' reports.
    """
    from attnprof.preflight import check_device
    from attnprof.values import parse_choice, parse_device

    fmt_ = parse_choice("format", format, ("table", "json"))
    dev = parse_device(device)
    check_device(dev)
    from attnprof.values import check_threads, seconds

    check_threads(threads)
    seconds("--budget", budget)
    from attnprof.files import check_cache_dir
    from attnprof.measure import roofline

    check_cache_dir(roofline.cache_dir())  # before measuring: the measurement must be kept

    progress = status_line()
    if progress:
        progress("measuring bandwidth and matmul throughput")
    entry = roofline.calibrate(dev, threads=threads, budget_s=budget)
    path = roofline.save(entry)
    if fmt_ == "json":
        sys.stdout.write(json.dumps({**entry, "cache": str(path)}, indent=2) + "\n")
        return
    t = Table(title=f"{entry['device_name']} ({dev}, {entry['threads']} threads)",
              title_justify="left", show_header=False)
    t.add_row("memory bandwidth", f"{entry['bandwidth_bytes_per_s'] / 1e9:.2f} GB/s",
              f"copy of {entry['copy_mib']} MiB, bytes read + written")
    for dtype, v in entry["matmul_flops_per_s"].items():
        t.add_row(f"matmul {dtype}", f"{v / 1e9:.1f} GFLOP/s",
                  f"{entry['matmul_n']}x{entry['matmul_n']} @ {entry['matmul_n']}x"
                  f"{entry['matmul_n']}")
    if entry.get("llc_bytes"):
        from attnprof.units import nbytes

        t.add_row("last-level cache", nbytes(entry["llc_bytes"]), entry.get("llc_source") or "")
    t.add_row("cached in", str(path), "")
    out_console().print(t)


@app.command()
@handled
@declared("env")
def env(
    format: str, device: str,
) -> None:
    """Versions, devices, CPU and threads: what every JSON document records."""
    from attnprof.env import environment
    from attnprof.values import parse_choice, parse_device

    fmt_ = parse_choice("format", format, ("table", "json"))
    info = environment(parse_device(device))
    if fmt_ == "json":
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
        return
    t = Table(show_header=False)
    for k, v in info.items():
        t.add_row(k, ", ".join(v) if isinstance(v, list) else str(v))
    out_console().print(t)


